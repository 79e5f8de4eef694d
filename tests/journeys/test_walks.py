"""Every path through each journey is walked: seeded random walks take every sequence flow of processes/.

All of processes/ is deployed as one deployment, with forms/ and config/deadlines.toml, and
tests/journeys/walker.py walks cases of each process that nothing else starts (the ones they call
or start by message are walked through them), with inputs drawn at random within the forms from a
fixed seed sequence, guided toward the flows no walk has taken yet (walker.py: each walk aims at one).
Seeds 0, 1, 2, … are walked until every sequence flow of the process and of those it reaches has been
taken, at most MAX_WALKS; a flow no walk took fails the test, listed with its source and target,
unless UNREACHABLE names it with the reason (a fact of the diagrams, never a flow the walker misses).
"""
from __future__ import annotations

import pytest

from engine.case_rules import CaseRules
from tests import factories as f

from .walker import Walker, read_diagrams, top_level, walk_until_covered

ROOT = f.ROOT
RULES = CaseRules(forms_dir=ROOT / "forms", deadlines_file=ROOT / "config" / "deadlines.toml")
PROCESSES = ROOT / "processes"
DIAGRAMS = read_diagrams(PROCESSES)
MAX_WALKS = 80  # kontanthjælp needs about 50 today

# Flows no input the forms allow can take in today's diagrams: (process, flow id) -> why.
# Each entry is a finding to fix in the diagram, not a place to hide a flow the walker misses.
UNREACHABLE: dict[tuple[str, str], str] = {
    **{("sygedagpenge", flow): "only a case moved from version 1 takes it (naeste_gw on revurdering_mangler); "
                               "a new case never does" for flow in
       ("f_revurdering_mangler", "f_flyttet_opfoelgning", "f_flyttet_revurdering")},
    # Kontanthjælp version 2: sen_start_gw starts the visitation's branches for a case moved from version 1
    # while it waited for its decision (tests/journeys/test_kontanthjaelp_v2_migration.py walks them).
    **{("kontanthjaelp", flow): "only a case moved from version 1 takes it (sen_start_gw); a new case never does"
       for flow in ("f_sen_kontaktforloeb", "f_sen_sof", "f_sen_cv")},
    # Version 3: a jobparat offer runs beside the conversations and its branch ends with the placement; only a
    # placement begun on version 2 (no mark samtaler_ved_siden_af) comes back to the course
    # (tests/journeys/test_issue14_known_migration.py moves such a case and takes it).
    ("kontanthjaelp", "f_videre_kontaktforloeb"): "only a case moved from version 2 inside a placement takes it "
                                                  "(nyt_tilbud_gw); a new case never does",
}

# Findings the walks make in today's diagrams, each to fix and reported with every run (-s):
# - a task of a legal deadline that a punctual walk (every task done within its allowed time) finds born
#   overdue: (process, element, deadline) -> why;
# - a case left running with nothing anyone can do: ("still running", process, its waits) -> why;
# - a form field no value can fill in the case as it stands: ("no valid value", "form.field") -> why.
# None today: the last two (issue 14) were fixed in the journeys.
KNOWN: dict[tuple, str] = {}


# A process whose start form the generic filler cannot fill realistically gets its own generator here
# (process id -> walker.StartData); none needs one today (walker.default_start_data).
START_DATA: dict = {}


@pytest.fixture
def walker(db, session, seed):
    users = seed(PROCESSES, rules=RULES)
    return Walker(db, session, RULES, DIAGRAMS, users, start_data=START_DATA)


TOP_LEVEL = set(top_level(DIAGRAMS))


@pytest.mark.parametrize("process", sorted(TOP_LEVEL))
def test_random_walks_take_every_sequence_flow(walker, process):
    result, untaken = walk_until_covered(walker, process, max_walks=MAX_WALKS, allowed=UNREACHABLE,
                                         known=KNOWN)
    print(f"{process}: {result.walks} walks, {result.steps} steps, {len(result.taken)} flows taken")
    for note in result.notes + [x for x in result.findings if x.key in KNOWN]:
        print("  note:", note)
    findings = [x for x in result.findings if x.key not in KNOWN]
    assert not findings, "\n".join(map(str, findings))
    assert not result.ambiguous, f"element ids drawn in two processes one case runs: {sorted(result.ambiguous)}"
    # a called journey that is also started on its own (langvarig_aktivitetsparat) is walked by its own test
    untaken = [flow for flow in untaken if flow.process == process or flow.process not in TOP_LEVEL]
    assert not untaken, (f"{len(untaken)} sequence flow(s) no walk took in {result.walks} walks:\n"
                         + "\n".join(map(str, untaken)))
