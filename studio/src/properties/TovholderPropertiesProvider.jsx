/**
 * The "Tovholder" group of the properties panel: the unit of a lane, the form, deadline and
 * audience of a user task, a message's name, payload, form and correlation key, a called
 * process, a service task's topic. In Danish, from the studio catalog (units, forms, named
 * deadlines, processes, messages); every value is written as engine/bpmn/parser.py reads it
 * (see ./extensions.js), so a process owner never sees XML.
 */
import { is, getBusinessObject } from 'bpmn-js/lib/util/ModelUtil';
import { useService } from 'bpmn-js-properties-panel';
import {
  CheckboxEntry, SelectEntry, TextFieldEntry,
  isCheckboxEntryEdited, isSelectEntryEdited, isTextFieldEntryEdited,
} from '@bpmn-io/properties-panel';

import {
  camundaProperty, composeDeadline, diagramMessages, isMessageReceiver, isMessageSender,
  describeDuration, durationProblem, messageName, parseDeadline, setAttribute, setCamundaProperty, setMessageName,
} from './extensions';

const CUSTOM = '__egen';
const NEW_MESSAGE = '__ny';
const NEW_FORM = '__ny_formular';

function withCurrent(options, current, unknownLabel) {
  if (current && !options.some((o) => o.value === current)) {
    return [...options, { value: current, label: `${current} (${unknownLabel})` }];
  }
  return options;
}

function formOptions(catalog, current) {
  const names = new Set([...(catalog.forms || []), ...Object.keys(catalog.draftForms || {})
    .filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5))]);
  const options = [{ value: '', label: '(ingen formular)' },
    ...[...names].sort().map((n) => ({ value: n, label: n }))];
  const all = withCurrent(options, current, 'findes ikke');
  return catalog.newForm ? [...all, { value: NEW_FORM, label: 'Ny formular …' }] : all;
}

function UnitEntry({ element, id }) {
  const injector = useService('injector');
  const catalog = useService('tovholderCatalog');
  const current = getBusinessObject(element).name || '';
  return <SelectEntry id={id} element={element} label="Enhed"
    description="Opgaverne i denne bane havner i enhedens indbakke."
    getValue={() => getBusinessObject(element).name || ''}
    setValue={(value) => setAttribute(injector, element, 'name', value)}
    getOptions={() => withCurrent([{ value: '', label: '(vælg enhed)' },
      ...(catalog.units || []).map((u) => ({ value: u.id, label: u.name && u.name !== u.id ? `${u.name} (${u.id})` : u.id }))],
    current, 'ikke en kendt enhed')} />;
}

function FormEntry({ element, id, label, description }) {
  const injector = useService('injector');
  const catalog = useService('tovholderCatalog');
  const value = () => getBusinessObject(element).get('camunda:formKey') || '';
  return <SelectEntry id={id} element={element} label={label || 'Formular'} description={description}
    getValue={value}
    setValue={(v) => {
      if (v === NEW_FORM) catalog.newForm(element);  // asks for the name, then sets the form key itself
      else setAttribute(injector, element, 'camunda:formKey', v);
    }}
    getOptions={() => formOptions(catalog, value())} />;
}

function namedDeadline(catalog, name) {
  return (catalog.deadlines || []).find((d) => d.name === name) || null;
}

const NAME = /^[a-z][a-z0-9_]*$/;

/** '' (none), the rule's name (a named deadline, known or not), or CUSTOM (a duration). */
function deadlineKind(text) {
  if (!text) return '';
  return NAME.test(text) ? text : CUSTOM;
}

function DeadlineEntry({ element, id }) {
  const injector = useService('injector');
  const catalog = useService('tovholderCatalog');
  const current = camundaProperty(element, 'deadline');
  const named = namedDeadline(catalog, current);
  const kind = deadlineKind(current);
  const description = named ? `${named.text || ''}${named.rule ? ` (${named.rule})` : ''}`
    : (kind === CUSTOM ? 'Egen frist: angiv varigheden herunder.' : 'Uden frist kommer opgaven aldrig på listen over forfaldne.');
  return <SelectEntry id={id} element={element} label="Frist" description={description}
    getValue={() => kind}
    setValue={(v) => {
      if (v === CUSTOM) {
        if (kind !== CUSTOM) setCamundaProperty(injector, element, 'deadline', 'P5D working');
      } else {
        setCamundaProperty(injector, element, 'deadline', v);
      }
    }}
    getOptions={() => [{ value: '', label: '(ingen frist)' },
      { label: 'Navngivne frister (config/deadlines.toml)', children: (catalog.deadlines || []).map((d) => ({
        value: d.name, label: `${d.name}: ${d.rule || ''}`.replace(/: $/, '') })) },
      ...(kind && kind !== CUSTOM && !named ? [{ value: kind, label: `${kind} (findes ikke)` }] : []),
      { value: CUSTOM, label: 'Egen frist (varighed) …' }]} />;
}

function customDeadline(element) {
  return parseDeadline(camundaProperty(element, 'deadline')) || { duration: 'P5D', working: true, from: '' };
}

function writeDeadline(injector, element, change) {
  setCamundaProperty(injector, element, 'deadline', composeDeadline({ ...customDeadline(element), ...change }));
}

/** The whole duration the engine reads (P14D, P2W3D, P1M), checked as engine/deadlines.py checks it. */
function DeadlineDurationEntry({ element, id }) {
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  const current = customDeadline(element);
  return <TextFieldEntry id={id} element={element} label="Varighed" debounce={debounce}
    description={`${describeDuration(current.duration) || ''}. Fx P14D (14 dage), P2W3D (2 uger og 3 dage), P1M (1 måned).`
      .replace(/^\. /, '')}
    getValue={() => current.duration}
    validate={(v) => durationProblem(v, customDeadline(element).working)}
    setValue={(v, error) => { if (!error) writeDeadline(injector, element, { duration: (v || '').trim().toUpperCase() }); }} />;
}

function DeadlineWorkingEntry({ element, id }) {
  const injector = useService('injector');
  const { duration } = customDeadline(element);
  return <CheckboxEntry id={id} element={element} label="Tæl kun arbejdsdage"
    description={/\d[YM]/.test(duration) ? 'Måneder og år tælles altid i kalenderdage.'
      : 'Spring weekender, helligdage og lukkedage over (en uge er fem arbejdsdage).'}
    getValue={() => customDeadline(element).working}
    setValue={(v) => writeDeadline(injector, element, { working: !!v })} />;
}

function DeadlineFromEntry({ element, id }) {
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  return <TextFieldEntry id={id} element={element} label="Regnes fra datofelt (valgfrit)" debounce={debounce}
    description="Et datofelt i sagens data, fx henvendelsesdato. Tomt: fra opgaven oprettes."
    getValue={() => customDeadline(element).from}
    validate={(v) => (!v || /^[A-Za-z_][A-Za-z0-9_]*$/.test(v.trim()) ? null
      : 'Feltnavnet må kun have bogstaver (a–z), tal og _.')}
    setValue={(v, error) => { if (!error) writeDeadline(injector, element, { from: (v || '').trim() }); }} />;
}

function AudienceEntry({ element, id }) {
  const injector = useService('injector');
  return <SelectEntry id={id} element={element} label="Hvem løser opgaven"
    getValue={() => camundaProperty(element, 'audience')}
    setValue={(v) => setCamundaProperty(injector, element, 'audience', v)}
    getOptions={() => withCurrent([{ value: '', label: 'Enhedens sagsbehandlere' },
      { value: 'teamlead', label: 'Enhedens teamledere' }], camundaProperty(element, 'audience'), 'ukendt')} />;
}

function knownMessages(catalog, element) {
  return [...new Set([...(catalog.messages || []), ...diagramMessages(element)])].sort();
}

function MessageEntry({ element, id }) {
  const injector = useService('injector');
  const catalog = useService('tovholderCatalog');
  return <SelectEntry id={id} element={element} label="Besked"
    description="Beskeden forbinder afsender og modtager: de skal bruge samme navn."
    getValue={() => messageName(element)}
    setValue={(v) => {
      if (v !== NEW_MESSAGE) return setMessageName(injector, element, v);
      const taken = new Set(knownMessages(catalog, element));
      let n = 1;
      while (taken.has(`ny_besked_${n}`)) n += 1;
      return setMessageName(injector, element, `ny_besked_${n}`);
    }}
    getOptions={() => [{ value: '', label: '(ingen besked)' },
      ...knownMessages(catalog, element).map((m) => ({ value: m, label: m })),
      { value: NEW_MESSAGE, label: 'Ny besked …' }]} />;
}

function MessageRenameEntry({ element, id }) {
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  return <TextFieldEntry id={id} element={element} label="Beskedens navn" debounce={debounce}
    description="Små bogstaver, tal og _. Navnet gælder alle hændelser i diagrammet, der bruger beskeden."
    getValue={() => messageName(element)}
    validate={(v) => (/^[a-z][a-z0-9_]*$/.test((v || '').trim()) ? null : 'Brug små bogstaver (a–z), tal og _.')}
    setValue={(v, error) => {
      const text = (v || '').trim();
      if (error || !text) return;
      const definition = getBusinessObject(element).get('eventDefinitions')
        .find((d) => is(d, 'bpmn:MessageEventDefinition'));
      injector.get('commandStack').execute('element.updateModdleProperties', {
        element, moddleElement: definition.messageRef, properties: { name: text },
      });
    }} />;
}

function PropertyTextEntry({ element, id, name, label, description, validate }) {
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  return <TextFieldEntry id={id} element={element} label={label} description={description} debounce={debounce}
    getValue={() => camundaProperty(element, name)} validate={validate}
    setValue={(v, error) => { if (!error) setCamundaProperty(injector, element, name, v); }} />;
}

function CalledProcessEntry({ element, id }) {
  const injector = useService('injector');
  const catalog = useService('tovholderCatalog');
  const value = () => getBusinessObject(element).get('calledElement') || '';
  return <SelectEntry id={id} element={element} label="Kaldt forløb"
    description="Forløbet kører som et selvstændigt trin og skal være udgivet."
    getValue={value}
    setValue={(v) => setAttribute(injector, element, 'calledElement', v)}
    getOptions={() => withCurrent([{ value: '', label: '(vælg forløb)' },
      ...(catalog.processes || []).map((p) => ({ value: p, label: p }))], value(), 'ikke udgivet')} />;
}

function TopicEntry({ element, id }) {
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  return <TextFieldEntry id={id} element={element} label="Systemopgave (topic)" debounce={debounce}
    description="brev_til_borger sender et brev, underret_arbejdsgiver en besked til arbejdsgiveren; andre emner løses af et andet system."
    getValue={() => getBusinessObject(element).get('camunda:topic') || ''}
    validate={(v) => (!v || /^[a-z0-9_]+$/.test(v.trim()) ? null : 'Brug små bogstaver (a–z), tal og _.')}
    setValue={(v, error) => {
      if (error) return;
      const text = (v || '').trim();
      injector.get('commandStack').execute('element.updateModdleProperties', {
        element, moddleElement: getBusinessObject(element),
        properties: { 'camunda:type': text ? 'external' : undefined, 'camunda:topic': text || undefined },
      });
    }} />;
}

const FIELD_LIST = (v) => (!v || /^\s*[A-Za-z_][A-Za-z0-9_]*(\s*,\s*[A-Za-z_][A-Za-z0-9_]*)*\s*$/.test(v) ? null
  : 'Skriv feltnavne adskilt af komma, fx kategori, vurdering.');
const FIELD_NAME = (v) => (!v || /^[A-Za-z_][A-Za-z0-9_]*$/.test(v.trim()) ? null
  : 'Feltnavnet må kun have bogstaver (a–z), tal og _.');

function entries(element) {
  const list = [];
  const add = (id, component, isEdited, extra = {}) => list.push({ id, element, component, isEdited, ...extra });
  if (is(element, 'bpmn:Lane')) add('tov-unit', UnitEntry, isSelectEntryEdited);
  if (is(element, 'bpmn:UserTask')) {
    add('tov-form', FormEntry, isSelectEntryEdited);
    add('tov-deadline', DeadlineEntry, isSelectEntryEdited);
    const deadline = camundaProperty(element, 'deadline');
    if (deadlineKind(deadline) === CUSTOM && parseDeadline(deadline)) {
      add('tov-deadline-duration', DeadlineDurationEntry, isTextFieldEntryEdited);
      add('tov-deadline-working', DeadlineWorkingEntry, isCheckboxEntryEdited);
      add('tov-deadline-from', DeadlineFromEntry, isTextFieldEntryEdited);
    } else if (deadlineKind(deadline) === CUSTOM) {  // text the engine cannot read (written by hand)
      add('tov-deadline-text', PropertyTextEntry, isTextFieldEntryEdited, {
        name: 'deadline', label: 'Frist som tekst',
        description: 'Varighed [working] [from felt], fx P1W2D working eller P3M from visitationsdato.',
        validate: (v) => (parseDeadline(v) ? durationProblem(parseDeadline(v).duration, parseDeadline(v).working)
          : 'Fristen kan ikke læses: skriv fx P14D, P2W3D working eller P1M from henvendelsesdato.'),
      });
    }
    add('tov-audience', AudienceEntry, isSelectEntryEdited);
  }
  if (is(element, 'bpmn:StartEvent') && !isMessageReceiver(element)
      && !is(getBusinessObject(element).$parent, 'bpmn:SubProcess')) {
    add('tov-start-form', FormEntry, isSelectEntryEdited,
      { label: 'Startformular', description: 'Det, man skal udfylde for at oprette en sag.' });
  }
  if (isMessageSender(element) || isMessageReceiver(element)) {
    add('tov-message', MessageEntry, isSelectEntryEdited);
    if (messageName(element)) add('tov-message-name', MessageRenameEntry, isTextFieldEntryEdited);
  }
  if (isMessageSender(element)) {
    add('tov-payload', PropertyTextEntry, isTextFieldEntryEdited, {
      name: 'payload', label: 'Beskedens indhold (felter)', validate: FIELD_LIST,
      description: 'De felter fra sagens data, modtageren skal se, adskilt af komma. Tomt: hele sagens data sendes.',
    });
  }
  if (isMessageReceiver(element)) {
    add('tov-message-form', FormEntry, isSelectEntryEdited,
      { label: 'Formular for beskeden', description: 'Tjekker de data, beskeden bringer.' });
    add('tov-correlation', PropertyTextEntry, isTextFieldEntryEdited, {
      name: 'correlation_key', label: 'Ekstra korrelationsnøgle (felt)', validate: FIELD_NAME,
      description: 'Sagens id og borgerens CPR-nummer virker altid; her kan et felt fra sagens data også bruges.',
    });
  }
  if (is(element, 'bpmn:CallActivity')) add('tov-called', CalledProcessEntry, isSelectEntryEdited);
  if (is(element, 'bpmn:ServiceTask')) add('tov-topic', TopicEntry, isTextFieldEntryEdited);
  return list;
}

export default function TovholderPropertiesProvider(propertiesPanel) {
  propertiesPanel.registerProvider(500, this);
}
TovholderPropertiesProvider.$inject = ['propertiesPanel'];

TovholderPropertiesProvider.prototype.getGroups = function getGroups(element) {
  return (groups) => {
    const list = entries(element);
    if (list.length) groups.splice(1, 0, { id: 'tovholder', label: 'Tovholder', entries: list, shouldOpen: true });
    return groups;
  };
};
