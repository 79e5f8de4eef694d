"""Rule sets: the rules a trial switches per case (frikommuneforsøg), read from config/deadlines.toml.

A case runs under one rule set (`cases.rule_set`): `ordinaer`, the ordinary
rules, unless a start or a visitation chose another. A rule set may

- replace **named deadlines** by its own figures; every name it does not
  mention keeps the ordinary rule. Diagrams name deadlines as always
  (`deadline="kh_jobsamtale"`, `deadline("kh_jobsamtale")`): which figure
  applies is decided when the task or timer is created, from the case's
  rule set then;
- turn on **switches**: named booleans declared once in `[switches.<name>]`
  (a Danish label each; off under the ordinary rules) that a diagram's
  condition reads with `switch("<name>")` (engine.scripting), evaluated when
  the gateway is reached, like a deadline when its task is created;
- swap **forms**: `[rule_sets.<name>.forms]` names an alternative form for a
  form key (`kh_jobsamtale = "kh_jobsamtale_frikommune"`); a task created
  under the rule set gets the alternative when its version carries it
  (engine.projections; engine.catalog bundles and checks it at deploy).

Like the named deadlines the file is re-read when it changes, so a trial
starts or ends without a redeploy.

    [rule_sets.frikommune]
    label = "Frikommuneforsøg: lempet samtalekadence"
    source = "Frikommuneforsøg II (004_*) ..."

    [rule_sets.frikommune.deadlines.kh_jobsamtale]
    duration = "P3M"                 # duration, counting, from: each optional, the rest is the ordinary rule's
    source = "..."

    [switches.lae265_kan_undlades]   # declared once: off in every rule set that does not turn it on
    label = "LÆ265 kan undlades, når sagen er tilstrækkeligt sundhedsfagligt belyst"
    source = "..."

    [rule_sets.frikommune.switches.lae265_kan_undlades]
    value = true                     # a boolean
    source = "Frikommuneforsøg II (004_*) ..."   # the Danish text: why this rule set turns it on

    [rule_sets.frikommune.forms]
    kh_jobsamtale = "kh_jobsamtale_frikommune"

Pure parsing and lookup; no database (engine.case_attributes changes a case's rule set).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from .deadlines import _FIELD, _NAME, DeadlineError, Rule, parse_rule

ORDINARY = "ordinaer"
ORDINARY_LABEL = "Ordinære regler"
_SET_KEYS = {"label", "source", "deadlines", "switches", "forms"}
_OVERRIDE_KEYS = {"duration", "counting", "from", "source"}
_SWITCH_KEYS = {"label", "source"}
_SETTING_KEYS = {"value", "source"}
_FORM_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,200}$")  # as engine.forms names a form


@dataclass(frozen=True)
class Switch:
    """A declared switch: what turning it on allows (Danish, shown to staff and process owners)."""
    name: str
    label: str
    source: str | None = None


@dataclass(frozen=True)
class RuleSet:
    name: str
    label: str
    source: str | None = None
    overrides: dict[str, Rule] = field(default_factory=dict)
    switches: dict[str, bool] = field(default_factory=dict)  # only those it sets; the rest are off
    switch_sources: dict[str, str] = field(default_factory=dict)
    forms: dict[str, str] = field(default_factory=dict)  # form key -> the alternative form's key

    def apply(self, rules: dict[str, Rule]) -> dict[str, Rule]:
        """The named deadlines as this rule set has them."""
        return {**rules, **self.overrides} if self.overrides else rules

    def switch_values(self, declared: dict[str, Switch]) -> dict[str, bool]:
        """Every declared switch as this rule set has it (off unless it turns it on)."""
        return {name: bool(self.switches.get(name, False)) for name in declared}

    def form_for(self, key: str) -> str:
        """The form a task naming `key` gets under this rule set."""
        return self.forms.get(key, key)


ORDINARY_SET = RuleSet(ORDINARY, ORDINARY_LABEL, "Gældende regler (config/deadlines.toml)")


def parse_switches(raw: object, path: object) -> dict[str, Switch]:
    """`[switches.*]` of the deadline file: the switches rule sets may turn on, each with a Danish label."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise DeadlineError(f"{path}: switches must be a table of [switches.<name>] tables")
    found = {}
    for name, entry in raw.items():
        where = f"{path}: [switches.{name}]"
        if not _NAME.match(name) or not isinstance(entry, dict):
            raise DeadlineError(f"{where} must be a lower-case name with a table of settings (label, source)")
        unknown = sorted(set(entry) - _SWITCH_KEYS)
        if unknown:
            raise DeadlineError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: label, source)")
        if not isinstance(entry.get("label"), str) or not entry["label"].strip():
            raise DeadlineError(f"{where} needs a label: a Danish text saying what the switch allows when on")
        if entry.get("source") is not None and not isinstance(entry["source"], str):
            raise DeadlineError(f"{where}: source must be text")
        found[name] = Switch(name, entry["label"].strip(), entry.get("source"))
    return found


def parse_rule_sets(raw: object, rules: dict[str, Rule], path: object,
                    switches: dict[str, Switch] | None = None) -> dict[str, RuleSet]:
    """`[rule_sets.*]` of the deadline file; every mistake is refused naming the table."""
    switches = switches or {}
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise DeadlineError(f"{path}: rule_sets must be a table of [rule_sets.<name>] tables")
    sets = {}
    for name, entry in raw.items():
        where = f"{path}: [rule_sets.{name}]"
        if not _NAME.match(name) or name == ORDINARY or not isinstance(entry, dict):
            raise DeadlineError(f"{where} must be a lower-case name other than '{ORDINARY}' with a table of settings")
        unknown = sorted(set(entry) - _SET_KEYS)
        if unknown:
            raise DeadlineError(f"{where}: unknown key(s) {', '.join(unknown)} "
                                "(allowed: label, source, deadlines, switches, forms)")
        if not isinstance(entry.get("label"), str) or not entry["label"].strip():
            raise DeadlineError(f"{where} needs a label (what the case page shows)")
        deadlines = entry.get("deadlines", {})
        if not isinstance(deadlines, dict):
            raise DeadlineError(f"{where}: deadlines must be a table of [rule_sets.{name}.deadlines.<deadline>]")
        overrides = {d: _override(f"{path}: [rule_sets.{name}.deadlines.{d}]", d, o, rules)
                     for d, o in deadlines.items()}
        values, sources = _switch_settings(f"{path}: [rule_sets.{name}.switches", entry.get("switches", {}),
                                           switches)
        forms = _form_swaps(f"{path}: [rule_sets.{name}.forms]", entry.get("forms", {}))
        sets[name] = RuleSet(name, entry["label"].strip(), entry.get("source"), overrides, values, sources, forms)
    return sets


def _switch_settings(where: str, raw: object, declared: dict[str, Switch]) -> tuple[dict[str, bool], dict[str, str]]:
    """`[rule_sets.<name>.switches.<switch>]` tables: `value` (a boolean) and `source` (why, in Danish).
    `where` is the table's name without its closing bracket."""
    if not isinstance(raw, dict):
        raise DeadlineError(f"{where}] must hold one table per switch: {where}.<switch>] with value and source")
    values, sources = {}, {}
    for name, entry in raw.items():
        here = f"{where}.{name}]"
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none declared"
            raise DeadlineError(f"{here}: there is no switch '{name}'; declare it as [switches.{name}] "
                                f"with a label (known: {known})")
        if not isinstance(entry, dict):
            raise DeadlineError(f"{here} must be a table with value = true or false and a source")
        unknown = sorted(set(entry) - _SETTING_KEYS)
        if unknown:
            raise DeadlineError(f"{here}: unknown key(s) {', '.join(unknown)} (allowed: value, source)")
        if not isinstance(entry.get("value"), bool):
            raise DeadlineError(f"{here}: value must be true or false (got {entry.get('value')!r})")
        if not isinstance(entry.get("source"), str) or not entry["source"].strip():
            raise DeadlineError(f"{here} needs a source: a Danish text saying why this rule set sets it")
        values[name], sources[name] = entry["value"], entry["source"].strip()
    return values, sources


def _form_swaps(where: str, raw: object) -> dict[str, str]:
    """`[rule_sets.<name>.forms]`: form key = the alternative form's key (whether it exists is checked at deploy)."""
    if not isinstance(raw, dict):
        raise DeadlineError(f"{where} must be a table of form key = \"alternative form key\"")
    for key, alternative in raw.items():
        if not _FORM_KEY.match(key):
            raise DeadlineError(f"{where}: '{key}' is not a form key")
        if not isinstance(alternative, str) or not _FORM_KEY.match(alternative) or alternative == key:
            raise DeadlineError(f"{where}: {key} must name another form's key (got {alternative!r})")
    return dict(raw)


def _override(where: str, name: str, entry: object, rules: dict[str, Rule]) -> Rule:
    if name not in rules:
        known = ", ".join(sorted(rules)) or "none configured"
        raise DeadlineError(f"{where}: there is no ordinary deadline '{name}' to replace (known: {known})")
    if not isinstance(entry, dict) or not entry:
        raise DeadlineError(f"{where} must set at least one of duration, counting, from, source")
    unknown = sorted(set(entry) - _OVERRIDE_KEYS)
    if unknown:
        raise DeadlineError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: duration, counting, from, source)")
    base = rules[name]
    counting = entry.get("counting", "working" if base.working else "calendar")
    if counting not in ("calendar", "working"):
        raise DeadlineError(f"{where}: counting must be 'calendar' or 'working'")
    try:
        parsed = parse_rule(f"{entry.get('duration', base.duration)}{' working' if counting == 'working' else ''}", {})
    except DeadlineError as exc:
        raise DeadlineError(f"{where}: {exc}") from None
    from_field = entry.get("from", base.from_field)
    if from_field is not None and not _FIELD.match(str(from_field)):
        raise DeadlineError(f"{where}: from must name a field of the case data")
    return replace(base, duration=parsed.duration, working=parsed.working, from_field=from_field,
                   source=entry.get("source", base.source))


def resolve(sets: dict[str, RuleSet], name: str | None) -> RuleSet:
    """The rule set a case names; one that is no longer configured falls back to the ordinary rules
    (a trial that ended), so a running case never stops on it."""
    if not name or name == ORDINARY:
        return ORDINARY_SET
    return sets.get(name, ORDINARY_SET)


def known(sets: dict[str, RuleSet]) -> list[RuleSet]:
    return [ORDINARY_SET, *sorted(sets.values(), key=lambda s: s.name)]
