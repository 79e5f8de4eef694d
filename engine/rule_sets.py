"""Rule sets: the rules a trial switches per case (frikommuneforsøg), read from config/deadlines.toml.

A case runs under one rule set (`cases.rule_set`): `ordinaer`, the ordinary
rules, unless a start or a visitation chose another. A rule set replaces
named deadlines by its own figures; every name it does not mention keeps the
ordinary rule. Diagrams name deadlines as always (`deadline="kh_jobsamtale"`,
`deadline("kh_jobsamtale")`): which figure applies is decided when the task
or timer is created, from the case's rule set then. Like the named deadlines
the file is re-read when it changes, so a trial starts or ends without a
redeploy.

    [rule_sets.frikommune]
    label = "Frikommuneforsøg: lempet samtalekadence"
    source = "Frikommuneforsøg II (004_*) ..."

    [rule_sets.frikommune.deadlines.kh_jobsamtale]
    duration = "P3M"                 # duration, counting, from: each optional, the rest is the ordinary rule's
    source = "..."

Pure parsing and lookup; no database (engine.case_attributes changes a case's rule set).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from .deadlines import _FIELD, _NAME, DeadlineError, Rule, parse_rule

ORDINARY = "ordinaer"
ORDINARY_LABEL = "Ordinære regler"
_SET_KEYS = {"label", "source", "deadlines"}
_OVERRIDE_KEYS = {"duration", "counting", "from", "source"}


@dataclass(frozen=True)
class RuleSet:
    name: str
    label: str
    source: str | None = None
    overrides: dict[str, Rule] = field(default_factory=dict)

    def apply(self, rules: dict[str, Rule]) -> dict[str, Rule]:
        """The named deadlines as this rule set has them."""
        return {**rules, **self.overrides} if self.overrides else rules


ORDINARY_SET = RuleSet(ORDINARY, ORDINARY_LABEL, "Gældende regler (config/deadlines.toml)")


def parse_rule_sets(raw: object, rules: dict[str, Rule], path: object) -> dict[str, RuleSet]:
    """`[rule_sets.*]` of the deadline file; every mistake is refused naming the table."""
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
            raise DeadlineError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: label, source, deadlines)")
        if not isinstance(entry.get("label"), str) or not entry["label"].strip():
            raise DeadlineError(f"{where} needs a label (what the case page shows)")
        deadlines = entry.get("deadlines", {})
        if not isinstance(deadlines, dict):
            raise DeadlineError(f"{where}: deadlines must be a table of [rule_sets.{name}.deadlines.<deadline>]")
        overrides = {d: _override(f"{path}: [rule_sets.{name}.deadlines.{d}]", d, o, rules)
                     for d, o in deadlines.items()}
        sets[name] = RuleSet(name, entry["label"].strip(), entry.get("source"), overrides)
    return sets


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
