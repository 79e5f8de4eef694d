"""engine.oidc_accounts.sign_in on its own: the paths the provider round trip in tests/api/test_oidc.py does not reach.

An admin's disable is not the provider's to undo; a name taken by another
provider account, an unusable name, a unit the mapping names that does not
exist, and groups in the wrong shape are refused without changing anything;
nothing personal is logged.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine import auth_sessions
from engine.accounts import find_user
from engine.group_map import GroupMapError, parse_group_map
from engine.models import User
from engine.oidc_accounts import Identity, LoginRefused, identity_from_claims, sign_in
from tests import factories as f

GROUPS = parse_group_map("""
[groups.jc]
role = "caseworker"
units = ["jobcenter"]
[groups.ghost]
role = "caseworker"
units = ["no-such-unit"]
""", source="test")
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def _identity(sub="sub-1", username="anna@kommune.dk", groups=("jc",), at=T0, email="anna@kommune.dk"):
    return Identity(sub, username, email, tuple(groups) if groups is not None else None, at)


@pytest.fixture
def units(session):
    f.add_units(session)


def test_an_admins_disable_holds_against_the_provider(session, units):
    sign_in(session, _identity(), GROUPS)
    session.commit()
    auth_sessions.disable_user(session, "anna@kommune.dk", by="admin")
    with pytest.raises(LoginRefused, match="spærret"):
        sign_in(session, _identity(at=T0 + timedelta(hours=1)), GROUPS)
    assert find_user(session, "anna@kommune.dk") is None


def test_a_name_taken_by_another_provider_account_is_refused(session, units):
    sign_in(session, _identity(sub="sub-1"), GROUPS)
    with pytest.raises(LoginRefused) as caught:
        sign_in(session, _identity(sub="sub-2"), GROUPS)
    assert "another account" in caught.value.detail
    assert session.scalars(select(User.oidc_subject)).all() == ["sub-1"]


@pytest.mark.parametrize("name", [None, "", "has space", "x" * 101, "semi;colon"])
def test_an_unusable_user_name_is_refused(session, units, name):
    with pytest.raises(LoginRefused, match="brugernavn"):
        sign_in(session, _identity(username=name), GROUPS)
    assert session.scalar(select(User)) is None


def test_a_unit_the_mapping_names_but_that_does_not_exist_refuses_and_logs_no_person(session, units, caplog):
    caplog.set_level(logging.INFO, logger="tovholder.oidc")
    with pytest.raises(LoginRefused, match="enhed, der ikke findes"):
        sign_in(session, _identity(groups=("ghost",)), GROUPS)
    assert "no-such-unit" in caplog.text and "anna" not in caplog.text


def test_a_broken_mapping_file_refuses_every_login_with_groups(session, units):
    with pytest.raises(LoginRefused, match="opsætning af grupper"):
        sign_in(session, _identity(), GroupMapError("g.toml: not valid TOML"))


def test_changes_are_logged_by_user_id_without_names_or_groups(session, units, caplog):
    caplog.set_level(logging.INFO, logger="tovholder.oidc")
    # caplog's handler on the logger itself: another test in the same process (an in-process
    # `tovholder worker`) may have reconfigured the root logger that caplog listens on
    logger = logging.getLogger("tovholder.oidc")
    logger.addHandler(caplog.handler)
    try:
        user = sign_in(session, _identity(groups=("jc",)), GROUPS)
        with pytest.raises(LoginRefused):
            sign_in(session, _identity(groups=("other",), at=T0 + timedelta(minutes=1)), GROUPS)
    finally:
        logger.removeHandler(caplog.handler)
    assert user.id in caplog.text and "is out" in caplog.text
    assert "anna" not in caplog.text and "kommune" not in caplog.text and "other" not in caplog.text


@pytest.mark.parametrize("claims, says", [
    ({"sub": 5}, "'sub'"),
    ({"sub": "x" * 256}, "'sub'"),
    ({"sub": "s", "groups": [1, 2]}, "not a list of strings"),
    ({"sub": "s", "groups": {"a": 1}}, "not a list of strings"),
])
def test_claims_of_the_wrong_shape_are_refused(claims, says):
    with pytest.raises(LoginRefused) as caught:
        identity_from_claims(claims, groups_claim="groups", username_claim="preferred_username")
    assert says in caught.value.detail


def test_claims_become_an_identity():
    identity = identity_from_claims({"sub": "s", "email": "a@b.dk", "roles": "tovholder-admins", "iat": 1796000000},
                                    groups_claim="roles", username_claim="upn")
    assert identity == Identity("s", "a@b.dk", "a@b.dk", ("tovholder-admins",),
                                datetime.fromtimestamp(1796000000, tz=timezone.utc))
    assert identity_from_claims({"sub": "s"}, groups_claim="groups", username_claim="upn").groups is None
