/**
 * Reading and writing Tovholder's properties on BPMN elements, the way the engine reads them.
 *
 * engine/bpmn/parser.py reads `camunda:formKey` (user tasks, start and message events),
 * `camunda:properties` (deadline, audience, payload, correlation_key, retries, topic),
 * `calledElement` on call activities, a lane's `name` as its unit key, and message events'
 * plain `messageRef` to a `bpmn:Message` with a name. Every write here is one command on
 * the modeler's command stack, so undo/redo and the change events see it as one step.
 */
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

function create(bpmnFactory, type, attrs, parent) {
  const element = bpmnFactory.create(type, attrs);
  element.$parent = parent;
  return element;
}

function update(element, moddleElement, properties) {
  return { cmd: 'element.updateModdleProperties', context: { element, moddleElement, properties } };
}

function propertiesOf(bo) {
  const ext = bo.get('extensionElements');
  const props = ext && (ext.get('values') || []).find((v) => is(v, 'camunda:Properties'));
  return { ext, props };
}

/** The value of `<camunda:property name=NAME>` on the element, or ''. */
export function camundaProperty(element, name) {
  const { props } = propertiesOf(getBusinessObject(element));
  const prop = props && (props.get('values') || []).find((p) => p.name === name);
  return (prop && prop.value) || '';
}

/** Set (or, with an empty value, remove) `<camunda:property name=NAME>`; empty containers go too. */
export function setCamundaProperty(injector, element, name, value) {
  const bpmnFactory = injector.get('bpmnFactory');
  const commandStack = injector.get('commandStack');
  const bo = getBusinessObject(element);
  let { ext, props } = propertiesOf(bo);
  const prop = props && (props.get('values') || []).find((p) => p.name === name);
  const text = (value || '').trim();
  const commands = [];
  if (!text) {
    if (!prop) return;
    const rest = props.get('values').filter((p) => p !== prop);
    if (rest.length) {
      commands.push(update(element, props, { values: rest }));
    } else {
      const others = ext.get('values').filter((v) => v !== props);
      commands.push(others.length ? update(element, ext, { values: others })
        : update(element, bo, { extensionElements: undefined }));
    }
  } else if (prop) {
    commands.push(update(element, prop, { value: text }));
  } else {
    if (!ext) {
      ext = create(bpmnFactory, 'bpmn:ExtensionElements', { values: [] }, bo);
      commands.push(update(element, bo, { extensionElements: ext }));
    }
    if (!props) {
      props = create(bpmnFactory, 'camunda:Properties', { values: [] }, ext);
      commands.push(update(element, ext, { values: [...(ext.get('values') || []), props] }));
    }
    const added = create(bpmnFactory, 'camunda:Property', { name, value: text }, props);
    commands.push(update(element, props, { values: [...(props.get('values') || []), added] }));
  }
  commandStack.execute('properties-panel.multi-command-executor', commands);
}

/** Set a plain attribute of the element's business object (formKey, calledElement, name, ...). */
export function setAttribute(injector, element, name, value) {
  const text = (value || '').trim();
  injector.get('commandStack').execute('element.updateModdleProperties', {
    element, moddleElement: getBusinessObject(element), properties: { [name]: text || undefined },
  });
}

export function messageDefinition(element) {
  const bo = getBusinessObject(element);
  return (bo.get('eventDefinitions') || []).find((d) => is(d, 'bpmn:MessageEventDefinition')) || null;
}

function definitionsOf(bo) {
  let node = bo;
  while (node.$parent) node = node.$parent;
  return node;
}

/** Every message name the diagram defines. */
export function diagramMessages(element) {
  const root = definitionsOf(getBusinessObject(element));
  return (root.get('rootElements') || []).filter((e) => is(e, 'bpmn:Message') && e.name).map((e) => e.name);
}

export function messageName(element) {
  const definition = messageDefinition(element);
  return (definition && definition.messageRef && definition.messageRef.name) || '';
}

/** Point the event at the message NAME, defining a `bpmn:Message` for it when the diagram has none. */
export function setMessageName(injector, element, name) {
  const definition = messageDefinition(element);
  if (!definition) return;
  const bpmnFactory = injector.get('bpmnFactory');
  const root = definitionsOf(getBusinessObject(element));
  const text = (name || '').trim();
  const commands = [];
  let message = null;
  if (text) {
    message = (root.get('rootElements') || []).find((e) => is(e, 'bpmn:Message') && e.name === text);
    if (!message) {
      message = create(bpmnFactory, 'bpmn:Message', { name: text }, root);
      commands.push(update(element, root, { rootElements: [...root.get('rootElements'), message] }));
    }
  }
  commands.push(update(element, definition, { messageRef: message || undefined }));
  injector.get('commandStack').execute('properties-panel.multi-command-executor', commands);
}

/** A message throw or message end event: it sends, so it may name a payload. */
export function isMessageSender(element) {
  return (is(element, 'bpmn:IntermediateThrowEvent') || is(element, 'bpmn:EndEvent')) && !!messageDefinition(element);
}

/** A message catch (intermediate, boundary or start): it waits, so it may name a form and a correlation key. */
export function isMessageReceiver(element) {
  return (is(element, 'bpmn:IntermediateCatchEvent') || is(element, 'bpmn:BoundaryEvent')
    || is(element, 'bpmn:StartEvent')) && !!messageDefinition(element);
}

// Deadlines: `<duration> [working] [from <field>]` or the name of a rule in config/deadlines.toml
// (engine/deadlines.py). The panel shows the duration as one text field in the engine's own form:
// ISO 8601 with date parts only, P[nY][nM][nW][nD] (P14D, P2W3D, P1M), read as _DURATION there.
export const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$/;
const DEADLINE = /^(P\S*)(?:\s+(working|arbejdsdage|hverdage))?(?:\s+(?:from|fra)\s+([A-Za-z_][A-Za-z0-9_]*))?$/i;

export function parseDeadline(text) {
  const match = DEADLINE.exec((text || '').trim());
  if (!match || !DURATION.test(match[1].toUpperCase()) || match[1].length < 3) return null;
  return { duration: match[1].toUpperCase(), working: !!match[2], from: match[3] || '' };
}

/** A Danish reason the engine would refuse this duration (with or without working days), or null. */
export function durationProblem(text, working) {
  const value = (text || '').trim().toUpperCase();
  const match = DURATION.exec(value);
  if (!match || value.length < 3) {
    return 'Skriv varigheden som P efterfulgt af tal med enhed: Y (år), M (måneder), W (uger), D (dage) '
      + 'i den rækkefølge, fx P14D, P2W3D eller P1M.';
  }
  if (working && (match[1] || match[2])) {
    return 'Måneder og år kan ikke tælles i arbejdsdage: brug uger og dage, eller fjern fluebenet ved arbejdsdage.';
  }
  return null;
}

/** "2 uger og 3 dage" for P2W3D. */
export function describeDuration(text) {
  const match = DURATION.exec((text || '').trim().toUpperCase());
  if (!match) return '';
  const names = [['år', 'år'], ['måned', 'måneder'], ['uge', 'uger'], ['dag', 'dage']];
  const parts = match.slice(1).map((n, i) => (n ? `${Number(n)} ${Number(n) === 1 ? names[i][0] : names[i][1]}` : ''))
    .filter(Boolean);
  return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} og ${parts[parts.length - 1]}` : (parts[0] || '');
}

export function composeDeadline({ duration, working, from }) {
  const value = (duration || 'P5D').trim().toUpperCase();
  // months and years cannot be counted in working days (engine/deadlines.py refuses them)
  const useWorking = working && !/\d[YM]/.test(value);
  return `${value}${useWorking ? ' working' : ''}${from ? ` from ${from}` : ''}`;
}
