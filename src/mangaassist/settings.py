"""Settings from the environment (prefix ``MANGAASSIST_``) or a ``.env`` file.

Every setting is listed, with its default and meaning, in the README's settings table; a test
keeps the two in step.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Everything an operator can configure. Defaults run fully offline on embedded backends."""

    model_config = SettingsConfigDict(
        env_prefix="MANGAASSIST_", env_file=".env", extra="ignore", frozen=True
    )

    store_url: str = Field(
        "sqlite:///var/mangaassist.db",
        description="Store database: `sqlite:///path` (WAL mode) or `postgresql://user@host/db`.",
    )
    host: str = Field("127.0.0.1", description="Interface `mangaassist serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `mangaassist serve` listens on.")
    workers: int = Field(1, ge=1, le=64, description="API worker processes of `serve`.")
    max_body_bytes: int = Field(
        65536, ge=1024, description="Largest accepted request body; larger ones get 413."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Lowest log level written."
    )
    log_format: Literal["json", "console"] = Field(
        "json", description="`json` (one object per line) or `console` (human-readable)."
    )
    catalog_refresh_s: float = Field(
        1.0,
        ge=0.0,
        description="How often a process checks the store for catalog changes to re-index.",
    )
