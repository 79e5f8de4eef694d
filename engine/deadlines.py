"""Deadlines: what a diagram says ("P14D working from ansoegning_dato"), and named rules from configuration.

Grammar of a deadline (the user task property `deadline`, or the argument of
the script helper `deadline(...)`):

    <duration> [working] [from <data field>]     e.g.  P7D   P14D working   P1W from henvendelsesdato
    <name>                                       a rule in config/deadlines.toml, e.g.  visitation

<duration> is ISO 8601 with date parts only (PnYnMnWnD). Counted in calendar
days by default; `working` (or `arbejdsdage`) counts working days (weekdays
that are not holidays or closing days; a week is five working days; years
and months cannot be counted in working days). `from` names a date in the
case data; without it the deadline counts from the day the task is created.
A deadline falls on a day and ends when that day ends in Danish time.

Named rules live in a TOML file so that a change in the law is a settings
change, not a redeploy:

    [visitation]
    duration = "P1W"
    from = "henvendelsesdato"
    counting = "calendar"        # or "working"
    source = "LAB § 19: visitation senest en uge efter første henvendelse"

The file's `[rule_sets.<name>]` tables are not deadlines: they replace named
rules for the cases that run under a trial (engine.rule_sets); nor are its
`[switches.<name>]` tables, the switches a rule set may turn on.

Pure computation plus reading that file; no database.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from dateutil.relativedelta import relativedelta

from .workdays import WorkCalendar, end_of_day, local_date

_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RULE_SETS = "rule_sets"  # the table of rule sets in the deadline file, not a deadline
SWITCHES = "switches"  # the switches rule sets may turn on (engine.rule_sets), not a deadline
_NOT_DEADLINES = (RULE_SETS, SWITCHES)
WORKING_WORDS = ("working", "arbejdsdage", "hverdage")
FROM_WORDS = ("from", "fra")


class DeadlineError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    duration: str
    working: bool = False
    from_field: str | None = None
    name: str | None = None
    source: str | None = None

    def describe(self) -> str:
        text = self.duration + (" arbejdsdage" if self.working else "")
        return text + (f" fra {self.from_field}" if self.from_field else " fra oprettelse")


def parse_duration(text: str) -> tuple[int, int, int, int]:
    match = _DURATION.match(text or "")
    if not match or text == "P":
        raise DeadlineError(f"'{text}' is not an ISO 8601 duration with date parts (e.g. P7D, P2W, P3M)")
    years, months, weeks, days = (int(g or 0) for g in match.groups())
    return years, months, weeks, days


def parse_rule(text: str, named: dict[str, Rule]) -> Rule:
    words = (text or "").split()
    if not words:
        raise DeadlineError("empty deadline")
    if len(words) == 1 and _NAME.match(words[0]) and not _DURATION.match(words[0]):
        if words[0] not in named:
            known = ", ".join(sorted(named)) or "none configured"
            raise DeadlineError(f"no deadline named '{words[0]}' in the configuration (known: {known})")
        return named[words[0]]
    duration, rest = words[0], [w.lower() for w in words[1:]]
    years, months, weeks, days = parse_duration(duration)
    working = False
    if rest and rest[0] in WORKING_WORDS:
        working, rest = True, rest[1:]
    from_field = None
    if rest and rest[0] in FROM_WORDS and len(rest) == 2 and _FIELD.match(words[-1]):
        from_field, rest = words[-1], []
    if rest:
        raise DeadlineError(f"cannot read deadline '{text}': expected '<duration> [working] [from <field>]'")
    if working and (years or months):
        raise DeadlineError(f"'{duration}': years and months cannot be counted in working days")
    return Rule(duration=duration, working=working, from_field=from_field)


@dataclass(frozen=True)
class DeadlineFile:
    """config/deadlines.toml read: the named rules, and the escalation grace and the § 3 letter's warning
    (`citizen_letter`, engine/citizen_letters.py) of those that set one."""
    rules: dict[str, Rule]
    graces: dict[str, Rule]
    letters: dict[str, Rule] = field(default_factory=dict)
    rule_sets: dict = field(default_factory=dict)  # name -> engine.rule_sets.RuleSet
    switches: dict = field(default_factory=dict)  # name -> engine.rule_sets.Switch (declared switches)


_FILE_CACHE: dict[str, tuple[float, DeadlineFile]] = {}
_EMPTY = DeadlineFile({}, {}, {})


def deadline_file(path: Path | None) -> DeadlineFile:
    """The deadline file, read again when it changed on disk (a rule change needs no restart or redeploy)."""
    if path is None:
        return _EMPTY
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return _EMPTY
    cached = _FILE_CACHE.get(str(path))
    if cached is None or cached[0] != mtime:
        from .rule_sets import parse_rule_sets, parse_switches  # they build on Rule and parse_rule of this module

        rules = load_rules(Path(path))
        raw = _read_toml(Path(path))
        switches = parse_switches(raw.get(SWITCHES), path)
        sets = parse_rule_sets(raw.get(RULE_SETS), rules, path, switches)
        cached = (mtime, DeadlineFile(rules, _graces(Path(path)), _letters(Path(path)), sets, switches))
        _FILE_CACHE[str(path)] = cached
    return cached[1]


def parse_grace(text: str) -> Rule:
    rule = parse_rule(text, {})
    if rule.from_field:
        raise DeadlineError(f"escalation grace '{text}' counts from the due time; leave out 'from'")
    return rule


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DeadlineError(f"{path}: {exc}") from None


def _deadline_tables(path: Path) -> list[tuple[str, dict]]:
    return [(name, entry) for name, entry in _read_toml(path).items()
            if name not in _NOT_DEADLINES and isinstance(entry, dict)]


def _graces(path: Path) -> dict[str, Rule]:
    graces = {}
    for name, entry in _deadline_tables(path):
        if entry.get("escalation_grace"):
            try:
                graces[name] = parse_grace(str(entry["escalation_grace"]))
            except DeadlineError as exc:
                raise DeadlineError(f"{path}: [{name}] escalation_grace: {exc}") from None
    return graces


def _letters(path: Path) -> dict[str, Rule]:
    letters = {}
    for name, entry in _deadline_tables(path):
        if entry.get("citizen_letter"):
            try:
                letters[name] = parse_grace(str(entry["citizen_letter"]))
            except DeadlineError as exc:
                raise DeadlineError(f"{path}: [{name}] citizen_letter: {exc}") from None
            if parse_duration(letters[name].duration)[:2] != (0, 0):
                raise DeadlineError(f"{path}: [{name}] citizen_letter: give the warning in weeks or days")
    return letters


def load_rules(path: Path | None) -> dict[str, Rule]:
    """The named rules of a deadline file, read now (engine code reads them through `deadline_file`)."""
    if path is None or not Path(path).is_file():
        return {}
    raw = _read_toml(Path(path))
    rules = {}
    for name, entry in raw.items():
        if name in _NOT_DEADLINES:  # the trials' replacements of these rules and their switches: engine.rule_sets
            continue
        if not _NAME.match(name) or not isinstance(entry, dict):
            raise DeadlineError(f"{path}: [{name}] must be a lower-case name with a table of settings")
        counting = entry.get("counting", "calendar")
        if counting not in ("calendar", "working"):
            raise DeadlineError(f"{path}: [{name}] counting must be 'calendar' or 'working'")
        base = parse_rule(f"{entry.get('duration', '')}{' working' if counting == 'working' else ''}", {})
        from_field = entry.get("from")
        if from_field is not None and not _FIELD.match(str(from_field)):
            raise DeadlineError(f"{path}: [{name}] from must name a field of the case data")
        rules[name] = Rule(base.duration, base.working, from_field, name, entry.get("source"))
    return rules


def start_day(rule: Rule, data: dict, now: datetime) -> date:
    if rule.from_field is None:
        return local_date(now)
    value = data.get(rule.from_field)
    if isinstance(value, datetime):
        return local_date(value)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise DeadlineError(f"the deadline counts from '{rule.from_field}', which is not a date in the case data")


def due_day(rule: Rule, start: date, calendar: WorkCalendar) -> date:
    years, months, weeks, days = parse_duration(rule.duration)
    if rule.working:
        return calendar.add_working_days(start, weeks * 5 + days)
    return start + relativedelta(years=years, months=months, weeks=weeks, days=days)


def due_at(rule: Rule, data: dict, now: datetime, calendar: WorkCalendar) -> datetime:
    """The moment the deadline passes: the end of its day in Danish time."""
    return end_of_day(due_day(rule, start_day(rule, data, now), calendar))
