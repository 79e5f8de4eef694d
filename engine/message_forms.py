"""What the deployed processes wait for from outside, and the form each message must fill.

A message catch or message start event may name a form (`camunda:formKey`,
the same form files as tasks, stored in the version's bundle). A message
from outside (POST /api/messages, a unit registering it on the case page) is
checked against the form of the event that will catch it, with the case's
own version, before anything is locked or changed: refused data is a
FormRejected (422, a message per field). Messages between cases are not
checked here: what they carry was checked by the sending case's forms.

Read-only; the index of a version is cached by definition id (versions never change).
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .bpmn.catches import EVENT_START, START, MessageCatch, SpecIndex, index_spec
from .bundles import version_form
from .errors import Invalid
from .forms import Form, validate_data
from .models import ProcessDefinition

_INDEX: dict[str, SpecIndex] = {}


def version_index(session: Session, definition_id: str) -> SpecIndex:
    found = _INDEX.get(definition_id)
    if found is None:
        found = index_spec(session.get_one(ProcessDefinition, definition_id).spec_json)
        if len(_INDEX) > 512:
            _INDEX.clear()
        _INDEX[definition_id] = found
    return found


def catch_for(session: Session, definition_id: str, *, element_id: str | None = None,
              name: str | None = None, kinds: tuple[str, ...] | None = None) -> MessageCatch | None:
    for catch in version_index(session, definition_id).catches:
        if ((element_id is None or catch.element_id == element_id) and (name is None or catch.message == name)
                and (kinds is None or catch.kind in kinds)):
            return catch
    return None


def catch_form(session: Session, definition_id: str, catch: MessageCatch | None, *,
               forms_dir: Path) -> Form | None:
    if catch is None or not catch.form_key:
        return None
    return version_form(session, definition_id, catch.form_key, forms_dir=forms_dir)


def check_message(session: Session, definition_id: str, *, element_id: str | None, name: str, data: dict,
                  forms_dir: Path) -> dict:
    """The data as the catching event's form cleans it; FormRejected (422, per field) when it refuses it."""
    catch = catch_for(session, definition_id, element_id=element_id, name=name)
    form = catch_form(session, definition_id, catch, forms_dir=forms_dir)
    return validate_data(form, data) if form is not None else data


def start_message(session: Session, definition: ProcessDefinition) -> MessageCatch | None:
    """The message start event that the version's start form belongs to, if its case begins with a message.

    A case of such a process started from its start form ("Opret sag") is the message registered by
    hand: it must begin with that message, not then wait for it.
    """
    index = version_index(session, definition.id)
    for catch in index.catches:
        if catch.kind == START and catch.element_id == index.start_element:
            return catch
    return None


def standing_starts(session: Session, definition_id: str) -> set[str]:
    """Element ids of the event-subprocess message starts: waits that stand all along, not a blocked flow."""
    return {c.element_id for c in version_index(session, definition_id).catches if c.kind == EVENT_START}


def deployed_messages(session: Session, *, forms_dir: Path) -> list[dict]:
    """[{name, process_key, element_id, unit, form}] of the latest version of each deployed process."""
    latest: dict[str, str] = {}
    for key, definition_id in session.execute(select(ProcessDefinition.key, ProcessDefinition.id)
                                              .order_by(ProcessDefinition.key, ProcessDefinition.version)):
        latest[key] = definition_id
    result = []
    for key, definition_id in latest.items():
        for catch in version_index(session, definition_id).catches:
            try:
                form = catch_form(session, definition_id, catch, forms_dir=forms_dir)
            except Invalid:  # a form lost since (a version from before bundles): say so, do not fail the list
                form = None
            result.append({"name": catch.message, "process_key": key, "element_id": catch.element_id,
                           "unit": catch.unit, "form": form.as_dict() if form is not None else None})
    return sorted(result, key=lambda m: (m["name"], m["process_key"], m["element_id"]))
