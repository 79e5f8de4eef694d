"""The audit trail of each case as a hash chain, checked in full, and checkpoints of every chain's head.

Each event stores `details_digest` (SHA-256 of its details as canonical JSON)
and `hash` = HMAC-SHA256(key, previous event's hash + its content), where the
content is the case id, seq, time, type, actor, element, task and that digest.
The key is the server's (Settings.audit_key, handed to every session by
engine.db.make_session_factory), so someone who can write to the database but
does not hold the key cannot make a changed, removed or inserted row fit.
Because the chain covers the details only through their digest, personal data
in details can later be erased (replaced by `ERASED`) and the chain still
verifies from the stored digest.

Someone who holds the key could rewrite a whole chain; a checkpoint (the
head of every chain, signed with the key, kept outside the database by the
operator) finds that: a rewritten chain no longer passes through the head the
checkpoint saw.

Transaction rule: `seal` runs inside engine.audit.record, in the transaction
that writes the event, with the case locked (engine.locking); it reads the
previous hash from the case row (`cases.audit_head`) read under that lock, the
same row that gives `seq`, so two writers cannot both extend the same head
(the second one's `seq` collides with the unique (case_id, seq) key). The
rest only reads.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from . import clock
from .db import AUDIT_KEY
from .errors import EngineError
from .models import AuditEvent, Case

GENESIS = ""  # the "previous hash" of a case's first event
ERASED = {"erased": True}  # the details of an event whose personal data was erased; its digest still counts
CHECKPOINT_FORMAT = "tovholder-audit-checkpoint-1"


class AuditKeyMissing(EngineError):
    status = 500


def session_key(session: Session) -> bytes:
    source = session.info.get(AUDIT_KEY)
    if source is None:
        raise AuditKeyMissing("this database session has no audit key: make it with "
                              "engine.db.make_session_factory(..., audit_key=settings.audit_key)")
    return source() if callable(source) else source


def canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def details_digest(details: dict[str, Any] | None) -> str:
    return hashlib.sha256(canonical(details or {})).hexdigest()


def link(key: bytes, previous: str, *, case_id: str, seq: int, at: datetime, type_: str, actor: str | None,
         element_id: str | None, task_id: str | None, digest: str) -> str:
    """The hash of one event given the previous one's (the chain's one formula; migration 0012 repeats it)."""
    content = canonical(["v1", case_id, seq, clock.as_utc(at).isoformat(timespec="microseconds"), type_, actor,
                         element_id, task_id, digest])
    return hmac.new(key, previous.encode("ascii") + b"\n" + content, hashlib.sha256).hexdigest()


EVENT_COLUMNS = tuple(AuditEvent.__table__.c)  # read as plain rows: verifying never fills the session


def event_hash(key: bytes, previous: str, event: Any) -> str:
    """`event`: an AuditEvent, or a row of EVENT_COLUMNS."""
    return link(key, previous, case_id=event.case_id, seq=event.seq, at=event.at, type_=event.type,
                actor=event.actor, element_id=event.element_id, task_id=event.task_id,
                digest=event.details_digest or "")


def seal(session: Session, case: Case, event: AuditEvent) -> None:
    """Give a new event its digest and hash and make it the case's head (before it is flushed)."""
    # audit.record made the details plain JSON already, so this is the digest of what a reader gets back
    event.details_digest = details_digest(event.details)
    event.hash = event_hash(session_key(session), case.audit_head or GENESIS, event)
    case.audit_head = event.hash


# -- verification ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainCheck:
    case_id: str
    events: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head_seq: int = 0
    head_hash: str | None = None

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None

    def as_dict(self) -> dict:
        return {"ok": self.ok, "events": self.events, "first_bad_seq": self.first_bad_seq}


def check_chain(key: bytes, case_id: str, audit_seq: int, audit_head: str | None,
                events: Iterable[Any]) -> ChainCheck:
    """Walk one case's events in seq order; the first that does not fit names where the trail was changed."""
    previous, expected, count, bad = GENESIS, 1, 0, None
    for event in events:
        count += 1
        if bad is not None:
            continue  # keep counting
        if event.seq != expected:  # a gap: that row was removed; a repeat or step back: one was inserted
            bad = (min(event.seq, expected), f"seq {expected} is missing" if event.seq > expected
                   else f"an extra event with seq {event.seq}")
        elif event.details != ERASED and details_digest(event.details) != event.details_digest:
            bad = (event.seq, f"the details of seq {event.seq} were changed")
        elif event.hash != event_hash(key, previous, event):
            bad = (event.seq, f"seq {event.seq} was changed, inserted or moved")
        else:
            previous, expected = event.hash, expected + 1
    last = expected - 1
    if bad is None and audit_seq > last:
        bad = (last + 1, f"the events from seq {last + 1} to {audit_seq} are missing")
    elif bad is None and audit_seq < last:
        bad = (audit_seq + 1, f"events after the case's last seq {audit_seq} were inserted")
    elif bad is None and (audit_head or GENESIS) != previous:
        bad = (last + 1, "the case's recorded head is not its last event (events were removed at the end)")
    if bad is None:
        return ChainCheck(case_id, count, head_seq=last, head_hash=previous or None)
    return ChainCheck(case_id, count, bad[0], bad[1], head_seq=last, head_hash=previous or None)


def verify_case(session: Session, case: Case) -> ChainCheck:
    events = session.execute(select(*EVENT_COLUMNS).where(AuditEvent.case_id == case.id)
                             .order_by(AuditEvent.seq, AuditEvent.id))
    return check_chain(session_key(session), case.id, case.audit_seq or 0, case.audit_head, events)


def verify_all(session: Session, *, batch: int = 500) -> Iterator[ChainCheck]:
    """Every case's chain, in case id order, reading a batch of cases (and their events) at a time."""
    key, after = session_key(session), ""
    while True:
        cases = session.execute(select(Case.id, Case.audit_seq, Case.audit_head).where(Case.id > after)
                                .order_by(Case.id).limit(batch)).all()
        if not cases:
            return
        ids = [c.id for c in cases]
        by_case: dict[str, list[Any]] = {i: [] for i in ids}
        for event in session.execute(select(*EVENT_COLUMNS).where(AuditEvent.case_id.in_(ids))
                                     .order_by(AuditEvent.case_id, AuditEvent.seq, AuditEvent.id)):
            by_case[event.case_id].append(event)
        for c in cases:
            yield check_chain(key, c.id, c.audit_seq or 0, c.audit_head, by_case[c.id])
        after = ids[-1]


# -- checkpoints --------------------------------------------------------------------------------

class CheckpointInvalid(EngineError):
    status = 422


def make_checkpoint(session: Session) -> dict:
    """The head (last seq and hash) of every case's chain now, signed with the audit key."""
    heads = {}
    rows = session.execute(select(AuditEvent.case_id, AuditEvent.seq, AuditEvent.hash)
                           .join(Case, (Case.id == AuditEvent.case_id) & (Case.audit_seq == AuditEvent.seq))
                           .order_by(AuditEvent.case_id))
    for case_id, seq, hash_ in rows:
        heads[case_id] = {"seq": seq, "hash": hash_}
    body = {"format": CHECKPOINT_FORMAT, "created_at": clock.now().isoformat(), "cases": len(heads),
            "heads": heads}
    return {**body, "signature": _sign(session_key(session), body)}


def _sign(key: bytes, body: dict) -> str:
    return hmac.new(key, b"checkpoint\n" + canonical(body), hashlib.sha256).hexdigest()


def read_checkpoint(session: Session, text: str) -> dict:
    """The checkpoint's heads, once its signature is checked; CheckpointInvalid otherwise."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise CheckpointInvalid("the checkpoint file is not JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != CHECKPOINT_FORMAT or not isinstance(doc.get("heads"), dict):
        raise CheckpointInvalid(f"the checkpoint file is not a {CHECKPOINT_FORMAT} file")
    body = {k: v for k, v in doc.items() if k != "signature"}
    if not hmac.compare_digest(str(doc.get("signature", "")), _sign(session_key(session), body)):
        raise CheckpointInvalid("the checkpoint's signature does not match: the file was changed, "
                                "or it was made with another audit key")
    return doc


def against_checkpoint(session: Session, heads: dict) -> Iterator[tuple[str, str]]:
    """(case id, problem) for every case whose chain no longer passes through the head a checkpoint saw."""
    ids = sorted(heads)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        pairs = [(case_id, heads[case_id].get("seq")) for case_id in chunk]
        found = {(case_id, seq): hash_ for case_id, seq, hash_ in session.execute(
            select(AuditEvent.case_id, AuditEvent.seq, AuditEvent.hash)
            .where(tuple_(AuditEvent.case_id, AuditEvent.seq).in_(pairs)))}
        known = set(session.scalars(select(Case.id).where(Case.id.in_(chunk))))
        for case_id in chunk:
            head = heads[case_id]
            seq, hash_ = head.get("seq"), head.get("hash")
            if case_id not in known:
                yield case_id, "the case is gone"
            elif (case_id, seq) not in found:
                yield case_id, f"seq {seq}, its head at the checkpoint, is gone"
            elif found[(case_id, seq)] != hash_:
                yield case_id, f"seq {seq} is not the event the checkpoint saw: the chain was rewritten"
