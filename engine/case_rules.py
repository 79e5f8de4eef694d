"""CaseRules: what the engine needs from configuration to run a case.

Forms, named deadlines, the working-day calendar and the limits of diagram
scripts. `rule_set` names the rule set a case runs under (engine.rule_sets):
a CaseRules for one case (`for_rule_set`) gives the named deadlines, the
switches and the form swaps as that rule set has them, so a task's
`deadline`, the `deadline(...)` and `switch(...)` helpers and the form a new
task gets resolve through it. Built from Settings at the edge and passed in; the deadline file is
re-read when it changes, so a rule change takes effect without a restart or a
redeploy.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .deadlines import Rule, deadline_file
from .rule_sets import RuleSet, Switch, resolve
from .scripting import MIB, ScriptContext, ScriptLimits
from .workdays import DEFAULT_CLOSED_DAYS, WorkCalendar

if TYPE_CHECKING:
    from .settings import Settings


@dataclass(frozen=True)
class CaseRules:
    forms_dir: Path
    deadlines_file: Path | None = None
    closed_days: tuple[str, ...] = DEFAULT_CLOSED_DAYS
    calendar: WorkCalendar = field(default=None, compare=False)  # type: ignore[assignment]
    script_limits: ScriptLimits = ScriptLimits()
    rule_set: str | None = None  # None or engine.rule_sets.ORDINARY: the ordinary rules

    def __post_init__(self) -> None:
        if self.calendar is None:
            object.__setattr__(self, "calendar", WorkCalendar(self.closed_days))

    def named_deadlines(self) -> dict[str, Rule]:
        """The named deadlines as this rule set has them (the ordinary ones where it says nothing)."""
        return self.active_rule_set().apply(deadline_file(self.deadlines_file).rules)

    def rule_sets(self) -> dict[str, RuleSet]:
        """The configured trial rule sets by name (the ordinary rules are not among them)."""
        return deadline_file(self.deadlines_file).rule_sets

    def active_rule_set(self) -> RuleSet:
        return resolve(self.rule_sets(), self.rule_set)

    def switches(self) -> dict[str, Switch]:
        """The declared switches by name (`[switches.<name>]`), whatever rule set turns them on."""
        return deadline_file(self.deadlines_file).switches

    def switch_values(self) -> dict[str, bool]:
        """Every declared switch as this rule set has it: all off under the ordinary rules."""
        return self.active_rule_set().switch_values(self.switches())

    def form_for(self, key: str) -> str:
        """The form key a task naming `key` gets under this rule set (itself unless the rule set swaps it)."""
        return self.active_rule_set().form_for(key)

    def form_swaps(self) -> dict[str, list[tuple[str, str]]]:
        """Form key -> [(rule set, alternative form key)] over every configured rule set (what a deploy bundles)."""
        swaps: dict[str, list[tuple[str, str]]] = {}
        for name, rule_set in sorted(self.rule_sets().items()):
            for key, alternative in rule_set.forms.items():
                swaps.setdefault(key, []).append((name, alternative))
        return swaps

    def for_rule_set(self, name: str | None) -> CaseRules:
        """The same rules for a case under rule set `name`."""
        return self if name == self.rule_set else replace(self, rule_set=name)

    def escalation_graces(self) -> dict[str, Rule]:
        return deadline_file(self.deadlines_file).graces

    def citizen_letters(self) -> dict[str, Rule]:
        """Per named deadline that sets `citizen_letter`: how long before it the § 3 letter goes."""
        return deadline_file(self.deadlines_file).letters

    def script_context(self) -> ScriptContext:
        return ScriptContext(calendar=self.calendar, named_deadlines=self.named_deadlines(), limits=self.script_limits,
                             switches=self.switch_values())


def rules_from_settings(settings: Settings) -> CaseRules:
    limits = ScriptLimits(cpu_seconds=settings.script_cpu_seconds, memory_bytes=settings.script_memory_mib * MIB,
                          workers=settings.script_workers)
    return CaseRules(forms_dir=Path(settings.forms_dir), deadlines_file=Path(settings.deadlines_file),
                     closed_days=tuple(settings.closed_days), script_limits=limits)
