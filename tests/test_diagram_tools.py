"""scripts/bpmn_layout.py and scripts/render_bpmn.py: diagrams that open in a modeler and pictures of them.

Test data is copied to tmp_path first; tests/data is never changed.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator

from engine import catalog
from engine.catalog import without_file_names
from engine.models import ProcessDefinition
from scripts import bpmn_layout, journey_tables, render_bpmn
from tests import factories as f

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
PROCESSES = ROOT / "processes"
IMG = ROOT / "docs" / "img"
BPMN = bpmn_layout.BPMN_NS
BPMNDI = bpmn_layout.BPMNDI_NS
SAMPLES = ["intake.bpmn", "semantics/structure.bpmn", "semantics/referral.bpmn"]
SVG = "{http://www.w3.org/2000/svg}"


def laid_out(tmp_path: Path, name: str) -> Path:
    path = tmp_path / Path(name).name
    shutil.copyfile(DATA / name, path)
    assert bpmn_layout.main([str(path)]) == 0
    return path


def flow_nodes(root) -> list:
    return [el for el in root.iter() if isinstance(el.tag, str) and etree.QName(el).namespace == BPMN
            and etree.QName(el).localname in bpmn_layout.FLOW_NODES]


def di_ids(root, kind: str) -> set[str]:
    return {el.get("bpmnElement") for el in root.iter(f"{{{BPMNDI}}}{kind}")}


def semantic_c14n(raw: bytes) -> bytes:
    return bpmn_layout._semantic(etree.fromstring(raw))


@pytest.mark.parametrize("name", SAMPLES)
def test_layout_gives_every_element_a_shape_and_edge(tmp_path, name):
    root = etree.fromstring(laid_out(tmp_path, name).read_bytes())
    shapes, edges = di_ids(root, "BPMNShape"), di_ids(root, "BPMNEdge")
    nodes = {el.get("id") for el in flow_nodes(root)}
    lanes = {el.get("id") for el in root.iter(f"{{{BPMN}}}lane")}
    flows = {el.get("id") for el in root.iter(f"{{{BPMN}}}sequenceFlow")}
    participants = {el.get("id") for el in root.iter(f"{{{BPMN}}}participant")}
    assert nodes and lanes and flows and participants
    assert nodes - shapes == set()
    assert lanes - shapes == set()
    assert participants - shapes == set(), "every process with lanes sits in a pool"
    assert flows - edges == set()
    for edge in root.iter(f"{{{BPMNDI}}}BPMNEdge"):
        assert len(edge.findall(f"{{{bpmn_layout.DI_NS}}}waypoint")) >= 2
    BpmnValidator().validate(root)


@pytest.mark.parametrize("name", SAMPLES)
def test_layout_is_idempotent_and_keeps_the_semantics(tmp_path, name):
    path = laid_out(tmp_path, name)
    once = path.read_bytes()
    assert bpmn_layout.main([str(path)]) == 0
    assert path.read_bytes() == once
    assert bpmn_layout.main(["--check", str(path)]) == 0
    original = (DATA / name).read_bytes()
    assert "Opfølgning".encode() in once or "Læs".encode() in once or "arbejdssøgende".encode() in once
    assert once.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    if etree.fromstring(original).find(f"{{{BPMN}}}collaboration") is not None:
        # only the bpmndi part changed: the rest is byte for byte the original
        assert bpmn_layout.strip_di(once.decode()) == original.decode()
    else:
        # a collaboration (the pool) was added; the process itself is untouched
        before = etree.fromstring(original)
        after = etree.fromstring(once)
        for proc in before.findall(f"{{{BPMN}}}process"):
            twin = after.find(f"{{{BPMN}}}process[@id='{proc.get('id')}']")
            assert etree.tostring(twin, method="c14n") == etree.tostring(proc, method="c14n")


def test_di_only_never_touches_the_semantic_xml(tmp_path):
    path = tmp_path / "structure.bpmn"
    shutil.copyfile(DATA / "semantics" / "structure.bpmn", path)
    assert bpmn_layout.main(["--di-only", str(path)]) == 0
    raw = path.read_bytes()
    assert bpmn_layout.strip_di(raw.decode()) == (DATA / "semantics" / "structure.bpmn").read_text(encoding="utf-8")
    root = etree.fromstring(raw)
    assert {el.get("id") for el in flow_nodes(root)} - di_ids(root, "BPMNShape") == set()
    BpmnValidator().validate(root)


def test_layout_replaces_an_existing_diagram(tmp_path):
    path = laid_out(tmp_path, "intake.bpmn")
    good = path.read_bytes()
    text = good.decode().replace('<dc:Bounds x="160"', '<dc:Bounds x="999"', 1)
    path.write_text(text, encoding="utf-8")
    assert bpmn_layout.main(["--check", str(path)]) == 1
    assert bpmn_layout.main([str(path)]) == 0
    assert path.read_bytes() == good


def _spec(session, key) -> dict:
    rows = session.query(ProcessDefinition).filter_by(key=key).order_by(ProcessDefinition.version).all()
    return [without_file_names(json.loads(r.spec_json)) for r in rows]


@pytest.mark.parametrize("name", SAMPLES)
def test_laid_out_file_deploys_with_the_same_behaviour(session, tmp_path, name):
    """Same compiled spec before and after (SpiffWorkflow orders outgoing flows by the targets' y)."""
    f.add_units(session)
    before = catalog.deploy(session, [(Path(name).name, (DATA / name).read_bytes())], rules=f.RULES, actor="test")
    session.commit()
    after = catalog.deploy(session, [(Path(name).name, laid_out(tmp_path, name).read_bytes())],
                           rules=f.RULES, actor="test")
    session.commit()
    assert [d.key for d in before] == [d.key for d in after]
    for old, new in zip(before, after, strict=False):
        assert new.version == old.version + 1  # the file differs, so a new version ...
        first, second = _spec(session, old.key)
        assert first == second  # ... that runs exactly as the old one


@pytest.mark.parametrize("name", SAMPLES)
def test_render_gives_well_formed_svg_with_every_task_name(tmp_path, name):
    path = laid_out(tmp_path, name)
    svg = render_bpmn.render(path)
    assert svg == render_bpmn.render(path)  # deterministic
    tree = etree.fromstring(svg.encode("utf-8"))
    assert tree.tag == f"{SVG}svg"
    lines = [t.text or "" for t in tree.iter(f"{SVG}text")]
    words = " ".join(lines)
    # wrapped lines joined again: a line ending in "-" is a split word
    joined = "".join(line[:-1] if line.endswith("-") else line for line in lines)
    root = etree.fromstring(path.read_bytes())
    tasks = [el for el in flow_nodes(root) if etree.QName(el).localname.endswith("Task") and el.get("name")]
    assert tasks
    for task in tasks:
        assert "".join(task.get("name").split()) in "".join(joined.split()), (task.get("name"), words)
    pools = [p.get("name") for p in root.iter(f"{{{BPMN}}}participant")]
    for pool in pools:
        assert pool in words


def test_render_cli_writes_the_file(tmp_path):
    path = laid_out(tmp_path, "intake.bpmn")
    out = tmp_path / "intake.svg"
    assert render_bpmn.main([str(path), str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render_bpmn.render(path)
    assert "Afgørelse" in out.read_text(encoding="utf-8")


def test_render_refuses_a_file_without_diagram(tmp_path):
    with pytest.raises(ValueError, match="bpmn_layout"):
        render_bpmn.render(DATA / "intake.bpmn")


# -- the real journeys under processes/ ------------------------------------------

REAL = sorted(PROCESSES.rglob("*.bpmn"))


def test_processes_folder_has_diagrams():
    assert REAL, "processes/ holds no .bpmn files"


@pytest.mark.parametrize("path", REAL, ids=[str(p.relative_to(PROCESSES)) for p in REAL])
def test_every_process_file_has_a_full_diagram(path):
    root = etree.fromstring(path.read_bytes())
    missing_nodes = {el.get("id") for el in flow_nodes(root)} - di_ids(root, "BPMNShape")
    missing_flows = {el.get("id") for el in root.iter(f"{{{BPMN}}}sequenceFlow")} - di_ids(root, "BPMNEdge")
    hint = f"run: python -m scripts.bpmn_layout --di-only {path.relative_to(ROOT)} (or make diagrams)"
    assert missing_nodes == set(), hint
    assert missing_flows == set(), hint
    BpmnValidator().validate(root)


@pytest.mark.parametrize("path", REAL, ids=[str(p.relative_to(PROCESSES)) for p in REAL])
def test_every_process_file_has_a_current_picture(path):
    picture = IMG / render_bpmn.svg_name(path)
    hint = "run: make diagrams (python -m scripts.render_bpmn --all)"
    assert picture.is_file(), f"{picture.relative_to(ROOT)} is missing; {hint}"
    assert picture.read_text(encoding="utf-8") == render_bpmn.render(path), \
        f"{picture.relative_to(ROOT)} is out of date; {hint}"


def test_missing_only_leaves_a_complete_diagram_alone(tmp_path):
    path = laid_out(tmp_path, "intake.bpmn")
    moved = path.read_text(encoding="utf-8").replace('<dc:Bounds x="425"', '<dc:Bounds x="430"', 1)
    path.write_text(moved, encoding="utf-8")
    assert bpmn_layout.main(["--missing-only", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == moved  # arranged by hand: kept
    bare = tmp_path / "bare.bpmn"
    shutil.copyfile(DATA / "intake.bpmn", bare)
    assert bpmn_layout.main(["--missing-only", str(bare)]) == 0
    assert bpmn_layout.diagram_complete(bare.read_text(encoding="utf-8"))


# -- the step tables in docs/journeys.md -----------------------------------------------------------


def test_journey_step_tables_are_current():
    assert journey_tables.main(["--check"]) == 0, "docs/journeys.md's step tables are out of date: make diagrams"


def test_every_journey_has_a_step_table():
    doc = (ROOT / "docs" / "journeys.md").read_text(encoding="utf-8")
    tabled = {m.group("path") for m in journey_tables.MARKER.finditer(doc)}
    assert tabled == {str(p.relative_to(ROOT)) for p in REAL}


def test_step_table_shows_unit_deadline_escalation_and_source(tmp_path):
    doc = tmp_path / "journeys.md"
    doc.write_text("<!-- steps: processes/sygedagpenge/sygedagpenge.bpmn -->\nstale\n<!-- /steps -->\n", encoding="utf-8")
    assert journey_tables.main(["--check", str(doc)]) == 1
    assert journey_tables.main([str(doc)]) == 0
    rows = {line.split(" | ")[1]: line.split(" | ")[2:] for line in doc.read_text(encoding="utf-8").splitlines()
            if line.startswith("| ") and not line.startswith("| #")}
    unit, deadline, escalation, source = rows["Første opfølgningssamtale"][:4]
    assert unit == "jobcenter" and "`foerste_fravaersdag`" in deadline and "sdp_foerste_opfoelgning" in deadline
    assert escalation == "påmindelse til teamleder" and "uge 8" in source
    assert rows["✉ Raskmelding"][0] == "ydelsesservice"
    assert not any(name.startswith("Påmindelse") for name in rows)  # reminders are a column, not rows
