/**
 * Danish for the modeler's own words: palette, context pad, replace menu and the general
 * groups of the properties panel. A `translate` service as diagram-js expects it
 * (template with {placeholders}); words without a translation stay in English.
 */
const DA = {
  // palette and tools
  'Activate hand tool': 'Flyt lærredet (hånd)',
  'Activate lasso tool': 'Markér flere (lasso)',
  'Activate create/remove space tool': 'Skab eller fjern plads',
  'Activate global connect tool': 'Forbind elementer',
  'Create start event': 'Ny starthændelse',
  'Create intermediate/boundary event': 'Ny mellem- eller kanthændelse',
  'Create end event': 'Ny sluthændelse',
  'Create gateway': 'Ny gateway (forgrening)',
  'Create task': 'Ny opgave',
  'Create expanded sub-process': 'Nyt delforløb',
  'Create data object reference': 'Nyt dataobjekt',
  'Create data store reference': 'Nyt datalager',
  'Create pool/participant': 'Ny pulje (pool)',
  'Create group': 'Ny gruppe',
  'Search in diagram': 'Søg i diagrammet',
  // context pad
  'Append end event': 'Tilføj sluthændelse',
  'Append gateway': 'Tilføj gateway',
  'Append task': 'Tilføj opgave',
  'Append intermediate/boundary event': 'Tilføj mellemhændelse',
  'Append message intermediate catch event': 'Tilføj ventende besked',
  'Append timer intermediate catch event': 'Tilføj timer',
  'Append receive task': 'Tilføj modtageopgave',
  'Append signal intermediate catch event': 'Tilføj ventende signal',
  'Append conditional intermediate catch event': 'Tilføj betingelse',
  'Append compensation activity': 'Tilføj kompensation',
  'Add lane above': 'Tilføj bane ovenfor',
  'Add lane below': 'Tilføj bane nedenfor',
  'Divide into two lanes': 'Del i to baner',
  'Divide into three lanes': 'Del i tre baner',
  'Add text annotation': 'Tilføj note',
  'Change element': 'Skift elementtype',
  'Connect to other element': 'Forbind til et andet element',
  'Connect using association': 'Forbind med association',
  'Connect using data input association': 'Forbind med datainput',
  Delete: 'Slet',
  'Toggle non-interrupting': 'Skift afbrydende / ikke-afbrydende',
  Loop: 'Gentagelse',
  'Parallel multi-instance': 'Parallel flere gange',
  'Sequential multi-instance': 'Sekventiel flere gange',
  // properties panel, general groups
  General: 'Generelt',
  Name: 'Navn',
  ID: 'Id',
  Documentation: 'Dokumentation',
  'Element documentation': 'Beskrivelse af elementet',
  'Process documentation': 'Beskrivelse af forløbet',
  'Process name': 'Forløbets navn',
  'Process ID': 'Forløbets id (nøgle)',
  'Participant Name': 'Puljens navn',
  Executable: 'Kan køres',
  'Select an element to edit its properties.': 'Vælg et element for at se og ændre dets egenskaber.',
  'Multiple elements are selected. Select a single element to edit its properties.':
    'Flere elementer er valgt. Vælg ét element for at ændre dets egenskaber.',
  'ID must be unique.': 'Id skal være unikt.',
  'ID must not be empty.': 'Id må ikke være tomt.',
  'ID must not contain spaces.': 'Id må ikke indeholde mellemrum.',
  'ID must be a valid QName.': 'Id skal begynde med et bogstav og kun have bogstaver, tal og _.',
  'ID must not contain prefix.': 'Id må ikke have et præfiks (kolon).',
  Message: 'Besked',
  'Global message reference': 'Besked',
  'Create new ...': 'Opret ny …',
  '<none>': '<ingen>',
  Timer: 'Timer',
  Type: 'Type',
  Value: 'Værdi',
  Date: 'Dato',
  Duration: 'Varighed',
  Cycle: 'Gentagelse',
  Condition: 'Betingelse',
  'Condition expression': 'Betingelse (Python-udtryk)',
  'Multi-instance': 'Flere gange',
  'Loop cardinality': 'Antal gange',
  Signal: 'Signal',
  Error: 'Fejl',
  Escalation: 'Eskalering',
  Link: 'Link',
  Script: 'Script',
  Format: 'Format',
  'Inline script': 'Script i diagrammet',
  Compensation: 'Kompensation',
  'Called element': 'Kaldt forløb',
};

export default function translate(template, replacements) {
  const text = DA[template] || template;
  const values = replacements || {};
  return text.replace(/{([^}]+)}/g, (_, key) => (key in values ? values[key] : `{${key}}`));
}

export const TranslateModule = { translate: ['value', translate] };
