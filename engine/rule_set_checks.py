"""Deploy checks for what rule sets bring into a diagram: `switch("…")` calls and form swaps.

A rule set (engine.rule_sets) may turn on switches a condition reads with
`switch("<name>")`, and may swap a user task's form for an alternative. Both
are configuration, so a diagram is checked against the configuration at
deploy, as its named deadlines are:

- every `switch(...)` in a condition, script or timer names, in quotes, a
  switch declared in `[switches.<name>]`;
- every alternative form a rule set names for a form a user task of the
  diagram uses must be found and valid (it goes into the version with the
  form it replaces, engine.catalog), and must carry every field of the
  ordinary form that the diagram reads further on (a condition, a script, a
  timer, the `from` field of a deadline), with the same type and, if the
  ordinary form requires it, required: a case under the trial must be able to
  take every path an ordinary case can.

Pure functions over parsed XML, like engine.validation; no database.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from lxml import etree

from .bpmn import camunda7, juel
from .bpmn.parser import BPMN_NS, CAMUNDA_NS
from .deadlines import DeadlineError, Rule, parse_rule
from .errors import Invalid
from .forms import Form
from .validation import SourceFile, element_of, executable_processes, problem

if TYPE_CHECKING:
    from .form_sources import FormSources

_CODE_TAGS = ("conditionExpression", "timeDuration", "timeDate", "timeCycle", "script")


def _code(src: SourceFile, node: etree._Element, tag: str) -> tuple[str, str] | None:
    """(Python source, compile mode) of an expression element as the parser reads it; None if unreadable
    (engine.validation reports those)."""
    text = (node.text or "").strip()
    if not text:
        return None
    if tag == "script":
        return node.text or "", "exec"
    try:
        source = (camunda7.condition_python(text) if tag == "conditionExpression"
                  else camunda7.timer_python(text, src.is_camunda7))
    except juel.JuelError:
        return None
    return (source, "eval") if source else None


def _codes(src: SourceFile, root: etree._Element) -> Iterator[tuple[etree._Element, str, str]]:
    for tag in _CODE_TAGS:
        for node in root.iter(f"{{{BPMN_NS}}}{tag}"):
            found = _code(src, node, tag)
            if found is not None:
                yield node, *found


def _calls(source: str, mode: str, helper: str) -> list[ast.Call] | None:
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError:
        return None
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            and n.func.id == helper]


def check_switches(src: SourceFile, declared: set[str], problems: list) -> None:
    """Every switch("…") names a declared switch in quotes."""
    for node, source, mode in _codes(src, src.root):
        for call in _calls(source, mode, "switch") or ():
            owner = element_of(node)
            arg = call.args[0] if len(call.args) == 1 and not call.keywords else None
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                problems.append(problem(src.name, owner, node.sourceline,
                                        'switch() takes one switch name in quotes, e.g. switch("lae265_kan_undlades")'))
            elif arg.value not in declared:
                known = ", ".join(sorted(declared)) or "none declared"
                problems.append(problem(src.name, owner, node.sourceline,
                                        f"switch('{arg.value}'): there is no switch '{arg.value}' in [switches] of "
                                        f"the deadline file (known: {known})"))


def fields_read(src: SourceFile, process: etree._Element, named_deadlines: dict[str, Rule]) -> set[str]:
    """The case-data fields the process's conditions, scripts, timers and deadlines read."""
    names: set[str] = set()
    for _node, source, mode in _codes(src, process):
        try:
            names |= {n.id for n in ast.walk(ast.parse(source, mode=mode)) if isinstance(n, ast.Name)}
        except SyntaxError:
            continue  # engine.validation reports it
        for call in _calls(source, mode, "deadline") or ():
            if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
                names |= _from_field(call.args[0].value, named_deadlines)
    for prop in process.iter(f"{{{CAMUNDA_NS}}}property"):
        if prop.get("name") == "deadline":
            names |= _from_field(prop.get("value") or "", named_deadlines)
    return names


def _from_field(spec: str, named_deadlines: dict[str, Rule]) -> set[str]:
    try:
        rule = parse_rule(spec, named_deadlines)
    except DeadlineError:
        return set()  # engine.validation reports it
    return {rule.from_field} if rule.from_field else set()


def check_form_swaps(src: SourceFile, *, forms: FormSources, swaps: dict[str, list[tuple[str, str]]],
                     named_deadlines: dict[str, Rule], problems: list) -> None:
    """The alternatives the rule sets name for this diagram's user-task forms exist and carry what it reads."""
    if not swaps:
        return
    for process in executable_processes(src):
        read = fields_read(src, process, named_deadlines)
        for task in process.iter(f"{{{BPMN_NS}}}userTask"):
            key = camunda7.form_key_of(task)
            if key is None:
                continue
            for rule_set, alternative in swaps.get(key, ()):
                where = f"rule set '{rule_set}' swaps form '{key}' for '{alternative}'"
                try:
                    ordinary, other = forms.load(key), forms.load(alternative)
                except Invalid as exc:
                    problems.append(problem(src.name, task.get("id"), task.sourceline, f"{where}: {exc.message}"))
                    continue
                for message in _missing(ordinary, other, read):
                    problems.append(problem(src.name, task.get("id"), task.sourceline, f"{where}: {message}"))


def _missing(ordinary: Form, other: Form, read: set[str]) -> list[str]:
    theirs = {f.name: f for f in other.fields}
    found = []
    for fld in ordinary.fields:
        if fld.name not in read:
            continue
        alt = theirs.get(fld.name)
        if alt is None:
            found.append(f"the diagram reads field '{fld.name}', which the alternative form lacks")
        elif alt.type != fld.type:
            found.append(f"field '{fld.name}' is {alt.type} in the alternative form, {fld.type} in the ordinary one")
        elif fld.required and not alt.required:
            found.append(f"field '{fld.name}' is required in the ordinary form, so it must be in the alternative too")
    return found
