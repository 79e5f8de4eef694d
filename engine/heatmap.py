"""The heatmap of a journey: per element of its diagram, what the cases did there in a period.

Role: for one version of a journey, or across all its versions, per BPMN
element: the cases that passed it in the period (a user task: its tasks
completed then; any other element: the audit trail's element_passed,
gateway_taken, timer_fired and message_caught events then; each case once),
the running cases standing there now (engine.versions.case_positions), and
for user tasks the median time spent (created → completed, hours) and the
share completed late (late / (on time + late), tasks with a deadline). A team
lead sees the cases that take part in their units and, for user tasks, the
tasks of their units (engine.reports.period_for holds them to those).

`heatmap(session, period, version)` answers the figures (JSON for the API,
the table on the page); `heatmap_svg` draws them on the diagram with
`HeatMarks` (engine/diagram): numbers on every element, a frame whose width
and dash tell the share late (never colour alone), a legend.

Read-only: plain SELECTs, nothing is written or committed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from .access import units_take_part
from .diagram.marks import outline
from .diagram.overlays import scoped
from .diagram.svg import parse, render
from .diagram.text import Bounds, Element, esc, local, num
from .errors import Invalid, NotFound
from .models import AuditEvent, Case, HumanTask, ProcessDefinition
from .reports import Period, _hours, _quantiles, _seconds
from .versions import case_positions

PASSED_EVENTS = ("element_passed", "gateway_taken", "timer_fired", "message_caught")
# share late → (level name, frame width, dash): the frame says it without colour, the number says it exactly
LEVELS = ((0, "ingen for sent", 1.5, ""), (10, "op til 10 % for sent", 3, ' stroke-dasharray="2 3"'),
          (30, "10–30 % for sent", 4, ' stroke-dasharray="8 3"'), (101, "over 30 % for sent", 6, ""))
SHORT = {"op til 10 % for sent": "≤ 10 %", "10–30 % for sent": "10–30 %", "over 30 % for sent": "> 30 %"}
KINDS = {"userTask": "Opgave", "startEvent": "Start", "endEvent": "Slut", "exclusiveGateway": "Valg",
         "parallelGateway": "Parallel", "inclusiveGateway": "Valg (flere)", "eventBasedGateway": "Venter på hændelse",
         "intermediateCatchEvent": "Venter", "intermediateThrowEvent": "Sender", "boundaryEvent": "Kant-hændelse",
         "serviceTask": "Systemopgave", "scriptTask": "Beregning", "sendTask": "Sender", "receiveTask": "Modtager",
         "callActivity": "Delforløb", "subProcess": "Delproces", "businessRuleTask": "Regel"}
HEAT_COLOUR = "#8a2c00"  # dark orange-brown, 7.4:1 on white
BADGE_FILL = "#ffffff"


@dataclass
class ElementFigures:
    element_id: str
    name: str
    kind: str  # "userTask", "exclusiveGateway", ...
    passed: int = 0
    here_now: int = 0
    median_hours: float | None = None
    on_time: int = 0
    late: int = 0

    @property
    def kind_name(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def late_share(self) -> int | None:
        """Percent late of the completed tasks with a deadline, rounded; None without any."""
        judged = self.on_time + self.late
        return None if judged == 0 else round(100 * self.late / judged)

    def as_json(self) -> dict:
        return {"element_id": self.element_id, "name": self.name, "kind": self.kind, "passed": self.passed,
                "here_now": self.here_now, "median_hours": self.median_hours, "on_time": self.on_time,
                "late": self.late, "late_share": self.late_share}


@dataclass
class Heatmap:
    process_key: str
    version: int | None  # None: across every version
    drawn_version: int  # whose diagram the figures are drawn on (the newest when across versions)
    elements: list[ElementFigures] = field(default_factory=list)

    def as_json(self, period: Period) -> dict:
        return {"process_key": self.process_key, "version": self.version, "drawn_version": self.drawn_version,
                "from": period.from_date.isoformat(), "to": period.to_date.isoformat(),
                "elements": [e.as_json() for e in self.elements]}


def _definitions(session: Session, key: str, version: int | None) -> list[ProcessDefinition]:
    query = select(ProcessDefinition).where(ProcessDefinition.key == key).order_by(ProcessDefinition.version.desc())
    found = list(session.scalars(query))
    if not found:
        raise NotFound(f"no process '{key}' is deployed")
    if version is None:
        return found
    chosen = [d for d in found if d.version == version]
    if not chosen:
        raise Invalid(f"'{key}' has no version {version}",
                      [{"field": "version", "message": f"no version {version}"}])
    return chosen


def versions_of(session: Session, key: str) -> list[int]:
    return list(session.scalars(select(ProcessDefinition.version).where(ProcessDefinition.key == key)
                                .order_by(ProcessDefinition.version.desc())))


def _elements(definition: ProcessDefinition) -> dict[str, tuple[str, str]]:
    """{element id: (name, kind)} of the diagram's flow nodes, in document order."""
    found: dict[str, tuple[str, str]] = {}
    root = parse(definition.bpmn_xml.encode("utf-8"))
    for el in root.iter():
        kind = local(el) or ""
        if el.get("id") and (kind.endswith(("Task", "Event", "Gateway")) or kind in ("task", "callActivity",
                                                                                     "subProcess")):
            found.setdefault(el.get("id") or "", (str(el.get("name") or el.get("id") or ""), kind))
    return found


def heatmap(session: Session, period: Period, *, process_key: str, version: int | None) -> Heatmap:
    """The figures per element; `period.units` (a team lead's) limits the cases and tasks counted."""
    definitions = _definitions(session, process_key, version)
    versions = [d.version for d in definitions]
    result = Heatmap(process_key, version, definitions[0].version)
    figures: dict[str, ElementFigures] = {}
    for definition in reversed(definitions):  # the newest version's names win
        for element_id, (name, kind) in _elements(definition).items():
            figures[element_id] = ElementFigures(element_id, name, kind)

    t = HumanTask
    task_filter = [t.process_key == process_key, t.process_version.in_(versions), t.status == "completed",
                   t.completed_at >= period.start, t.completed_at < period.end]
    if period.units is not None:
        task_filter.append(t.unit.in_(sorted(period.units)))
    has_due = t.due_at.is_not(None)
    for element_id, passed, on_time, late in session.execute(
            select(t.element_id, func.count(func.distinct(t.case_id)),
                   func.sum(case((and_(has_due, t.completed_at <= t.due_at), 1), else_=0)),
                   func.sum(case((and_(has_due, t.completed_at > t.due_at), 1), else_=0)))
            .where(*task_filter).group_by(t.element_id)):
        row = figures.setdefault(element_id, ElementFigures(element_id, element_id, "userTask"))
        row.passed, row.on_time, row.late = int(passed), int(on_time or 0), int(late or 0)
    medians = _quantiles(session, select(t.element_id, _seconds(session, t.completed_at, t.created_at)
                                         .label("value")).where(*task_filter), ("element_id",), (50,))
    for (element_id,), values in medians.items():
        figures[element_id].median_hours = _hours(values.get(50))

    a, c = AuditEvent, Case
    case_filter = [c.process_key == process_key, c.version.in_(versions)]
    if period.units is not None:
        case_filter.append(units_take_part(period.units, c.id))
    for passed_at, passed in session.execute(
            select(a.element_id, func.count(func.distinct(a.case_id)))
            .join(c, c.id == a.case_id)
            .where(a.type.in_(PASSED_EVENTS), a.at >= period.start, a.at < period.end, a.element_id.is_not(None),
                   *case_filter)
            .group_by(a.element_id)):
        if passed_at is not None and passed_at in figures and figures[passed_at].kind != "userTask":
            figures[passed_at].passed = int(passed)

    allowed = None
    if period.units is not None:
        allowed = set(session.scalars(select(c.id).where(c.status == "running", *case_filter)))
    standing: dict[str, set[str]] = {}
    for definition in definitions:
        for element_id, cases in case_positions(session, definition.id).items():
            standing.setdefault(element_id, set()).update(cases if allowed is None else cases & allowed)
    for element_id, cases in standing.items():
        if element_id in figures:
            figures[element_id].here_now = len(cases)
    result.elements = list(figures.values())
    return result


# -- drawn on the diagram ---------------------------------------------------------------------------

def level_of(share: int | None) -> tuple[str, float, str]:
    if share is None or share == 0:
        return LEVELS[0][1], LEVELS[0][2], LEVELS[0][3]
    for limit, name, width, dash in LEVELS[1:]:
        if share <= limit or limit == 101:
            return name, width, dash
    return LEVELS[-1][1], LEVELS[-1][2], LEVELS[-1][3]


def _hours_text(hours: float | None) -> str:
    if hours is None:
        return "–"
    return f"{hours:.1f}".replace(".", ",") + " t"


def _badge_lines(f: ElementFigures) -> list[str]:
    lines = [f"Forbi {f.passed} · Nu {f.here_now}"]
    if f.kind == "userTask":
        share = f.late_share
        lines.append(f"{_hours_text(f.median_hours)} · {'–' if share is None else f'{share} %'} sent")
    return lines


@dataclass(frozen=True)
class HeatMarks:
    """engine.diagram.svg's marks interface: the heatmap's figures on each element."""

    figures: dict[str, ElementFigures]
    label: str

    def shape(self, el: Element, b: Bounds, *, expanded: bool = False) -> str:
        f = self.figures.get(el.get("id") or "")
        if f is None or local(el) in ("participant", "lane"):
            return ""
        share = f.late_share if f.kind == "userTask" else None
        level, width, dash = level_of(share)
        lines = _badge_lines(f)
        title = (f"{f.name}: {f.passed} sager forbi i perioden, {f.here_now} står her nu"
                 + (f", median {_hours_text(f.median_hours)}, {'ingen frister' if share is None else f'{share} % for sent'}"
                    if f.kind == "userTask" else ""))
        box_w, box_h = 8 + 6.6 * max(len(line) for line in lines), 4 + 14 * len(lines)
        x, y = b.x + b.w / 2 - box_w / 2, b.y - box_h - 3
        texts = "".join(f'<text x="{num(x + 4)}" y="{num(y + 14 + 14 * i)}" font-size="11" fill="#1b1b1b">'
                        f"{esc(line)}</text>" for i, line in enumerate(lines))
        frame = outline(local(el), b, HEAT_COLOUR, dash).replace('stroke-width="4"', f'stroke-width="{num(width)}"') \
            if share else ""
        return (f'<g class="mark mark-heat" data-element="{esc(el.get("id"))}" data-passed="{f.passed}" '
                f'data-here="{f.here_now}" data-level="{esc(level)}"><title>{esc(title)}</title>{frame}'
                f'<rect x="{num(x)}" y="{num(y)}" width="{num(box_w)}" height="{num(box_h)}" rx="3" '
                f'fill="{BADGE_FILL}" stroke="#1b1b1b" stroke-width="1"/>{texts}</g>')

    def flow(self, el: Element | None, edge: Element) -> str:
        return ""

    def legend(self, top: float) -> tuple[str, int]:
        words = ("Forbi: sager der passerede trinnet i perioden.", "Nu: kørende sager der står der nu.",
                 "Opgaver: median tid (t) og andel afsluttet for sent.")
        rows = [f'<text x="0" y="{14 + 16 * i}" font-size="12">{esc(w)}</text>' for i, w in enumerate(words)]
        rows.append('<text x="0" y="76" font-size="12">Ramme = andel for sent:</text>')
        for i, (_limit, name, width, dash) in enumerate(LEVELS[1:]):
            x = 150 + i * 92
            rows.append(f'<rect x="{x}" y="60" width="30" height="22" rx="6" fill="#ffffff" stroke="{HEAT_COLOUR}" '
                        f'stroke-width="{num(width)}"{dash}/><text x="{x + 36}" y="76" font-size="12">'
                        f"{esc(SHORT[name])}</text>")
        group = (f'<g class="legend" transform="translate(10 {num(top)})"><title>Signaturforklaring</title>'
                 f'{"".join(rows)}</g>')
        return group, 90

    def summary(self) -> str:
        passed = sum(f.passed for f in self.figures.values())
        return (f"Varmekort over {self.label}: tal for sager forbi og sager der står her nu ved hvert trin "
                f"({passed} passager i alt); samme tal står i tabellen under diagrammet")


def heatmap_svg(session: Session, found: Heatmap, label: str) -> str | None:
    """The drawn version's diagram with the figures; None if it has no layout (BPMNDI)."""
    definition = session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == found.process_key,
                                                                ProcessDefinition.version == found.drawn_version))
    if definition is None:
        return None
    try:
        svg = render(definition.bpmn_xml.encode("utf-8"), HeatMarks({f.element_id: f for f in found.elements}, label))
    except ValueError:
        return None
    return scoped(svg, "heat")
