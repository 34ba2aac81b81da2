"""Settings: the one place that reads the environment."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///regledger.db"


class Settings(BaseSettings):
    """``REGLEDGER_*`` environment variables; command-line options override them."""

    model_config = SettingsConfigDict(env_prefix="REGLEDGER_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    # A hot standby of database_url (issue 23): reads go there, writes to the primary.
    read_database_url: str | None = None
    # How long a read that must see a write just made waits for the standby, before it reads
    # the primary instead (the console after a case action).
    read_your_writes_wait_s: float = Field(default=2.0, ge=0, le=30)
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "warning"
    batch_size: int = 1_000
    # ``ingest`` on PostgreSQL projects in a second process from this much input on (ops.projector): 0 always,
    # a huge value never (one process, as ``ingest`` ran before issue 22).
    ingest_process_min_bytes: int = Field(default=8 * 1024 * 1024, ge=0)
    debug: bool = False
    signing_key: str | None = None  # PEM file of the Ed25519 key that signs digests
    # A corrected copy of policies/citations.toml that the firm's counsel keeps (default: the
    # packaged one); checked at start-up.
    citations: str | None = None
    report_dir: str = "reports"  # where ``regledger report nightly`` writes nightly-DATE/
    # The console's sessions end after this long without a request, and this long after the
    # log-in whatever happens: a working day, not the lifetime of the token.
    session_idle_minutes: int = Field(default=8 * 60, ge=1, le=7 * 24 * 60)
    session_absolute_minutes: int = Field(default=12 * 60, ge=1, le=7 * 24 * 60)
    # Set when a TLS-terminating proxy serves the API (``serve --behind-tls``): the console's
    # cookie is then Secure (and __Host- prefixed) and the server's own origin is https://.
    behind_tls: bool = False

    # -- cases (issue 18) --
    # The CLI's operator: who `regledger case ...` acts as, recorded with actor_source
    # "cli-setting". Set per login account by whoever administers the machine, so that the
    # name on the ledger is not whatever a flag said. It is also "me" in the CLI's "my queue"
    # (``findings --assignee me``).
    operator: str | None = Field(default=None, max_length=128)
    # Officers besides the names of active officer tokens (comma-separated in the environment):
    # the only names a case may be assigned to, and the only CLI operators accepted.
    officers: str = ""
    # Severities whose cases close only with a second, different officer's approval.
    four_eyes_severities: str = "critical,high"

    # -- notifications (issue 18) --
    notify_severities: str = "critical"
    notify_webhook_url: str | None = None
    notify_webhook_secret: str | None = None  # HMAC-SHA256 key of the X-Regledger-Signature header
    notify_smtp_host: str | None = None
    notify_smtp_port: int = Field(default=25, ge=1, le=65535)
    notify_smtp_from: str = "regledger@localhost"
    notify_smtp_to: str = ""  # comma-separated addresses
    notify_poll_s: float = Field(default=5.0, gt=0, le=60)

    def names(self, field: str) -> frozenset[str]:
        """A comma-separated setting as a set of names."""
        value = getattr(self, field)
        return frozenset(part.strip() for part in value.split(",") if part.strip())


def load_settings() -> Settings:
    return Settings()
