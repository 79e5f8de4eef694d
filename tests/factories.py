"""Plain functions that build test state through the engine (never behind its back)."""
from __future__ import annotations

from pathlib import Path

import httpx

from engine import accounts, catalog, runtime
from engine.accounts import UserView
from engine.case_rules import CaseRules

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
FORMS = DATA / "forms"
PASSWORD = "correct-horse-battery"
UNITS = {"jobcenter": "Jobcenter", "ydelsesservice": "Ydelsesservice", "sof": "SOF",
         "virksomhedsservice": "Virksomhedsservice", "rehabiliteringsteam": "Rehabiliteringsteam"}
CPR = "010190-1234"


def add_units(session, units=UNITS) -> None:
    for key, name in units.items():
        accounts.add_unit(session, key, name)
    session.commit()


def add_user(session, username, role, units=()) -> UserView:
    user = accounts.add_user(session, username, role=role, password=PASSWORD, units=list(units))
    session.commit()
    return user


def standard_users(session) -> dict[str, UserView]:
    """Units plus one user of each kind the tests need."""
    add_units(session)
    spec = {
        "jc": ("caseworker", ["jobcenter"]), "jc2": ("caseworker", ["jobcenter"]),
        "jclead": ("teamlead", ["jobcenter"]), "ys": ("caseworker", ["ydelsesservice"]),
        "owner": ("process_owner", []), "auditor": ("auditor", []), "admin": ("admin", []),
        "system": ("integration", []),
    }
    return {name: add_user(session, name, role, units) for name, (role, units) in spec.items()}


RULES = CaseRules(forms_dir=FORMS, deadlines_file=DATA / "deadlines.toml")


def deploy_files(session, *paths: Path, rules: CaseRules = RULES):
    result = catalog.deploy(session, catalog.collect_files(list(paths)), rules=rules, actor="test")
    session.commit()
    return result


def deploy_data(session, *names: str, rules: CaseRules = RULES):
    return deploy_files(session, *(DATA / n for n in names), rules=rules)


def start_case(session, process_key, *, actor: UserView | None = None, cpr=CPR, data=None, rules=RULES):
    case = runtime.start_case(session, process_key=process_key, cpr=cpr, data=data or {}, actor=actor,
                              rules=rules)
    session.commit()
    return case


def token(base_url: str, username: str, password: str = PASSWORD) -> str:
    r = httpx.post(f"{base_url}/api/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def client(base_url: str, username: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token(base_url, username)}"} if username else {}
    return httpx.Client(base_url=f"{base_url}/api", headers=headers, timeout=30)


def deploy_files_text(session, name: str, text: str, rules: CaseRules = RULES):
    """Deploy one diagram given as text (a changed copy of a test file)."""
    result = catalog.deploy(session, [(name, text.encode("utf-8"))], rules=rules, actor="test")
    session.commit()
    return result
