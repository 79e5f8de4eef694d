/**
 * bpmnlint's recommended rules where they help a process owner, run in the browser on the
 * diagram as drawn. Their findings are warnings in Danish beside the server's checks, which
 * alone decide what can be published (the engine accepts some things bpmnlint frowns on, so
 * rules that would only add noise on Tovholder's own journeys are left out).
 */
import { Linter } from 'bpmnlint';
import conditionalFlows from 'bpmnlint/rules/conditional-flows';
import endEventRequired from 'bpmnlint/rules/end-event-required';
import fakeJoin from 'bpmnlint/rules/fake-join';
import noDisconnected from 'bpmnlint/rules/no-disconnected';
import noDuplicateFlows from 'bpmnlint/rules/no-duplicate-sequence-flows';
import noImplicitSplit from 'bpmnlint/rules/no-implicit-split';
import startEventRequired from 'bpmnlint/rules/start-event-required';
import superfluousGateway from 'bpmnlint/rules/superfluous-gateway';

const RULES = {
  'conditional-flows': [conditionalFlows, 'En pil ud af en forgrening mangler en betingelse (eller forgreningen en standardvej).'],
  'end-event-required': [endEventRequired, 'Forløbet har ingen sluthændelse.'],
  'fake-join': [fakeJoin, 'Flere pile ind i en opgave: saml dem i en gateway først, så det er tydeligt, hvornår opgaven starter.'],
  'no-disconnected': [noDisconnected, 'Elementet er ikke forbundet med resten af forløbet.'],
  'no-duplicate-sequence-flows': [noDuplicateFlows, 'To pile forbinder de samme to elementer.'],
  'no-implicit-split': [noImplicitSplit, 'Flere pile ud af elementet uden en gateway: brug en gateway, så det er tydeligt, om vejene er enten-eller eller samtidige.'],
  'start-event-required': [startEventRequired, 'Forløbet har ingen starthændelse.'],
  'superfluous-gateway': [superfluousGateway, 'Gatewayen har kun én vej ind og én ud og kan fjernes.'],
};

// A linter per run: some rules keep state between the elements they visit (and the Linter keeps
// the rule instances), so a second run on one linter would report every flow as a duplicate.
const makeLinter = () => new Linter({
  config: { rules: Object.fromEntries(Object.keys(RULES).map((name) => [name, 'warn'])) },
  resolver: {
    resolveRule: (pkg, name) => RULES[name][0],
    resolveConfig: () => { throw new Error('no shared configs'); },
  },
});

/** Problems in the server's shape ({element, line, message, severity}) for the current diagram. */
export async function lintProblems(modeler) {
  const definitions = modeler.getDefinitions();
  if (!definitions) return [];
  let reports;
  try {
    reports = await makeLinter().lint(definitions);
  } catch (err) {
    return [];  // a rule tripping over an odd diagram must not hide the server's checks
  }
  const problems = [];
  for (const [name, items] of Object.entries(reports)) {
    const text = (RULES[name] && RULES[name][1]) || name;
    for (const item of items) {
      problems.push({ element: item.id || null, line: null, message: text, severity: 'warning', source: 'bpmnlint' });
    }
  }
  return problems;
}
