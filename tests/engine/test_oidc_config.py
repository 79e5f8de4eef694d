"""The identity provider's configuration: the group mapping file and the TOVHOLDER_OIDC_* settings.

Bad files and settings are refused with a line that names what to change;
the shipped example parses; groups resolve to one role and all their units.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from api.main import create_app
from engine.group_map import GroupMapError, GroupMapFile, parse_group_map
from engine.settings import SettingsError, load_settings
from tests.conftest import ROOT, TEST_SECRET

EXAMPLE = ROOT / "config" / "oidc-groups.example.toml"


def test_the_shipped_example_parses_and_resolves():
    groups = GroupMapFile(EXAMPLE).current()
    mapped = groups.resolve(["SG-Tovholder-Jobcenter", "SG-Tovholder-SOF-Vikarer", "unknown"])
    assert (mapped.role, mapped.units, mapped.refusal) == ("caseworker", frozenset({"jobcenter", "sof"}), None)


def test_several_roles_give_the_first_in_precedence_and_every_unit():
    groups = parse_group_map("""
        [groups.a]
        role = "caseworker"
        units = ["jobcenter"]
        [groups.b]
        role = "teamlead"
        units = ["sof"]
        [groups.c]
        role = "auditor"
    """, source="t")
    mapped = groups.resolve(["a", "b", "c"])
    assert (mapped.role, mapped.units) == ("teamlead", frozenset({"jobcenter", "sof"}))
    assert groups.resolve(["c", "a"]).role == "caseworker"


def test_no_role_or_a_unit_role_without_units_is_a_refusal():
    groups = parse_group_map('[groups.u]\nunits = ["sof"]\n[groups.w]\nrole = "admin"\n', source="t")
    assert groups.resolve([]).refusal and groups.resolve(["u"]).refusal
    assert groups.resolve(["w"]).refusal is None
    lonely = parse_group_map('[groups.x]\nrole = "caseworker"\nunits = []\n[groups.y]\nunits = ["sof"]\n', source="t")
    assert "ingen enhed" in lonely.resolve(["x"]).refusal
    assert lonely.resolve(["x", "y"]).refusal is None


@pytest.mark.parametrize("text, says", [
    ("not toml = = =", "not valid TOML"),
    ("", "no [groups"),
    ('[people.a]\nrole = "admin"\n', "unknown top-level key 'people'"),
    ('[groups.a]\nrole = "chef"\n', "role 'chef' is not one of"),
    ('[groups.a]\nrole = "admin"\nunit = ["x"]\n', "unknown key 'unit'"),
    ('[groups.a]\nunits = "jobcenter"\n', "units must be a list"),
    ('[groups.a]\nunits = ["Job Center"]\n', "units must be a list of unit keys"),
    ('[groups.a]\ndescription = "nothing"\n', "neither a role nor units"),
    ('[groups.a]\nrole = "admin"\ndescription = 3\n', "description must be text"),
    ('groups = 3\n', "no [groups"),
    ('[groups]\na = 1\n', "group 'a' must be a table"),
])
def test_a_bad_mapping_is_refused_naming_the_file_and_entry(text, says):
    with pytest.raises(GroupMapError) as caught:
        parse_group_map(text, source="groups.toml")
    assert str(caught.value).startswith("groups.toml") and says in str(caught.value)


def test_the_file_is_read_again_when_it_changes_and_a_broken_edit_refuses(tmp_path):
    path = tmp_path / "g.toml"
    path.write_text('[groups.a]\nrole = "admin"\n', encoding="utf-8")
    groups = GroupMapFile(path)
    assert groups.current().resolve(["a"]).role == "admin"
    path.write_text('[groups.a]\nrole = "auditor"\n', encoding="utf-8")
    assert groups.current().resolve(["a"]).role == "auditor"
    path.write_text('[groups.a]\nrole = "boss"\n', encoding="utf-8")
    for _ in range(2):  # every time, not only the first
        with pytest.raises(GroupMapError):
            groups.current()
    path.unlink()
    with pytest.raises(GroupMapError, match="cannot be read"):
        groups.current()
    path.write_bytes(b"\xff\xfe[groups]")
    with pytest.raises(GroupMapError, match="UTF-8"):
        groups.current()


def _settings(**env):
    return load_settings(secret_key=TEST_SECRET, **env)


@pytest.mark.parametrize("env, says", [
    ({"oidc_client_id": "x"}, "TOVHOLDER_OIDC_CLIENT_ID is set but TOVHOLDER_OIDC_ISSUER is not"),
    ({"local_login": False}, "TOVHOLDER_LOCAL_LOGIN=false needs an identity provider"),
    ({"oidc_issuer": "http://login.example.dk", "oidc_client_id": "c", "oidc_group_map": "g"}, "must be an https://"),
    ({"oidc_issuer": "https://user:pw@login.example.dk", "oidc_client_id": "c", "oidc_group_map": "g"},
     "must be an https://"),
    ({"oidc_issuer": "https://login.example.dk", "oidc_group_map": "g"}, "TOVHOLDER_OIDC_CLIENT_ID is not"),
    ({"oidc_issuer": "https://login.example.dk", "oidc_client_id": "c"}, "TOVHOLDER_OIDC_GROUP_MAP"),
    ({"oidc_issuer": "https://login.example.dk", "oidc_client_id": "c", "oidc_group_map": "g",
      "oidc_scopes": "profile"}, "must include openid"),
    ({"oidc_issuer": "https://login.example.dk", "oidc_client_id": "c", "oidc_group_map": "g",
      "oidc_redirect_uri": "http://tovholder.example.dk/login/oidc/callback"}, "TOVHOLDER_OIDC_REDIRECT_URI"),
])
def test_incomplete_or_unsafe_provider_settings_are_refused(env, says):
    with pytest.raises(SettingsError, match=says.replace("(", r"\(").replace("[", r"\[")):
        _settings(**env)


def test_provider_settings_from_the_environment(monkeypatch):
    for name, value in {"TOVHOLDER_OIDC_ISSUER": "https://login.microsoftonline.com/tid/v2.0/",
                        "TOVHOLDER_OIDC_CLIENT_ID": "app", "TOVHOLDER_OIDC_CLIENT_SECRET": "hemmelig",
                        "TOVHOLDER_OIDC_GROUP_MAP": str(EXAMPLE), "TOVHOLDER_LOCAL_LOGIN": "false"}.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(secret_key=TEST_SECRET)
    assert (settings.oidc_issuer, settings.oidc_groups_claim, settings.local_login) == (
        "https://login.microsoftonline.com/tid/v2.0/", "groups", False)
    assert "hemmelig" not in repr(settings)
    assert settings.oidc_audience is None  # the client id, then


def test_the_server_refuses_to_start_with_a_broken_group_file(tmp_path: Path, db):
    path = tmp_path / "g.toml"
    path.write_text('[groups.a]\nrole = "boss"\n', encoding="utf-8")
    settings = _settings(database_url=db.url, oidc_issuer="https://login.example.dk", oidc_client_id="c",
                         oidc_group_map=path)
    with pytest.raises(SettingsError, match="TOVHOLDER_OIDC_GROUP_MAP: .*role 'boss'"):
        create_app(settings, db_engine=db.engine)
