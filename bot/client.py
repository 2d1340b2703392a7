"""The bot process: a ``commands.Bot`` that owns the database and the extensions, and the ``run`` entry point."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import pkgutil
import signal
import sys
from collections.abc import Collection, Coroutine
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
import discord
import yarl
from discord.ext import commands
from discord.gateway import DiscordWebSocket

import cogs
from bot.core.catalog import catalog_generation, load_catalog
from bot.core.clock import SystemClock
from bot.core.details import FilmDetailsService
from bot.core.errors import CatalogInvalid
from bot.core.films import ClubTitles, Film, ServerTitles, build_title_index, resolve_film
from bot.core.leavers import Leavers
from bot.core.letterboxd_live import FeedReader
from bot.core.search import TitleIndex
from bot.core.tasks import BackgroundTasks
from bot.core.timers import TimerService
from bot.db.database import Database, DatabaseUnavailable, ShardsInUse, open_database
from bot.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE
from bot.services import letterboxd_feed
from bot.services.tmdb import client_from_settings
from bot.settings import Settings
from bot.tree import FilmClubTree
from bot.ui.members import find_member
from bot.ui.replies import LateAutocompleteLog
from bot.web.app import SiteServices, origin_of
from bot.web.server import WebServer, WebServerUnavailable, create_app

log = logging.getLogger(__name__)

T = TypeVar("T")


#: CPython collects young objects every 700 net allocations by default; a burst of interactions allocates that in
#: a couple of clicks, and the collections (with start-up objects still scanned) paused the loop for tens of ms.
GC_THRESHOLDS = (20_000, 10, 10)

#: How often the running bot asks whether the catalog in its database changed (``filmclub catalog load`` run by
#: another process): one primary-key read. When it did, the title index is rebuilt; the recommendation engine checks
#: the same generation on every request.
CATALOG_CHECK_INTERVAL = 3.0

#: How long the web pages remember a member's display name (fetched from Discord when not cached), and how many.
MEMBER_NAME_TTL = 3600.0
MEMBER_NAMES_KEPT = 50_000


def settle_garbage_collector() -> None:
    """Once started: freeze what start-up built (modules, commands, the catalog index, the guild cache) out of the
    cyclic collector's scans, and collect young objects less often. Measured by bench/polls.py (vote bursts)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def discover_extensions() -> list[str]:
    """Every module or package in ``cogs/`` (a big feature is a package whose ``__init__`` holds ``setup``): adding
    a feature is adding a file or a folder, with nothing else to register."""
    return sorted(f"cogs.{module.name}" for module in pkgutil.iter_modules(cogs.__path__))


def use_api_base_url(base_url: str) -> None:
    """Point discord.py's REST client (and its webhook client, which shares ``Route``) at another base URL.

    ``Route.BASE`` is the class attribute discord.py itself rewrites to change API versions; it is the one place
    every REST call is built from. The gateway follows in :meth:`FilmClubBot.setup_hook`, once logged in.
    """
    discord.http.Route.BASE = base_url.rstrip("/")


class FilmClubBot(commands.AutoShardedBot):
    """Opens the database, loads the catalog and every cog, and syncs commands before connecting to the gateway.

    Always discord.py's sharded bot, running the shards SHARD_IDS names out of SHARD_COUNT (by default shard 0 of 1,
    one gateway connection, as an unsharded bot has), so one class serves a small club and one process of many.
    """

    def __init__(self, settings: Settings) -> None:
        # The bot never joins voice: discord.py's start-up warnings that PyNaCl and davey (voice) are missing are noise.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        intents = discord.Intents.none()
        intents.guilds = True  # channels, roles and the guild itself
        intents.voice_states = True  # who sits in a voice channel, for watch parties (not a privileged intent)
        intents.guild_messages = True  # MESSAGE_UPDATE carries a native poll's final counts (not privileged)
        intents.guild_scheduled_events = True  # a moderator moving or deleting a screening's event (not privileged)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            tree_cls=FilmClubTree,
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=settings.guild_ready_timeout,
            shard_count=settings.shard_count,
            shard_ids=list(settings.shard_ids),
        )
        self.settings = settings
        self.shard_set = settings.shards
        self.clock = SystemClock()
        self.started_at = self.clock.now()
        self._db: Database | None = None
        self._timers: TimerService | None = None
        self._login_deadline: asyncio.Timeout | None = None
        self._tasks = BackgroundTasks("bot")
        self._closing: asyncio.Task[None] | None = None
        self.titles = TitleIndex([])
        self._catalog_generation: int | None = None  # what self.titles was built from
        self._server_titles: ServerTitles | None = None
        self._details: FilmDetailsService | None = None
        self._letterboxd: letterboxd_feed.LetterboxdFeed | None = None
        self._web: WebServer | None = None
        self._member_names: dict[tuple[int, int], tuple[str | None, float]] = {}
        #: What each feature does when a member leaves a server (features register in ``cog_load``; cogs/members.py
        #: hears of leavers).
        self.leavers = Leavers()

    @property
    def db(self) -> Database:
        if self._db is None:
            raise RuntimeError("the database is opened in setup_hook; it is not available before")
        return self._db

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
        """Start a background task that the bot keeps until it ends and cancels (and awaits) when it closes."""
        return self._tasks.spawn(coro, name=name)

    #: What ``run`` exits with once the bot has closed: 0, unless something ended it that a restart should fix.
    exit_code = EXIT_OK

    def request_close(self) -> None:
        """Close once, from a signal handler (which cannot await); a second signal while closing changes nothing."""
        if self._closing is None:
            self._closing = asyncio.get_running_loop().create_task(self.close(), name="filmclub-close")

    async def wait_closed(self) -> None:
        """Wait for the close a signal started to finish. discord.py's ``start`` returns as soon as the gateway is
        closed, while ``close`` still has the film-details client and the database to close: returning then would
        cancel it half-way and leave the database's thread running, and the process would never exit."""
        if self._closing is not None:
            await self._closing

    @property
    def details(self) -> FilmDetailsService:
        """Film details, posters and where to watch (TMDb), cached; ``details.enabled`` is False without
        ``TMDB_API_KEY``, and every caller copes with no details."""
        if self._details is None:
            raise RuntimeError("film details are set up in setup_hook; they are not available before")
        return self._details

    @property
    def letterboxd(self) -> FeedReader:
        """Members' Letterboxd feeds (LETTERBOXD_BASE_URL), read politely: one client, so one concurrency cap."""
        if self._letterboxd is None:
            raise RuntimeError("the Letterboxd feed client is set up in setup_hook; it is not available before")
        return self._letterboxd

    @property
    def timers(self) -> TimerService:
        """Persisted timers; cogs register their handlers in ``cog_load`` and schedule through this."""
        if self._timers is None:
            raise RuntimeError("timers are created in setup_hook; they are not available before")
        return self._timers

    async def login(self, token: str) -> None:
        """discord.py's log-in (which then runs :meth:`setup_hook`), but Discord must answer within DISCORD_TIMEOUT:
        aiohttp alone waits five minutes on a server that accepted the connection and never answers."""
        async with asyncio.timeout(self.settings.discord_timeout) as self._login_deadline:
            await super().login(token)

    async def setup_hook(self) -> None:
        if self._login_deadline is not None:
            self._login_deadline.reschedule(None)  # Discord answered; our own start-up work has no deadline
        async with asyncio.timeout(self.settings.discord_timeout):
            if self.settings.discord_api_base_url is not None:
                await self._use_gateway_of_api()
        await self.open_services()
        await self.load_extensions()
        async with asyncio.timeout(self.settings.discord_timeout):
            await self._sync_commands()
        self.spawn(self._start_timers_when_ready(), name="filmclub-start-timers")
        self.spawn(self._watch_catalog(), name="filmclub-watch-catalog")
        await self.start_web_server()

    async def start_web_server(self) -> None:
        """The clubs' read-only web pages (WEB_PORT; off when unset), served from this process."""
        if self.settings.web_port is None:
            return
        site = SiteServices(
            db=self.db,
            clock=self.clock,
            titles_for=self.titles_for,
            details=self.details,
            club_name=self._club_name,
            member_names=self.member_names,
            base_url=self.settings.web_url(),
            image_origin=origin_of(str(self.settings.tmdb_image_base_url)) if self.details.enabled else None,
        )
        app = create_app(site, per_minute=self.settings.web_rate_limit)
        self._web = WebServer(app, self.settings.web_host, self.settings.web_port)
        await self._web.start()

    async def member_names(self, guild_id: int, user_ids: Collection[int]) -> dict[int, str]:
        """Members' display names for the web pages (only where moderators show them): the cache, else Discord,
        remembered for :data:`MEMBER_NAME_TTL` seconds; one who left the server (or cannot be fetched) is left out."""
        guild = self.get_guild(guild_id)
        if guild is None:
            return {}
        names: dict[int, str] = {}
        now = asyncio.get_running_loop().time()
        for user_id in sorted(user_ids):
            remembered = self._member_names.get((guild_id, user_id))
            if remembered is not None and remembered[1] > now:
                if remembered[0] is not None:
                    names[user_id] = remembered[0]
                continue
            try:
                member = await find_member(guild, user_id)
            except discord.HTTPException:
                log.warning("could not fetch member %s of %s for the web page", user_id, guild_id, exc_info=True)
                continue
            name = None if member is None else member.display_name
            self._member_names[(guild_id, user_id)] = (name, now + MEMBER_NAME_TTL)
            if name is not None:
                names[user_id] = name
        if len(self._member_names) > MEMBER_NAMES_KEPT:
            self._member_names.clear()
        return names

    def _club_name(self, guild_id: int) -> str | None:
        guild = self.get_guild(guild_id)
        return guild.name if guild is not None else None

    async def open_services(self) -> None:
        """What cogs rely on: the migrated database, the loaded catalog and its title index, the timer service."""
        log.info("running %s", self.shard_set.describe())
        self._db = await open_database(self.settings.database_target())
        await self._db.migrate()
        summary = await load_catalog(self._db, self.settings.catalog_path)
        log.info("%s", summary.describe())
        await self.refresh_catalog()
        self._details = FilmDetailsService(self._db, self.clock, client_from_settings(self.settings))
        self._letterboxd = letterboxd_feed.client_from_settings(self.settings)
        if self._details.enabled:
            log.info(
                "film details from TMDb at %s (region %s)",
                urlsplit(str(self.settings.tmdb_api_base_url)).hostname,
                self.settings.watch_region,
            )
            removed = await self._details.forget_expired()
            if removed:
                log.info("forgot %d cached TMDb answers stale for months", removed)
        else:
            log.info("film details are off (no TMDB_API_KEY): the bot shows what the catalog and members provide")
        # Before any timer is claimed: the shards' lock makes this process their only runner (PostgreSQL).
        await self._db.hold_shards(self.settings.shard_ids, on_lost=self._shards_lost)
        self._timers = TimerService(
            self._db, self.clock, shard_count=self.settings.shard_count, shard_ids=self.settings.shard_ids
        )

    def _shards_lost(self) -> None:
        """The database connection holding this process's shards ended (the server restarted, the network
        failed): another process may take the shards now, so this one stops, and its supervisor restarts it."""
        log.critical(
            "lost the database lock on %s; stopping so that a restart takes them again", self.shard_set.describe()
        )
        self.exit_code = EXIT_FAILED
        self.request_close()

    async def load_extensions(self) -> None:
        """Load every cog; one that fails is logged and stops the start, rather than running half a bot."""
        for extension in discover_extensions():
            try:
                await self.load_extension(extension)
            except commands.ExtensionError:
                log.exception("extension %s failed to load; refusing to start half-working", extension)
                raise
            log.info("loaded extension %s", extension)

    async def titles_for(self, guild_id: int | None) -> ClubTitles:
        """The films members of ``guild_id`` can name (autocomplete, typed titles): the curated catalog's index and
        the server's own films'."""
        if self._server_titles is None:
            self._server_titles = ServerTitles(self.db)
        return await self._server_titles.for_guild(self.titles, guild_id)

    def forget_server(self, guild_id: int) -> None:
        """Drop what this process derived from the server's data (its data was just deleted)."""
        if self._server_titles is not None:
            self._server_titles.forget(guild_id)

    async def resolve_film(self, guild_id: int | None, text: str) -> Film:
        """The film a member of ``guild_id`` named (:func:`bot.core.films.resolve_film`), or a helpful error."""
        return await resolve_film(self.db, await self.titles_for(guild_id), text, guild_id=guild_id)

    async def refresh_catalog(self) -> bool:
        """Rebuild what the bot derived from the catalog (the title index) if the catalog changed since it was last
        built; return whether it did."""
        generation = await catalog_generation(self.db)
        if generation == self._catalog_generation:
            return False
        self.titles = await build_title_index(self.db)
        previous, self._catalog_generation = self._catalog_generation, generation
        if previous is not None:
            log.info("the catalog changed (generation %d → %d); title index rebuilt", previous, generation)
        return True

    async def _watch_catalog(self) -> None:
        """Notice a catalog loaded into the database by another process while the bot runs."""
        while True:
            await asyncio.sleep(CATALOG_CHECK_INTERVAL)
            try:
                await self.refresh_catalog()
            except Exception:
                log.exception("could not check the catalog for changes; trying again shortly")

    async def _start_timers_when_ready(self) -> None:
        """Re-arm persisted timers once the gateway is ready; overdue ones (the bot was down) run at once."""
        await self.wait_until_ready()
        settle_garbage_collector()
        self.timers.start()
        log.info("timers re-armed")

    async def _use_gateway_of_api(self) -> None:
        """With a custom API, connect to the gateway that API names: discord.py's ``Client`` otherwise dials
        ``DiscordWebSocket.DEFAULT_GATEWAY`` (Discord's own) without asking ``GET /gateway/bot``."""
        _shards, url, _limits = await self.http.get_bot_gateway()
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        log.info("using the gateway named by the configured API: %s", url)

    async def _sync_commands(self) -> None:
        if self.settings.dev_guild_id is not None:
            guild = discord.Object(id=self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to development guild %s", len(synced), guild.id)
        if self.settings.sync_commands:
            synced = await self.tree.sync()
            log.info("synced %d global commands (Discord may take up to an hour to show them)", len(synced))

    async def on_ready(self) -> None:
        log.info(
            "filmclub ready as %s (id %s) in %d guild(s) on %s",
            self.user,
            self.user and self.user.id,
            len(self.guilds),
            self.shard_set.describe(),
        )

    async def close(self) -> None:
        if self._web is not None:
            await self._web.stop()
            self._web = None
        if self._timers is not None:
            await self._timers.stop()
        await self._tasks.close()
        await super().close()
        if self._details is not None:
            await self._details.close()
            self._details = None
        if self._letterboxd is not None:
            await self._letterboxd.close()
            self._letterboxd = None
        if self._db is not None:
            await self._db.close()
            self._db = None
            log.info("database closed")


def describe_network_failure(error: Exception, timeout: float) -> str:
    """Why Discord could not be reached, in words an operator acts on (no traceback: nothing in our code is wrong)."""
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return f"the host name {error.host} does not resolve ({error.os_error.strerror or 'DNS failure'})"
    if isinstance(error, aiohttp.ClientConnectorError):
        code = error.os_error.errno
        reason = os.strerror(code).lower() if code else str(error.os_error)
        return f"cannot connect to {error.host}:{error.port} ({reason})"
    if isinstance(error, TimeoutError):
        return f"no answer within {timeout:g} s (DISCORD_TIMEOUT)"
    if isinstance(error, discord.DiscordServerError):
        return f"Discord's API answered {error.status} {error.response.reason} to every attempt"
    return str(error) or type(error).__name__


#: Failures of the network or of Discord itself, as opposed to bugs: they end the start with one line.
NETWORK_FAILURES = (aiohttp.ClientConnectionError, TimeoutError, discord.DiscordServerError)


#: Gateway close codes that refuse a shard's IDENTIFY: a configuration to fix, not a network to retry.
SHARD_REFUSALS = {
    4010: "4010 invalid shard: out of range, or another process already runs it",
    4011: "4011 sharding required: too many servers per shard, so SHARD_COUNT must grow",
}


async def run_bot(settings: Settings) -> int:
    """Run until SIGINT/SIGTERM (exit 0) or a start-up failure (one clear line and a non-zero exit code; see
    :mod:`bot.exit_codes`)."""
    if settings.discord_token is None:
        raise ValueError("run_bot needs settings.discord_token")
    if settings.discord_api_base_url is not None:
        use_api_base_url(str(settings.discord_api_base_url))
    logging.getLogger("discord.app_commands.tree").addFilter(LateAutocompleteLog())
    bot = FilmClubBot(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, bot.request_close)
    try:
        async with bot:
            await bot.start(settings.discord_token.get_secret_value())
    except discord.LoginFailure:
        print(
            "filmclub: Discord rejected DISCORD_TOKEN (401 Unauthorized); copy the token again from the "
            "developer portal into .env",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except discord.PrivilegedIntentsRequired:
        print(
            "filmclub: Discord refused the gateway intents; this bot needs no privileged intents, so check "
            "the application settings",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except discord.ConnectionClosed as exc:
        if exc.code not in SHARD_REFUSALS:
            raise
        print(
            f"filmclub: Discord refused shard {exc.shard_id} ({SHARD_REFUSALS[exc.code]}); check SHARD_COUNT and "
            f"SHARD_IDS (this process runs {settings.shards.describe()})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except NETWORK_FAILURES as exc:
        print(
            f"filmclub: could not reach Discord at {discord.http.Route.BASE}: "
            f"{describe_network_failure(exc, settings.discord_timeout)}; check the network (and DISCORD_API_BASE_URL)",
            file=sys.stderr,
        )
        return EXIT_UNREACHABLE
    except DatabaseUnavailable as exc:
        print(f"filmclub: not starting: {exc} (check DATABASE_URL)", file=sys.stderr)
        return EXIT_UNREACHABLE if exc.retry else EXIT_USAGE
    except ShardsInUse as exc:
        print(
            f"filmclub: not starting: {exc}; every shard must run in exactly one process (SHARD_IDS)", file=sys.stderr
        )
        return EXIT_UNREACHABLE
    except WebServerUnavailable as exc:
        print(f"filmclub: not starting: {exc}; change WEB_HOST or WEB_PORT", file=sys.stderr)
        return EXIT_USAGE
    except CatalogInvalid as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print(f"filmclub: not starting: {exc} (run `filmclub catalog check`)", file=sys.stderr)
        return EXIT_FAILED
    await bot.wait_closed()
    log.info("stopped")
    return bot.exit_code
