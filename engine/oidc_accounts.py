"""Users who log in with the identity provider: their row follows what the provider says at each login.

api/oidc.py checks the provider's token (signature, issuer, audience,
expiry, nonce) and hands over an `Identity`; `sign_in` finds the local user
by the provider's subject (or, the first time, by user name: an existing
local account is taken over by the provider, and its password stops
working), and applies the groups through the mapping file (engine.group_map):

- groups that give a role: the user row is created or updated (role, units,
  e-mail), so a changed group at the provider changes Tovholder at the next
  login or the next bearer token carrying groups;
- groups that give no login (none mapped, a caseworker without a unit): the
  user is out. Every session and token of theirs ends now
  (engine.auth_sessions), `oidc_refused_at` records it, and `LoginRefused`
  says why in Danish;
- a bearer token issued before the newest one applied (`oidc_synced_at`)
  changes nothing: an old token never undoes what a newer one said, so a
  user who is out stays out until the provider lets them in again (issue
  times are whole seconds: of two tokens from the same second, a refusal
  wins). A web login's ID token, made for that login, is always the newest;
- a token without the groups claim (an access token that carries none)
  leaves the row as it is, and lets in only a user the provider's groups
  already let in.

An admin's `disable` (users.active) is not the provider's to undo. Changes
are logged by user id, role and unit keys only: never a name, e-mail or
group. Transaction rule: functions only flush; the route commits, also
after a refusal, so that the refusal and the ended sessions hold.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from . import clock
from .accounts import _EMAIL, _USERNAME, UserView, user_view
from .auth_sessions import end_user_sessions
from .errors import Forbidden
from .group_map import GroupMap, GroupMapError
from .models import Unit, User, UserUnit

log = logging.getLogger("tovholder.oidc")
NO_PASSWORD = "!oidc"  # no argon2 hash: a password never matches (engine.accounts._verify)


@dataclass(frozen=True)
class Identity:
    """What a checked provider token says. `groups` is None when the token carries no groups claim."""
    subject: str
    username: str | None
    email: str | None
    groups: tuple[str, ...] | None
    issued_at: datetime


class LoginRefused(Forbidden):
    """The provider's answer gives no login here: `message` in Danish for the login page, `detail` in
    English for the API (403)."""

    def __init__(self, message: str, *, reason: str):
        super().__init__(message, detail=reason)


def sign_in(session: Session, identity: Identity, groups: GroupMap | GroupMapError, *,
            fresh: bool = False) -> UserView:
    """The local user the identity stands for, created or brought up to date; LoginRefused otherwise.

    `groups` is the current mapping, or the error that reading it gave (every login with groups is refused
    until the file is mended). `fresh`: the identity comes from an ID token made for this very login (its
    nonce was ours), so it is the provider's newest word whatever its issue time; a bearer token is not."""
    user = _find(session, identity)
    if user is not None and not user.active:
        raise LoginRefused("Din bruger er spærret i Tovholder. Kontakt en administrator.",
                           reason="the user is disabled in Tovholder")
    synced = clock.as_utc(user.oidc_synced_at) if user is not None and not fresh else None
    if identity.groups is None or (synced is not None and identity.issued_at < synced):
        return _as_it_stands(session, user)
    tie = synced is not None and identity.issued_at == synced  # tokens have whole seconds: order unknown
    if isinstance(groups, GroupMapError):
        log.error("oidc login refused: the group mapping file is wrong: %s", groups)
        raise LoginRefused("Tovholders opsætning af grupper har en fejl. Kontakt en administrator.",
                           reason="the group mapping file is wrong (see the server log)")
    mapped = groups.resolve(identity.groups)
    if mapped.refusal:
        _refuse(session, user, identity)
        raise LoginRefused(mapped.refusal, reason="the identity provider's groups give this user no role here")
    assert mapped.role is not None  # resolve() refuses without one
    if tie and user is not None and user.oidc_refused_at is not None:
        return _as_it_stands(session, user)  # in a tie a refusal wins: out stays out
    missing = sorted(set(mapped.units) - set(session.scalars(select(Unit.key).where(Unit.key.in_(mapped.units)))))
    if missing:
        log.error("oidc login refused: the group mapping names unit(s) that do not exist: %s", ", ".join(missing))
        raise LoginRefused("Tovholders opsætning af grupper nævner en enhed, der ikke findes. Kontakt en administrator.",
                           reason="the group mapping names a unit that does not exist")
    if user is None:
        user = _create(session, identity, mapped.role)
    _apply(session, user, identity, mapped.role, mapped.units)
    return user_view(session, user)


def _find(session: Session, identity: Identity) -> User | None:
    user = session.scalar(select(User).where(User.oidc_subject == identity.subject))
    if user is not None or identity.groups is None:
        return user  # a token without groups never takes over a local account
    name = _username(identity)
    user = session.scalar(select(User).where(User.username == name))
    if user is not None and user.oidc_subject not in (None, identity.subject):  # (the same: made meanwhile)
        log.warning("oidc login refused: user name taken by another provider account (user %s)", user.id)
        raise LoginRefused("Dit brugernavn bruges allerede af en anden bruger i Tovholder. Kontakt en administrator.",
                           reason="the user name belongs to another account of the identity provider")
    return user


def _username(identity: Identity) -> str:
    name = identity.username or ""
    if not _USERNAME.fullmatch(name):
        raise LoginRefused("Identitetsudbyderen sendte et brugernavn, som Tovholder ikke kan bruge. "
                           "Kontakt en administrator.",
                           reason="the identity provider's user name claim is missing or unusable "
                                  "(letters, digits and . _ - @, at most 100)")
    return name


def _as_it_stands(session: Session, user: User | None) -> UserView:
    if user is None:
        raise LoginRefused("Log ind i Tovholder via identitetsudbyderen først.",
                           reason="the token carries no groups and the user has not logged in before")
    if user.oidc_refused_at is not None:
        raise LoginRefused("Identitetsudbyderen giver dig ikke længere adgang til Tovholder.",
                           reason="the identity provider's groups gave this user no role at the last login")
    return user_view(session, user)


def _refuse(session: Session, user: User | None, identity: Identity) -> None:
    if user is None or user.oidc_subject != identity.subject:
        log.info("oidc login refused: no mapped group (no local user)")
        return  # nobody to shut out: an unknown subject, or a local account not taken over
    ended = end_user_sessions(session, user.id, by="oidc: no mapped group")
    if user.oidc_refused_at is None:
        user.oidc_refused_at = clock.now()
    user.oidc_synced_at = identity.issued_at
    session.flush()
    log.info("oidc user %s is out: no mapped group; %d session(s) ended", user.id, ended)


def _create(session: Session, identity: Identity, role: str) -> User:
    user = User(username=_username(identity), password_hash=NO_PASSWORD, role=role, active=True,
                created_at=clock.now(), oidc_subject=identity.subject)
    session.add(user)
    session.flush()
    log.info("oidc user %s created with role %s", user.id, role)
    return user


def _apply(session: Session, user: User, identity: Identity, role: str, units: frozenset[str]) -> None:
    changes: list[str] = []
    if user.oidc_subject is None:  # a local account taken over: from now on the provider logs it in
        user.oidc_subject = identity.subject
        user.password_hash = NO_PASSWORD
        changes.append("linked to the identity provider (password switched off)")
    if user.role != role:
        changes.append(f"role {user.role} -> {role}")
        user.role = role
    if user.oidc_refused_at is not None:
        user.oidc_refused_at = None
        changes.append("let in again")
    have = set(session.scalars(select(UserUnit.unit_key).where(UserUnit.user_id == user.id)))
    _set_units(session, user.id, have, units, changes)
    if identity.email and _EMAIL.fullmatch(identity.email) and identity.email != user.email:
        user.email = identity.email  # reminders and escalations go there; not logged (personal data)
    synced = clock.as_utc(user.oidc_synced_at)
    if synced is None or identity.issued_at > synced:  # once per new token, not per request
        user.oidc_synced_at = identity.issued_at
    if changes:
        log.info("oidc user %s: %s", user.id, "; ".join(changes))
    session.flush()


def _set_units(session: Session, user_id: str, have: set[str], want: frozenset[str], changes: list[str]) -> None:
    added, removed = sorted(want - have), sorted(have - want)
    if removed:
        session.execute(delete(UserUnit).where(UserUnit.user_id == user_id, UserUnit.unit_key.in_(removed))
                        .execution_options(synchronize_session=False))
        changes.append("units - " + ", ".join(removed))
    for key in added:
        session.add(UserUnit(user_id=user_id, unit_key=key))
    if added:
        changes.append("units + " + ", ".join(added))


def identity_from_claims(claims: dict, *, groups_claim: str, username_claim: str) -> Identity:
    """An Identity from a checked token's claims: `sub`, the user name claim (else `email`, else `sub`),
    and the groups claim (a list of strings, or one string); LoginRefused when they have the wrong shape."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not 0 < len(subject) <= 255:
        raise LoginRefused("Identitetsudbyderen sendte ikke et brugbart bruger-id.", reason="no usable 'sub' claim")
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    username = next((v for v in (claims.get(username_claim), email, subject) if isinstance(v, str) and v), None)
    raw = claims.get(groups_claim)
    groups: Sequence[object] | None
    if raw is None:
        groups = None
    elif isinstance(raw, str):
        groups = [raw]
    elif isinstance(raw, list):
        groups = raw
    else:
        groups = [None]
    if groups is not None and not all(isinstance(g, str) for g in groups):
        raise LoginRefused("Identitetsudbyderen sendte grupperne i en form, Tovholder ikke kan læse.",
                           reason=f"the '{groups_claim}' claim is not a list of strings")
    iat = claims.get("iat")
    issued = datetime.fromtimestamp(iat, tz=timezone.utc) if isinstance(iat, int | float) else clock.now()
    return Identity(subject, username, email,
                    tuple(str(g) for g in groups) if groups is not None else None, issued)
