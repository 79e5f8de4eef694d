"""The volume generator for rows h and i: cases, task rows and audit events made inside PostgreSQL.

`generate(connection, tasks=N, now=...)` fills an empty, migrated Tovholder
database with about N task rows, ten audit events per task row (plus a
case_started and a case_completed per case) and the cases, citizens, units and
process definitions they belong to, in a few INSERT … SELECT statements over
generate_series: nothing crosses the wire row by row, so a million task rows
and ten million audit events take minutes, not hours. PostgreSQL only (the
bench's database, or the test suite's at a tiny scale in
tests/engine/test_volume_bench.py).

The distribution is meant to look like a municipality's history, not like a
test fixture. Cases start uniformly over the 24 months before `now`, in four
journeys with their own steps and units (sygedagpenge 40 %, kontanthjælp 30 %,
sof_vurdering 20 %, virksomhedsplacering 10 %). A case lasts 14 days plus a
long tail (400·r³ days: a median of about seven weeks, a mean of sixteen, and
about 4 % over 52 weeks) and has 4 to 12 tasks, one after another over its
length, each taking 0.4 to 1.6 times its share; four steps in five have a
21-day deadline, so about one task in six with a deadline is late. A case
whose end lies after `now` is running (its tasks from then on are not made
yet; the one in progress is open or claimed), 8 % of the finished ones are
cancelled (their last task cancelled), the rest completed with one of three
end events. Random numbers come from setseed, so a run is repeatable.

Rows are written with `session_replication_role = replica` (the foreign-key
triggers are skipped: the generator writes the parents first, so the data is
consistent anyway) and task ids, case ids and audit rows in key order, so the
indexes are appended to rather than split at random. The report rollup
(engine/report_rollup.py) is rebuilt from the rows at the end, as migration
0021 does for an existing database.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

from engine import report_rollup

# journey: (weight, [(element_id, name, unit), ...])
JOURNEYS: dict[str, tuple[float, list[tuple[str, str, str]]]] = {
    "sygedagpenge": (0.4, [("modtag_anmeldelse", "Modtag anmeldelse", "sdp"),
                           ("indhent_oplysninger", "Indhent oplysninger", "sdp"),
                           ("opfoelgning", "Opfølgningssamtale", "jobcenter"),
                           ("revurdering", "Revurdering", "sdp"),
                           ("afgoerelse", "Afgørelse", "sdp")]),
    "kontanthjaelp": (0.3, [("tilmelding", "Tilmelding", "jobcenter"),
                            ("visitation", "Visitation", "jobcenter"),
                            ("kontroller_ansoegning", "Kontrollér ansøgning", "ydelsesservice"),
                            ("ydelsesafgoerelse", "Ydelsesafgørelse", "ydelsesservice"),
                            ("jobsamtale", "Jobsamtale", "jobcenter")]),
    "sof_vurdering": (0.2, [("modtag_henvendelse", "Modtag henvendelse", "sof"),
                            ("boernefaglig_undersoegelse", "Børnefaglig undersøgelse", "sof"),
                            ("handleplan", "Handleplan", "sof"),
                            ("opfoelgning_sof", "Opfølgning", "sof")]),
    "virksomhedsplacering": (0.1, [("match", "Match", "virksomhedsservice"),
                                   ("aftale", "Aftale med virksomhed", "virksomhedsservice"),
                                   ("opfoelgning_vp", "Opfølgning", "virksomhedsservice")]),
}
UNITS = ("sdp", "jobcenter", "ydelsesservice", "sof", "virksomhedsservice")
OUTCOMES = ("end_bevilget", "end_afslag", "end_henlagt")
EVENTS_PER_TASK = 10
TASK_EVENTS = ("task_created", "task_claimed", "case_viewed", "data_saved", "note_added", "document_attached",
               "data_saved", "message_sent", "data_saved", "task_completed")
TASKS_PER_CASE = 7.6  # what the plan below makes on average (running cases have made only some of theirs)
SPAN_DAYS = 730
DEADLINE_DAYS = 21


@dataclass(frozen=True)
class Generated:
    cases: int
    tasks: int
    open_tasks: int
    audit_events: int


def _uuid(prefix: str, number: str) -> str:
    """SQL for an id in key order: `prefix` (8 hex digits) and the number in the last 12."""
    return f"'{prefix}-0000-4000-8000-' || lpad(to_hex({number}), 12, '0')"


def generate(conn: Connection, *, tasks: int, now: datetime, seed: float = 0.42) -> Generated:
    """Fill the (empty, migrated) database behind `conn` with about `tasks` task rows; the caller commits."""
    cases = max(1, round(tasks / TASKS_PER_CASE))
    conn.execute(text("SET LOCAL session_replication_role = replica"))
    conn.execute(text("SELECT setseed(:seed)"), {"seed": seed})
    conn.execute(text("INSERT INTO units (key, name, created_at) SELECT u, u, :now FROM unnest(CAST(:units AS text[])) u"
                      " ON CONFLICT DO NOTHING"), {"now": now, "units": list(UNITS)})
    steps, weights, low = [], [], 0.0
    for j, (key, (weight, journey_steps)) in enumerate(JOURNEYS.items()):
        conn.execute(text("INSERT INTO process_definitions (id, key, version, name, hash, source_file, bpmn_xml,"
                          " spec_json, calls, created_at, deployed_by) VALUES (:id, :key, 1, :key, 'bench', 'bench',"
                          " '', '{}', '[]', :now, 'bench') ON CONFLICT DO NOTHING"),
                     {"id": f"bench-def-{key}", "key": key, "now": now})
        weights.append(f"WHEN r3 < {low + weight} THEN {j}")
        low += weight
        steps += [{"j": j, "key": key, "n": len(journey_steps), "pos": pos, "element_id": e, "name": name, "unit": u}
                  for pos, (e, name, u) in enumerate(journey_steps)]
    conn.execute(text("CREATE TEMP TABLE bench_steps (j int, key text, n int, pos int, element_id text, name text,"
                      " unit text) ON COMMIT DROP"))
    conn.execute(text("INSERT INTO bench_steps VALUES (:j, :key, :n, :pos, :element_id, :name, :unit)"), steps)
    # one row per case: its journey, start, length, number of tasks, fate
    conn.execute(text(f"""
        CREATE TEMP TABLE bench_cases ON COMMIT DROP AS
        SELECT i, {_uuid('0000ca5e', 'i')} AS id, CASE {' '.join(weights)} ELSE 0 END AS j,
               CAST(:now AS timestamptz) - make_interval(secs => r1 * {SPAN_DAYS} * 86400) AS created,
               make_interval(secs => (14 + 400 * r2 * r2 * r2) * 86400) AS length,
               4 + floor(r4 * 9)::int AS k, r5 < 0.08 AS cancels, floor(r6 * 3)::int AS outcome
        FROM (SELECT i, random() r1, random() r2, random() r3, random() r4, random() r5, random() r6
              FROM generate_series(1, :cases) i) r"""), {"now": now, "cases": cases})
    conn.execute(text("ALTER TABLE bench_cases ADD COLUMN ends timestamptz"))
    conn.execute(text("UPDATE bench_cases SET ends = created + length"))
    conn.execute(text(f"""INSERT INTO citizens (id, cpr) SELECT {_uuid('c1712e40', 'i')}, lpad(i::text, 10, '0')
                          FROM bench_cases"""))
    conn.execute(text(f"""
        INSERT INTO cases (id, definition_id, process_key, version, citizen_id, status, state_json, data,
                           lock_version, audit_seq, created_at, updated_at, completed_at, started_by)
        SELECT c.id, 'bench-def-' || s.key, s.key, 1, {_uuid('c1712e40', 'c.i')},
               CASE WHEN c.ends > :now THEN 'running' WHEN c.cancels THEN 'cancelled' ELSE 'completed' END,
               '{{}}', '{{}}', 0, 2 + c.k * {EVENTS_PER_TASK}, c.created, least(c.ends, :now),
               CASE WHEN c.ends > :now THEN NULL ELSE c.ends END, 'cw' || (c.i % 20)
        FROM bench_cases c JOIN bench_steps s ON s.j = c.j AND s.pos = 0"""), {"now": now})
    # one row per task made so far: created one after another over the case's length
    conn.execute(text("""
        CREATE TEMP TABLE bench_tasks ON COMMIT DROP AS
        SELECT row_number() OVER (ORDER BY c.i, t.t) AS n, c.i, c.id AS case_id, t.t, c.k, c.j, c.cancels, c.ends,
               d.created, CASE WHEN c.ends > :now THEN d.created + d.dur ELSE least(d.created + d.dur, c.ends) END
               AS done, d.created + d.dur * 0.35 * random() AS claimed
        FROM bench_cases c, generate_series(0, c.k - 1) t(t),
             LATERAL (SELECT c.created + c.length * t.t / c.k AS created,
                             c.length / c.k * (0.4 + 1.2 * random()) AS dur) d
        WHERE d.created <= :now"""), {"now": now})
    conn.execute(text(f"""
        INSERT INTO human_tasks (id, case_id, process_key, process_version, element_id, name, unit, assignee,
                                 status, created_at, due_at, completed_at, completed_by, claimed_at, form_key)
        SELECT {_uuid('0000ta5c', 't.n')}, t.case_id, s.key, 1, s.element_id, s.name, s.unit,
               CASE WHEN t.claimed <= :now THEN 'cw' || (t.i % 20) END,
               CASE WHEN t.done <= :now THEN
                        CASE WHEN t.cancels AND t.t = t.k - 1 THEN 'cancelled' ELSE 'completed' END
                    WHEN t.claimed <= :now THEN 'claimed' ELSE 'open' END,
               t.created, CASE WHEN s.pos % 5 <> 4 THEN t.created + interval '{DEADLINE_DAYS} days' END,
               CASE WHEN t.done <= :now THEN t.done END,
               CASE WHEN t.done <= :now THEN 'cw' || (t.i % 20) END,
               CASE WHEN t.claimed <= :now THEN t.claimed END, s.element_id
        FROM bench_tasks t JOIN bench_steps s ON s.j = t.j AND s.pos = t.t % s.n
        ORDER BY t.n"""), {"now": now})
    types = "ARRAY[" + ", ".join(f"'{t}'" for t in TASK_EVENTS) + "]"
    conn.execute(text(f"""
        INSERT INTO audit_events (case_id, seq, at, type, actor, element_id, task_id, details)
        SELECT case_id, seq, at, type, actor, element_id, task_id, CAST('{{}}' AS json) FROM (
            SELECT c.id AS case_id, 1 AS seq, c.created AS at, 'case_started' AS type, 'cw' || (c.i % 20) AS actor,
                   CAST(NULL AS text) AS element_id, CAST(NULL AS text) AS task_id, c.i, 0 AS o
            FROM bench_cases c
            UNION ALL
            SELECT t.case_id, 2 + t.t * {EVENTS_PER_TASK} + e, t.created + (t.done - t.created) * e / 10,
                   ({types})[e + 1], 'cw' || (t.i % 20), s.element_id, {_uuid('0000ta5c', 't.n')}, t.i, 1 + t.t * 10 + e
            FROM bench_tasks t JOIN bench_steps s ON s.j = t.j AND s.pos = t.t % s.n, generate_series(0, 9) e
            WHERE t.created + (t.done - t.created) * e / 10 <= :now
            UNION ALL
            SELECT c.id, 2 + c.k * {EVENTS_PER_TASK}, c.ends, 'case_completed', NULL,
                   (CAST(:outcomes AS text[]))[c.outcome + 1], NULL, c.i, 1000
            FROM bench_cases c WHERE c.ends <= :now AND NOT c.cancels) ev
        ORDER BY i, o"""), {"now": now, "outcomes": list(OUTCOMES)})
    conn.execute(text("SET LOCAL session_replication_role = origin"))
    report_rollup.rebuild(conn)  # the rows above bypassed the ORM's flush, which keeps the rollup per change
    counts = conn.execute(text("""SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM human_tasks),
                                         (SELECT count(*) FROM human_tasks WHERE status IN ('open', 'claimed')),
                                         (SELECT count(*) FROM audit_events)""")).one()
    return Generated(*counts)


def analyze(conn: Connection) -> None:
    """Fresh planner statistics for the generated tables (what autovacuum would do in a while)."""
    for table in ("cases", "human_tasks", "audit_events", "citizens", "report_step_days", "report_case_days"):
        conn.execute(text(f"ANALYZE {table}"))
