"""Case numbers (`2026-000123`): given at start, unique under concurrent starts, shown and searchable.

Real HTTP against the live server; the concurrent starts are real threads
with their own connections (on PostgreSQL each start waits for the year's
counter row, on SQLite for the database's write lock).
"""
from __future__ import annotations

import re
import threading
from datetime import datetime, timezone

import pytest
import time_machine

from engine import case_numbers

from .helpers import CPR_A, CPR_B, REGISTRERING, assert_error, complete, start, task_id

NUMBER = re.compile(r"^\d{4}-\d{6}$")


def test_a_started_case_has_a_number_in_the_case_and_its_tasks(api, users):
    jc = api("jc")
    case = start(jc)
    assert NUMBER.match(case["number"]), case["number"]
    assert case["id"] != case["number"]  # the id stays the UUID the contract names
    [task] = case["open_tasks"]
    assert task["case_number"] == case["number"]
    assert jc.get(f"/tasks/{task['id']}").json()["case_number"] == case["number"]
    assert [t["case_number"] for t in jc.get("/tasks", params={"case_id": case["id"]}).json()] == [case["number"]]
    assert jc.get(f"/cases/{case['id']}").json()["number"] == case["number"]
    # the completion's answer: the task it updated and the task it created carry the number too
    done = complete(jc, task["id"], REGISTRERING)
    assert done["task"]["case_number"] == case["number"] and done["task"]["status"] == "completed"
    assert [t["case_number"] for t in done["case"]["open_tasks"]] == [case["number"]]


def test_numbers_follow_each_other_within_a_year_and_start_again_each_year(api, users):
    with time_machine.travel(datetime(2030, 12, 31, 12, tzinfo=timezone.utc), tick=False):
        jc = api("jc")
        first, second = start(jc)["number"], start(jc, cpr=CPR_B)["number"]
    with time_machine.travel(datetime(2030, 12, 31, 23, 30, tzinfo=timezone.utc), tick=False):
        jc = api("jc")  # 00:30 on 1 January in Copenhagen: the Danish year counts
        new_year = start(jc)["number"]
    assert (first, second, new_year) == ("2030-000001", "2030-000002", "2031-000001")


def test_search_by_number_as_typed_and_a_bad_number_is_422(api, users):
    jc = api("jc")
    case = start(jc)
    start(jc, cpr=CPR_B)
    year, sequence = case["number"].split("-")
    for typed in (case["number"], f"{year}-{int(sequence)}", f"{year}{sequence}", f" {year} {sequence} "):
        found = jc.get("/cases", params={"number": typed}).json()
        assert [c["id"] for c in found] == [case["id"]], typed
    assert [c["id"] for c in jc.post("/cases/search", json={"number": case["number"]}).json()] == [case["id"]]
    assert jc.get("/cases", params={"number": f"{year}-999999"}).json() == []
    assert_error(jc.get("/cases", params={"number": "ikke-et-nummer"}), 422)
    assert_error(api("ys").get("/cases", params={"number": "abc"}), 422)
    # another unit's caseworker does not find the jobcenter's case by its number
    assert api("ys").get("/cases", params={"number": case["number"]}).json() == []


def test_concurrent_starts_get_different_consecutive_numbers(api, users):
    clients = [api("jc") for _ in range(8)]
    barrier = threading.Barrier(len(clients))
    results: list = [None] * len(clients)

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        r = clients[i].post("/cases", json={"process_key": "intake", "version": None,
                                            "cpr": CPR_A if i % 2 else CPR_B, "data": {}})
        results[i] = (r.status_code, r.json().get("number"))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [status for status, _ in results] == [201] * len(clients), results
    numbers = sorted(number for _, number in results)
    year = numbers[0][:4]
    assert numbers == [f"{year}-{n:06d}" for n in range(1, len(clients) + 1)]
    # every case and its first task carry the number
    listed = {c["number"] for c in clients[0].get("/cases", params={"limit": 50}).json()}
    assert listed == set(numbers)
    assert task_id(clients[0], clients[0].get("/cases", params={"number": numbers[0]}).json()[0]["id"],
                   "registrering")


@pytest.mark.database_free
def test_parse_accepts_what_people_type():
    assert case_numbers.parse("2026-123") == "2026-000123"
    assert case_numbers.parse("2026 000123") == "2026-000123"
    assert case_numbers.parse("2026/7") == "2026-000007"
    for bad in ("", "2026-", "26-123", "2026-1234567", "abc", "2026-12a"):
        assert case_numbers.parse(bad) is None, bad
