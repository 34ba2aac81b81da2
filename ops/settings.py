"""Settings: the one place that reads the environment."""

from __future__ import annotations

from typing import Literal

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
    signing_key: str | None = None  # PEM file of the Ed25519 key that signs digests
    report_dir: str = "reports"  # where ``regledger report nightly`` writes nightly-DATE/


def load_settings() -> Settings:
    return Settings()
