/**
 * Problems found by the server's deploy checks (and bpmnlint) on the draft: a marker with a
 * badge on each element concerned (shape outline plus a "!" or "?" badge, so not by colour
 * alone), and a list where each line is a button that selects its element. Elements in
 * another diagram of the file (a second process) are opened first; a finding in a decision
 * table (it names its .dmn file) opens that table at its cell.
 */
const MARKERS = { error: 'tov-problem', warning: 'tov-warning' };

export function createProblemView(modeler, list, summary) {
  let shown = [];  // [{ id, marker, overlay }]

  function clear() {
    const canvas = modeler.get('canvas');
    const overlays = modeler.get('overlays');
    for (const entry of shown) {
      try {
        canvas.removeMarker(entry.id, entry.marker);
        if (entry.overlay) overlays.remove(entry.overlay);
      } catch (err) { /* element gone, or in another diagram */ }
    }
    shown = [];
  }

  function mark(problems) {
    clear();
    const registry = modeler.get('elementRegistry');
    const canvas = modeler.get('canvas');
    const overlays = modeler.get('overlays');
    const byElement = new Map();
    for (const p of problems) {
      if (p.element && !p.file && registry.get(p.element)) {
        const list = byElement.get(p.element) || [];
        list.push(p);
        byElement.set(p.element, list);
      }
    }
    for (const [id, items] of byElement) {
      const error = items.some((p) => p.severity !== 'warning');
      const marker = error ? MARKERS.error : MARKERS.warning;
      canvas.addMarker(id, marker);
      const badge = document.createElement('span');
      badge.className = `tov-badge ${error ? 'tov-badge-error' : 'tov-badge-warning'}`;
      badge.textContent = error ? '!' : '?';
      badge.title = items.map((p) => p.message).join('\n');
      badge.setAttribute('data-element', id);
      const overlay = overlays.add(id, 'tov-problem', { position: { top: -10, right: 10 }, html: badge });
      shown.push({ id, marker, overlay });
    }
  }

  function diagramOf(id) {
    const definitions = modeler.getDefinitions();
    for (const diagram of (definitions && definitions.diagrams) || []) {
      const plane = diagram.plane;
      const found = (plane.planeElement || []).some((di) => di.bpmnElement && di.bpmnElement.id === id);
      if (found || (plane.bpmnElement && plane.bpmnElement.id === id)) return diagram;
    }
    return null;
  }

  async function select(id, onOpenDiagram) {
    let element = modeler.get('elementRegistry').get(id);
    if (!element) {
      const diagram = diagramOf(id);
      if (!diagram) return false;
      await onOpenDiagram(diagram);
      element = modeler.get('elementRegistry').get(id);
      if (!element) return false;
    }
    modeler.get('selection').select(element);
    modeler.get('canvas').scrollToElement(element, { top: 120, bottom: 120, left: 200, right: 200 });
    return true;
  }

  function render(problems, onOpenDiagram, onOpenDecision) {
    list.replaceChildren();
    const errors = problems.filter((p) => p.severity !== 'warning').length;
    const warnings = problems.length - errors;
    if (!problems.length) {
      summary.textContent = 'Ingen problemer fundet: udkastet kan udgives.';
    } else {
      const parts = [];
      if (errors) parts.push(errors === 1 ? '1 fejl' : `${errors} fejl`);
      if (warnings) parts.push(warnings === 1 ? '1 advarsel' : `${warnings} advarsler`);
      summary.textContent = `${parts.join(' og ')}${errors ? ': udkastet kan gemmes, men ikke udgives.' : '.'}`;
    }
    for (const p of problems) {
      const item = document.createElement('li');
      item.className = p.severity === 'warning' ? 'tov-line-warning' : 'tov-line-error';
      const kind = document.createElement('span');
      kind.className = 'tov-kind';
      kind.textContent = p.severity === 'warning' ? 'Advarsel' : 'Fejl';
      const where = p.file ? `Beslutningstabellen ${p.file}${p.element ? `, ${p.element}` : ''}${p.line ? ` (linje ${p.line})` : ''}`
        : (p.element ? (p.name ? `${p.name} (${p.element})` : p.element) : 'Hele diagrammet');
      if (p.file && onOpenDecision) {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'tov-problem-link';
        button.setAttribute('data-file', p.file);
        if (p.element) button.setAttribute('data-dmn-element', p.element);
        button.append(kind, document.createTextNode(` ${where}: ${p.message}`));
        button.addEventListener('click', () => onOpenDecision(p.file, p.element));
        item.append(button);
      } else if (p.element) {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'tov-problem-link';
        button.setAttribute('data-element', p.element);
        button.append(kind, document.createTextNode(` ${where}: ${p.message}`));
        button.addEventListener('click', async () => {
          const ok = await select(p.element, onOpenDiagram);
          if (!ok) summary.textContent = `Elementet ${p.element} findes ikke (længere) i diagrammet.`;
        });
        item.append(button);
      } else {
        item.append(kind, document.createTextNode(` ${where}: ${p.message}${p.line ? ` (linje ${p.line})` : ''}`));
      }
      list.append(item);
    }
    mark(problems);
  }

  return { render, mark };
}
