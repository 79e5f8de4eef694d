"""Tables. Migrations in migrations/ create them; this module only describes them.

Rule: the `cases` row (state, lock_version) is changed only by engine.runtime's
locked mutation path; `audit_events` rows are only ever inserted (database
triggers refuse UPDATE and DELETE).
"""
from __future__ import annotations

from datetime import date, datetime
from uuid import uuid4

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    select,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column

OPEN_TASKS_SQL = "status IN ('open', 'claimed')"  # the predicate of the partial index ix_tasks_open_queue


def new_id() -> str:
    return str(uuid4())


class Base(DeclarativeBase):
    pass


TS = DateTime(timezone=True)


class Unit(Base):
    __tablename__ = "units"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(TS)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (Index("ux_users_oidc_subject", "oidc_subject", unique=True),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TS)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)  # reminders, escalations (migration 0007)
    # OpenID Connect (engine.oidc_accounts, migration 0013): the provider's `sub` for this user; when the
    # newest provider statement applied was issued; since when the provider's groups give no login
    oidc_subject: Mapped[str | None] = mapped_column(String(255), nullable=True)
    oidc_synced_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    oidc_refused_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


class UserUnit(Base):
    __tablename__ = "user_units"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    unit_key: Mapped[str] = mapped_column(ForeignKey("units.key"), primary_key=True)


class ProcessDefinition(Base):
    """One immutable version of one process key."""

    __tablename__ = "process_definitions"
    __table_args__ = (
        UniqueConstraint("key", "version", name="uq_definition_key_version"),
        Index("ix_definition_key_hash", "key", "hash"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    hash: Mapped[str] = mapped_column(String(64))
    source_file: Mapped[str] = mapped_column(String(500))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    # Serialized SpiffWorkflow spec of this process and every process it calls,
    # so a case's state can be stored without its spec (see engine.bpmn.serializer).
    spec_json: Mapped[str] = mapped_column(Text)
    calls: Mapped[list] = mapped_column(JSON, default=list)
    start_form_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS)  # when it was deployed: `deployed_at` in the API
    deployed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)  # username, or cli:<os user>


class DefinitionForm(Base):
    """A form as one version stores it: a running case reads its version's forms, never the files on disk."""

    __tablename__ = "definition_forms"
    definition_id: Mapped[str] = mapped_column(ForeignKey("process_definitions.id"), primary_key=True)
    form_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    content: Mapped[str] = mapped_column(Text)  # the .json file's text, as deployed
    layout: Mapped[str | None] = mapped_column(Text, nullable=True)  # the .html layout, if any
    digest: Mapped[str] = mapped_column(String(64))  # engine.forms.form_digest; the version's hash covers it
    origin: Mapped[str | None] = mapped_column(String(500), nullable=True)  # the file it came from


class DefinitionDecision(Base):
    """A decision table (.dmn) as one version was compiled with it: its source, for the studio and the next draft."""

    __tablename__ = "definition_decisions"
    definition_id: Mapped[str] = mapped_column(ForeignKey("process_definitions.id"), primary_key=True)
    file_name: Mapped[str] = mapped_column(String(500), primary_key=True)  # as under the processes folder
    content: Mapped[str] = mapped_column(Text)


class DefinitionMessageStart(Base):
    """A message that starts a new case of this definition (a message start event)."""

    __tablename__ = "definition_message_starts"
    __table_args__ = (Index("ix_message_starts_message", "message"),)
    definition_id: Mapped[str] = mapped_column(ForeignKey("process_definitions.id"), primary_key=True)
    message: Mapped[str] = mapped_column(String(200), primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200))


class Citizen(Base):
    """The one place a CPR number is stored."""

    __tablename__ = "citizens"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    cpr: Mapped[str] = mapped_column(String(10), unique=True)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_key", "status", "process_key"),
        Index("ix_cases_citizen", "citizen_id"),
        Index("ux_cases_number", "number", unique=True),
        Index("ix_cases_completed_at", "completed_at"),  # reports (migration 0019)
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    definition_id: Mapped[str] = mapped_column(ForeignKey("process_definitions.id"))
    process_key: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    citizen_id: Mapped[str] = mapped_column(ForeignKey("citizens.id"))
    status: Mapped[str] = mapped_column(String(16))
    state_json: Mapped[str] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    lock_version: Mapped[int] = mapped_column(Integer, default=0)
    audit_seq: Mapped[int] = mapped_column(Integer, default=0)
    audit_head: Mapped[str | None] = mapped_column(String(64), nullable=True)  # hash of event audit_seq (audit_chain)
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)
    completed_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    started_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # `2026-000123`: said on the phone, searched for (engine.case_numbers; migration 0016)
    number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # the rule set its named deadlines resolve through (engine.rule_sets) and the koordinerende
    # sagsbehandler (engine.case_attributes); migration 0020
    rule_set: Mapped[str] = mapped_column(String(64), default="ordinaer", server_default="ordinaer")
    coordinator_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    # Every ORM UPDATE of a case is conditional on the audit_seq it read (engine.audit.record sets the new
    # one): a writer that skipped the case lock and appends an event on a head someone else has moved on
    # updates no row and fails (StaleDataError) instead of forking the chain. The unique (case_id, seq) of
    # audit_events guarded this alone until PostgreSQL's month partitions (migration 0022) had to widen it
    # to (case_id, seq, at).
    __mapper_args__ = {"version_id_col": audit_seq, "version_id_generator": False}


class CaseNumberCounter(Base):
    """The last case number given per year (engine.case_numbers)."""

    __tablename__ = "case_number_counters"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class HumanTask(Base):
    __tablename__ = "human_tasks"
    __table_args__ = (
        Index("ix_tasks_inbox", "unit", "status", "due_at"),
        Index("ix_tasks_assignee", "assignee", "status", "due_at"),
        Index("ix_tasks_case", "case_id"),
        # reports and the inbox at volume (migration 0019): a month's completed tasks; the open queue in inbox order
        Index("ix_tasks_completed_at", "completed_at"),
        Index("ix_tasks_open_queue", "unit", text("(due_at IS NULL)"), "due_at", "created_at", "id",
              postgresql_where=text(OPEN_TASKS_SQL), sqlite_where=text(OPEN_TASKS_SQL)),
    )
    # the SpiffWorkflow task id. On PostgreSQL the table is partitioned: the live tasks in one partition, the
    # archived ones (their case closed long ago, engine.task_archive) by month of created_at (migrations 0024,
    # 0025); its primary key is (id, archived, created_at). The mapper keeps id alone: the engine never inserts
    # an id that exists (engine.projections reads it first, under the case lock)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    process_key: Mapped[str] = mapped_column(String(200))
    process_version: Mapped[int] = mapped_column(Integer)
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str | None] = mapped_column(String(64), nullable=True)
    assignee: Mapped[str | None] = mapped_column(String(100), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(TS)  # set once: the partition key on PostgreSQL (0024)
    due_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    completed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # first claimed or assigned (engine.inbox): splits waiting from working time in reports
    claimed_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    form_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    deadline_rule: Mapped[str | None] = mapped_column(String(300), nullable=True)  # as the diagram says it
    audience: Mapped[str | None] = mapped_column(String(16), nullable=True)  # "teamlead": for the unit's team leads
    # the case's number (engine.case_numbers), read with the task in the same query
    # (a case's number never changes once given: a flush that updates the task need not read it again)
    case_number: Mapped[str | None] = column_property(
        select(Case.number).where(Case.id == case_id).correlate_except(Case).scalar_subquery(), expire_on_flush=False)
    # False while the task is live (open, or its case running or closed less than the archive delay ago);
    # engine.task_archive sets it, in plain SQL, never the ORM. It is the mapper's version column with the
    # application's values (no generator): every UPDATE and DELETE the ORM sends says `AND archived = false`,
    # which on PostgreSQL prunes it to the live partition instead of probing every month's
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __mapper_args__ = {"version_id_col": archived, "version_id_generator": False}


# the hot reads' condition: only the live partition (open tasks are always live; engine.task_archive)
LIVE_TASK = HumanTask.archived == false()


class Wait(Base):
    """What a case waits for besides people: a timer (with due time) or a message."""

    __tablename__ = "waits"
    __table_args__ = (
        Index("ix_waits_due", "kind", "due_at"),
        Index("ix_waits_message", "kind", "message"),
        Index("ix_waits_case", "case_id"),
        Index("ix_waits_correlation", "kind", "message", "correlation"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(String(200), nullable=True)
    unit: Mapped[str | None] = mapped_column(String(64), nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    # the value of the data field a process names as this message's extra correlation key
    correlation: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # timers only (workers.timers): failed fire attempts and when the next one may run
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        # on PostgreSQL (case_id, seq, at): a partitioned table's unique must hold its key (migration 0022)
        UniqueConstraint("case_id", "seq", name="uq_audit_case_seq"),
        # the cases report's outcomes: one row per completed case (migration 0019)
        Index("ix_audit_case_completed", "case_id", postgresql_where=text("type = 'case_completed'"),
              sqlite_where=text("type = 'case_completed'")),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(TS)
    type: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(100), nullable=True)
    element_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # the hash chain (engine/audit_chain.py): SHA-256 of the details, and HMAC over the previous hash + content
    details_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CaseAccess(Base):
    """Who looked at which case, and when (personal data: access is itself traced)."""

    __tablename__ = "case_access_log"
    __table_args__ = (Index("ix_case_access_case", "case_id", "at"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(36))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(TS)
    action: Mapped[str] = mapped_column(String(64))


# -- attachments (engine/attachments.py) ---------------------------------------------------------

from sqlalchemy import LargeBinary  # noqa: E402 - kept with the first model that needed it (attachments)


class Attachment(Base):
    """A file on a case (optionally from one task's form field); the bytes live in the row itself."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_case", "case_id", "uploaded_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    field: Mapped[str | None] = mapped_column(String(200), nullable=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(TS)
    # deferred: listing attachments never loads their bytes
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


# -- worker: incidents (engine/incidents.py) --------------------------------------------------------

class Incident(Base):
    """Work that failed after its retries (a timer, a service task, ...) and waits for an admin."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_status", "status", "created_at"),
        Index("ix_incidents_case", "case_id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), nullable=True)  # None: not a case's work
    kind: Mapped[str] = mapped_column(String(32))  # "timer", "service_task", "external_task", ...
    element_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    ref: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the failed item's own id, if it has one
    message: Mapped[str] = mapped_column(Text)  # error text only, CPR-shaped numbers masked
    attempts: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # open | resolved
    created_at: Mapped[datetime] = mapped_column(TS)
    resolved_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


# -- logins: throttling (engine/login_throttle.py) and server-side sessions (engine/auth_sessions.py)

class LoginThrottle(Base):
    """Failed logins (web and token) per user name (also for names that do not exist: no enumeration)."""

    __tablename__ = "login_throttle"
    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(TS)
    locked_until: Mapped[datetime | None] = mapped_column(TS, nullable=True)


class AuthSession(Base):
    """One web session or one bearer token; its id is the `jti` the cookie or token carries.

    Checked on every request by primary key (joined to the user); ending it
    (`ended_at`) locks the cookie or token out at once, long before it expires.
    """

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user", "user_id", "expires_at"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # web | api
    created_at: Mapped[datetime] = mapped_column(TS)
    expires_at: Mapped[datetime] = mapped_column(TS)
    ended_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(100), nullable=True)  # "logout" or who revoked it


# -- outbox, deadline notices, service tasks -----------------------------------------------------------

class OutboxMessage(Base):
    """An e-mail waiting to be sent (engine/outbox.py); workers/mail.py sends it and sets sent_at once."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "failed_at", "next_attempt_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)  # the same notice is never queued twice
    kind: Mapped[str] = mapped_column(String(16))  # reminder | escalation | letter | employer
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), nullable=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TS)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)  # gave up: an incident is open
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class TaskDeadlineNotice(Base):
    """Per overdue user task: when it was flagged, reminded and escalated (engine/escalations.py)."""

    __tablename__ = "task_deadline_notices"
    __table_args__ = (Index("ix_deadline_notices_escalate", "escalated_at", "escalate_at"),)
    # a foreign key on SQLite; on PostgreSQL, where human_tasks is partitioned, triggers that act as one (0024)
    task_id: Mapped[str] = mapped_column(ForeignKey("human_tasks.id"), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    overdue_at: Mapped[datetime] = mapped_column(TS)  # when the worker flagged it
    reminded_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    escalate_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)  # due + grace
    escalated_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


class DeadlineLetter(Base):
    """Per decision task: the § 3 letter to the citizen that its deadline will not be kept (engine/citizen_letters.py).

    One row per task, written with the outbox message (or the reason there is none) and its audit event."""

    __tablename__ = "deadline_letters"
    # as TaskDeadlineNotice.task_id: triggers in place of the foreign key on PostgreSQL (migration 0024)
    task_id: Mapped[str] = mapped_column(ForeignKey("human_tasks.id"), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    at: Mapped[datetime] = mapped_column(TS)
    outbox_id: Mapped[str | None] = mapped_column(String(36), nullable=True)  # None: not sent, see reason
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class ServiceTask(Base):
    """A BPMN service task the case waits at, worked by a topic handler or an external worker."""

    __tablename__ = "service_tasks"
    __table_args__ = (
        Index("ix_service_tasks_fetch", "status", "topic", "available_at"),
        Index("ix_service_tasks_case", "case_id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the SpiffWorkflow task id
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    topic: Mapped[str] = mapped_column(String(200))
    variables: Mapped[dict] = mapped_column(JSON, default=dict)  # the task's data when it became ready
    status: Mapped[str] = mapped_column(String(16))  # open | locked | done | failed | cancelled
    lock_owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    available_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)  # retry backoff
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    retries_left: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS)
    completed_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


# -- issue 11: migration of running cases (engine/migration_batch.py) -----------------------------

class MigrationRun(Base):
    """One batch of `POST /api/migrations` or `tovholder migrate` that changed cases (dry runs are not kept)."""

    __tablename__ = "migration_runs"
    __table_args__ = (Index("ix_migration_runs_key", "process_key", "started_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    process_key: Mapped[str] = mapped_column(String(200))
    from_version: Mapped[int] = mapped_column(Integer)
    to_version: Mapped[int] = mapped_column(Integer)
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    case_ids: Mapped[list | None] = mapped_column(JSON, nullable=True)  # None: every running case of from_version
    actor: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(TS)
    finished_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)  # None: still running, or it crashed
    cases: Mapped[int] = mapped_column(Integer, default=0)
    migrated: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[list] = mapped_column(JSON, default=list)  # [{"case_id", "reason"}]


# -- the studio: drafts of journeys, saved on the server (engine/drafts.py) ----------------------

class StudioDraft(Base):
    """A process owner's unpublished change of one process key; not a version (publishing deploys it)."""

    __tablename__ = "studio_drafts"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    bpmn_xml: Mapped[str] = mapped_column(Text)
    forms: Mapped[dict] = mapped_column(JSON, default=dict)  # {"<form key>.json" / ".html": text}
    # {"<folder>/<name>.dmn": text}: the decision tables edited with the draft (migration 0023)
    decisions: Mapped[dict] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    revision: Mapped[int] = mapped_column(Integer)  # +1 on every save; a save must name the current one
    base_version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # latest version when it was begun
    problems: Mapped[list] = mapped_column(JSON, default=list)  # the check's findings at the last save
    created_at: Mapped[datetime] = mapped_column(TS)
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(TS)
    updated_by: Mapped[str] = mapped_column(String(100))


# -- the report rollup (engine/report_rollup.py; migration 0021) ---------------------------------

class ReportStepDay(Base):
    """Per step (process, element, unit, name) and Danish day: what its tasks added to the reports' figures.

    Counters are day deltas (opened, closed, overdue_from/overdue_to) whose running sum gives "open" and
    "overdue" at any day's start, plus what was completed that day; the three duration lists (seconds,
    sorted, packed float64: engine.report_rollup.pack) hold every completed task's value, so medians and p90 stay exact.
    """

    __tablename__ = "report_step_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    element_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    unit: Mapped[str] = mapped_column(String(64), primary_key=True)  # "": a task without a unit
    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    opened: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)  # completed or cancelled
    overdue_from: Mapped[int] = mapped_column(Integer, default=0)
    overdue_to: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    late: Mapped[int] = mapped_column(Integer, default=0)
    durations: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    waits: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    works: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class ReportCaseDay(Base):
    """Per journey and Danish day: cases started, closed, completed (their lengths, their end events), cancelled."""

    __tablename__ = "report_case_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    started: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    lengths: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    outcomes: Mapped[str] = mapped_column(Text, default="{}")
