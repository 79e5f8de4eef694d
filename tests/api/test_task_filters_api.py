"""GET /api/tasks as the README shows it: every status unless `status` is given; an empty filter filters nothing."""
from __future__ import annotations

from .helpers import REGISTRERING, complete, start, task_id


def test_empty_filters_filter_nothing_and_status_open_gives_the_open_tasks(api, users):
    jc = api("jc")
    case = start(jc)
    first = task_id(jc, case["id"], "registrering")
    complete(jc, first, REGISTRERING)
    second = task_id(jc, case["id"], "visitation")  # open, nobody's
    everything = [t["id"] for t in jc.get("/tasks").json()]
    assert set(everything) == {first, second}  # completed ones too: no status, no status filter
    for query in ("assignee=", "unit=&assignee=&status=&case_id=", "assignee=&overdue=false", "overdue="):
        assert {t["id"] for t in jc.get(f"/tasks?{query}").json()} == {first, second}, query
    assert [t["id"] for t in jc.get("/tasks?status=open").json()] == [second]
    assert [t["id"] for t in jc.get("/tasks?status=completed").json()] == [first]
    assert jc.get("/tasks?assignee=me&status=open").json() == []
