"""Write the step tables of docs/journeys.md from the diagrams and config/deadlines.toml.

Every journey section of docs/journeys.md has a table of its steps: the
unit (lane) that does each, its deadline as the diagram or the named rule
says it, what happens when the deadline passes, and where the rule comes
from. The table is generated, so it can never disagree with what is
deployed: `make diagrams` rewrites it, and tests/test_diagram_tools.py fails
when it is out of date.

A table sits between the markers

    <!-- steps: processes/kontanthjaelp/kontanthjaelp.bpmn -->
    ...
    <!-- /steps -->

Steps are listed in flow order (breadth-first from the start events, event
subprocesses last). Reminder tasks (those with `audience` = `teamlead`)
are not rows of their own: they show in the "Ved overskridelse" column of
the task they watch. Where a rule set of config/deadlines.toml (a trial,
`[rule_sets.<name>]`) replaces a step's named deadline, the Frist column
shows the trial's figure too, on a line of its own after the ordinary one;
where it swaps a task's form, the Trin column names the trial's form on a
line of its own; and a gateway that reads a switch (`switch("<name>")`) is a
step of its own (◇), its Frist column saying where an ordinary case goes and
where a case goes under each rule set that turns the switch on.

Usage: python -m scripts.journey_tables [--check] [docs/journeys.md]
Reads files only; writes only docs/journeys.md (never with --check).
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import deque
from dataclasses import replace
from pathlib import Path

from lxml import etree

from engine.deadlines import DeadlineError, Rule, deadline_file, load_rules, parse_rule
from engine.rule_sets import RuleSet

ROOT = Path(__file__).resolve().parent.parent
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
MARKER = re.compile(r"(<!-- steps: (?P<path>\S+) -->\n)(?P<body>.*?)(<!-- /steps -->)", re.S)
UNITS = {"P": None, "Y": ("år", "år"), "M": ("måned", "måneder"), "W": ("uge", "uger"), "D": ("dag", "dage")}
SWITCH = re.compile(r'switch\(\s*"([a-z][a-z0-9_]*)"\s*\)')
STEP_TAGS = ("startEvent", "userTask", "manualTask", "receiveTask", "callActivity", "serviceTask",
             "intermediateCatchEvent")


def _q(tag: str) -> str:
    return f"{{{BPMN}}}{tag}"


def _properties(node) -> dict[str, str]:
    return {p.get("name"): p.get("value") or "" for p in node.iter(f"{{{CAMUNDA}}}property")}


def _lanes(process) -> dict[str, str]:
    return {ref.text.strip(): lane.get("name") or lane.get("id")
            for lane in process.iter(_q("lane")) for ref in lane.iter(_q("flowNodeRef")) if ref.text}


def _flow_order(process) -> list:
    """Flow nodes breadth-first from the start events; event subprocesses' contents last."""
    nodes = {n.get("id"): n for n in process.iter() if isinstance(n.tag, str) and n.get("id")}
    outgoing: dict[str, list[str]] = {}
    for flow in process.iter(_q("sequenceFlow")):
        outgoing.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    for boundary in process.iter(_q("boundaryEvent")):  # a boundary event follows its activity
        outgoing.setdefault(boundary.get("attachedToRef"), []).append(boundary.get("id"))
    for sub in process.iter(_q("subProcess")):  # an embedded subprocess goes on at its own start
        outgoing.setdefault(sub.get("id"), [])[:0] = [s.get("id") for s in sub.findall(_q("startEvent"))]
    event_subs = [sub for sub in process.iter(_q("subProcess")) if sub.get("triggeredByEvent") == "true"]
    seen, order = set(), []
    for roots in ([s.get("id") for s in process.findall(_q("startEvent"))],
                  *[[s.get("id") for s in sub.findall(_q("startEvent"))] for sub in event_subs]):
        queue = deque(roots)
        while queue:
            node_id = queue.popleft()
            if node_id in seen or node_id not in nodes:
                continue
            seen.add(node_id)
            order.append(nodes[node_id])
            queue.extend(outgoing.get(node_id, []))
    return order


def _duration_words(duration: str) -> str:
    parts = re.findall(r"(\d+)([YMWD])", duration)
    words = [f"{n} {UNITS[u][0] if n == '1' else UNITS[u][1]}" for n, u in parts]
    return " og ".join(words) or duration


def _describe(rule: Rule) -> str:
    if not any(int(n) for n in re.findall(r"\d+", rule.duration)):
        text = f"samme dag som `{rule.from_field}`" if rule.from_field else "samme dag"
        return f"{text} (`{rule.name}`)" if rule.name else text
    text = _duration_words(rule.duration)
    if rule.working:
        text = text.replace(" dage", " arbejdsdage").replace(" dag", " arbejdsdag")
    text += f" fra `{rule.from_field}`" if rule.from_field else " fra trinnet begynder"
    return f"{text} (`{rule.name}`)" if rule.name else text


def _with_trials(text: str, rule: Rule | None, rule_sets: dict[str, RuleSet]) -> str:
    """The ordinary deadline, then each rule set's own figure for it (a trial's cadence)."""
    if rule is None or rule.name is None:
        return text
    for name, rule_set in sorted(rule_sets.items()):
        override = rule_set.overrides.get(rule.name)
        if override is not None:
            text += f"<br>regelsæt `{name}`: {_describe(replace(override, name=None))}"
    return text


def _rule(text: str, named: dict[str, Rule]) -> Rule | None:
    try:
        return parse_rule(text, named)
    except DeadlineError:
        return None


def _timer_text(node) -> str | None:
    for tag in ("timeDate", "timeDuration", "timeCycle"):
        found = node.find(f".//{_q(tag)}")
        if found is not None and found.text:
            return found.text.strip()
    return None


def _timer_rule(node, named) -> tuple[str, Rule | None]:
    text = _timer_text(node) or ""
    match = re.fullmatch(r'deadline\(\s*"([^"]+)"\s*\)', text)
    if match:
        return text, _rule(match.group(1), named)
    match = re.fullmatch(r'"(P[0-9YMWD]+)"', text)
    return text, (Rule(duration=match.group(1)) if match else None)


def _escalations(process) -> dict[str, str]:
    """Activity id -> what its non-interrupting deadline timer raises (a reminder task for the team lead)."""
    targets = {f.get("sourceRef"): f.get("targetRef") for f in process.iter(_q("sequenceFlow"))}
    names = {n.get("id"): n.get("name") or n.get("id") for n in process.iter() if isinstance(n.tag, str)}
    tasks = {n.get("id"): n for n in process.iter(_q("userTask"))}
    found = {}
    for boundary in process.iter(_q("boundaryEvent")):
        if boundary.find(_q("timerEventDefinition")) is None:
            continue
        target = tasks.get(targets.get(boundary.get("id")))
        if target is not None and _properties(target).get("audience") == "teamlead":
            found[boundary.get("attachedToRef")] = "påmindelse til teamleder"
        elif boundary.get("cancelActivity") == "false":
            found[boundary.get("attachedToRef")] = f"→ {names.get(targets.get(boundary.get('id')), '?')}"
        else:
            found[boundary.get("attachedToRef")] = f"afbrydes → {names.get(targets.get(boundary.get('id')), '?')}"
    return found


def _switched_gateway(node, lanes, rule_sets) -> list[str] | None:
    """A gateway whose condition reads a switch: where the ordinary case goes, and each trial that turns it on."""
    process = _process_of(node)
    flows = [f for f in process.iter(_q("sequenceFlow")) if f.get("sourceRef") == node.get("id")]
    switched = []
    for flow in flows:
        condition = flow.find(_q("conditionExpression"))
        match = SWITCH.search(condition.text or "") if condition is not None else None
        if match:
            switched.append((flow, match.group(1)))
    if not switched:
        return None
    default = next((f for f in flows if f.get("id") == node.get("default")), None)
    text = f"ordinært: {_way(default, process)}" if default is not None else "ordinært: kontakten er slået fra"
    sources = []
    for flow, switch in switched:
        for name, rule_set in sorted(rule_sets.items()):
            if rule_set.switches.get(switch):
                text += f"<br>regelsæt `{name}` (`{switch}`): {_way(flow, process)}"
                sources.append(rule_set.switch_sources.get(switch, ""))
    name = (node.get("name") or node.get("id")).replace("\n", " ")
    unit = lanes.get(node.get("id")) or _enclosing_lane(node, lanes)
    return [f"◇ {name}", unit or "", text, "", "; ".join(s for s in sources if s)]


def _process_of(node):
    while node.getparent() is not None and etree.QName(node).localname != "process":
        node = node.getparent()
    return node


def _way(flow, process) -> str:
    """A flow in words: its name, then the first named element it leads to (past unnamed gateways)."""
    nodes = {n.get("id"): n for n in process.iter() if isinstance(n.tag, str) and n.get("id")}
    outgoing = {f.get("sourceRef"): f.get("targetRef") for f in process.iter(_q("sequenceFlow"))}
    target, seen = nodes.get(flow.get("targetRef")), set()
    while target is not None and not target.get("name") and target.get("id") not in seen:
        seen.add(target.get("id"))
        target = nodes.get(outgoing.get(target.get("id")))
    where = (target.get("name") or target.get("id")).replace("\n", " ") if target is not None else "?"
    return f"{flow.get('name')} → {where}" if flow.get("name") else f"→ {where}"


def _form_swaps(node, rule_sets) -> str:
    key = node.get(f"{{{CAMUNDA}}}formKey")
    return "".join(f"<br>regelsæt `{name}`: formularen `{rule_set.forms[key]}` i stedet for `{key}`"
                   for name, rule_set in sorted(rule_sets.items()) if key and key in rule_set.forms)


def _row(node, lanes, named, escalations, rule_sets) -> list[str] | None:
    tag = etree.QName(node).localname
    props = _properties(node)
    if tag == "exclusiveGateway":
        return _switched_gateway(node, lanes, rule_sets)
    if tag == "boundaryEvent":
        # an interrupting timer on an activity is a step of its own (the agreed end of a placement);
        # a non-interrupting one is the activity's reminder, shown in its row
        if node.get("cancelActivity") == "false" or node.find(_q("timerEventDefinition")) is None:
            return None
        text, rule = _timer_rule(node, named)
        name = (node.get("name") or node.get("id")).replace("\n", " ")
        unit = lanes.get(node.get("id")) or _enclosing_lane(node, lanes)
        return [f"⏱ {name}", unit or "", _describe(rule) if rule else f"`{text}`",
                f"afbryder `{node.get('attachedToRef')}`", (rule.source or "") if rule else ""]
    if tag not in STEP_TAGS or props.get("audience") == "teamlead":
        return None
    name = (node.get("name") or node.get("id")).replace("\n", " ")
    deadline, source = "", ""
    if tag in ("startEvent", "intermediateCatchEvent"):
        if node.find(_q("timerEventDefinition")) is not None:
            text, rule = _timer_rule(node, named)
            name, deadline = f"⏱ {name}", _with_trials(_describe(rule), rule, rule_sets) if rule else f"`{text}`"
            source = (rule.source or "") if rule else ""
        elif node.find(_q("messageEventDefinition")) is not None:
            name = f"✉ {name}"
        else:
            return None
    elif tag == "callActivity":
        name = f"{name} (kalder `{node.get('calledElement')}`)"
    elif tag == "serviceTask":
        name = f"⚙ {name}"
    if "deadline" in props:
        rule = _rule(props["deadline"], named)
        deadline = _with_trials(_describe(rule), rule, rule_sets) if rule else f"`{props['deadline']}`"
        source = (rule.source or "") if rule else ""
    unit = lanes.get(node.get("id")) or _enclosing_lane(node, lanes)
    return [name + _form_swaps(node, rule_sets), unit or "", deadline, escalations.get(node.get("id"), ""), source]


def _enclosing_lane(node, lanes) -> str | None:
    parent = node.getparent()
    while parent is not None:
        if parent.get("id") in lanes:
            return lanes[parent.get("id")]
        parent = parent.getparent()
    return None


def table(path: Path, named: dict[str, Rule], rule_sets: dict[str, RuleSet] | None = None) -> str:
    root = etree.parse(str(path)).getroot()
    lines = ["| # | Trin | Enhed | Frist | Ved overskridelse | Kilde |", "|---|---|---|---|---|---|"]
    for process in root.iter(_q("process")):
        lanes, escalations = _lanes(process), _escalations(process)
        rows = [r for r in (_row(n, lanes, named, escalations, rule_sets or {}) for n in _flow_order(process))
                if r]
        for number, row in enumerate(rows, 1):
            cells = [c.replace("|", "\\|") for c in row]
            lines.append(f"| {number} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render(doc: str, named: dict[str, Rule], rule_sets: dict[str, RuleSet] | None = None) -> str:
    return MARKER.sub(lambda m: m.group(1) + table(ROOT / m.group("path"), named, rule_sets) + m.group(4), doc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("doc", nargs="?", default=str(ROOT / "docs" / "journeys.md"))
    parser.add_argument("--deadlines", default=str(ROOT / "config" / "deadlines.toml"))
    parser.add_argument("--check", action="store_true", help="exit 1 if the tables are out of date")
    args = parser.parse_args(argv)
    doc_path = Path(args.doc)
    doc = doc_path.read_text(encoding="utf-8")
    new = render(doc, load_rules(Path(args.deadlines)), deadline_file(Path(args.deadlines)).rule_sets)
    if args.check:
        if new != doc:
            print(f"{doc_path}: the step tables are out of date; run `make diagrams`", file=sys.stderr)
            return 1
        return 0
    if new != doc:
        doc_path.write_text(new, encoding="utf-8")
        print(f"wrote the step tables in {doc_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
