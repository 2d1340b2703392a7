"""Runtime configuration: one pydantic-settings class, read from the environment and ``.env``.

Built once in ``main()`` and passed down; nothing reads it at import time. The token is a :class:`SecretStr`, so it
never shows up in a repr, a log line or a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.shards import ShardSet, check_shard_ids, parse_shard_ids

#: The catalog shipped with the source tree: ``data/`` beside the ``bot`` package.
SHIPPED_CATALOG = Path(__file__).resolve().parent.parent / "data"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

#: Far more shards than any bot runs (one per 1,000 to 2,500 servers), yet small enough that a typo with extra digits
#: is refused instead of planned for.
MAX_SHARD_COUNT = 100_000

#: The URL schemes asyncpg (and so DATABASE_URL) accepts.
POSTGRES_SCHEMES = ("postgresql", "postgres")

#: TMDb's API (v3 paths; a v4 read-access token authenticates them too) and its image server.
TMDB_API = "https://api.themoviedb.org/3"
TMDB_IMAGES = "https://image.tmdb.org/t/p"

#: Letterboxd's site: members' public RSS feeds are at ``/{username}/rss/`` under it.
LETTERBOXD_SITE = "https://letterboxd.com"


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
    thread_archive_days: int = Field(
        default=3,
        ge=1,
        le=30,
        description="A screening's discussion thread is archived this many days after it opens (1 to 30); the default "
        "for servers without /config screenings archive_days:.",
    )
    attendance_share: int = Field(
        default=50,
        ge=10,
        le=100,
        description="Per cent of the film a member must spend in the screening's voice channel to count as attending; "
        "the default for servers without /config screenings attendance_share:.",
    )
    guild_data_grace_days: float = Field(
        default=30.0,
        gt=0,
        le=365,
        description="When the bot is removed from a server, the server's data is kept this many days (more than 0, at "
        "most 365; decimals are fine) in case the bot is added back, then deleted.",
    )
    letterboxd_interval: int = Field(
        default=30,
        ge=5,
        le=1440,
        description="Minutes between two reads of a linked member's Letterboxd feed (5 to 1440; jittered by up to a "
        "tenth either way; a feed that keeps failing is read less often).",
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
    shard_count: int = Field(
        default=1, ge=1, le=MAX_SHARD_COUNT, description="How many shards the bot has in all (across every process)."
    )
    # NoDecode: the environment's text ("0-3") reaches the validator as it is, not as JSON.
    shard_ids: Annotated[tuple[int, ...], NoDecode] = Field(
        default=(),
        description="The shards this process runs, e.g. `0-3` or `0,2,5`; unset or empty: all of them.",
    )

    tmdb_api_key: SecretStr | None = Field(
        default=None,
        description="A TMDb API key (v3) or read-access token (v4): turns on film details, posters and where to watch.",
    )
    tmdb_api_base_url: AnyHttpUrl = Field(
        default=AnyHttpUrl(TMDB_API), description="TMDb's API base URL; set only for a proxy (or the tests' double)."
    )
    tmdb_image_base_url: AnyHttpUrl = Field(
        default=AnyHttpUrl(TMDB_IMAGES),
        description="Where TMDb's posters are served from; set only for a proxy (or the tests' double).",
    )
    watch_region: str = Field(
        default="US",
        pattern=r"^[A-Z]{2}$",
        description="The country (two capital letters, ISO 3166-1) whose streaming services `/film` lists.",
    )

    letterboxd_base_url: AnyHttpUrl = Field(
        default=AnyHttpUrl(LETTERBOXD_SITE),
        description="Where members' Letterboxd RSS feeds are read (`/{username}/rss/` under it); set only for a proxy "
        "(or the tests' double).",
    )

    web_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Serve the clubs' read-only web pages on this TCP port; unset: no web server.",
    )
    web_host: str = Field(
        default="127.0.0.1",
        min_length=1,
        description="The address the web server listens on (0.0.0.0 for every interface; usually a reverse proxy's).",
    )
    web_base_url: AnyHttpUrl | None = Field(
        default=None,
        description="The web pages' public address, e.g. https://films.example.org (behind a reverse proxy); unset: "
        "http://WEB_HOST:WEB_PORT.",
    )

    web_rate_limit: int = Field(
        default=120,
        ge=0,
        le=1_000_000,
        description="Web requests a minute each visitor may make (half of them at once); 0: no limit.",
    )

    @field_validator("web_port", "web_base_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """An empty value (a commented-out choice, the e2e harness) means unset."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("tmdb_api_key", mode="before")
    @classmethod
    def _optional_key(cls, value: object) -> object:
        """Empty means unset (no provider): the e2e harness and a commented-out ``.env`` line say it that way."""
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(text, str) and not text.strip():
            return None
        return text.strip() if isinstance(text, str) else value

    @field_validator("database_url", mode="before")
    @classmethod
    def _postgres_url(cls, value: object) -> object:
        """Empty means unset (SQLite); anything else must name PostgreSQL. The message never repeats the URL: it
        may hold a password."""
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not isinstance(text, str):
            return value
        if not text.strip():
            return None
        scheme = urlsplit(text.strip()).scheme
        if scheme not in POSTGRES_SCHEMES:
            shown = f"{scheme}://" if scheme else "no scheme"
            raise ValueError(f"must start with postgresql:// (it has {shown}); for SQLite leave it unset")
        return text.strip()

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_ids(cls, value: object, info: ValidationInfo) -> object:
        """Text from the environment ("0-3", "0,2,5") or ids given in code, checked against SHARD_COUNT (validated
        first, being declared first); empty means every shard."""
        count = info.data.get("shard_count")
        if not isinstance(count, int):
            return ()  # SHARD_COUNT itself is invalid and reported; there is nothing to check the ids against
        if isinstance(value, str):
            return parse_shard_ids(value, count) if value.strip() else ()
        if isinstance(value, list | tuple) and value:
            return check_shard_ids((int(shard) for shard in value), count)
        return value

    @model_validator(mode="after")
    def _every_shard_by_default(self) -> Settings:
        if not self.shard_ids:
            self.shard_ids = tuple(range(self.shard_count))
        return self

    @property
    def shards(self) -> ShardSet:
        """The shards this process runs, as the bot and the core use them."""
        return ShardSet(self.shard_count, self.shard_ids)

    def web_url(self) -> str | None:
        """Where visitors reach the web server: WEB_BASE_URL, else its own host and port; None while it is off."""
        if self.web_port is None:
            return None
        if self.web_base_url is not None:
            return str(self.web_base_url).rstrip("/")
        host = f"[{self.web_host}]" if ":" in self.web_host else self.web_host
        return f"http://{host}:{self.web_port}"

    def database_target(self) -> str | Path:
        """What :func:`bot.db.database.open_database` opens: the PostgreSQL URL if set, else the SQLite file."""
        return self.database_path if self.database_url is None else self.database_url.get_secret_value()


def environment_variables() -> tuple[str, ...]:
    """The environment variable that sets each field of :class:`Settings` (what ``.env.example`` lists)."""
    prefix = Settings.model_config.get("env_prefix", "")
    return tuple(f"{prefix}{name}".upper() for name in Settings.model_fields)
