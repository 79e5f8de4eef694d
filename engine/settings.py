"""One Settings object, read from the environment and `.env`, passed in explicitly.

Nothing here touches the database; callers build a Settings once at the edge
(CLI, app factory, test fixture) and hand it down.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .filetypes import UPLOAD_TYPES

DEMO_SECRET_KEY = "demo-only-secret-key-do-not-use-in-production"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
SUPPORTED_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
MIN_SECRET_KEY_LENGTH = 32


class SettingsError(ValueError):
    """Configuration that the service refuses to start with."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      populate_by_name=True)  # Settings(secret_key=...) as well as the env names

    database_url: str = Field("sqlite:///var/tovholder.db", validation_alias="DATABASE_URL")
    secret_key: str | None = Field(None, validation_alias="TOVHOLDER_SECRET_KEY")
    # keys the audit trail's hash chain (engine/audit_chain.py); default: derived from TOVHOLDER_SECRET_KEY.
    # Set it of its own to rotate the secret key without breaking the chains written under it.
    audit_secret: str | None = Field(None, validation_alias="TOVHOLDER_AUDIT_SECRET", repr=False)
    processes_dir: Path = Field(Path("processes"), validation_alias="TOVHOLDER_PROCESSES_DIR")
    forms_dir: Path = Field(Path("forms"), validation_alias="TOVHOLDER_FORMS_DIR")
    demo_mode: bool = Field(False, validation_alias="TOVHOLDER_DEMO")
    token_minutes: int = Field(8 * 60, validation_alias="TOVHOLDER_TOKEN_MINUTES", ge=1)
    max_upload_bytes: int = Field(5 * 1024 * 1024, validation_alias="TOVHOLDER_MAX_UPLOAD_BYTES", ge=1024)
    max_request_bytes: int = Field(1024 * 1024, validation_alias="TOVHOLDER_MAX_REQUEST_BYTES", ge=1024)
    worker_interval_seconds: float = Field(5.0, validation_alias="TOVHOLDER_WORKER_INTERVAL", gt=0)
    # timers (workers.timers): a failing case is retried after backoff * 2**(attempt-1) seconds;
    # after max attempts an incident waits for an admin's retry
    worker_max_attempts: int = Field(5, validation_alias="TOVHOLDER_WORKER_MAX_ATTEMPTS", ge=1, le=100)
    worker_backoff_seconds: float = Field(30.0, validation_alias="TOVHOLDER_WORKER_BACKOFF", gt=0)
    worker_batch: int = Field(50, validation_alias="TOVHOLDER_WORKER_BATCH", ge=1, le=10000)
    deadlines_file: Path = Field(Path("config/deadlines.toml"), validation_alias="TOVHOLDER_DEADLINES_FILE")
    # Days (MM-DD) the municipality is closed besides weekends and public holidays.
    closed_days: Annotated[tuple[str, ...], NoDecode] = Field(("06-05", "12-24", "12-31"), validation_alias="TOVHOLDER_CLOSED_DAYS")
    # Attachment types (checked on the file's content, engine/filetypes.py); comma-separated MIME types.
    allowed_upload_types: Annotated[tuple[str, ...], NoDecode] = Field(
        tuple(UPLOAD_TYPES), validation_alias="TOVHOLDER_ALLOWED_UPLOAD_TYPES")

    # outbox sender (workers/mail.py); without SMTP_HOST mail stays queued in the outbox
    smtp_host: str | None = Field(None, validation_alias="SMTP_HOST")
    smtp_port: int = Field(25, validation_alias="SMTP_PORT", ge=1, le=65535)
    smtp_starttls: bool = Field(False, validation_alias="SMTP_STARTTLS")
    smtp_ssl: bool = Field(False, validation_alias="SMTP_SSL")
    smtp_username: str | None = Field(None, validation_alias="SMTP_USERNAME")
    smtp_password: str | None = Field(None, validation_alias="SMTP_PASSWORD", repr=False)
    smtp_from: str = Field("tovholder@localhost", validation_alias="SMTP_FROM")
    smtp_timeout_seconds: float = Field(30.0, validation_alias="SMTP_TIMEOUT", gt=0)
    outbox_max_attempts: int = Field(8, validation_alias="TOVHOLDER_OUTBOX_MAX_ATTEMPTS", ge=1, le=100)
    # the address staff open Tovholder at (no trailing slash): reminder and escalation mails link to the task there
    public_url: str = Field("http://127.0.0.1:8000", validation_alias="TOVHOLDER_PUBLIC_URL")
    # deadlines (engine/escalations.py): reminder when a task is overdue, escalation after this grace
    escalation_grace: str = Field("P2D working", validation_alias="TOVHOLDER_ESCALATION_GRACE")
    # the task archive (engine/task_archive.py): a closed case's tasks leave the live partition this many days
    # after the case closed (reads by id, by case and of the open queue then stay on the live tasks)
    task_archive_after_days: int = Field(90, validation_alias="TOVHOLDER_TASK_ARCHIVE_AFTER_DAYS", ge=1, le=3650)
    # the dashboard (/oversigt): a task is "soon due" when its due time falls within this many working days
    soon_due_working_days: int = Field(3, validation_alias="TOVHOLDER_SOON_DUE_DAYS", ge=0, le=60)
    # service tasks (workers/service_worker.py): how long the worker's own handlers hold a task
    service_task_lease_seconds: int = Field(300, validation_alias="TOVHOLDER_SERVICE_TASK_LEASE", ge=1, le=86400)
    # diagram scripts and expressions (engine/script_pool.py): what one may use before it is stopped, and how
    # many worker processes run them per server or worker process (started when first needed)
    script_cpu_seconds: float = Field(2.0, validation_alias="TOVHOLDER_SCRIPT_CPU_SECONDS", gt=0, le=300)
    script_memory_mib: int = Field(256, validation_alias="TOVHOLDER_SCRIPT_MEMORY_MIB", ge=16, le=65536)
    script_workers: int = Field(4, validation_alias="TOVHOLDER_SCRIPT_WORKERS", ge=1, le=64)

    # log-in (api/web/login.py, api/routes/auth.py): passwords kept here; false switches them off
    # (the login form and POST /api/auth/token refuse), which needs an identity provider
    local_login: bool = Field(True, validation_alias="TOVHOLDER_LOCAL_LOGIN")
    # OpenID Connect (api/oidc.py, engine/oidc_accounts.py): staff log in with the municipality's
    # identity provider; groups become role and units through the TOML file TOVHOLDER_OIDC_GROUP_MAP
    oidc_issuer: str | None = Field(None, validation_alias="TOVHOLDER_OIDC_ISSUER")
    oidc_client_id: str | None = Field(None, validation_alias="TOVHOLDER_OIDC_CLIENT_ID")
    oidc_client_secret: str | None = Field(None, validation_alias="TOVHOLDER_OIDC_CLIENT_SECRET", repr=False)
    oidc_audience: str | None = Field(None, validation_alias="TOVHOLDER_OIDC_AUDIENCE")  # bearer tokens; default: client id
    oidc_groups_claim: str = Field("groups", validation_alias="TOVHOLDER_OIDC_GROUPS_CLAIM", min_length=1)
    oidc_username_claim: str = Field("preferred_username", validation_alias="TOVHOLDER_OIDC_USERNAME_CLAIM",
                                     min_length=1)
    oidc_group_map: Path | None = Field(None, validation_alias="TOVHOLDER_OIDC_GROUP_MAP")
    oidc_name: str = Field("kommunens login", validation_alias="TOVHOLDER_OIDC_NAME", min_length=1, max_length=80)
    oidc_scopes: str = Field("openid profile email", validation_alias="TOVHOLDER_OIDC_SCOPES")
    # where the provider sends the browser back; default: /login/oidc/callback on the address the browser used
    oidc_redirect_uri: str | None = Field(None, validation_alias="TOVHOLDER_OIDC_REDIRECT_URI")

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")) or any(c.isspace() or c in "?#" for c in value):
            raise ValueError("TOVHOLDER_PUBLIC_URL must be an absolute http(s) address, e.g. https://tovholder.kommune.dk")
        return value

    @field_validator("escalation_grace")
    @classmethod
    def _grace(cls, value: str) -> str:
        from .deadlines import DeadlineError, parse_rule
        try:
            rule = parse_rule(value, {})
        except DeadlineError as exc:
            raise ValueError(f"TOVHOLDER_ESCALATION_GRACE: {exc}") from None
        if rule.from_field:
            raise ValueError("TOVHOLDER_ESCALATION_GRACE counts from the task's due time; leave out 'from'")
        return value.strip()

    @field_validator("smtp_ssl")
    @classmethod
    def _one_tls(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("smtp_starttls"):
            raise ValueError("set SMTP_SSL (implicit TLS, port 465) or SMTP_STARTTLS (port 587), not both")
        return value

    @field_validator("allowed_upload_types", mode="before")
    @classmethod
    def _upload_types(cls, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [v.strip().lower() for v in value.split(",") if v.strip()]
        unknown = [v for v in value if v not in UPLOAD_TYPES]
        if unknown or not value:
            raise ValueError("TOVHOLDER_ALLOWED_UPLOAD_TYPES must be a comma-separated list of: "
                             + ", ".join(UPLOAD_TYPES))
        return tuple(value)

    @field_validator("closed_days", mode="before")
    @classmethod
    def _closed_days(cls, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        for item in value:
            if not re.fullmatch(r"(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])", str(item)):
                raise ValueError("TOVHOLDER_CLOSED_DAYS must be comma-separated MM-DD days, e.g. 06-05,12-24")
        return tuple(value)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        value = value.strip()
        if value.startswith(("postgresql://", "postgres://")):
            # psycopg 3 is the driver we ship; plain URLs would ask for psycopg2.
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        try:
            drivername = make_url(value).drivername
        except ArgumentError:
            drivername = None
        if drivername not in SUPPORTED_DRIVERS:
            # The message never repeats the URL: it may hold a password.
            raise ValueError("DATABASE_URL must be a sqlite:///PATH or postgresql://USER@HOST/DATABASE URL")
        return value

    @model_validator(mode="after")
    def _login_methods(self) -> Settings:
        if not self.oidc_issuer:
            stray = [name for name, value in (("TOVHOLDER_OIDC_CLIENT_ID", self.oidc_client_id),
                                              ("TOVHOLDER_OIDC_CLIENT_SECRET", self.oidc_client_secret),
                                              ("TOVHOLDER_OIDC_GROUP_MAP", self.oidc_group_map)) if value]
            if stray:
                raise ValueError(f"{stray[0]} is set but TOVHOLDER_OIDC_ISSUER is not")
            if not self.local_login:
                raise ValueError("TOVHOLDER_LOCAL_LOGIN=false needs an identity provider (TOVHOLDER_OIDC_ISSUER): "
                                 "nobody could log in")
            return self
        self.oidc_issuer = self.oidc_issuer.strip()
        if not https_or_loopback(self.oidc_issuer):
            raise ValueError("TOVHOLDER_OIDC_ISSUER must be an https:// URL (http:// only on 127.0.0.1 or localhost)")
        if self.oidc_redirect_uri and not https_or_loopback(self.oidc_redirect_uri):
            raise ValueError("TOVHOLDER_OIDC_REDIRECT_URI must be an https:// URL (http:// only on 127.0.0.1 or localhost)")
        if not self.oidc_client_id:
            raise ValueError("TOVHOLDER_OIDC_ISSUER is set but TOVHOLDER_OIDC_CLIENT_ID is not")
        if not self.oidc_group_map:
            raise ValueError("TOVHOLDER_OIDC_ISSUER is set but TOVHOLDER_OIDC_GROUP_MAP (the TOML file from groups to "
                             "roles and units) is not")
        if "openid" not in self.oidc_scopes.split():
            raise ValueError("TOVHOLDER_OIDC_SCOPES must include openid")
        return self

    def signing_key(self) -> str:
        """The key that signs tokens and sessions; refuses to invent one outside demo mode."""
        if self.secret_key:
            if len(self.secret_key.strip()) < MIN_SECRET_KEY_LENGTH:
                # HS256 wants at least 32 bytes; a short key makes tokens guessable offline.
                raise SettingsError(f"TOVHOLDER_SECRET_KEY is too short: use at least {MIN_SECRET_KEY_LENGTH} "
                                    "characters (for example the output of 'openssl rand -hex 32')")
            return self.secret_key
        if self.demo_mode:
            return DEMO_SECRET_KEY
        raise SettingsError("TOVHOLDER_SECRET_KEY is not set (required outside demo mode)")

    def audit_key(self) -> bytes:
        """The key of the audit trail's hash chain: TOVHOLDER_AUDIT_SECRET, else derived from the signing key.

        Derived, not the signing key itself, so that a token key that leaks does not also let anyone
        forge a chain, and the two purposes never share bytes.
        """
        if self.audit_secret is not None:
            if len(self.audit_secret.strip()) < MIN_SECRET_KEY_LENGTH:
                raise SettingsError(f"TOVHOLDER_AUDIT_SECRET is too short: use at least {MIN_SECRET_KEY_LENGTH} "
                                    "characters (for example the output of 'openssl rand -hex 32')")
            return self.audit_secret.encode("utf-8")
        # hex, so that the derived key can be written down as TOVHOLDER_AUDIT_SECRET before the secret key rotates
        derived = hmac.new(self.signing_key().encode("utf-8"), b"tovholder audit chain", hashlib.sha256).hexdigest()
        return derived.encode("ascii")


def https_or_loopback(url: str) -> bool:
    """Tokens and codes travel over TLS; plain http only to this machine (tests, a developer's provider)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if not parts.hostname or parts.username or parts.password:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment; turn validation errors into one clear line."""
    try:
        return Settings(**overrides)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        errors = exc.errors() if isinstance(exc, ValidationError) else []
        if errors:
            first = errors[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            message = str(first.get("msg", "")).removeprefix("Value error, ")
            # a check across several settings has no single field to name; its message names them
            raise SettingsError(f"invalid configuration {where}: {message}" if where
                                else f"invalid configuration: {message}") from None
        raise SettingsError(str(exc)) from None
