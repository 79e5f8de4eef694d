"""`tovholder audit verify [--case ID] [--checkpoint FILE]` and `tovholder audit checkpoint --out FILE`.

verify walks every case's audit chain (or one case's) and, given a
checkpoint, checks that each chain still passes through the head the
checkpoint saw; each broken chain is a line on stdout, and the command exits
1 when any is broken. checkpoint writes the head of every chain to a file
signed with the audit key, for the operator to keep outside the database
(docs/operations.md). Read-only: nothing is committed.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from engine import audit_chain
from engine.db import make_db_engine, make_session_factory
from engine.locking import read_case


class ChainsBroken(Exception):
    """Some chain does not verify: the command says which on stdout and exits 1."""


def add_parser(sub, parser_class) -> None:
    audit = sub.add_parser("audit", help="the audit trail's hash chains").add_subparsers(
        dest="audit_command", required=True, parser_class=parser_class)
    verify = audit.add_parser("verify", help="check that every case's audit trail is the one written")
    verify.add_argument("--case", dest="case_id", metavar="ID", help="only this case")
    verify.add_argument("--checkpoint", metavar="FILE", type=Path,
                        help="also check each chain against the heads in this checkpoint file")
    verify.set_defaults(func=cmd_verify)
    checkpoint = audit.add_parser("checkpoint", help="write the head of every chain to a signed file")
    checkpoint.add_argument("--out", required=True, metavar="FILE", type=Path)
    checkpoint.set_defaults(func=cmd_checkpoint)


def _session(settings):
    db_engine = make_db_engine(settings.database_url)
    return db_engine, make_session_factory(db_engine, audit_key=settings.audit_key)()


def cmd_verify(settings, args) -> None:
    checkpoint_text = args.checkpoint.read_text(encoding="utf-8") if args.checkpoint else None
    db_engine, session = _session(settings)
    try:
        heads = audit_chain.read_checkpoint(session, checkpoint_text)["heads"] if checkpoint_text else None
        if args.case_id:
            checks = [audit_chain.verify_case(session, read_case(session, args.case_id))]
            heads = {k: v for k, v in (heads or {}).items() if k == args.case_id} if heads is not None else None
        else:
            checks = audit_chain.verify_all(session)
        cases = events = broken = 0
        for check in checks:
            cases, events = cases + 1, events + check.events
            if not check.ok:
                broken += 1
                print(f"case {check.case_id}: broken at seq {check.first_bad_seq}: {check.reason}")
        rewritten = list(audit_chain.against_checkpoint(session, heads)) if heads is not None else []
        for case_id, problem in rewritten:
            print(f"case {case_id}: against the checkpoint: {problem}")
    finally:
        session.close()
        db_engine.dispose()
    against = f"; {len(heads)} checkpoint head(s) checked" if heads is not None else ""
    if broken or rewritten:
        raise ChainsBroken(f"{broken} of {cases} audit chain(s) broken, {len(rewritten)} differ from the "
                           f"checkpoint{against}")
    print(f"{cases} audit chain(s), {events} event(s): intact{against}")


def cmd_checkpoint(settings, args) -> None:
    db_engine, session = _session(settings)
    try:
        document = audit_chain.make_checkpoint(session)
    finally:
        session.close()
        db_engine.dispose()
    # written next to its place and renamed: a crash never leaves half a checkpoint under the name
    partial = args.out.with_name(args.out.name + ".partial")
    partial.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(partial, args.out)
    print(f"checkpoint of {document['cases']} audit chain(s) written to {args.out}")
