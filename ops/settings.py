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
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "warning"
    batch_size: int = 1_000
    debug: bool = False
    # Who is at the keyboard, for the CLI's "my queue" (``findings --assignee me``).
    operator: str | None = None
    signing_key: str | None = None  # PEM file of the Ed25519 key that signs digests
    report_dir: str = "reports"  # where ``regledger report nightly`` writes nightly-DATE/
    # The console's sessions end after this long without a request, and this long after the
    # log-in whatever happens: a working day, not the lifetime of the token.
    session_idle_minutes: int = Field(default=8 * 60, ge=1, le=7 * 24 * 60)
    session_absolute_minutes: int = Field(default=12 * 60, ge=1, le=7 * 24 * 60)
    # Set when a TLS-terminating proxy serves the API (``serve --behind-tls``): the console's
    # cookie is then Secure (and __Host- prefixed) and the server's own origin is https://.
    behind_tls: bool = False


def load_settings() -> Settings:
    return Settings()
