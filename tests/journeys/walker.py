"""Seeded random walks through the deployed journeys, and which sequence flows they took.

A walk starts one case of a process that nothing else starts (a top-level process of processes/),
then plays every part: each open user task (reminders and team-lead tasks too) is completed with
random data its form accepts, each message the case waits for from outside is sent with random data
its event's form accepts, and the clock moves to the next timer. Everything goes through the same
engine functions the API and the worker use (engine.runtime.start_case, complete_task,
correlate_message; workers.timers.fire_due_timers); nothing is mocked. Cases that a walk's case
starts (a message to SOF) or calls (virksomhedsplacering) are walked with it.

Time is an event queue: every task gets a planned completion moment, drawn from a seeded
random.Random between its creation and its due time (in a "tardy" walk some tasks go late, so the
escalation timers fire), every outside message a planned arrival, every timer its due moment; the
walk takes the earliest, moves the clock there and does it. It stops when nothing is left to do
or after a step limit.

Which sequence flows were taken is read from the case's audit trail (the record the engine keeps
anyway): a completed element took all its outgoing flows, a gateway the flows to the elements its
`gateway_taken` event names. Elements are attributed to the process they are drawn in; an element id
drawn in two processes one case runs cannot be attributed and is reported as ambiguous.

Invariants checked at every step: no engine error (an exception, or a process_error,
deadline_error or task_attribute_error audit event), the forms accept the random data, and in a
punctual walk no task of a legal deadline is born overdue (due before it is created). When nothing
is left to do, no case of the walk may still be running.

Transactions: each action commits (as the API and worker edges do); a failed action is rolled back
and reported. Test-only code: nothing in engine/ or api/ imports it.
"""
from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from re import _parser as sre_parse  # type: ignore[attr-defined]
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import case_attributes, clock, message_forms, runtime
from engine.accounts import UserView, find_user
from engine.attachments import add_attachment
from engine.bpmn.serializer import workflow_from_json
from engine.bundles import start_form, task_form
from engine.case_rules import CaseRules
from engine.catalog import get_definition
from engine.errors import FormRejected
from engine.forms import Form, FormField
from engine.models import AuditEvent, Case, HumanTask, ProcessDefinition, Wait
from engine.workdays import DANISH_TIME
from workers.timers import fire_due_timers

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
# audit events that say an element was completed, and so took its outgoing flows
DONE_EVENTS = ("task_completed", "gateway_taken", "element_passed", "timer_fired", "message_caught")
ERROR_EVENTS = ("process_error", "deadline_error", "task_attribute_error")
BASE = datetime(2026, 1, 5, 7, 0, tzinfo=timezone.utc)  # a Monday, 08:00 in Denmark
PDF = b"%PDF-1.4\n% bilag fra den tilfaeldige gennemgang\n%%EOF\n"


# -- the diagrams: flows, elements, calls, messages ------------------------------------------------


@dataclass(frozen=True)
class Flow:
    process: str
    id: str
    source: str
    target: str
    name: str | None = None
    condition: str | None = None

    def __str__(self) -> str:
        label = f" »{self.name}«" if self.name else ""
        return f"{self.process}:{self.id} ({self.source} -> {self.target}{label})"


@dataclass
class Diagram:
    process: str
    path: Path
    flows: dict[str, Flow] = field(default_factory=dict)
    elements: dict[str, str] = field(default_factory=dict)      # id -> BPMN tag
    calls: set[str] = field(default_factory=set)                # processes its call activities run
    throws: set[str] = field(default_factory=set)               # message names it throws
    message_start: str | None = None                            # the message its case starts with
    start_form: str | None = None                               # its none start event's form, if any
    boundaries: dict[str, list[str]] = field(default_factory=dict)  # activity id -> its boundary events
    defaults: dict[str, str] = field(default_factory=dict)          # gateway id -> its default flow
    thrower_of: dict[str, str] = field(default_factory=dict)        # throw event id -> its message

    def outgoing(self, element: str) -> list[Flow]:
        return [f for f in self.flows.values() if f.source == element]

    def is_gateway(self, element: str) -> bool:
        return self.elements.get(element, "").endswith("Gateway")


def read_diagrams(root: Path) -> dict[str, Diagram]:
    """Every executable process drawn in root/**/*.bpmn, by process id."""
    diagrams: dict[str, Diagram] = {}
    for path in sorted(root.rglob("*.bpmn")):
        tree = ET.parse(path).getroot()
        messages = {m.get("id"): m.get("name") for m in tree.iter(f"{BPMN}message")}
        for process in tree.iter(f"{BPMN}process"):
            diagram = Diagram(process.get("id") or "", path)
            for element in process.iter():
                tag = element.tag.replace(BPMN, "")
                ident = element.get("id")
                if element is process or not ident or not isinstance(element.tag, str) or not element.tag.startswith(BPMN):
                    continue
                if tag == "sequenceFlow":
                    condition = element.find(f"{BPMN}conditionExpression")
                    text = (condition.text or "").strip() if condition is not None else ""
                    diagram.flows[ident] = Flow(diagram.process, ident, element.get("sourceRef") or "",
                                                element.get("targetRef") or "", element.get("name"), text or None)
                    continue
                if element.get("default"):
                    diagram.defaults[ident] = element.get("default") or ""
                if tag.endswith("EventDefinition") or tag in ("lane", "laneSet", "conditionExpression"):
                    continue
                diagram.elements[ident] = tag
                if tag == "boundaryEvent" and element.get("attachedToRef"):
                    diagram.boundaries.setdefault(element.get("attachedToRef") or "", []).append(ident)
                if tag == "callActivity" and element.get("calledElement"):
                    diagram.calls.add(element.get("calledElement") or "")
                definition = element.find(f"{BPMN}messageEventDefinition")
                name = messages.get(definition.get("messageRef")) if definition is not None else None
                if name and tag in ("intermediateThrowEvent", "endEvent", "sendTask"):
                    diagram.throws.add(name)
                    diagram.thrower_of[ident] = name
                if name and tag == "startEvent" and element in list(process):
                    diagram.message_start = name
                if not name and tag == "startEvent" and element in list(process):
                    diagram.start_form = element.get(f"{CAMUNDA}formKey")
            diagrams[diagram.process] = diagram
    return diagrams


def top_level(diagrams: dict[str, Diagram]) -> list[str]:
    """Where a walk begins: processes no other process calls or starts with a message, and called ones that
    staff can also start on their own (a start form: langvarig_aktivitetsparat, as *Opret sag* offers it)."""
    called = {c for d in diagrams.values() for c in d.calls}
    thrown = {m for d in diagrams.values() for m in d.throws}
    return sorted(p for p, d in diagrams.items()
                  if (p not in called or d.start_form) and (d.message_start is None or d.message_start not in thrown))


def runs_with(diagrams: dict[str, Diagram], process: str) -> list[str]:
    """The process and those its call activities run, transitively: what one case's elements can be."""
    found, todo = [], [process]
    while todo:
        name = todo.pop(0)
        if name in found or name not in diagrams:
            continue
        found.append(name)
        todo.extend(sorted(diagrams[name].calls))
    return found


def family(diagrams: dict[str, Diagram], process: str) -> list[str]:
    """Every process a walk from `process` can reach: called ones, and those its messages start."""
    found, todo = [], [process]
    while todo:
        name = todo.pop(0)
        if name in found or name not in diagrams:
            continue
        found.append(name)
        todo.extend(sorted(diagrams[name].calls))
        todo.extend(sorted(p for p, d in diagrams.items() if d.message_start in diagrams[name].throws))
    return found


# -- random values a form accepts ----------------------------------------------------------------


def danish_day(moment: datetime) -> date:
    return clock.as_utc(moment).astimezone(DANISH_TIME).date()


def text_matching(rng: random.Random, pattern: str) -> str:
    """A random text the whole of `pattern` matches (literals, classes, \\d \\w \\s, repeats, groups, |)."""
    def build(items) -> str:
        out = []
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                out.append(chr(arg))
            elif name == "ANY":
                out.append(rng.choice("abcdefghij"))
            elif name == "IN":
                out.append(one_of(arg))
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                low, high, sub = arg
                high = min(high, low + 3) if high != sre_parse.MAXREPEAT else low + 3
                out.extend(build(sub) for _ in range(rng.randint(low, high)))
            elif name == "SUBPATTERN":
                out.append(build(arg[-1]))
            elif name == "BRANCH":
                out.append(build(rng.choice(arg[1])))
            elif name == "CATEGORY":
                out.append(category(str(arg)))
            elif name in ("AT", "GROUPREF"):
                continue
            else:
                raise ValueError(f"the walker cannot write text for the pattern {pattern!r} ({name})")
        return "".join(out)

    def category(name: str) -> str:
        if "DIGIT" in name:
            return rng.choice("0123456789")
        if "SPACE" in name:
            return " "
        return rng.choice("abcdefghijklmnopqrstuvwxyz")

    def one_of(items) -> str:
        choices: list[str] = []
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                choices.append(chr(arg))
            elif name == "RANGE":
                choices.extend(chr(c) for c in range(arg[0], min(arg[1], arg[0] + 60) + 1))
            elif name == "CATEGORY":
                choices.append(category(str(arg)))
            else:
                raise ValueError(f"the walker cannot write text for the pattern {pattern!r} ({name})")
        return rng.choice(choices)

    for _ in range(50):
        text = build(sre_parse.parse(pattern))
        if re.fullmatch(pattern, text):
            return text
    raise ValueError(f"the walker found no text for the pattern {pattern!r}")


WORDS = ("borgeren", "møde", "aftalt", "plan", "vurdering", "opfølgning", "bemærkning", "ansøgning", "job")


class NoValidValue(Exception):
    """A form field no value can fill (its rules contradict each other, or the case data)."""


Choose = Callable[[FormField, list], object]
Upload = Callable[[FormField], dict]


def fill_form(rng: random.Random, form: Form | None, *, created: date, today: date, known: dict,
              optional: float = 0.5, past_days: int = 0, choose: Choose | None = None,
              upload: Upload | None = None, options: Callable[[FormField], list] | None = None) -> dict:
    """Random data `form` accepts when submitted on `today` for something that began on `created`.

    Required fields (and those `required_when` makes required) are always filled, others with
    probability `optional`. Dates fall between `created` (minus `past_days`) and `today`, some later when
    the field may lie in the future, and keep `not_future`, `after` and `not_before` against the form's
    other dates and `known` (the case data the engine checks them against). `choose` picks a choice or
    boolean field's value from its options (default: uniformly); `upload` adds a file for a file field and
    gives its value (without it, file fields stay empty and a required one cannot be filled); `options`
    gives the values a `staff` or `rule_set` field may take (the unit's staff, the configured rule sets)."""
    if form is None:
        return {}
    data: dict = {}
    fields = list(form.fields)
    # fields a required_when or date rule refers to first, so their values are there to keep the rule
    order = sorted(fields, key=lambda f: (f.rules.required_when is not None or f.rules.after is not None
                                          or f.rules.not_before is not None))
    for fld in order:
        when = fld.rules.required_when
        needed = fld.required or (when is not None and when.applies(data.get(when.field)))
        if not needed and rng.random() >= optional:
            continue
        if fld.type == "file":
            if upload is not None:
                data[fld.name] = upload(fld)
            elif needed:
                raise NoValidValue(f"{form.key}.{fld.name}: a file is required and nothing uploads one")
            continue
        if fld.type in ("boolean", "choice", "staff", "rule_set"):
            values: list = [True, False] if fld.type == "boolean" else [v for v, _ in fld.choices]
            if fld.type in ("staff", "rule_set"):
                values = options(fld) if options is not None else [f"walk_{fld.type}"]
                if not values:
                    raise NoValidValue(f"{form.key}.{fld.name}: no {fld.type} to choose")
            data[fld.name] = choose(fld, values) if choose is not None else rng.choice(values)
            continue
        data[fld.name] = _value(rng, fld, data, known, created - timedelta(days=past_days), today, form.key)
    return data


def _value(rng: random.Random, fld: FormField, data: dict, known: dict, created: date, today: date, key: str):
    if fld.type == "boolean":
        return rng.random() < 0.5
    if fld.type == "choice":
        return rng.choice([v for v, _ in fld.choices])
    if fld.type == "number":
        low = fld.min if fld.min is not None else 0
        high = fld.max if fld.max is not None else low + 100_000
        if float(low).is_integer() and float(high).is_integer():
            return rng.randint(int(low), int(high))
        return round(rng.uniform(low, high), 2)
    if fld.type in ("text", "textarea"):
        if fld.pattern:
            return text_matching(rng, fld.pattern)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))
        return text[:int(fld.max)] if fld.max is not None else text
    if fld.type == "date":
        low, high = min(created, today), today
        if not fld.rules.not_future and rng.random() < 0.3:
            high = today + timedelta(days=28)
        for ref, strict in ((fld.rules.after, True), (fld.rules.not_before, False)):
            other = _a_date(data.get(ref.field, known.get(ref.field))) if ref is not None else None
            if other is not None:
                low = max(low, other + timedelta(days=1 if strict else 0))
        if low > high:
            if fld.rules.not_future:
                raise NoValidValue(f"{key}.{fld.name}: no date is both not in the future and after {low - timedelta(1)}")
            high = low + timedelta(days=rng.randint(0, 14))
        return (low + timedelta(days=rng.randint(0, (high - low).days))).isoformat()
    raise NoValidValue(f"{key}.{fld.name}: the walker has no value for type {fld.type}")


def _holds(condition: str, data: dict) -> bool | None:
    """A flow's condition read with the data; None when it cannot be (guidance only: the engine decides)."""
    try:
        return bool(eval(condition, {"__builtins__": {}, "str": str, "int": int, "len": len}, dict(data)))  # noqa: S307
    except Exception:  # noqa: BLE001 - a field not there yet
        return None


def _a_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


# -- one walk ------------------------------------------------------------------------------------


@dataclass
class Finding:
    walk: int
    step: int
    kind: str
    text: str
    key: tuple | None = None  # what a known-findings list names: (process, element, deadline) of a task born
    #                           overdue; ("still running", process, waits) of a case left with nothing to do

    def __str__(self) -> str:
        return f"walk {self.walk}, step {self.step}: {self.kind}: {self.text}"


@dataclass
class WalkResult:
    taken: set[tuple[str, str]] = field(default_factory=set)    # (process, flow id)
    findings: list[Finding] = field(default_factory=list)       # invariant violations: the test fails
    notes: list[Finding] = field(default_factory=list)          # worth knowing, not failures
    steps: int = 0
    walks: int = 0
    ambiguous: set[str] = field(default_factory=set)


@dataclass
class Planned:
    at: datetime
    order: tuple            # deterministic tie-break
    kind: str               # task, message, timer
    key: tuple
    late: bool = False


StartData = Callable[[random.Random, Form | None, date, bool, Choose | None, Callable[[FormField], list]], dict]


def default_start_data(rng: random.Random, form: Form | None, today: date, punctual: bool,
                       choose: Choose | None = None, options: Callable[[FormField], list] | None = None) -> dict:
    """The start form filled at random. A punctual walk registers the case on the day its dates name (the
    henvendelse is today); a tardy one may date them up to two weeks back."""
    if form is None:
        return {}
    return fill_form(rng, form, created=today, today=today, known={}, past_days=0 if punctual else 14,
                     choose=choose, options=options)


class Walker:
    """Walks cases of the processes deployed in one test database (see the module docstring)."""

    def __init__(self, db, session: Session, rules: CaseRules, diagrams: dict[str, Diagram], users: dict,
                 *, start_data: dict[str, StartData] | None = None, step_limit: int = 400,
                 tardy_share: float = 0.25):
        self.db, self.session, self.rules, self.diagrams = db, session, rules, diagrams
        self.start_data = start_data or {}
        self.step_limit, self.tardy_share = step_limit, tardy_share
        self.system: UserView = users["system"]
        self.workers = self._staff(users)
        self.internal = {m for d in diagrams.values() for m in d.throws}  # messages cases send each other
        self.seen_cases: set[str] = set()
        self.taken: set[tuple[str, str]] = set()         # every flow taken so far, by all walks
        self.used: dict[tuple[str, str, str], dict] = {}  # (process, element, field) -> {value: times chosen}
        deadlines = rules.named_deadlines()
        self.legal = {name for name, rule in deadlines.items()
                      if not (rule.source or "").strip().lower().startswith("lokalt")}

    def _staff(self, users: dict) -> dict[tuple[str, str], UserView]:
        """A caseworker and a team lead for every unit (made here when the seed has none)."""
        from tests import factories as f
        staff: dict[tuple[str, str], UserView] = {}
        for user in users.values():
            for unit in user.units:
                staff.setdefault((unit, user.role), user)
        for unit in f.UNITS:
            for role in ("caseworker", "teamlead"):
                if (unit, role) not in staff:
                    name = f"walk_{role[:4]}_{unit}"
                    staff[(unit, role)] = find_user(self.session, name) or f.add_user(self.session, name, role, [unit])
        return staff

    # -- the walk --------------------------------------------------------------------------------

    def walk(self, process: str, seed: int, result: WalkResult) -> None:
        self.taken = result.taken
        rng = random.Random(f"{process}:{seed}")
        punctual = seed % 2 == 0
        state = _WalkState(seed=seed, rng=rng, punctual=punctual,
                           now=BASE + timedelta(days=rng.randint(0, 364), minutes=rng.randint(0, 600)))
        result.walks += 1
        try:
            case = self._start(process, state, result)
        except Exception as exc:  # noqa: BLE001 - the walk reports whatever broke
            self.session.rollback()
            result.findings.append(Finding(seed, 0, "start failed", f"{type(exc).__name__}: {exc}"))
            return
        state.cases.append(case.id)
        self.seen_cases.add(case.id)
        self._check(state, result)
        for step in range(1, self.step_limit + 1):
            state.step = step
            action = self._next(state)
            if action is None:
                self._stuck(state, result)
                break
            state.now = max(state.now, action.at)
            try:
                self._do(action, state)
                self.session.commit()
            except Exception as exc:  # noqa: BLE001 - an engine error is the finding
                self.session.rollback()
                key = ("no valid value", str(exc).split(":")[0]) if isinstance(exc, NoValidValue) else None
                result.findings.append(Finding(seed, step, f"{action.kind} failed",
                                               f"{action.key}: {type(exc).__name__}: {exc}", key))
                break
            result.steps += 1
            self._check(state, result)
        else:
            result.notes.append(Finding(seed, state.step, "step limit", f"stopped after {self.step_limit} steps"))
        self._finish(state, result)

    def _stuck(self, state: _WalkState, result: WalkResult) -> None:
        """Cases still running when nothing is left to do, with what they wait for: a case nobody can move
        on (a join that waits for a branch that cannot come, a message another case never sends)."""
        for case in self.session.scalars(select(Case).where(Case.id.in_(state.cases), Case.status == "running")):
            waits = sorted(f"{w.element_id} ({w.message or w.kind})" for w in self.session.scalars(
                select(Wait).where(Wait.case_id == case.id)))
            result.findings.append(Finding(state.seed, state.step, "still running",
                                           f"{case.process_key} waits only for {', '.join(waits) or 'nothing'}",
                                           ("still running", case.process_key, tuple(waits))))

    def _start(self, process: str, state: _WalkState, result: WalkResult) -> Case:
        definition = get_definition(self.session, process, None)
        form = start_form(self.session, definition, forms_dir=self.rules.forms_dir) \
            if definition.start_form_key else None
        make = self.start_data.get(process, default_start_data)
        index = message_forms.version_index(self.session, definition.id)
        start = self._chooser(process, index.start_element or "", state.rng, {})
        data = make(state.rng, form, danish_day(state.now), state.punctual, start, self._options)
        cpr = f"0101{90 + state.seed % 10}-{1000 + state.seed % 9000:04d}"
        starter = self.workers.get((self._start_unit(definition), "caseworker")) or self.system
        with clock.at(state.now):
            case = runtime.start_case(self.session, process_key=process, cpr=cpr, data=data, actor=starter,
                                      rules=self.rules)
        self.session.commit()
        return case

    def _start_unit(self, definition: ProcessDefinition) -> str | None:
        index = message_forms.version_index(self.session, definition.id)
        element = index.elements.get(index.start_element or "")
        return element.unit if element is not None else None

    def _next(self, state: _WalkState) -> Planned | None:
        self.session.expire_all()
        self._adopt_new_cases(state)
        running = set(self.session.scalars(select(Case.id).where(Case.id.in_(state.cases),
                                                                  Case.status == "running")))
        live: dict[tuple, Planned] = {}
        tasks = self.session.scalars(select(HumanTask).where(HumanTask.case_id.in_(running),
                                                              HumanTask.status.in_(("open", "claimed")))
                                     .order_by(HumanTask.created_at, HumanTask.element_id, HumanTask.id))
        for row in tasks:
            key = ("task", row.id)
            live[key] = state.plans.get(key) or self._plan_task(row, state)
        waits = list(self.session.scalars(select(Wait).where(Wait.case_id.in_(running))
                                          .order_by(Wait.element_id, Wait.id)))
        order = {cid: i for i, cid in enumerate(state.cases)}
        waits.sort(key=lambda w: (order[w.case_id], w.element_id))
        timers = {w.spiff_task_id: clock.as_utc(w.due_at) for w in waits if w.kind == "timer" and w.due_at}
        standing = self._standing(running)
        for wait in waits:
            if wait.kind == "timer" and wait.due_at is not None:
                due = clock.as_utc(wait.due_at)
                key = ("timer", wait.case_id, wait.element_id, due.isoformat())
                live[key] = Planned(due + timedelta(seconds=1), (order[wait.case_id], wait.element_id), "timer", key)
            elif wait.kind == "message" and wait.message not in self.internal:
                key = ("message", wait.case_id, wait.element_id, wait.message, wait.spiff_task_id)
                if key not in state.plans:
                    state.plans[key] = self._plan_message(wait, key, state, timers.get(wait.spiff_task_id),
                                                          (wait.case_id, wait.element_id) in standing, order)
                if state.plans[key] is not None:
                    live[key] = state.plans[key]
        for key, plan in live.items():
            state.plans.setdefault(key, plan)
        if not live:
            return None
        return min(live.values(), key=lambda p: (p.at, p.order))

    def _standing(self, running: Iterable[str]) -> set[tuple[str, str]]:
        found = set()
        for case in self.session.scalars(select(Case).where(Case.id.in_(list(running)))):
            for element in message_forms.standing_starts(self.session, case.definition_id):
                found.add((case.id, element))
        return found

    def _adopt_new_cases(self, state: _WalkState) -> None:
        """Cases the walk's cases started (a message to SOF) belong to the walk."""
        new = self.session.scalars(select(Case).where(Case.id.not_in(self.seen_cases))
                                   .order_by(Case.created_at, Case.number)).all()
        for case in new:
            self.seen_cases.add(case.id)
            state.cases.append(case.id)

    def _plan_task(self, row: HumanTask, state: _WalkState) -> Planned:
        rng = state.rng
        created = max(clock.as_utc(row.created_at), state.now)
        due = clock.as_utc(row.due_at) if row.due_at is not None else None
        late = False
        diagram = self._diagram(row.process_key, row.element_id)
        boundary_flows = [f for b in (diagram.boundaries.get(row.element_id, []) if diagram else [])
                          for f in self._flows_from(diagram, b)]
        wanted = any(f not in self.taken for f in boundary_flows)  # its escalation has not been walked yet
        # a task whose own way on has not been walked yet (a reminder's way to its end) is done in time
        own = diagram is not None and any(f not in self.taken for f in self._flows_from(diagram, row.element_id))
        share = 0.8 if wanted else 0.0 if own else self.tardy_share
        if due is None or due <= created:
            end = created + timedelta(days=10) if due is None else created + timedelta(hours=4)
            when = created + (end - created) * rng.random()
        elif not state.punctual and rng.random() < share:
            late = True  # past the due day, so the escalation timer fires; long enough for its reminder
            when = due + timedelta(days=rng.uniform(2 if wanted else 0.05, 10))
            later = self._boundary_timer_due(row, diagram, rng) if wanted else None
            if later is not None and later > when:  # a timer on the task further off (an interrupting limit)
                when = later + timedelta(days=rng.uniform(0.05, 3))
        else:
            when = created + (due - created) * rng.random()
        return Planned(when, (state.cases.index(row.case_id), row.element_id, str(row.created_at)), "task",
                       ("task", row.id), late)

    def _boundary_timer_due(self, row: HumanTask, diagram: Diagram | None, rng: random.Random) -> datetime | None:
        """When one of the task's boundary timers whose way on has not been walked yet fires (None: none)."""
        if diagram is None:
            return None
        fresh = [b for b in diagram.boundaries.get(row.element_id, [])
                 if any(f not in self.taken for f in self._flows_from(diagram, b))]
        dues = sorted(clock.as_utc(w.due_at) for w in self.session.scalars(select(Wait).where(
            Wait.case_id == row.case_id, Wait.kind == "timer", Wait.element_id.in_(fresh))) if w.due_at is not None)
        return rng.choice(dues) if dues else None

    def _plan_message(self, wait: Wait, key: tuple, state: _WalkState, timer: datetime | None, standing: bool,
                      order: dict) -> Planned | None:
        rng = state.rng
        where = (order[wait.case_id], wait.element_id)
        case = self.session.get_one(Case, wait.case_id)
        diagram = self._diagram(case.process_key, wait.element_id)
        after = self._flows_from(diagram, wait.element_id) if diagram else []
        fresh = any(f not in self.taken for f in after)  # what follows the message has not been walked yet
        if standing:  # an event subprocess that may start any time (a raskmelding, an absence)
            if rng.random() >= (0.7 if fresh else 0.35):
                return None
            return Planned(state.now + timedelta(days=rng.uniform(0, 300)), where, "message", key)
        if timer is not None and timer > state.now:  # a race with a timer: each wins about half the time,
            span = timer - state.now                 # the side not walked yet more often
            timer_side = [f for f in self._timer_flows(case, wait) if f not in self.taken]
            first = 0.8 if fresh and not timer_side else 0.2 if timer_side and not fresh else 0.5
            if rng.random() < first:
                return Planned(state.now + span * rng.random(), where, "message", key)
            return Planned(timer + span * rng.random() + timedelta(seconds=2), where, "message", key)
        return Planned(state.now + timedelta(days=21) * rng.random(), where, "message", key)

    def _timer_flows(self, case: Case, wait: Wait) -> list[tuple[str, str]]:
        """The flows after the timer that races this message (the other branch of its event-based gateway)."""
        self.session.expire_all()
        rivals = self.session.scalars(select(Wait).where(Wait.case_id == wait.case_id, Wait.kind == "timer",
                                                         Wait.spiff_task_id == wait.spiff_task_id)).all()
        found: list[tuple[str, str]] = []
        for rival in rivals:
            diagram = self._diagram(case.process_key, rival.element_id)
            found += self._flows_from(diagram, rival.element_id) if diagram else []
        return found

    def _diagram(self, process_key: str, element: str) -> Diagram | None:
        """The diagram of the processes a case of `process_key` runs that draws `element` (None: not one)."""
        found = [self.diagrams[p] for p in runs_with(self.diagrams, process_key) if element in self.diagrams[p].elements]
        return found[0] if len(found) == 1 else None

    @staticmethod
    def _flows_from(diagram: Diagram, element: str) -> list[tuple[str, str]]:
        """The element's outgoing flows and, through the tasks they lead to, those tasks' outgoing flows."""
        flows = diagram.outgoing(element)
        return [(f.process, f.id) for f in flows] + [(g.process, g.id) for f in flows for g in diagram.outgoing(f.target)]

    def _chooser(self, process_key: str, element: str, rng: random.Random, known: dict) -> Choose:
        """Pick a choice's or boolean's value. A third of the time uniformly; otherwise the value whose way through
        the gateways right after `element` (its conditions read with the data so far) leads to the most flows
        no walk has taken yet, among equals the one this element was given least often."""
        diagram = self._diagram(process_key, element)

        def choose(fld: FormField, options: list) -> object:
            counts = self.used.setdefault((process_key, element, fld.name), {})
            if rng.random() < 0.3 or diagram is None:
                value = rng.choice(options)
            else:
                scored = [(-self._promise(diagram, element, {**known, fld.name: o}), counts.get(repr(o), 0), i)
                          for i, o in enumerate(options)]
                best = min(scored)[:2]
                value = rng.choice([options[i] for a, b, i in scored if (a, b) == best])
            counts[repr(value)] = counts.get(repr(value), 0) + 1
            return value
        return choose

    def _promise(self, diagram: Diagram, element: str, data: dict) -> int:
        """How many flows no walk has taken lie ahead of `element` on the ways the data leaves open: each
        gateway ahead whose conditions the data answers goes one way, the others every way."""
        first = self._route(diagram, element, data)
        reach: set[tuple[str, str]] = set()
        todo = list(first)
        while todo:
            flow = todo.pop()
            key = (flow.process, flow.id)
            if key in reach or len(reach) > 400:
                continue
            reach.add(key)
            where = self.diagrams[flow.process]
            todo.extend(self._route(where, flow.target, data))
            if where.elements.get(flow.target) == "callActivity":
                for called in (self.diagrams[c] for c in sorted(where.calls) if c in self.diagrams):
                    todo.extend(called.flows.values())
            message = where.thrower_of.get(flow.target)
            if message is not None:  # a message that starts another process: its flows lie ahead too
                for started in self.diagrams.values():
                    if started.message_start == message:
                        todo.extend(started.flows.values())
        return len([k for k in reach if k not in self.taken]) + 5 * len(
            [f for f in first if (f.process, f.id) not in self.taken])

    @staticmethod
    def _route(diagram: Diagram, element: str, data: dict) -> list[Flow]:
        """The flows out of `element` that `data` may take (a gateway's conditions read with it, if they can be)."""
        flows = diagram.outgoing(element)
        kind = diagram.elements.get(element, "")
        if kind not in ("exclusiveGateway", "inclusiveGateway"):
            return flows
        default = diagram.defaults.get(element)
        answers = [_holds(f.condition, data) if f.condition else f.id != default for f in flows]
        if any(a is None for a in answers):
            return flows  # a condition on something not known yet: every way stays open
        chosen = [f for f, a in zip(flows, answers, strict=True) if a]
        if kind == "exclusiveGateway":
            chosen = chosen[:1]
        return chosen or [f for f in flows if f.id == default]

    # -- the actions -----------------------------------------------------------------------------

    def _do(self, action: Planned, state: _WalkState) -> None:
        state.plans.pop(action.key, None)
        if action.late:
            state.went_late = True
        if action.kind == "timer":
            fire_due_timers(self.db.session_factory, rules=self.rules, now=action.at)
            return
        if action.kind == "task":
            self._complete(action.key[1], state)
            return
        _, case_id, element_id, name, spiff_task_id = action.key
        self._send(case_id, element_id, name, state.first_seen.get((case_id, spiff_task_id), state.now), state)
        if (case_id, element_id) in self._standing([case_id]) and state.rng.random() < 0.3:
            state.plans.pop(action.key, None)  # a standing event may come again: plan it anew
        else:
            state.plans[action.key] = None  # type: ignore[assignment]  # sent: not again for this wait

    def _complete(self, task_id: str, state: _WalkState) -> None:
        row = self.session.get_one(HumanTask, task_id)
        case = self.session.get_one(Case, row.case_id)
        form = task_form(self.session, row, forms_dir=self.rules.forms_dir)
        known = dict(case.data or {})
        if form is not None and any(f.rules.after or f.rules.not_before for f in form.fields):
            known.update(self._task_data(case, row))
        user = self._worker(row)

        def upload(fld: FormField) -> dict:  # as the task page does: the file first, then the form naming it
            with clock.at(state.now):
                return add_attachment(self.session, case_id=case.id, user=user, field=fld.name,
                                      filename="bilag.pdf", content_type="application/pdf", data=PDF,
                                      task_id=row.id).field_value()
        data = fill_form(state.rng, form, created=danish_day(row.created_at), today=danish_day(state.now),
                         known=known, choose=self._chooser(row.process_key, row.element_id, state.rng, known),
                         upload=upload, options=self._options)
        with clock.at(state.now):
            try:
                runtime.complete_task(self.session, task_id=row.id, data=data, user=user, rules=self.rules)
            except FormRejected as exc:
                raise AssertionError(f"the form {row.form_key} refused random valid data {data}: {exc.detail}") from exc

    def _options(self, fld: FormField) -> list:
        """Who a staff field may name (the unit's caseworkers and team leads), which rule sets there are."""
        if fld.type == "staff":
            return [name for name, _role in case_attributes.staff_of(self.session, fld.unit or "")]
        return [name for name, _label in case_attributes.rule_set_choices(self.rules)]

    def _task_data(self, case: Case, row: HumanTask) -> dict:
        """What the task holds (the engine checks a form's date rules against it), read from the state."""
        spec = self.session.get_one(ProcessDefinition, case.definition_id).spec_json
        workflow = workflow_from_json(case.state_json, spec, self.rules.script_context())
        task = workflow.get_task_from_id(UUID(row.id))
        return dict(task.data) if task is not None else {}

    def _worker(self, row: HumanTask) -> UserView:
        if row.status == "claimed" and row.assignee:
            user = find_user(self.session, row.assignee)
            if user is not None:
                return user
        role = "teamlead" if row.audience == "teamlead" else "caseworker"
        return self.workers[(row.unit or "", role)]

    def _send(self, case_id: str, element_id: str, name: str, began: datetime, state: _WalkState) -> None:
        case = self.session.get_one(Case, case_id)
        catch = message_forms.catch_for(self.session, case.definition_id, element_id=element_id, name=name)
        form = message_forms.catch_form(self.session, case.definition_id, catch, forms_dir=self.rules.forms_dir)
        data = fill_form(state.rng, form, created=danish_day(began), today=danish_day(state.now), known={},
                         choose=self._chooser(case.process_key, element_id, state.rng, dict(case.data or {})),
                         options=self._options)
        with clock.at(state.now):
            try:
                runtime.correlate_message(self.session, name=name, correlation_key=case_id, data=data,
                                          user=self.system, rules=self.rules, element_id=element_id)
            except FormRejected as exc:
                raise AssertionError(f"message {name}'s form refused random valid data {data}: {exc.detail}") from exc

    # -- what the walk saw -----------------------------------------------------------------------

    def _check(self, state: _WalkState, result: WalkResult) -> None:
        """The invariants after each step, over what the step added."""
        self.session.expire_all()
        for wait in self.session.scalars(select(Wait).where(Wait.case_id.in_(state.cases))):
            state.first_seen.setdefault((wait.case_id, wait.spiff_task_id), state.now)
        events = []
        for case_id in state.cases:
            events += self.session.scalars(select(AuditEvent).where(
                AuditEvent.case_id == case_id, AuditEvent.seq > state.last_seq.get(case_id, 0))
                .order_by(AuditEvent.seq)).all()
        for event in events:
            state.last_seq[event.case_id] = max(event.seq, state.last_seq.get(event.case_id, 0))
            if event.type in ERROR_EVENTS:
                result.findings.append(Finding(state.seed, state.step, event.type,
                                               f"{event.element_id}: {event.details}"))
            elif event.type == "message_not_delivered":
                result.notes.append(Finding(state.seed, state.step, event.type,
                                            f"{event.element_id}: {event.details.get('reason')}"))
        tasks = self.session.scalars(select(HumanTask).where(HumanTask.case_id.in_(state.cases),
                                                             HumanTask.id.not_in(state.tasks_seen))).all()
        for row in tasks:
            state.tasks_seen.add(row.id)
            if row.due_at is None or row.deadline_rule is None:
                continue
            if clock.as_utc(row.due_at) < clock.as_utc(row.created_at):
                diagram = self._diagram(row.process_key, row.element_id)
                process = diagram.process if diagram is not None else row.process_key
                finding = Finding(state.seed, state.step, "born overdue",
                                  f"{process}:{row.element_id} ({row.deadline_rule}): created "
                                  f"{clock.as_utc(row.created_at):%Y-%m-%d %H:%M}, due {clock.as_utc(row.due_at):%Y-%m-%d}",
                                  (process, row.element_id, row.deadline_rule))
                legal = row.deadline_rule in self.legal  # a local service target's is worth a note only
                (result.findings if legal and state.punctual and not state.went_late else result.notes).append(finding)

    def _finish(self, state: _WalkState, result: WalkResult) -> None:
        """Read the flows the walk's cases took, and cancel what still runs (the next walk starts clean)."""
        self.session.expire_all()
        cases = {c.id: c for c in self.session.scalars(select(Case).where(Case.id.in_(state.cases)))}
        for case_id in state.cases:
            case = cases[case_id]
            names = runs_with(self.diagrams, case.process_key)
            owner: dict[str, list[str]] = {}
            for name in names:
                for element in self.diagrams[name].elements:
                    owner.setdefault(element, []).append(name)
            for event in self.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                                       AuditEvent.type.in_(DONE_EVENTS))
                                              .order_by(AuditEvent.seq)):
                processes = owner.get(event.element_id or "", [])
                if len(processes) != 1:
                    if len(processes) > 1:
                        result.ambiguous.add(f"{event.element_id} (in {', '.join(processes)})")
                    continue
                diagram = self.diagrams[processes[0]]
                flows = diagram.outgoing(event.element_id or "")
                if event.type == "gateway_taken":
                    taken = set(event.details.get("taken") or [])
                    flows = [f for f in flows if f.target in taken]
                result.taken.update((f.process, f.id) for f in flows)
            if case.status == "running":
                with clock.at(state.now):
                    runtime.cancel_case(self.session, case_id=case_id, reason="Tilfældig gennemgang slut",
                                        actor="walker", rules=self.rules)
                self.session.commit()


@dataclass
class _WalkState:
    seed: int
    rng: random.Random
    punctual: bool
    now: datetime
    step: int = 0
    went_late: bool = False
    cases: list[str] = field(default_factory=list)
    plans: dict[tuple, Planned | None] = field(default_factory=dict)
    first_seen: dict[tuple[str, str], datetime] = field(default_factory=dict)
    last_seq: dict[str, int] = field(default_factory=dict)
    tasks_seen: set[str] = field(default_factory=set)


def walk_until_covered(walker: Walker, process: str, *, max_walks: int, allowed: Iterable[tuple[str, str]] = (),
                       known: Iterable[tuple] = ()) -> tuple[WalkResult, list[Flow]]:
    """Walk seeds 0, 1, 2, … until every flow of the process's family is taken (or allowed), at most
    `max_walks`, or until a finding that is not `known` (a born-overdue key); returns what the walks saw
    and the flows none of them took."""
    known = set(known)
    result = WalkResult()
    wanted = [flow for name in family(walker.diagrams, process) for flow in walker.diagrams[name].flows.values()]
    skip = set(allowed)
    for seed in range(max_walks):
        walker.walk(process, seed, result)
        if any(f.key is None or f.key not in known for f in result.findings):
            break
        if all((f.process, f.id) in result.taken or (f.process, f.id) in skip for f in wanted):
            break
    untaken = [f for f in wanted if (f.process, f.id) not in result.taken and (f.process, f.id) not in skip]
    return result, untaken
