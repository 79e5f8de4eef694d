"""Shared driver for the sygedagpenge journey tests: the units' parts, played against the real diagrams.

The employer's report and messages come in through runtime.correlate_message, the units complete
their tasks through runtime.complete_task, and time moves only by clock.at(...) and
fire_due_timers(now=...). The rehabiliteringsteam is its own journey (called by the sygedagpenge
diagram); its tasks are filled from their own forms (`rehab_steps`), so these tests hold whatever
steps that journey has, and choose only what sygedagpenge reads back: `rehab_afgoerelse`.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timezone

from lxml import etree
from sqlalchemy import select

from engine import clock, runtime
from engine.case_rules import CaseRules
from engine.models import AuditEvent, Case, HumanTask, Wait
from engine.workdays import DANISH_TIME
from tests import factories as f
from workers.timers import fire_due_timers

ROOT = f.ROOT
RULES = CaseRules(forms_dir=ROOT / "forms", deadlines_file=ROOT / "config" / "deadlines.toml")
CPR = "0101901234"
CVR = "12345678"
SYGEDAGPENGE = ROOT / "processes" / "sygedagpenge"
REHAB = ROOT / "processes" / "rehabiliteringsteam"
PROCESSES = (SYGEDAGPENGE, REHAB)
BPMN = SYGEDAGPENGE / "sygedagpenge.bpmn"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "camunda": "http://camunda.org/schema/1.0/bpmn"}
OWN_ELEMENTS = {el.get("id") for el in etree.parse(str(BPMN)).getroot().iter() if el.get("id")}
UNIT_USER = {"jobcenter": "jc", "ydelsesservice": "ys", "sof": "sof", "rehabiliteringsteam": "rehab"}

# Monday 5 January 2026 is the first day of absence in most journeys; the report comes a week later.
FOERSTE = date(2026, 1, 5)
ANMELDT = date(2026, 1, 12)


def sygedagpenge_users(seed, session) -> dict:
    """The journeys deployed, the standard users, and the units' extra staff the sygedagpenge tests use."""
    return seed(*PROCESSES, rules=RULES) | {
        "yslead": f.add_user(session, "yslead", "teamlead", ["ydelsesservice"]),
        "sof": f.add_user(session, "sofie", "caseworker", ["sof"]),
        "rehab": f.add_user(session, "rehab", "caseworker", ["rehabiliteringsteam"]),
    }


def at(day: date, hour: int = 9) -> datetime:
    """A Danish working hour on that day, as the clock sees it."""
    return datetime.combine(day, time(hour), tzinfo=DANISH_TIME).astimezone(timezone.utc)


def danish_day(moment) -> date:
    return clock.as_utc(moment).astimezone(DANISH_TIME).date()


def oplysninger(uger, afklaret, problemer, modtaget: date):
    return {"oplysningsskema_modtaget": modtaget.isoformat(), "forventede_uger": uger,
            "afklaret_behandling": afklaret, "problemer_ud_over_sygdom": problemer}


def ret(afgoerelsesdato: date, berettiget=True, tidligere_uger=0):
    return {"ret_til_sygedagpenge": berettiget, "arbejdsgiverrefusion": berettiget,
            "tidligere_uger_9_maaneder": tidligere_uger, "afgoerelsesdato": afgoerelsesdato.isoformat(),
            "begrundelse": "Beskæftigelseskravet er opfyldt" if berettiget else "Beskæftigelseskravet er ikke opfyldt"}


def visitation(visitationsdato: date, kategori: str):
    return {"visitationsdato": visitationsdato.isoformat(), "kategori": kategori,
            "begrundelse_kategori": "Vurderet ud fra oplysningsskema og lægeattest"}


def samtale(dato: date, raskmeldt=False):
    return {"samtaledato": dato.isoformat(), "raskmeldt": raskmeldt, "referat": "Status gennemgået"}


def arbejdsgiver_fulgt_op(dato: date):
    return {"arbejdsgiversamtale_holdt": True, "arbejdsgiversamtale_dato": dato.isoformat(),
            "fastholdelsesplan": True, "opfoelgning_arbejdsgiver": "Arbejdsgiveren har holdt samtalen"}


EMPLOYER_MESSAGE = {"arbejdsgiversamtale_dato": "2026-01-26", "delvis_genoptagelse_mulig": False,
                    "fastholdelsesplan": True, "referat_arbejdsgiver": "Arbejdspladsen venter"}
STOP = {"udbetaling_stoppet_dato": "2026-04-10", "arbejdsgiver_underrettet": True}


def fill_form(form_key: str, day: date, chosen: dict) -> dict:
    """Data for a form: `chosen` as given, every other field that may be required filled in validly."""
    form = json.loads((ROOT / "forms" / f"{form_key}.json").read_text(encoding="utf-8"))
    data = {}
    for field in form["fields"]:
        name, kind = field["name"], field["type"]
        if name in chosen:
            data[name] = chosen[name]
        elif field.get("required") or field.get("required_when"):
            if kind == "choice":
                data[name] = field["choices"][0]["value"]
            elif kind == "date":
                data[name] = day.isoformat()
            elif kind == "boolean":
                data[name] = True
            elif kind == "number":
                data[name] = field.get("min", 1)
            elif kind != "file":
                data[name] = "Gennemgået med borgeren"
    return data


class Sdp:
    """One sygedagpenge case and the units working on it."""

    def __init__(self, db, session, users, cpr: str = CPR):
        self.db, self.session, self.users, self.cpr = db, session, users, cpr
        self.case_id: str | None = None

    # -- reading -----------------------------------------------------------------------------------
    def case(self) -> Case:
        self.session.expire_all()
        return self.session.get(Case, self.case_id)

    def tasks(self, status=("open", "claimed")) -> list[HumanTask]:
        self.session.expire_all()
        return list(self.session.scalars(select(HumanTask).where(
            HumanTask.case_id == self.case_id, HumanTask.status.in_(status))
            .order_by(HumanTask.created_at, HumanTask.element_id)))

    def open(self) -> dict[str, HumanTask]:
        return {t.element_id: t for t in self.tasks()}

    def all_tasks(self) -> list[HumanTask]:
        return self.tasks(status=("open", "claimed", "completed", "cancelled"))

    def due(self, element) -> date:
        return danish_day(self.open()[element].due_at)

    def waits(self) -> dict[str, Wait]:
        self.session.expire_all()
        return {w.element_id: w for w in self.session.scalars(select(Wait).where(Wait.case_id == self.case_id))}

    def timers(self) -> dict[str, date]:
        return {e: danish_day(w.due_at) for e, w in self.waits().items() if w.kind == "timer"}

    def events(self, type_=None) -> list[AuditEvent]:
        query = select(AuditEvent).where(AuditEvent.case_id == self.case_id).order_by(AuditEvent.seq)
        if type_:
            query = query.where(AuditEvent.type == type_)
        return list(self.session.scalars(query))

    def completed_path(self) -> list[str]:
        return [e.element_id for e in self.events("task_completed")]

    def gateways(self) -> list[tuple[str, list]]:
        return [(e.element_id, e.details.get("taken")) for e in self.events("gateway_taken")]

    def rehab_open(self) -> list[HumanTask]:
        """Open tasks of the called rehabiliteringsteam journey (not the sygedagpenge diagram's own)."""
        return [t for t in self.tasks() if t.element_id not in OWN_ELEMENTS and t.audience != "teamlead"]

    # -- acting ------------------------------------------------------------------------------------
    def report(self, *, received: date = ANMELDT, foerste: date = FOERSTE) -> Case:
        with clock.at(at(received)):
            case = runtime.correlate_message(
                self.session, name="sygemelding_fra_arbejdsgiver", correlation_key=self.cpr,
                data={"foerste_fravaersdag": foerste.isoformat(), "arbejdsgiver_cvr": CVR,
                      "arbejdsgiver_navn": "Randers Maskinfabrik A/S", "anmodning_om_refusion": True},
                user=self.users["system"], rules=RULES)
        self.session.commit()
        self.case_id = case.id
        return case

    def do(self, who: str, element: str, data: dict, on: date, hour: int = 9) -> HumanTask:
        row = self.open()[element]
        with clock.at(at(on, hour)):
            runtime.complete_task(self.session, task_id=row.id, data=data, user=self.users[who], rules=RULES)
        self.session.commit()
        return row

    def message(self, name: str, data: dict, on: date):
        with clock.at(at(on)):
            runtime.correlate_message(self.session, name=name, correlation_key=self.cpr, data=data,
                                      user=self.users["system"], rules=RULES)
        self.session.commit()

    def fire(self, on: date, hour: int = 9) -> int:
        return fire_due_timers(self.db.session_factory, rules=RULES, now=at(on, hour)).fired

    def fire_own(self, on: date, hour: int = 9) -> int:
        """Only this case's due timers (other cases of the test keep theirs)."""
        now = at(on, hour)
        with clock.at(now):
            fired = runtime.fire_timers(self.session, case_id=self.case_id, rules=RULES, now=now)
        self.session.commit()
        return fired

    def lae265(self, on: date) -> HumanTask:
        """The jobcenter obtains the LÆ265 before the rehabiliteringsteam (the ordinary rule), on `on`."""
        return self.do("jc", "indhent_lae265", {"lae265_anmodet_dato": on.isoformat(),
                                                 "lae265_modtaget_dato": on.isoformat()}, on)

    def rehab_steps(self, on: date, afgoerelse: str, **chosen) -> list[str]:
        """Work the rehabiliteringsteam journey's tasks to its end, deciding `rehab_afgoerelse`."""
        done = []
        for _ in range(20):
            todo = self.rehab_open()
            if not todo:
                return done
            task = todo[0]
            data = fill_form(task.form_key, on, {"rehab_afgoerelse": afgoerelse, **chosen})
            self.do(UNIT_USER[task.unit], task.element_id, data, on)
            done.append(task.element_id)
        raise AssertionError(f"the rehabiliteringsteam journey did not end: {done}")

    def born_overdue(self) -> list[tuple[str, date, date]]:
        """Tasks whose deadline had passed when they were created (element, created, due)."""
        return [(t.element_id, danish_day(t.created_at), danish_day(t.due_at)) for t in self.all_tasks()
                if t.due_at is not None and clock.as_utc(t.due_at) < clock.as_utc(t.created_at)]


    def passed(self) -> list[str]:
        """Elements the case ran through that are no task (scripts, decision tables, events), in order."""
        return [e.element_id for e in self.events("element_passed")]
