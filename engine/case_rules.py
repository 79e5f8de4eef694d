"""CaseRules: what the engine needs from configuration to run a case.

Forms, named deadlines, the working-day calendar and the limits of diagram
scripts. Built from Settings at the edge and passed in; the deadline file is
re-read when it changes, so a rule change takes effect without a restart or a
redeploy.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .deadlines import Rule, deadline_file
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

    def __post_init__(self) -> None:
        if self.calendar is None:
            object.__setattr__(self, "calendar", WorkCalendar(self.closed_days))

    def named_deadlines(self) -> dict[str, Rule]:
        return deadline_file(self.deadlines_file).rules

    def escalation_graces(self) -> dict[str, Rule]:
        return deadline_file(self.deadlines_file).graces

    def citizen_letters(self) -> dict[str, Rule]:
        """Per named deadline that sets `citizen_letter`: how long before it the § 3 letter goes."""
        return deadline_file(self.deadlines_file).letters

    def script_context(self) -> ScriptContext:
        return ScriptContext(calendar=self.calendar, named_deadlines=self.named_deadlines(), limits=self.script_limits)


def rules_from_settings(settings: Settings) -> CaseRules:
    limits = ScriptLimits(cpu_seconds=settings.script_cpu_seconds, memory_bytes=settings.script_memory_mib * MIB,
                          workers=settings.script_workers)
    return CaseRules(forms_dir=Path(settings.forms_dir), deadlines_file=Path(settings.deadlines_file),
                     closed_days=tuple(settings.closed_days), script_limits=limits)
