"""From an identity provider's groups to a Tovholder role and units: the file a municipality edits.

TOVHOLDER_OIDC_GROUP_MAP names a TOML file (config/oidc-groups.example.toml
shows the format; docs/operations.md explains it):

    [groups."SG-Tovholder-Jobcenter"]
    role = "caseworker"
    units = ["jobcenter"]

Each group may give a role, units, or both. A user in several mapped groups
gets every unit they give, and the first of their roles in ROLE_PRECEDENCE
(an admin who is also a caseworker is an admin). Groups the file does not
name are ignored; a user none of whose groups gives a role gets no login
(`Refusal`), and so does a caseworker or team lead left without a unit.

The file is read again when it changes (size or modification time), so an
edit takes effect at the next login without a restart; a broken edit refuses
logins with the reason (logged) instead of taking the old mapping silently.
No database here: unit keys are checked against the units table by
engine.oidc_accounts at login.
"""
from __future__ import annotations

import threading
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .accounts import _UNIT_KEY, ROLES, UNIT_ROLES

ROLE_PRECEDENCE = ("admin", "process_owner", "teamlead", "caseworker", "auditor", "integration")
assert sorted(ROLE_PRECEDENCE) == sorted(ROLES)
_ENTRY_KEYS = {"role", "units", "description"}


class GroupMapError(ValueError):
    """The mapping file is missing or wrong; the message names the file and the entry."""


@dataclass(frozen=True)
class Grant:
    role: str | None
    units: tuple[str, ...]


@dataclass(frozen=True)
class Mapped:
    """What a user's groups give: a role and units, or `refusal` (Danish, for the login page)."""
    role: str | None
    units: frozenset[str]
    refusal: str | None = None


@dataclass(frozen=True)
class GroupMap:
    grants: dict[str, Grant]

    def resolve(self, groups: Iterable[str]) -> Mapped:
        found = [self.grants[g] for g in groups if g in self.grants]
        units = frozenset(u for grant in found for u in grant.units)
        roles = {grant.role for grant in found if grant.role}
        role = next((r for r in ROLE_PRECEDENCE if r in roles), None)
        if role is None:
            return Mapped(None, units, "Ingen af dine grupper hos identitetsudbyderen giver adgang til Tovholder. "
                                       "Kontakt din leder eller IT-afdelingen, hvis du skal have adgang.")
        if role in UNIT_ROLES and not units:
            return Mapped(role, units, "Dine grupper giver en rolle, men ingen enhed i Tovholder.")
        return Mapped(role, units)


def parse_group_map(text: str, *, source: str) -> GroupMap:
    """The mapping in `text` (TOML); GroupMapError naming `source` and the entry when it is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GroupMapError(f"{source}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"groups"})
    if unknown:
        raise GroupMapError(f"{source}: unknown top-level key '{unknown[0]}' (only [groups.\"NAME\"] tables)")
    groups = data.get("groups", {})
    if not isinstance(groups, dict) or not groups:
        raise GroupMapError(f"{source}: no [groups.\"NAME\"] entries: nobody could log in")
    return GroupMap({name: _grant(name, entry, source) for name, entry in groups.items()})


def _grant(name: str, entry: object, source: str) -> Grant:
    where = f"{source}: group '{name}'"
    if not name.strip():
        raise GroupMapError(f"{source}: a group name is empty")
    if not isinstance(entry, dict):
        raise GroupMapError(f"{where} must be a table with role and/or units")
    unknown = sorted(set(entry) - _ENTRY_KEYS)
    if unknown:
        raise GroupMapError(f"{where}: unknown key '{unknown[0]}' (use role, units, description)")
    role, units = entry.get("role"), entry.get("units", [])
    if role is not None and role not in ROLES:
        raise GroupMapError(f"{where}: role '{role}' is not one of {', '.join(ROLES)}")
    if not isinstance(units, list) or not all(isinstance(u, str) and _UNIT_KEY.match(u) for u in units):
        raise GroupMapError(f"{where}: units must be a list of unit keys, like [\"jobcenter\"]")
    if role is None and not units:
        raise GroupMapError(f"{where} gives neither a role nor units")
    if not isinstance(entry.get("description", ""), str):
        raise GroupMapError(f"{where}: description must be text")
    return Grant(role, tuple(dict.fromkeys(units)))


class GroupMapFile:
    """The file, read when first needed and again whenever it changed on disk."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._map: GroupMap | None = None

    def current(self) -> GroupMap:
        try:
            stat = self.path.stat()
        except OSError:
            raise GroupMapError(f"{self.path}: the group mapping file (TOVHOLDER_OIDC_GROUP_MAP) cannot be read") \
                from None
        seen = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if self._map is None or seen != self._seen:
                try:
                    text = self.path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    raise GroupMapError(f"{self.path}: the group mapping file cannot be read as UTF-8 text") \
                        from None
                self._map = parse_group_map(text, source=str(self.path))  # a broken edit raises, every time
                self._seen = seen
            return self._map
