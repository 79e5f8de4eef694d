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

The random choices are guided toward coverage (Lookahead, Walker._pull): each walk aims at one flow
no walk has taken yet, and a choice's value, a task's lateness and a message's moment are drawn
preferring what brings that flow (then any untaken flow) nearer, reading the diagrams' graph ahead
with the data so far; still seeded, still only values the forms accept.

Which sequence flows were taken is read from the case's audit trail as the walk goes (the record the
engine keeps anyway): a completed element took all its outgoing flows, a gateway the flows to the elements its
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
from collections.abc import Callable, Iterable, Iterator
from copy import deepcopy
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
from engine.forms import Form, FormField, load_form
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
    parent: dict[str, str] = field(default_factory=dict)            # element id -> its enclosing subProcess
    called: dict[str, str] = field(default_factory=dict)            # call activity id -> the process it runs
    scripts: dict[str, str] = field(default_factory=dict)           # script task id -> its script
    form_of: dict[str, str] = field(default_factory=dict)           # task or event id -> its form key
    starts: list[str] = field(default_factory=list)                 # none start events (of the process or a
    #                                                                 subProcess; see parent)
    terminates: set[str] = field(default_factory=set)               # terminate end events
    side: set[str] = field(default_factory=set)  # elements on the branch of a non-interrupting boundary event
    #                                              (a reminder): its end does not end the process
    _out: dict[str, list[Flow]] = field(default_factory=dict, repr=False)

    def outgoing(self, element: str) -> list[Flow]:
        if not self._out and self.flows:
            for flow in self.flows.values():
                self._out.setdefault(flow.source, []).append(flow)
        return self._out.get(element, [])

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
                    if element.get("cancelActivity") == "false":
                        diagram.side.add(ident)
                if tag == "callActivity" and element.get("calledElement"):
                    diagram.calls.add(element.get("calledElement") or "")
                    diagram.called[ident] = element.get("calledElement") or ""
                if tag == "subProcess":  # document order: an inner subProcess's elements are claimed after
                    for inner in element.iter():
                        if inner is not element and inner.get("id"):
                            diagram.parent[inner.get("id") or ""] = ident
                if tag == "endEvent" and element.find(f"{BPMN}terminateEventDefinition") is not None:
                    diagram.terminates.add(ident)
                if tag == "scriptTask":
                    script = element.find(f"{BPMN}script")
                    diagram.scripts[ident] = (script.text or "") if script is not None else ""
                if element.get(f"{CAMUNDA}formKey"):
                    diagram.form_of[ident] = element.get(f"{CAMUNDA}formKey") or ""
                definition = element.find(f"{BPMN}messageEventDefinition")
                name = messages.get(definition.get("messageRef")) if definition is not None else None
                if name and tag in ("intermediateThrowEvent", "endEvent", "sendTask"):
                    diagram.throws.add(name)
                    diagram.thrower_of[ident] = name
                if name and tag == "startEvent" and element in list(process):
                    diagram.message_start = name
                if not name and tag == "startEvent" and element in list(process):
                    diagram.start_form = element.get(f"{CAMUNDA}formKey")
                if not name and tag == "startEvent":
                    diagram.starts.append(ident)
            todo = [f.target for b in diagram.side for f in diagram.outgoing(b)]
            while todo:
                ident = todo.pop()
                if ident not in diagram.side:
                    diagram.side.add(ident)
                    todo += [f.target for f in diagram.outgoing(ident)]
            diagrams[diagram.process] = diagram
    return diagrams


def top_level(diagrams: dict[str, Diagram]) -> list[str]:
    """Where a walk begins: processes no other process calls or starts with a message, and called ones that
    staff can also start on their own (a start form: langvarig_aktivitetsparat, as *Opret sag* offers it)."""
    called = {c for d in diagrams.values() for c in d.calls}
    thrown = {m for d in diagrams.values() for m in d.throws}
    return sorted(p for p, d in diagrams.items()
                  if (p not in called or d.start_form) and (d.message_start is None or d.message_start not in thrown))


def reachable(diagrams: dict[str, Diagram], process: str, *, by_message: bool = False) -> list[str]:
    """The process and those its call activities run, transitively: what one case's elements can be; with
    `by_message`, also those its messages start (and theirs): every process a walk from `process` reaches."""
    found, todo = [], [process]
    while todo:
        name = todo.pop(0)
        if name in found or name not in diagrams:
            continue
        found.append(name)
        todo.extend(sorted(diagrams[name].calls))
        if by_message:
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


Choose = Callable[[FormField, list, dict], object]  # (field, its values, the form's data so far) -> a value
Upload = Callable[[FormField], dict]


def fill_form(rng: random.Random, form: Form | None, *, created: date, today: date, known: dict,
              optional: float = 0.5, past_days: int = 0, choose: Choose | None = None,
              upload: Upload | None = None, options: Callable[[FormField], list] | None = None) -> dict:
    """Random data `form` accepts when submitted on `today` for something that began on `created`.

    Required fields (and those `required_when` makes required) are always filled, others with
    probability `optional`. Dates fall between `created` (minus `past_days`) and `today`, some later when
    the field may lie in the future, and keep `not_future`, `after` and `not_before` against the form's
    other dates and `known` (the case data the engine checks them against); never before `created`, so a
    task form's `not_before_task` holds too. `choose` picks a choice or
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
            data[fld.name] = choose(fld, values, data) if choose is not None else rng.choice(values)
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
        whole = float(low).is_integer() and float(high).is_integer()
        edge = rng.random()  # the limits themselves a tenth of the time each (the longest placement, the least)
        if edge < 0.2:
            value = low if edge < 0.1 else high
            return int(value) if whole else value
        if whole:
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


def _a_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _ancestors(diagram: Diagram, element: str) -> Iterator[str]:
    """The subProcesses around `element`, innermost first."""
    while element in diagram.parent:
        element = diagram.parent[element]
        yield element


# -- guidance: what lies ahead of an element ---------------------------------------------------------

INFINITE = float("inf")
DECAY = 0.5      # an untaken flow d flows ahead counts DECAY ** d
UNIFORM = 0.1    # the share of choices made uniformly, whatever lies ahead
HORIZON = 80     # how many flows ahead the lookahead reads
BUDGET = 2000    # how many (flow, values) the lookahead goes on from, at most
# what the diagrams' conditions and scripts may use when the walker reads them (guidance only: the engine decides)
_BUILTINS = {"str": str, "int": int, "float": float, "len": len, "round": round, "min": min, "max": max,
             "abs": abs, "bool": bool, "list": list, "dict": dict, "set": set, "tuple": tuple, "sorted": sorted,
             "any": any, "all": all, "range": range, "isinstance": isinstance, "Exception": Exception,
             "NameError": NameError, "KeyError": KeyError, "TypeError": TypeError, "ValueError": ValueError}
_ASSIGNED = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:[-+*/]?=)(?!=)", re.M)


class Lookahead:
    """The flows that lie ahead of an element in a case of a process, each with how many flows away it is.

    Read from the diagrams alone, with the data the case would carry: a gateway whose conditions the data
    answers goes the way they say (every way when one cannot be read yet), a script task is run on a copy
    of the data (what it assigns becomes unknown when it cannot run here), a task or event with a form
    forgets the fields its form will set again; the way goes on into a called process or a subProcess, back
    out of it at its end events, to a task's boundary events (a timer may fire), and into the process a
    thrown message starts. Only the processes the case runs are followed (Lookahead.owners)."""

    def __init__(self, diagrams: dict[str, Diagram], form_fields: Callable[[str], set[str]]):
        self.diagrams, self.form_fields = diagrams, form_fields
        self._code: dict[str, object] = {}
        self._scope: dict[str, set[str]] = {}
        self._owners: dict[str, dict[str, list[str]]] = {}
        self._memo: dict[tuple, dict[tuple[str, str], int]] = {}
        self.callers: dict[str, list[tuple[str, str]]] = {}    # process -> (caller, call activity id)
        for d in diagrams.values():
            for activity, called in d.called.items():
                self.callers.setdefault(called, []).append((d.process, activity))
        # the names the gateways' conditions read: what makes going on from a flow again worth it
        self.read = sorted({name for d in diagrams.values() for f in d.flows.values() if f.condition
                            for name in getattr(self._compiled(f.condition, "eval"), "co_names", ())}
                           - set(_BUILTINS))

    def owners(self, process: str) -> dict[str, list[str]]:
        """element id -> the processes a case of `process` runs (itself and what it calls) that draw it."""
        if process not in self._owners:
            owner: dict[str, list[str]] = {}
            for name in reachable(self.diagrams, process):
                for element in self.diagrams[name].elements:
                    owner.setdefault(element, []).append(name)
            self._owners[process] = owner
        return self._owners[process]

    def depths(self, process: str, diagram: Diagram, element: str, data: dict) -> dict[tuple[str, str], int]:
        """(process, flow id) -> how many flows ahead, for a case of `process` that has just done `element`."""
        memo = (process, diagram.process, element, tuple(repr(data.get(n)) for n in self.read))
        if memo not in self._memo:  # what lies ahead depends on what the conditions read (and the scripts ahead)
            self._memo[memo] = self._depths(process, diagram, element, data)
        return self._memo[memo]

    def _depths(self, process: str, diagram: Diagram, element: str, data: dict) -> dict[tuple[str, str], int]:
        scope = self._scope.setdefault(process, set(reachable(self.diagrams, process)))
        found: dict[tuple[str, str], int] = {}
        seen: set[tuple] = set()
        marks: dict[int, tuple] = {}  # id(data) -> what the conditions read in it (data changes at scripts, forms)
        frontier = [(f, data) for f in self._route(diagram, element, data)]
        for depth in range(HORIZON):
            following: list[tuple[Flow, dict]] = []
            for flow, known in frontier:
                # a flow is gone on from again with other values of what the conditions read (a loop that
                # counts its rounds: the 1st … 6th job conversation), within a budget
                mark = marks.get(id(known))
                if mark is None:
                    mark = marks[id(known)] = (known, tuple(repr(known.get(n)) for n in self.read))
                key = (flow.process, flow.id, mark[1])
                if key not in seen and len(seen) < BUDGET:
                    seen.add(key)
                    found.setdefault((flow.process, flow.id), depth)
                    following += self._arrive(self.diagrams[flow.process], flow.target, known, scope)
            if not following:
                break
            frontier = following
        return found

    def ends(self, diagram: Diagram, element: str, data: dict) -> set[str | None]:
        """What going on from `element` (just done, with `data`) ends at once, before anything waits: the
        subProcess (its id) or the process (None) of `diagram` whose terminate end event it reaches."""
        ended: set[str | None] = set()
        todo, seen = [(f, data) for f in self._route(diagram, element, data)], set()
        while todo:
            flow, known = todo.pop()
            target = flow.target
            if flow.id in seen:
                continue
            seen.add(flow.id)
            kind = diagram.elements.get(target, "")
            if target in diagram.terminates:
                ended.add(diagram.parent.get(target))
            elif kind.endswith("Gateway") and kind != "eventBasedGateway" or kind in ("scriptTask",
                                                                                        "intermediateThrowEvent"):
                known = self._run(diagram.scripts.get(target, ""), known) if kind == "scriptTask" else known
                todo += [(f, known) for f in self._route(diagram, target, known)]
        return ended

    def _arrive(self, diagram: Diagram, element: str, data: dict, scope: set[str]) -> list[tuple[Flow, dict]]:
        """The flows a token that arrives at `element` may go on by, each with the data it carries."""
        kind = diagram.elements.get(element, "")
        if kind == "scriptTask":
            data = self._run(diagram.scripts.get(element, ""), data)
        elif element in diagram.form_of:
            fields = self.form_fields(diagram.form_of[element])
            data = {k: v for k, v in data.items() if k not in fields}
        flows: list[Flow] = []
        if kind == "callActivity" and diagram.called.get(element) in scope:
            called = self.diagrams[diagram.called[element]]
            flows += [f for s in called.starts if s not in called.parent for f in called.outgoing(s)]
        elif kind == "subProcess":
            flows += [f for s in diagram.starts if diagram.parent.get(s) == element for f in diagram.outgoing(s)]
        else:
            flows += self._route(diagram, element, data)
        if kind == "endEvent":
            inside = diagram.parent.get(element)
            if inside is not None:
                flows += diagram.outgoing(inside)
            elif element not in diagram.side:
                flows += [f for caller, activity in self.callers.get(diagram.process, []) if caller in scope
                          for f in self.diagrams[caller].outgoing(activity)]
        for boundary in diagram.boundaries.get(element, []):
            flows += diagram.outgoing(boundary)
        out = [(f, data) for f in flows]
        message = diagram.thrower_of.get(element)
        if message is not None:  # a message that starts another case: its way lies ahead too
            for started in self.diagrams.values():
                if started.message_start == message:
                    out += [(f, {}) for f in started.flows.values()
                            if started.elements.get(f.source) == "startEvent" and f.source not in started.parent]
        return out

    def _route(self, diagram: Diagram, element: str, data: dict) -> list[Flow]:
        """The flows out of `element` that `data` may take (a gateway's conditions read with it, if they can be)."""
        flows = diagram.outgoing(element)
        kind = diagram.elements.get(element, "")
        if kind not in ("exclusiveGateway", "inclusiveGateway"):
            return flows
        default = diagram.defaults.get(element)
        answers = [self._holds(f.condition, data) if f.condition else f.id != default for f in flows]
        if any(a is None for a in answers):
            return flows  # a condition on something not known yet: every way stays open
        chosen = [f for f, a in zip(flows, answers, strict=True) if a]
        if kind == "exclusiveGateway":
            chosen = chosen[:1]
        return chosen or [f for f in flows if f.id == default]

    def _compiled(self, text: str, mode: str):
        key = mode + text
        if key not in self._code:
            try:
                self._code[key] = compile(text, "<diagram>", mode)
            except SyntaxError:
                self._code[key] = None
        return self._code[key]

    def _holds(self, condition: str, data: dict) -> bool | None:
        """A flow's condition read with the data; None when it cannot be (a field not there yet)."""
        code = self._compiled(condition, "eval")
        try:
            return bool(eval(code, {"__builtins__": _BUILTINS}, dict(data)))  # type: ignore[arg-type]  # noqa: S307
        except Exception:  # noqa: BLE001 - a field not there yet, a function of the engine's script context
            return None

    def _run(self, script: str, data: dict) -> dict:
        """The data after the script task: run on a copy here, or what it assigns forgotten when it cannot be."""
        code = self._compiled(script, "exec")
        env = deepcopy(data)
        try:
            exec(code, {"__builtins__": _BUILTINS}, env)  # type: ignore[arg-type]  # noqa: S102
            return env
        except Exception:  # noqa: BLE001 - a function of the engine's script context (add_days, deadline)
            assigned = set(_ASSIGNED.findall(script))
            return {k: v for k, v in data.items() if k not in assigned}


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
        self.wanted: set[tuple[str, str]] = set()        # the flows the walks are to take (walk_until_covered)
        self.skip: set[tuple[str, str]] = set()          # those no walk can take (allowed untaken)
        self.target: tuple[str, str] | None = None       # the untaken flow the walk aims at
        self.punctual = False                            # the walk's
        self.ahead = Lookahead(diagrams, self._form_fields)
        self._fields: dict[str, set[str]] = {}
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
        # every other walk is punctual, unless all that is left to take lies on an escalation's branch
        left = self._open()
        punctual = seed % 2 == 0 and not (left and all(self._escalation(k) for k in left))
        state = _WalkState(seed=seed, rng=rng, punctual=punctual,
                           now=BASE + timedelta(days=rng.randint(0, 364), minutes=rng.randint(0, 600)))
        result.walks += 1
        self.target = None  # each walk aims anew
        self.punctual = punctual
        self._aim(rng)
        try:
            case = self._start(process, state, result)
        except Exception as exc:  # noqa: BLE001 - the walk reports whatever broke
            self.session.rollback()
            result.findings.append(Finding(seed, 0, "start failed", f"{type(exc).__name__}: {exc}"))
            return
        state.cases.append(case.id)
        state.process_of[case.id] = case.process_key
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
        self._finish(state)

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
        rows = list(tasks)
        for row in rows:
            key = ("task", row.id)
            live[key] = state.plans.get(key) or self._plan_task(row, state)
        if not state.punctual:  # a punctual walk does each task in its time, its reminder or not
            self._reminders_first(rows, live)
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

    def _reminders_first(self, rows: list[HumanTask], live: dict[tuple, Planned]) -> None:
        """A task whose reminder is open and not walked to its end yet waits until the reminder is done: the
        engine closes a task's open reminder when the task is completed."""
        by_case: dict[tuple[str, str], Planned] = {(r.case_id, r.element_id): live[("task", r.id)] for r in rows}
        for row in rows:
            diagram = self._diagram(row.process_key, row.element_id)
            if diagram is None:
                continue
            plan = live[("task", row.id)]
            for boundary in diagram.boundaries.get(row.element_id, []):
                for flow in diagram.outgoing(boundary):
                    reminder = by_case.get((row.case_id, flow.target))
                    fresh = any(f not in self.taken for f in self._flows_from(diagram, flow.target))
                    if reminder is not None and fresh and plan.at <= reminder.at:
                        plan.at = reminder.at + timedelta(minutes=1)

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
            state.process_of[case.id] = case.process_key

    def _plan_task(self, row: HumanTask, state: _WalkState) -> Planned:
        rng = state.rng
        created = max(clock.as_utc(row.created_at), state.now)
        due = clock.as_utc(row.due_at) if row.due_at is not None else None
        late = False
        diagram = self._diagram(row.process_key, row.element_id)
        boundaries = diagram.boundaries.get(row.element_id, []) if diagram else []
        boundary_flows = [f for b in boundaries for f in self._flows_from(diagram, b)]  # type: ignore[arg-type]
        wanted = any(f not in self.taken for f in boundary_flows)  # its escalation has not been walked yet
        if boundaries and not wanted and not state.punctual:  # or the walk's target lies nearer beyond it
            known = dict(self.session.get_one(Case, row.case_id).data or {})
            wanted = min(self._pull(row.process_key, b, known)[0] for b in boundaries) \
                < self._pull(row.process_key, row.element_id, known)[0]
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
        pull = self._pull(case.process_key, wait.element_id, dict(case.data or {}))
        if standing:  # an event subprocess that may start any time (a raskmelding, an absence); once walked, it
            #           comes seldom, so that the cases live on to their later steps
            if rng.random() >= (0.7 if fresh or pull[0] < INFINITE else 0.2):
                return None
            return Planned(state.now + timedelta(days=rng.uniform(0, 300)), where, "message", key)
        if timer is not None and timer > state.now:  # a race with a timer: each wins about half the time,
            span = timer - state.now                 # the side worth more to coverage (_pull) more often
            rival = min((self._pull(case.process_key, e, dict(case.data or {})) for e in self._rivals(wait)),
                        default=(INFINITE, 0.0))
            first = 0.8 if pull < rival else 0.2 if rival < pull else 0.5
            if rng.random() < first:
                return Planned(state.now + span * rng.random(), where, "message", key)
            return Planned(timer + span * rng.random() + timedelta(seconds=2), where, "message", key)
        return Planned(state.now + timedelta(days=21) * rng.random(), where, "message", key)

    def _rivals(self, wait: Wait) -> list[str]:
        """The timers that race this message (the other branches of its event-based gateway)."""
        return list(self.session.scalars(select(Wait.element_id).where(
            Wait.case_id == wait.case_id, Wait.kind == "timer", Wait.spiff_task_id == wait.spiff_task_id)))

    def _diagram(self, process_key: str, element: str) -> Diagram | None:
        """The diagram of the processes a case of `process_key` runs that draws `element` (None: not one)."""
        found = self.ahead.owners(process_key).get(element, [])
        return self.diagrams[found[0]] if len(found) == 1 else None

    @staticmethod
    def _flows_from(diagram: Diagram, element: str) -> list[tuple[str, str]]:
        """The element's outgoing flows and, through the tasks they lead to, those tasks' outgoing flows."""
        flows = diagram.outgoing(element)
        return [(f.process, f.id) for f in flows] + [(g.process, g.id) for f in flows for g in diagram.outgoing(f.target)]

    def _pull(self, process_key: str, element: str, data: dict, alive: list[tuple[float, str, str]] | None = None
              ) -> tuple[float, float]:
        """How much going on from `element` (just done, with `data`) is worth to coverage, smaller is better:
        how far the walk's target flow is, then how many flows no walk has taken lie ahead, nearer ones
        counting more (Lookahead.depths). `alive` (from _alive) are the case's other tokens the target lies
        ahead of: as far as they are, when the way on from `element` does not end them."""
        diagram = self._diagram(process_key, element)
        if diagram is None:
            return (INFINITE, 0.0)
        depths = self.ahead.depths(process_key, diagram, element, data)
        target = depths.get(self.target, INFINITE) if self.target is not None else INFINITE
        if alive:
            ended = self.ahead.ends(diagram, element, data)
            for far, process, token in alive:
                owner = self.diagrams[process]
                scopes = {None} | set(_ancestors(owner, token))
                if process != diagram.process or not ended & scopes:
                    target = min(target, far)
        gain = sum(DECAY ** d for k, d in depths.items() if k not in self.taken and k not in self.skip)
        return (target, -gain)

    def _alive(self, case_id: str, process_key: str, element: str) -> list[tuple[float, str, str]]:
        """The case's other tokens (what it waits for, its other open tasks) the walk's target lies ahead of:
        (how far, the process drawing it, its element)."""
        if self.target is None:
            return []
        known = dict(self.session.get_one(Case, case_id).data or {})
        tokens = {w.element_id for w in self.session.scalars(select(Wait).where(Wait.case_id == case_id))}
        tokens |= set(self.session.scalars(select(HumanTask.element_id).where(
            HumanTask.case_id == case_id, HumanTask.status.in_(("open", "claimed")))))
        found = []
        for token in sorted(tokens - {element}):
            diagram = self._diagram(process_key, token)
            if diagram is not None:
                far = self.ahead.depths(process_key, diagram, token, known).get(self.target)
                if far is not None:
                    found.append((float(far), diagram.process, token))
        return found

    def _chooser(self, process_key: str, element: str, rng: random.Random, known: dict,
                 case_id: str | None = None) -> Choose:
        """Pick a choice's or boolean's value. Sometimes (UNIFORM) uniformly; otherwise the value the way on from
        `element` is worth most for (_pull: toward the walk's target flow, also through the case's other
        tokens it does not end, then toward flows not taken yet, the data so far read by the gateways and
        scripts ahead), among equals the one this element was given least often, and among those at random."""
        alive: list | None = None

        def choose(fld: FormField, options: list, data: dict) -> object:
            nonlocal alive
            counts = self.used.setdefault((process_key, element, fld.name), {})
            self._aim(rng)
            if rng.random() < UNIFORM:
                value = rng.choice(options)
            else:
                if alive is None:
                    alive = self._alive(case_id, process_key, element) if case_id is not None else []
                scored = [(*self._pull(process_key, element, {**known, **data, fld.name: o}, alive),
                           counts.get(repr(o), 0), i) for i, o in enumerate(options)]
                best = min(scored)[:3]
                value = rng.choice([options[x[3]] for x in scored if x[:3] == best])
            counts[repr(value)] = counts.get(repr(value), 0) + 1
            return value
        return choose

    def _aim(self, rng: random.Random) -> None:
        """A new target for the walk when it has none or its target is taken: a flow no walk has taken (in a
        punctual walk, one off an escalation's branch when there is one: no task of it goes late)."""
        if self.target is not None and self.target not in self.taken:
            return
        left = self._open()
        fit = [k for k in left if not (self.punctual and self._escalation(k))]
        self.target = rng.choice(fit or left) if left else None

    def _open(self) -> list[tuple[str, str]]:
        return sorted(k for k in self.wanted if k not in self.taken and k not in self.skip)

    def _escalation(self, key: tuple[str, str]) -> bool:
        """The flow lies on the branch of a non-interrupting boundary event (a reminder): only a late task takes it."""
        diagram = self.diagrams[key[0]]
        return diagram.flows[key[1]].source in diagram.side

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
        own = {f.name for f in form.fields} if form is not None else set()
        refs = {r.field for f in (form.fields if form is not None else []) for r in (f.rules.after, f.rules.not_before)
                if r is not None} - own
        if refs:  # dates the form is checked against that the task holds (the task's data, not the case's)
            known.update(self._task_data(case, row))
        user = self._worker(row)

        def upload(fld: FormField) -> dict:  # as the task page does: the file first, then the form naming it
            with clock.at(state.now):
                return add_attachment(self.session, case_id=case.id, user=user, field=fld.name,
                                      filename="bilag.pdf", content_type="application/pdf", data=PDF,
                                      task_id=row.id).field_value()
        data = fill_form(state.rng, form, created=danish_day(row.created_at), today=danish_day(state.now),
                         known=known, choose=self._chooser(row.process_key, row.element_id, state.rng, known, case.id),
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

    def _form_fields(self, key: str) -> set[str]:
        """The fields a form sets (what a task or event with it gives the case again)."""
        if key not in self._fields:
            try:
                self._fields[key] = {f.name for f in load_form(self.rules.forms_dir, key).fields}
            except Exception:  # noqa: BLE001 - a form the walker cannot read: it forgets nothing
                self._fields[key] = set()
        return self._fields[key]

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
                         choose=self._chooser(case.process_key, element_id, state.rng, dict(case.data or {}), case_id),
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
            if event.type in DONE_EVENTS:
                self._took(state.process_of[event.case_id], event, result)
            elif event.type in ERROR_EVENTS:
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

    def _took(self, process_key: str, event: AuditEvent, result: WalkResult) -> None:
        """The flows an element's completion took (read as the walk goes, so the guidance knows them)."""
        processes = self.ahead.owners(process_key).get(event.element_id or "", [])
        if len(processes) != 1:
            if len(processes) > 1:
                result.ambiguous.add(f"{event.element_id} (in {', '.join(processes)})")
            return
        diagram = self.diagrams[processes[0]]
        flows = diagram.outgoing(event.element_id or "")
        if event.type == "gateway_taken":
            taken = set(event.details.get("taken") or [])
            flows = [f for f in flows if f.target in taken]
        result.taken.update((f.process, f.id) for f in flows)

    def _finish(self, state: _WalkState) -> None:
        """Cancel what still runs (the next walk starts clean)."""
        self.session.expire_all()
        for case in self.session.scalars(select(Case).where(Case.id.in_(state.cases))):
            if case.status == "running":
                with clock.at(state.now):
                    runtime.cancel_case(self.session, case_id=case.id, reason="Tilfældig gennemgang slut",
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
    process_of: dict[str, str] = field(default_factory=dict)  # case id -> its process


def walk_until_covered(walker: Walker, process: str, *, max_walks: int, allowed: Iterable[tuple[str, str]] = (),
                       known: Iterable[tuple] = ()) -> tuple[WalkResult, list[Flow]]:
    """Walk seeds 0, 1, 2, … until every flow of the process's family is taken (or allowed), at most
    `max_walks`, or until a finding that is not `known` (a born-overdue key); returns what the walks saw
    and the flows none of them took. A process of the family that is walked from its own start too
    (top_level: langvarig_aktivitetsparat, which kontanthjælp calls) is left to those walks."""
    known = set(known)
    result = WalkResult()
    own = set(top_level(walker.diagrams)) - {process}
    wanted = [flow for name in reachable(walker.diagrams, process, by_message=True) if name not in own
              for flow in walker.diagrams[name].flows.values()]
    skip = set(allowed)
    walker.wanted, walker.skip, walker.target = {(f.process, f.id) for f in wanted}, skip, None
    for seed in range(max_walks):
        walker.walk(process, seed, result)
        if any(f.key is None or f.key not in known for f in result.findings):
            break
        if all((f.process, f.id) in result.taken or (f.process, f.id) in skip for f in wanted):
            break
    untaken = [f for f in wanted if (f.process, f.id) not in result.taken and (f.process, f.id) not in skip]
    return result, untaken
