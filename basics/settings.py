"""Settings read from ``TENANTGRAPH_*`` environment variables.

Production refuses to start without a real secret; development generates one
once and keeps it in a git-ignored file so tokens survive restarts.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_FILE = Path(".tenantgraph-secret")
DEV_ERASURE_KEY_FILE = Path(".tenantgraph-erasure-key")
MIN_SECRET_LENGTH = 32


class SettingsError(RuntimeError):
    """The configuration cannot be used; the message says which variable to fix."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TENANTGRAPH_", extra="ignore")

    env: Literal["development", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./tenantgraph.db"
    # PostgreSQL connections each server process keeps open, and how many more
    # it may open for a burst (closed again when returned). A request holds up
    # to two (its reads, a write); a connection opened under load costs an
    # authentication and a fresh statement cache, so keep the pool at least as
    # large as the requests a process serves at once.
    database_pool_size: int = Field(default=30, ge=1)
    database_max_overflow: int = Field(default=20, ge=0)
    secret_key: str = ""
    jwt_issuer: str = "tenantgraph"
    jwt_audience: str = "tenantgraph-api"
    staff_token_minutes: int = Field(default=60, ge=1)
    subject_token_minutes: int = Field(default=15, ge=1)
    default_page_size: int = Field(default=50, ge=1)
    max_page_size: int = Field(default=500, ge=1)
    max_query_depth: int = Field(default=10, ge=1)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=5000, ge=1)
    max_directives: int = Field(default=20, ge=0)
    # Rows an operation may touch, estimated from page sizes along every path.
    max_query_cost: int = Field(default=100_000, ge=1)
    # Read operations compile to one SQL statement per root field ("on"); "off"
    # leaves every read to the executor; "compare" runs both and reports any
    # difference (the test suite's proof that both answer alike).
    compiled_reads: Literal["on", "off", "compare"] = "on"
    execution_timeout_seconds: float = Field(default=10.0, gt=0)
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    # Whole request bodies, uploads included; larger bodies are refused with 413.
    max_body_bytes: int = Field(default=11 * 1024 * 1024, ge=1024)
    # A JSON body (an operation and its variables, no files): larger is a 413.
    max_json_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Browser origins allowed to call the API (CORS); empty: same-origin only.
    cors_origins: list[str] = Field(default_factory=list)
    sql_echo: bool = False
    # Key of the erasure journal's keyed hashes. It must live outside the
    # database (and its backups), or the journal could be reversed with it.
    erasure_key: str = ""
    # Outgoing mail for one-time codes and notices; without a host, messages
    # stay in the outbox (development: `tenantgraph outbox` prints them).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "no-reply@tenantgraph.invalid"
    smtp_starttls: bool = True
    # Public online booking: startBooking / completeBooking calls per client
    # address per fixed window, counted in the database (0 turns the limit off).
    booking_rate_limit: int = Field(default=30, ge=0)
    booking_rate_window_seconds: int = Field(default=600, ge=1)
    # Login and one-time codes (requestSubjectLogin, verifySubjectLogin,
    # rectifyMyData, confirmRectification): stricter, per client address, shared
    # by every process through the database.
    code_rate_limit: int = Field(default=10, ge=0)
    code_rate_window_seconds: int = Field(default=900, ge=1)
    # Every authenticated request, per API key, staff member or data subject
    # (anonymous callers: per client address): a token bucket of this many
    # requests refilled over the window, kept in each server process.
    principal_rate_limit: int = Field(default=600, ge=0)
    principal_rate_window_seconds: int = Field(default=60, ge=1)
    # Introspection in production: "off", or "principal" (each signed-in caller
    # sees the schema of its own roles). In development everyone may introspect.
    introspection: Literal["off", "principal"] = "off"

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def production_problems(self) -> list[str]:
        """One line per required secret that production lacks; empty when it may start."""
        if not self.is_production:
            return []
        problems: list[str] = []
        if not self.secret_key:
            problems.append(
                "TENANTGRAPH_SECRET_KEY is required in production "
                f"(a random string of at least {MIN_SECRET_LENGTH} characters)"
            )
        elif len(self.secret_key) < MIN_SECRET_LENGTH:
            problems.append(
                f"TENANTGRAPH_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters"
            )
        if not self.erasure_key:
            problems.append(
                "TENANTGRAPH_ERASURE_KEY is required in production "
                "(the erasure journal's key, kept outside the database and its backups)"
            )
        return problems

    def require_startable(self) -> None:
        """Refuse to serve with a configuration that would fail on first use.

        Production names every missing secret at once, so an operator fixes them
        in one go; development creates its keys on first use.
        """
        problems = self.production_problems()
        if problems:
            raise SettingsError("\n".join(problems))
        self.signing_key()
        self.erasure_journal_key()

    def signing_key(self) -> str:
        """The HS256 key; in development a generated key kept in a local file."""
        if self.secret_key:
            if self.is_production and len(self.secret_key) < MIN_SECRET_LENGTH:
                raise SettingsError(
                    f"TENANTGRAPH_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters"
                )
            return self.secret_key
        if self.is_production:
            raise SettingsError("TENANTGRAPH_SECRET_KEY is required in production")
        if DEV_SECRET_FILE.exists():
            return DEV_SECRET_FILE.read_text().strip()
        key = secrets.token_urlsafe(48)
        DEV_SECRET_FILE.write_text(key + "\n")
        DEV_SECRET_FILE.chmod(0o600)
        self.secret_key = key
        return key

    def erasure_journal_key(self) -> bytes:
        """The journal key; generated once into a git-ignored file in development."""
        if self.erasure_key:
            return self.erasure_key.encode()
        if self.is_production:
            raise SettingsError("TENANTGRAPH_ERASURE_KEY is required in production")
        if DEV_ERASURE_KEY_FILE.exists():
            return DEV_ERASURE_KEY_FILE.read_text().strip().encode()
        key = secrets.token_urlsafe(48)
        DEV_ERASURE_KEY_FILE.write_text(key + "\n")
        DEV_ERASURE_KEY_FILE.chmod(0o600)
        self.erasure_key = key
        return key.encode()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
