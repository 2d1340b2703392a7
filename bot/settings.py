"""Runtime configuration: one pydantic-settings class, read from the environment and ``.env``.

Built once in ``main()`` and passed down; nothing reads it at import time. The token is a :class:`SecretStr`, so it
never shows up in a repr, a log line or a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The catalog shipped with the source tree: ``data/`` beside the ``bot`` package.
SHIPPED_CATALOG = Path(__file__).resolve().parent.parent / "data"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    """Every setting the bot reads. ``.env.example`` and the README's configuration table mirror this class."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    discord_token: SecretStr | None = Field(
        default=None, description="The bot token from the Discord developer portal. Required by `run`."
    )
    database_path: Path = Field(default=Path("filmclub.db"), description="The SQLite database file.")
    database_url: SecretStr | None = Field(
        default=None,
        description="A PostgreSQL database (`postgresql://user:password@host/db`); when set, used instead of SQLite.",
    )
    catalog_path: Path = Field(
        default=SHIPPED_CATALOG, description="A catalog folder (every *.toml in it) or a single catalog file."
    )
    dev_guild_id: int | None = Field(
        default=None, description="A server id: commands are synced to that server at every start, instantly."
    )
    sync_commands: bool = Field(
        default=False,
        description="Sync the global command tree at start-up (first run and after upgrades; takes up to an hour).",
    )
    guild_ready_timeout: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="Seconds to wait for more servers to stream in after connecting before reporting ready.",
    )
    log_level: LogLevel = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL.")
    picks_grace_hours: float = Field(
        default=24.0,
        ge=0,
        description="Weekly picks missed while the bot was down are posted at start-up within this many hours.",
    )
    discord_timeout: float = Field(
        default=30.0,
        gt=0,
        le=300,
        description="Seconds to wait for Discord to answer at start-up (log-in, command sync) before giving up.",
    )
    discord_api_base_url: AnyHttpUrl | None = Field(
        default=None,
        description="Discord's REST API base URL; set only for a REST proxy (or the tests' loopback Discord).",
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, url: SecretStr | None) -> SecretStr | None:
        """An empty ``DATABASE_URL=`` means SQLite, like an absent one."""
        if url is None or not url.get_secret_value().strip():
            return None
        if not url.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql://")
        return url

    def database_target(self) -> str | Path:
        """What :func:`bot.db.database.open_database` opens: the PostgreSQL URL if set, else the SQLite file."""
        return self.database_path if self.database_url is None else self.database_url.get_secret_value()


def environment_variables() -> tuple[str, ...]:
    """The environment variable that sets each field of :class:`Settings` (what ``.env.example`` lists)."""
    prefix = Settings.model_config.get("env_prefix", "")
    return tuple(f"{prefix}{name}".upper() for name in Settings.model_fields)
