"""What a case carries beside its data: its rule set and its koordinerende sagsbehandler.

- The **rule set** (`cases.rule_set`, engine.rule_sets) is chosen at start,
  by a form field of type `rule_set` when its task completes, or by a team
  lead (`POST /api/cases/{id}/rule-set`). Tasks and timers created from then
  on get its figures; what already has a due time keeps it.
- The **coordinator** (`cases.coordinator_id`) is a user, chosen by a form
  field of type `staff` with `"case_role": "coordinator"`, or by a team lead
  of the coordinating unit (`POST /api/cases/{id}/coordinator`). Every unit
  working on the case sees the name.

Every change is an audit event of the case (`rule_set_chosen`,
`coordinator_set`: who, from, to) made in the case's own locked transaction:
the task completion that chose it (engine.runtime), or `change_*` below.
Functions only flush; the edge commits. Messages users see are Danish.
"""
from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .access import UNIT_MEMBERS, check_case_visible
from .accounts import UserView
from .case_rules import CaseRules
from .errors import Conflict, Forbidden, FormRejected, Invalid
from .forms import Form, FormField
from .locking import lock_case
from .models import Case, User, UserUnit
from .rule_sets import ORDINARY, known
from .statuses import CaseStatus

COORDINATOR = "coordinator"
CASE_ROLES = (COORDINATOR,)
# the jobcenter keeps tovholderfunktionen whatever service another unit gives (DOMAIN.md, 000_* p.13)
COORDINATOR_UNIT = "jobcenter"
RULE_SET_CHOSEN = "rule_set_chosen"
COORDINATOR_SET = "coordinator_set"


# -- rule sets -------------------------------------------------------------------------------------


def rule_set_choices(rules: CaseRules) -> list[tuple[str, str]]:
    """(name, label) of every rule set a case may run under, the ordinary rules first."""
    return [(s.name, s.label) for s in known(rules.rule_sets())]


def rule_set_label(rules: CaseRules, name: str | None) -> str:
    return dict(rule_set_choices(rules)).get(name or ORDINARY, f"{name} (ikke længere konfigureret)")


def rule_set_exemptions(rules: CaseRules, name: str | None) -> list[str]:
    """What rule set `name` changes beside deadlines, in Danish for the case page: each switch it turns on
    (its label) and each form it swaps."""
    chosen = rules.for_rule_set(name)
    declared = rules.switches()
    found = [declared[n].label for n, on in chosen.switch_values().items() if on]
    found += [f"Formularen {alt} i stedet for {key}" for key, alt in sorted(chosen.active_rule_set().forms.items())]
    return found


def rule_set_problem(rules: CaseRules, name: object) -> str | None:
    """Why `name` is not a rule set a case may take (Danish), or None."""
    choices = rule_set_choices(rules)
    if isinstance(name, str) and name in dict(choices):
        return None
    shown = name if isinstance(name, str) else repr(name)
    return (f"'{shown}' er ikke et kendt regelsæt; vælg et af: "
            + ", ".join(f"{n} ({label})" for n, label in choices))


def check_rule_set(rules: CaseRules, name: object) -> str:
    """The rule set name to start a case with (None: the ordinary rules); Invalid (422) otherwise."""
    if name is None or name == "":
        return ORDINARY
    problem = rule_set_problem(rules, name)
    if problem is not None:
        raise FormRejected(problem, [{"field": "rule_set", "message": problem}])
    return str(name)


def choose_rule_set(session: Session, case: Case, name: str, *, actor: str | None, reason: object = None,
                    element_id: str | None = None, task_id: str | None = None, cause: str | None = None,
                    extra: dict | None = None, rules: CaseRules | None = None) -> bool:
    """Set the (checked) rule set on the locked case and audit it; False when it already runs under it.

    With `rules` the event also keeps what the new rule set switches on and which forms it swaps, as the
    configuration says now: a gateway reading `switch(...)` later is traced to the choice that set it."""
    before = case.rule_set or ORDINARY
    if name == before:
        return False
    case.rule_set = name
    details = {"from": before, "to": name, "reason": _reason(reason), **(extra or {})}
    if rules is not None:
        chosen = rules.for_rule_set(name)
        details["switches_on"] = sorted(n for n, on in chosen.switch_values().items() if on)
        details["forms"] = dict(chosen.active_rule_set().forms)
    audit.record(session, case, RULE_SET_CHOSEN, actor=actor, element_id=element_id, task_id=task_id,
                 details=details, cause=cause)
    return True


def change_rule_set(session: Session, *, case_id: str, rule_set: object, reason: object, user: UserView,
                    rules: CaseRules) -> Case:
    """A team lead (of a unit on the case) or an admin switches a running case's rule set."""
    if reason is not None and not isinstance(reason, str):
        raise Invalid("reason must be text")
    case = _locked_running(session, case_id, user)
    if user.role != "admin" and user.role != "teamlead":
        raise Forbidden("kun en teamleder eller en administrator kan skifte en sags regelsæt")
    choose_rule_set(session, case, check_rule_set(rules, rule_set), actor=user.username, reason=reason, rules=rules)
    session.flush()
    return case


def _reason(reason: object) -> str | None:
    return reason.strip()[:2000] if isinstance(reason, str) and reason.strip() else None


# -- the coordinator -------------------------------------------------------------------------------


def staff_of(session: Session, unit: str) -> list[tuple[str, str]]:
    """(username, role) of the active caseworkers and team leads of `unit`: who a staff field may name."""
    rows = session.execute(select(User.username, User.role).join(UserUnit, UserUnit.user_id == User.id)
                           .where(UserUnit.unit_key == unit, User.active.is_(True),
                                  User.role.in_(UNIT_MEMBERS)).order_by(User.username))
    return [(name, role) for name, role in rows]


def staff_problem(session: Session, username: object, unit: str) -> str | None:
    """Why `username` cannot be chosen from `unit`'s staff (Danish), or None."""
    if not isinstance(username, str) or not username.strip():
        return "vælg en medarbejder"
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        return f"der er ingen bruger '{username}'"
    if not user.active:
        return f"'{username}' er ikke længere aktiv"
    member = session.scalar(select(UserUnit.user_id).where(UserUnit.user_id == user.id, UserUnit.unit_key == unit))
    if user.role not in UNIT_MEMBERS or member is None:
        return f"'{username}' er ikke sagsbehandler eller teamleder i {unit}"
    return None


def coordinator_name(session: Session, case: Case) -> str | None:
    if case.coordinator_id is None:
        return None
    return session.scalar(select(User.username).where(User.id == case.coordinator_id))


def set_coordinator(session: Session, case: Case, username: str, *, actor: str | None,
                    element_id: str | None = None, task_id: str | None = None, cause: str | None = None,
                    extra: dict | None = None) -> bool:
    """Make the (checked) user the locked case's coordinator and audit it; False when they already are."""
    user_id = session.scalar(select(User.id).where(User.username == username))
    if user_id is None or user_id == case.coordinator_id:
        return False
    before = coordinator_name(session, case)
    case.coordinator_id = user_id
    audit.record(session, case, COORDINATOR_SET, actor=actor, element_id=element_id, task_id=task_id,
                 details={"from": before, "to": username, "unit": COORDINATOR_UNIT, **(extra or {})}, cause=cause)
    return True


def inherit(session: Session, case: Case, sender: Case, *, actor: str | None, cause: str | None,
            rules: CaseRules | None = None) -> None:
    """A case another case started (a SOF referral) works under the sender's rule set and coordinator:
    the jobcenter stays tovholder for the citizen whichever unit gives the service. Audited on the new case."""
    extra = {"from_case": sender.id}
    if sender.rule_set and sender.rule_set != ORDINARY:
        choose_rule_set(session, case, sender.rule_set, actor=actor, cause=cause, extra=extra,
                        reason=f"som sag {sender.number or sender.id}", rules=rules)
    name = coordinator_name(session, sender)
    if name is not None:
        set_coordinator(session, case, name, actor=actor, cause=cause, extra=extra)


def change_coordinator(session: Session, *, case_id: str, username: object, user: UserView) -> Case:
    """A team lead of the coordinating unit (or an admin) names the case's koordinerende sagsbehandler."""
    if user.role != "admin" and not (user.role == "teamlead" and COORDINATOR_UNIT in user.units):
        raise Forbidden(f"kun en teamleder i {COORDINATOR_UNIT} kan skifte koordinerende sagsbehandler")
    case = _locked_running(session, case_id, user)
    problem = staff_problem(session, username, COORDINATOR_UNIT)
    if problem is not None:
        raise FormRejected(f"Koordinerende sagsbehandler: {problem}",
                           [{"field": "username", "message": f"Koordinerende sagsbehandler: {problem}"}])
    set_coordinator(session, case, str(username), actor=user.username)
    session.flush()
    return case


def _locked_running(session: Session, case_id: str, user: UserView) -> Case:
    case = lock_case(session, case_id)
    check_case_visible(session, user, case)
    if case.status != CaseStatus.RUNNING:
        raise Conflict(f"sagen er {case.status}; den kan ikke længere ændres")
    return case


# -- form fields that set them ---------------------------------------------------------------------


def with_choices(session: Session, form: Form | None, rules: CaseRules | None) -> Form | None:
    """The form with the choices of its `staff` and `rule_set` fields filled in, as they are now."""
    if form is None or not any(f.type in ("staff", "rule_set") for f in form.fields):
        return form
    fields = []
    for fld in form.fields:
        if fld.type == "staff" and fld.unit:
            fld = replace(fld, choices=tuple((name, f"{name} (teamleder)" if role == "teamlead" else name)
                                             for name, role in staff_of(session, fld.unit)))
        elif fld.type == "rule_set" and rules is not None:
            fld = replace(fld, choices=tuple(rule_set_choices(rules)))
        fields.append(fld)
    return replace(form, fields=tuple(fields))


def check_form_fields(session: Session, form: Form | None, cleaned: dict, rules: CaseRules) -> None:
    """FormRejected, one message per field, when a staff field names someone not in its unit or a
    rule_set field names no configured rule set; checked before anything of the task changes."""
    errors = []
    for fld in _attribute_fields(form, cleaned):
        if fld.type == "staff":
            problem = staff_problem(session, cleaned[fld.name], fld.unit or "")
        else:
            problem = rule_set_problem(rules, cleaned[fld.name])
        if problem is not None:
            errors.append({"field": fld.name, "message": f"{fld.label}: {problem}"})
    if errors:
        raise FormRejected("the form rejected the data", errors)


def apply_form_fields(session: Session, case: Case, form: Form | None, cleaned: dict, *, actor: str,
                      element_id: str, task_id: str, rules: CaseRules | None = None) -> bool:
    """Set what the completed task's fields choose on the case; True when the rule set changed."""
    changed = False
    for fld in _attribute_fields(form, cleaned):
        value = cleaned[fld.name]
        if fld.type == "rule_set":
            changed = choose_rule_set(session, case, value, actor=actor, element_id=element_id,
                                      task_id=task_id, rules=rules) or changed
        elif fld.case_role == COORDINATOR:
            set_coordinator(session, case, value, actor=actor, element_id=element_id, task_id=task_id)
    return changed


def _attribute_fields(form: Form | None, cleaned: dict) -> list[FormField]:
    if form is None:
        return []
    return [f for f in form.fields if f.type in ("staff", "rule_set") and cleaned.get(f.name) not in (None, "")]
