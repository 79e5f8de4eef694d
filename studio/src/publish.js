/**
 * The publish dialog: what the new version changes against the latest one (from
 * publish-preview), how many running cases stand on the changed steps, then publishing and a
 * link to move those cases (the migration page, /studio/{key}/migrate?from=&to=).
 * A native <dialog> opened with showModal(): focus stays inside, Escape closes it.
 */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

const TYPES = {
  userTask: 'opgave', serviceTask: 'systemopgave', scriptTask: 'script', businessRuleTask: 'beslutningstabel',
  callActivity: 'kaldt forløb', subProcess: 'delforløb', startEvent: 'start', endEvent: 'slut',
  intermediateCatchEvent: 'venter', intermediateThrowEvent: 'sender', boundaryEvent: 'kanthændelse',
  exclusiveGateway: 'valg', parallelGateway: 'parallel gateway', inclusiveGateway: 'gateway (en eller flere)',
  eventBasedGateway: 'venter på det første', sequenceFlow: 'pil', lane: 'bane',
};

function typeWord(type) {
  const short = (type || '').replace(/^bpmn:/, '');
  return TYPES[short.charAt(0).toLowerCase() + short.slice(1)] || short;
}

function elementLine(e, extra) {
  const name = e.name ? `${e.name} (${e.element_id})` : e.element_id;
  return el('li', {}, `${name}${e.type ? `, ${typeWord(e.type)}` : ''}${extra || ''}`);
}

function section(title, items, render) {
  if (!items || !items.length) return null;
  return el('div', { class: 'tov-diff-part' }, el('h3', {}, `${title} (${items.length})`),
    el('ul', {}, ...items.map(render)));
}

export function casesSentence(n) {
  if (n === 1) return '1 kørende sag står på trin, du har ændret.';
  return `${n} kørende sager står på trin, du har ændret.`;
}

export function renderPreview(body, preview) {
  body.replaceChildren();
  const diff = preview.diff || {};
  const affected = preview.affected_cases || 0;
  body.append(el('p', { class: 'tov-affected', id: 'tov-affected' }, casesSentence(affected)));
  const parts = [
    section('Tilføjet', diff.added, (e) => elementLine(e)),
    section('Fjernet', diff.removed, (e) => elementLine(e)),
    section('Ændret', diff.changed, (e) => elementLine(e, e.attributes && e.attributes.length
      ? `: ${e.attributes.join(', ')}` : '')),
    section('Ændrede formularer', diff.forms_changed, (f) => el('li', {}, f)),
    section('Ændrede beslutningstabeller', preview.decisions_changed, (f) => el('li', {}, f)),
  ].filter(Boolean);
  if (parts.length) body.append(...parts);
  else body.append(el('p', {}, 'Ingen ændringer i forhold til den seneste version.'));
  const byElement = Object.entries(preview.affected_by_element || {}).filter(([, n]) => n > 0);
  if (byElement.length) {
    body.append(el('div', { class: 'tov-diff-part' }, el('h3', {}, 'Kørende sager pr. ændret trin'),
      el('ul', {}, ...byElement.map(([id, n]) => {
        const known = [...(diff.changed || []), ...(diff.removed || [])].find((e) => e.element_id === id);
        const name = known && known.name ? `${known.name} (${id})` : id;
        return el('li', {}, `${name}: ${n === 1 ? '1 sag' : `${n} sager`}`);
      }))));
  }
  const errors = (preview.problems || []).filter((p) => p.severity !== 'warning');
  if (errors.length) {
    body.append(el('div', { class: 'tov-dialog-error', role: 'alert' },
      el('p', {}, 'Udkastet har fejl og kan ikke udgives, før de er rettet:'),
      el('ul', {}, ...errors.map((p) => el('li', {}, `${p.element ? `${p.element}: ` : ''}${p.message}`)))));
  }
  return { canPublish: !errors.length };
}

export function renderPublished(body, key, version, affected) {
  body.replaceChildren();
  body.append(el('p', { class: 'tov-published' }, `Version ${version} af ${key} er udgivet. Nye sager starter på den.`));
  if (version > 1) {
    const href = `/studio/${encodeURIComponent(key)}/migrate?from=${version - 1}&to=${version}`;
    const text = affected
      ? `Flyt de kørende sager fra version ${version - 1} til version ${version}`
      : `Flyt kørende sager fra version ${version - 1} til version ${version}`;
    body.append(el('p', {}, el('a', { href, class: 'tov-migrate-link' }, text)));
    body.append(el('p', { class: 'muted' }, 'Kørende sager bliver på deres version, indtil du flytter dem; flytningen viser først en prøvekørsel.'));
  }
}
