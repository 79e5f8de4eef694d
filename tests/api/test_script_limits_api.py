"""Runaway and non-JSON scripts through HTTP: the server keeps answering, the step ends in 422, audited.

The live server runs in this process; a script that held the interpreter
(as `sum(range(10**9))` did when scripts ran in-process) would stop every
thread here, the health poller included. The poller's answers are compared
with the step's own duration, not with a fixed time.
"""
from __future__ import annotations

import threading
import time

import httpx

from tests import factories as f
from tests.engine.test_script_limits import script_process


def deploy(api, key: str, script: str) -> None:
    r = api("owner").post("/process-definitions",
                          files=[("files", (f"{key}.bpmn", script_process(key, script), "text/xml"))])
    assert r.status_code == 201, r.text


def start(api, key: str) -> tuple[dict, dict]:
    case = api("jc").post("/cases", json={"process_key": key, "cpr": f.CPR, "data": {}})
    assert case.status_code == 201, case.text
    [task] = case.json()["open_tasks"]
    return case.json(), task


def assert_failed_and_audited(api, response: httpx.Response, case: dict, task: dict, words: str) -> None:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail["element"] == "beregn" and words in detail["message"]
    jc = api("jc")
    assert jc.get(f"/tasks/{task['id']}").json()["status"] == "open"  # the case kept its state
    assert jc.get(f"/cases/{case['id']}").json()["data"] == {}
    events = api("auditor").get(f"/cases/{case['id']}/audit").json()["events"]
    assert events[-1]["type"] == "process_error" and events[-1]["element_id"] == "beregn"
    assert words in events[-1]["details"]["message"]


def assert_still_working(api) -> None:
    """A new case whose script runs in a (fresh) worker process completes its step."""
    deploy(api, "bagefter", "x = len('x' * 1000)")
    case, task = start(api, "bagefter")
    r = api("jc").post(f"/tasks/{task['id']}/complete", json={"data": {}})
    assert r.status_code == 200, r.text
    assert r.json()["case"]["data"]["x"] == 1000


class HealthPoller(threading.Thread):
    """Asks /api/health over and over; records when each answer came and how long it took."""

    def __init__(self, base_url: str):
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=base_url, timeout=60)
        self.answers: list[tuple[float, float]] = []  # (answered at, seconds taken)
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            asked = time.monotonic()
            if self.client.get("/api/health").status_code == 200:
                self.answers.append((time.monotonic(), time.monotonic() - asked))
            time.sleep(0.01)
        self.client.close()


def test_a_runaway_script_is_stopped_while_the_server_keeps_answering(api, staff, settings, live):
    settings.script_cpu_seconds = 1.0
    deploy(api, "loeber_loebsk", "x = sum(range(10**9))")
    case, task = start(api, "loeber_loebsk")
    jc = api("jc")
    poller = HealthPoller(live)
    poller.start()
    try:
        began = time.monotonic()
        r = jc.post(f"/tasks/{task['id']}/complete", json={"data": {}})
        ended = time.monotonic()
    finally:
        poller.stop.set()
        poller.join(timeout=60)
    assert_failed_and_audited(api, r, case, task, "1 s of CPU time")
    step = ended - began
    during = [took for at, took in poller.answers if began < at < ended]
    # answered while the step was still running, each answer in a fraction of the step's time
    assert len(during) >= 3, (step, poller.answers)
    assert max(during) < step / 2, (step, during)
    assert_still_working(api)


def test_a_memory_bomb_ends_in_422_not_500(api, staff, settings):
    settings.script_memory_mib = 64
    deploy(api, "bombe", "x = 'x' * 10**9")
    case, task = start(api, "bombe")
    r = api("jc").post(f"/tasks/{task['id']}/complete", json={"data": {}})
    assert_failed_and_audited(api, r, case, task, "64 MiB")
    assert_still_working(api)


def test_a_set_left_by_a_script_ends_in_422_and_a_date_is_stored_as_iso(api, staff):
    deploy(api, "maengde", "x = {1, 2}")
    case, task = start(api, "maengde")
    r = api("jc").post(f"/tasks/{task['id']}/complete", json={"data": {}})
    assert_failed_and_audited(api, r, case, task, "set")

    deploy(api, "dato", "idag = today()")
    case, task = start(api, "dato")
    r = api("jc").post(f"/tasks/{task['id']}/complete", json={"data": {}})
    assert r.status_code == 200, r.text
    stored = api("jc").get(f"/cases/{case['id']}").json()["data"]["idag"]
    assert isinstance(stored, str) and len(stored) == 10 and stored[4] == "-"
