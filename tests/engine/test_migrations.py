"""Migrations and models agree, and the schema can go down and up again."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from engine import migrate, partitions
from engine.db import make_db_engine
from engine.models import Base
from tests.conftest import audit_key_for_tests


def _not_a_partition(name, type_, parent_names):
    # PostgreSQL's month partitions (migrations 0022 and 0024) are not models of their own
    return not (type_ == "table" and partitions.is_partition_name(name))


def _partition_key_in_the_unique(change) -> bool:
    """PostgreSQL's partitioned audit_events must carry the month in its unique constraint (migration 0022):
    (case_id, seq, at) in the database where the model says (case_id, seq). Only that difference is allowed."""
    kind, constraint = change[0], change[1] if len(change) > 1 else None
    if kind not in ("remove_constraint", "add_constraint") or getattr(constraint, "name", None) != "uq_audit_case_seq":
        return False
    columns = [c.name for c in constraint.columns]
    return columns == (["case_id", "seq", "at"] if kind == "remove_constraint" else ["case_id", "seq"])


def _task_reference_by_trigger(change) -> bool:
    """PostgreSQL cannot point a foreign key at human_tasks.id once the table is partitioned (migration 0024):
    the two task references are triggers there, and only those two foreign keys are missing."""
    kind, constraint = change[0], change[1] if len(change) > 1 else None
    if kind != "add_fk":
        return False
    return (constraint.parent.name in ("task_deadline_notices", "deadline_letters")
            and [c.name for c in constraint.columns] == ["task_id"]
            and constraint.referred_table.name == "human_tasks")


def test_models_match_the_migrated_schema(db):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": _not_a_partition})
        diff = compare_metadata(context, Base.metadata)
    if db.engine.dialect.name == "postgresql":
        diff = [change for change in diff
                if not _partition_key_in_the_unique(change) and not _task_reference_by_trigger(change)]
    assert diff == [], diff


def test_downgrade_to_nothing_and_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    migrate.upgrade(url)
    engine = make_db_engine(url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def test_upgrade_to_0009_gives_stored_versions_the_forms_on_disk(db, tmp_path, capfd):
    """A database at 0008 with versions and a running case: the upgrade attaches the forms as they are on disk
    then, extends each hash so the same files deploy as the same version, and says which form was missing."""
    import shutil

    from sqlalchemy import select, text

    from engine import bundles, catalog, runtime
    from engine.case_rules import CaseRules
    from engine.models import DefinitionForm, HumanTask
    from tests import factories as f

    forms = tmp_path / "forms"
    shutil.copytree(f.FORMS, forms)
    rules = CaseRules(forms_dir=forms, deadlines_file=f.RULES.deadlines_file)
    with db.session() as session:
        users = f.standard_users(session)
        f.deploy_data(session, "intake.bpmn", "parallel.bpmn", rules=rules)
        case = f.start_case(session, "intake", actor=users["jc"], rules=rules)
        old_hashes = {key: catalog._content_hash(xml.encode("utf-8"), spec) for key, xml, spec in session.execute(
            text("SELECT key, bpmn_xml, spec_json FROM process_definitions"))}
    db.engine.dispose()
    migrate.downgrade(db.url, "0008")
    try:
        with db.engine.begin() as conn:  # the rows as revision 0008 stored them: the diagram's hash only
            for key, old_hash in old_hashes.items():
                conn.execute(text("UPDATE process_definitions SET hash = :h WHERE key = :k"), {"h": old_hash, "k": key})
        (forms / "t_note.json").unlink()  # parallel's form is gone from disk at upgrade
        edited = (forms / "t_visitation.json").read_text(encoding="utf-8").replace("Visitation", "Visitation (disk)")
        (forms / "t_visitation.json").write_text(edited, encoding="utf-8")
        db.engine.dispose()
        migrate.upgrade(db.url, "0009", forms_dir=forms)
    finally:
        db.engine.dispose()
        migrate.upgrade(db.url, audit_key=audit_key_for_tests())
    assert "parallel version 1 names form 't_note'" in capfd.readouterr().err
    with db.session() as session:
        intake = catalog.get_definition(session, "intake", 1)
        stored = bundles.form_files(session, intake.id)
        assert list(stored) == ["t_afgoerelse", "t_paamindelse", "t_registrering", "t_visitation"]
        assert stored["t_visitation"].content == edited  # as on disk at upgrade
        assert intake.hash == bundles.bundle_hash(old_hashes["intake"], list(stored.values()))
        parallel = catalog.get_definition(session, "parallel", 1)
        assert session.scalars(select(DefinitionForm).where(DefinitionForm.definition_id == parallel.id)).all() == []
        # the same files deploy as the same version; a form edited after the upgrade makes a new one
        [again] = catalog.deploy(session, [("intake.bpmn", (f.DATA / "intake.bpmn").read_bytes())], rules=rules)
        assert (again.version, again.new) == (1, False)
        (forms / "t_registrering.json").write_text('{"title": "Ny", "fields": []}', encoding="utf-8")
        task = session.scalar(select(HumanTask).where(HumanTask.case_id == case.id))
        assert bundles.task_form(session, task, forms_dir=forms).title == "Registrering som arbejdssøgende"
        runtime.complete_task(session, task_id=task.id, data={"forsikret": False, "henvendelsesdato": "2026-11-23"},
                              user=users["jc"], rules=rules)
        session.commit()
