"""Row (f): running cases migrated per second, a batch of 10,000 (PostgreSQL).

A fresh schema; kontanthjælp version 1 as it is in processes/ (with forms/ and
config/deadlines.toml) and three cases started through the engine, standing where
running cases stand: at the visitation (a user task with its deadline timer),
waiting for the application (a message and a timer at once), and at the match
inside the virksomhedsplacering call activity. Each is copied with bulk INSERTs
until there are 10,000 in all (every Spiff task id renamed in the copies, since
task rows are keyed by it): starting 10,000 cases through SpiffWorkflow is not
what is measured. Then version 2 (tests/journeys/changed_kontanthjaelp.py: a new
step, a renamed step, a changed deadline, a removed branch) is deployed and
`engine.migration_batch.run_batch` moves all of them with the rename mapped, one
transaction per case, as `tovholder migrate` does. "per s" is cases over the
batch's wall time; mean/p50/p95 are per case (lock, load, move, rows, audit, save,
commit).
"""
from __future__ import annotations

import re
import sys
import time
from datetime import date, datetime, timezone

from sqlalchemy import insert, select

from engine import accounts, catalog, clock, runtime
from engine.case_rules import CaseRules
from engine.migration_batch import run_batch
from engine.models import AuditEvent, Case, HumanTask, Wait, new_id
from tests.journeys.changed_kontanthjaelp import RENAMED, changed_kontanthjaelp

from .api_rows import migrated_pg_schema, postgres_problem
from .common import CPR, ROOT, Row

SCHEMA = "tovholder_bench_migration"
CASES = 10_000
RULES = CaseRules(forms_dir=ROOT / "forms", deadlines_file=ROOT / "config" / "deadlines.toml")
PROCESSES = [ROOT / "processes" / "shared" / "virksomhedsplacering.bpmn", ROOT / "processes" / "sof" / "sof_vurdering.bpmn",
             ROOT / "tests" / "data" / "kontanthjaelp_v1.bpmn"]  # version 1 as saved (tests/journeys/kh_v1.py)
UNITS = ("jobcenter", "ydelsesservice", "sof", "virksomhedsservice")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour - 2, tzinfo=timezone.utc)


def _fresh_schema():
    db_engine, factory = migrated_pg_schema(SCHEMA)
    with factory() as session:
        for unit in UNITS:
            accounts.add_unit(session, unit, unit)
        users = {name: accounts.add_user(session, name, role="caseworker", password="bench-password-not-secret",
                                         units=[unit]) for name, unit in (("jc", "jobcenter"), ("ys", "ydelsesservice"),
                                                                          ("vs", "virksomhedsservice"))}
        catalog.deploy(session, catalog.collect_files(PROCESSES), rules=RULES, actor="bench")
        session.commit()
    return db_engine, factory, users


def _complete(session, users, case_id, element, who, data, when):
    row = session.scalar(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.element_id == element,
                                                 HumanTask.status == "open"))
    with clock.at(when):
        runtime.complete_task(session, task_id=row.id, data=data, user=users[who], rules=RULES)
    session.commit()


def _templates(factory, users) -> list[str]:
    """Three cases of version 1: at the visitation, waiting for the application, at the match in the call."""
    day = date(2026, 9, 7)
    registered = {"tilmeldingsdato": day.isoformat(), "jobnet_tilmeldt": True}
    visited = {"visitationsdato": day.isoformat(), "til_raadighed": True, "kategori": "jobparat",
               "problemer_ud_over_ledighed": False, "cv_frist": "2026-09-28", "vurdering": "Til rådighed"}
    ids = []
    with factory() as s:
        for steps in (1, 2, 5):
            with clock.at(_at(day)):
                case = runtime.start_case(s, process_key="kontanthjaelp", cpr=CPR, actor=None, rules=RULES,
                                          data={"henvendelsesdato": day.isoformat(), "forsikret": False})
            s.commit()
            _complete(s, users, case.id, "tilmelding", "jc", registered, _at(day))
            if steps >= 2:
                _complete(s, users, case.id, "visitation", "jc", visited, _at(day))
            if steps >= 5:
                with clock.at(_at(day, 10)):
                    runtime.correlate_message(s, name="ansoegning_modtaget", correlation_key=case.id,
                                              data={"ansoegning_modtaget_dato": day.isoformat()},
                                              user=users["ys"], rules=RULES)
                s.commit()
                _complete(s, users, case.id, "kontroller_ansoegning", "ys",
                          {"ansoegning_komplet": True, "ansoegning_komplet_dato": day.isoformat()}, _at(day, 11))
                _complete(s, users, case.id, "ydelsesafgoerelse", "ys",
                          {"afgoerelse": "bevilget", "sats": 12_000, "ydelse_fra": day.isoformat(),
                           "afgoerelsesdato": day.isoformat(), "begrundelse": "Opfyldt"}, _at(day, 12))
                _complete(s, users, case.id, "jobsamtale", "jc",
                          {"samtaledato": day.isoformat(), "samtale_referat": "Praktik", "jobsamtale_udfald": "tilbud"},
                          _at(day, 13))
            ids.append(case.id)
    return ids


def _rows_of(session, model, case_id):
    columns = [c.key for c in model.__table__.columns]
    return [{c: getattr(r, c) for c in columns} for r in session.scalars(select(model).where(model.case_id == case_id))]


def _copy(factory, template_id: str, copies: int) -> None:
    """`copies` more cases exactly like the template, each with Spiff task ids of its own."""
    with factory() as session:
        case = session.get(Case, template_id)
        row = {c.key: getattr(case, c.key) for c in Case.__table__.columns}
        tasks, waits = _rows_of(session, HumanTask, template_id), _rows_of(session, Wait, template_id)
        events = [{k: v for k, v in e.items() if k != "id"} for e in _rows_of(session, AuditEvent, template_id)]
        pieces = UUID.split(row["state_json"])   # text between ids, and the ids in order
        found = UUID.findall(row["state_json"])
        for start in range(0, copies, 1000):
            cases, task_rows, wait_rows, event_rows = [], [], [], []
            for _ in range(min(1000, copies - start)):
                renamed = {old: new_id() for old in set(found)}
                state = "".join(p + (renamed[found[i]] if i < len(found) else "") for i, p in enumerate(pieces))
                case_id = new_id()
                cases.append({**row, "id": case_id, "state_json": state, "number": None})  # numbers are unique
                task_rows += [{**t, "id": renamed.get(t["id"], new_id()), "case_id": case_id} for t in tasks]
                wait_rows += [{**w, "id": new_id(), "case_id": case_id,
                               "spiff_task_id": renamed.get(w["spiff_task_id"], w["spiff_task_id"])} for w in waits]
                event_rows += [{**e, "case_id": case_id, "task_id": renamed.get(e["task_id"], e["task_id"])}
                               for e in events]
            session.execute(insert(Case), cases)
            session.execute(insert(HumanTask), task_rows)
            session.execute(insert(Wait), wait_rows)
            session.execute(insert(AuditEvent), event_rows)
            session.commit()


def migration_row(progress) -> Row:
    what = f"running kontanthjælp cases migrated v1 → v2, a batch of {CASES:,} (PostgreSQL)"
    db_engine, factory, users = _fresh_schema()
    templates = _templates(factory, users)
    for i, template in enumerate(templates):
        share = CASES // len(templates) + (1 if i < CASES % len(templates) else 0)
        _copy(factory, template, share - 1)
    with factory() as session:
        files = [(p.name, p.read_bytes()) for p in PROCESSES[:2]] + [("kontanthjaelp.bpmn", changed_kontanthjaelp())]
        catalog.deploy(session, files, rules=RULES, actor="bench")
        session.commit()
    progress(f"{what}: {CASES:,} cases ready, migrating ...")
    marks = [time.perf_counter()]

    def tick(done, total):
        marks.append(time.perf_counter())
        if done % 1000 == 0:
            progress(f"  {done:,}/{total:,} after {marks[-1] - marks[0]:.0f} s")
    with clock.at(_at(date(2026, 9, 8))):
        result = run_batch(factory, process_key="kontanthjaelp", from_version=1, to_version=2, mapping=dict(RENAMED),
                           actor="bench", rules=RULES, progress=tick)
    db_engine.dispose()
    timings = [b - a for a, b in zip(marks, marks[1:], strict=False)]
    note = f"{len(result.migrated):,} migrated, {len(result.refused)} refused"
    if result.refused:
        note += f" (first: {result.refused[0]['reason'][:80]})"
    return Row("f1", what, timings, wall=marks[-1] - marks[0], note=note)


def run(progress=lambda _m: None) -> list[Row]:
    problem = postgres_problem()
    if problem:
        return [Row("f1", "running cases migrated, a batch of 10,000", skipped=f"PostgreSQL unavailable: {problem}")]
    return [migration_row(progress)]


if __name__ == "__main__":  # `python -m bench.migration_rows`: only this row, with the machine, printed
    from .machine import describe
    from .report import table
    machine = describe()
    started = time.perf_counter()
    rows = run(lambda m: print(f"bench: {m}", file=sys.stderr, flush=True))
    print("\n".join(f"- {line}" for line in machine) + f"\n- Whole run: {time.perf_counter() - started:.0f} s\n")
    print(table(rows))
