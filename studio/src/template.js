/**
 * A new journey: a pool with one lane per unit (the lane's name is the unit key, as the engine
 * reads it) and a start event in the first lane, with its diagram laid out. Pure text.
 */
const LANE_HEIGHT = 160;
const POOL_X = 160;
const POOL_Y = 80;
const POOL_WIDTH = 1100;
const HEADER = 30;

function esc(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export const KEY_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

export function journeyTemplate(key, name, units) {
  if (!KEY_PATTERN.test(key)) throw new Error(`invalid key ${key}`);
  const lanes = units.length ? units : ['jobcenter'];
  const start = `${key}_start`;
  const laneXml = lanes.map((unit, i) => `      <bpmn:lane id="bane_${esc(unit)}" name="${esc(unit)}">${
    i === 0 ? `\n        <bpmn:flowNodeRef>${start}</bpmn:flowNodeRef>\n      ` : ''}</bpmn:lane>`).join('\n');
  const laneDi = lanes.map((unit, i) => `      <bpmndi:BPMNShape id="bane_${esc(unit)}_di" bpmnElement="bane_${esc(unit)}" isHorizontal="true">
        <dc:Bounds x="${POOL_X + HEADER}" y="${POOL_Y + i * LANE_HEIGHT}" width="${POOL_WIDTH - HEADER}" height="${LANE_HEIGHT}" />
      </bpmndi:BPMNShape>`).join('\n');
  const startY = POOL_Y + LANE_HEIGHT / 2 - 18;
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="${key}_definitions" targetNamespace="https://tovholder.dk/bpmn/${key}">
  <bpmn:collaboration id="${key}_samarbejde">
    <bpmn:participant id="${key}_pulje" name="${esc(name)}" processRef="${key}" />
  </bpmn:collaboration>
  <bpmn:process id="${key}" name="${esc(name)}" isExecutable="true">
    <bpmn:laneSet id="${key}_baner">
${laneXml}
    </bpmn:laneSet>
    <bpmn:startEvent id="${start}" name="Sagen oprettes" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="${key}_diagram">
    <bpmndi:BPMNPlane id="${key}_plan" bpmnElement="${key}_samarbejde">
      <bpmndi:BPMNShape id="${key}_pulje_di" bpmnElement="${key}_pulje" isHorizontal="true">
        <dc:Bounds x="${POOL_X}" y="${POOL_Y}" width="${POOL_WIDTH}" height="${lanes.length * LANE_HEIGHT}" />
      </bpmndi:BPMNShape>
${laneDi}
      <bpmndi:BPMNShape id="${start}_di" bpmnElement="${start}">
        <dc:Bounds x="${POOL_X + HEADER + 60}" y="${startY}" width="36" height="36" />
        <bpmndi:BPMNLabel><dc:Bounds x="${POOL_X + HEADER + 40}" y="${startY + 43}" width="76" height="14" /></bpmndi:BPMNLabel>
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
`;
}
