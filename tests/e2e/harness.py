"""Drive the real bot process through the loopback Discord: launch/stop it, and act as members.

``BotProcess`` runs ``python -m bot run`` (or the minimal bot) against a :class:`FakeDiscord`, keeps its output in a
log file and waits for the "filmclub ready" line. ``DiscordDriver`` is what a test uses as the members' Discord client:
slash commands, autocomplete, buttons, selects, modals, and reading back what a member saw.
"""

# ruff: noqa: ASYNC109 - every wait in the harness takes an explicit, bounded timeout by design

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bot.settings import Settings, environment_variables
from tests.tmdb_double import TmdbDouble

from .fake_discord import (
    EPHEMERAL,
    FakeChannel,
    FakeDiscord,
    FakeMember,
    FakeUser,
    Fault,
    InteractionRecord,
    StoredAttachment,
    StoredMessage,
)
from .fake_discord.world import JSON

REPO = Path(__file__).resolve().parents[2]
MINIMAL_BOT = Path(__file__).with_name("minimal_bot.py")
PROBE_BOT = Path(__file__).with_name("probe_bot.py")
READY_MARKER = "filmclub ready"
DEFAULT_TIMEOUT = 10.0

BotKind = Literal["real", "minimal", "probe"]


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGKILL the bot if the test process dies (a timeout, a crash), so a
    killed test run never leaves a bot behind. Elsewhere nothing is done; the fixtures still stop their bots."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


#: All a bot process inherits from the test run: what Python and the system libraries need, nothing that configures
#: the bot. Its environment is otherwise built from scratch, every setting pinned (see BotProcess.environment).
_INHERITED_VARS = ("PATH", "HOME", "USER", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "SYSTEMROOT")


async def eventually(predicate: Callable[[], object], what: str, seconds: float = 30.0) -> None:
    """Poll until ``predicate()`` holds, for what the loopback Discord cannot wake a waiter on: the bot's database
    (its writes after its last Discord call), the feed server. Discord's own traffic: ``FakeDiscord.wait_until``."""
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {seconds:.0f}s waiting for {what}")


def default_settings() -> dict[str, str]:
    """Every setting that has a default, at that default: a launch then depends on nothing but the test."""
    return {
        name: str(field.default)
        for name, field in zip(environment_variables(), Settings.model_fields.values(), strict=True)
        if field.default is not None
    }


def real_bot_available() -> bool:
    return (REPO / "bot" / "__main__.py").is_file()


def default_bot_kind() -> BotKind:
    """FILMCLUB_E2E_BOT=real|minimal picks the bot; by default the real one once bot/ exists."""
    chosen = os.environ.get("FILMCLUB_E2E_BOT", "").strip().lower()
    if chosen in ("real", "minimal"):
        return chosen  # type: ignore[return-value]
    return "real" if real_bot_available() else "minimal"


class BotFailed(AssertionError):
    """The bot process did not do what the test waited for; the message carries the tail of its output."""


class BotProcess:
    """One bot process at a time, relaunchable on the same database."""

    def __init__(
        self,
        fake: FakeDiscord,
        workdir: Path,
        *,
        kind: BotKind | None = None,
        token: str | None = None,
        db_path: Path | None = None,
        env: dict[str, str] | None = None,
        ready_marker: str = READY_MARKER,
        catalog: Path | None = None,
        tmdb: TmdbDouble | None = None,
    ) -> None:
        self.fake = fake
        self.catalog = catalog
        self.tmdb = tmdb
        self.workdir = workdir
        self.kind: BotKind = kind or default_bot_kind()
        self.token = token if token is not None else fake.token
        self.db_path = db_path or workdir / "club.db"
        self.log_path = workdir / "bot.log"
        self.extra_env = dict(env or {})
        self.ready_marker = ready_marker
        self.lines: list[str] = []
        self.launches = 0
        self.exit_codes: list[int] = []
        self.ready_times: list[float] = []
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._launch_index = 0
        self._launch_request_index = 0
        self._launch_connections = 0
        self._launched_at = 0.0
        self._changed = asyncio.Condition()

    # -- process control -----------------------------------------------------------------------
    @property
    def argv(self) -> list[str]:
        if self.kind == "real":
            return [sys.executable, "-m", "bot", "run"]
        return [sys.executable, str(PROBE_BOT if self.kind == "probe" else MINIMAL_BOT)]

    def environment(self) -> dict[str, str]:
        """The bot's whole environment: every setting pinned (the caller's environment and ``.env`` play no part),
        then the test's own ``env=``."""
        settings = default_settings()
        settings.update(
            {
                "DISCORD_TOKEN": self.token,
                "DISCORD_API_BASE_URL": self.fake.api_base,
                "DATABASE_PATH": str(self.db_path),
                "DATABASE_URL": "",  # empty: SQLite at DATABASE_PATH
                "SHARD_IDS": "",  # empty: every one of SHARD_COUNT's shards
                "DEV_GUILD_ID": str(self.fake.guild.id),
                "SYNC_COMMANDS": "true",
                "LOG_LEVEL": "INFO",
                "GUILD_READY_TIMEOUT": "0.3",
                "TMDB_API_KEY": "",  # empty: no film details provider, unless the test brings the TMDb double
                "WEB_PORT": "",  # empty: no web server, unless the test asks for one (env=)
                "WEB_BASE_URL": "",
            }
        )
        if self.catalog is not None:
            settings["CATALOG_PATH"] = str(self.catalog)
        if self.tmdb is not None:
            settings.update(self.tmdb.env())
        unpinned = set(environment_variables()) - set(settings)
        if unpinned:
            raise RuntimeError(f"the harness does not pin {sorted(unpinned)}: give them a value in environment()")
        env = {name: os.environ[name] for name in _INHERITED_VARS if name in os.environ}
        env.update(settings)
        env.update({"PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO)})
        env.update(self.extra_env)
        return env

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode if self._proc is not None else None

    async def start(self, *, wait_ready: bool = True, timeout: float = 30.0) -> BotProcess:
        if self.running:
            raise RuntimeError("the bot is already running")
        self.launches += 1
        self._launch_index = len(self.lines)
        self._launch_request_index = len(self.fake.requests)
        self._launch_connections = len(self.fake.gateway.connections)
        self._launched_at = time.perf_counter()
        self._append(f"----- launch #{self.launches}: {' '.join(self.argv)} -----")
        self._proc = await asyncio.create_subprocess_exec(
            *self.argv,
            cwd=str(self.workdir),  # no .env here: the settings come from environment() alone
            env=self.environment(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # runs between fork and exec; only calls prctl
        )
        self._reader = asyncio.create_task(self._read_output(self._proc))
        if wait_ready:
            await self.wait_ready(timeout=timeout)
        return self

    def _append(self, line: str) -> None:
        self.lines.append(line)
        with self.log_path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    async def _read_output(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while True:
            raw = await proc.stdout.readline()
            if not raw:
                break
            self._append(raw.decode(errors="replace").rstrip("\n"))
            async with self._changed:
                self._changed.notify_all()
        code = await proc.wait()
        self.exit_codes.append(code)
        self._append(f"----- exited with {code} -----")
        async with self._changed:
            self._changed.notify_all()

    def _since_launch(self) -> list[str]:
        return self.lines[self._launch_index :]

    async def _wait(self, predicate: Callable[[], bool], timeout: float) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    async def wait_ready(self, *, timeout: float = 30.0) -> None:
        def ready_or_dead() -> bool:
            return any(self.ready_marker in line for line in self._since_launch()) or not self.running_or_reading

        try:
            await self._wait(ready_or_dead, timeout)
        except TimeoutError:
            raise BotFailed(f"the bot was not ready within {timeout:.0f}s. {self.diagnose()}\n{self.tail()}") from None
        if not any(self.ready_marker in line for line in self._since_launch()):
            raise BotFailed(f"the bot exited ({self.returncode}) before it was ready. {self.diagnose()}\n{self.tail()}")
        self.ready_times.append(time.perf_counter() - self._launched_at)

    @property
    def running_or_reading(self) -> bool:
        return self.running or (self._reader is not None and not self._reader.done())

    def diagnose(self) -> str:
        """Explain the usual reasons a bot never gets ready against the double."""
        requests = self.fake.requests[self._launch_request_index :]
        routes = {f"{r.method} {r.path}" for r in requests}
        connections = len(self.fake.gateway.connections) - self._launch_connections
        if "GET /users/@me" not in routes:
            return "It never called GET /users/@me: is DISCORD_API_BASE_URL applied to discord.http.Route.BASE?"
        if connections == 0:
            return (
                "It logged in over REST but never opened the gateway websocket. discord.py's non-sharded Client "
                "dials DiscordWebSocket.DEFAULT_GATEWAY and never calls GET /gateway/bot: the bot must set "
                "discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(<url from GET /gateway/bot>) when an "
                "API base URL is configured. See tests/README.md."
            )
        if self.fake.gateway.identify_count == 0:
            return "It opened the gateway but never sent IDENTIFY."
        return f"It connected (gateway connections: {connections}) but never logged {self.ready_marker!r}."

    async def wait_for_log(self, pattern: str, *, timeout: float = DEFAULT_TIMEOUT, since_launch: bool = True) -> str:
        """Wait for an output line containing ``pattern`` (a regex); returns the line."""
        regex = re.compile(pattern)
        found: list[str] = []

        def seen() -> bool:
            lines = self._since_launch() if since_launch else self.lines
            found[:] = [line for line in lines if regex.search(line)]
            return bool(found)

        try:
            await self._wait(seen, timeout)
        except TimeoutError:
            raise BotFailed(f"no output line matched {pattern!r} within {timeout:.0f}s.\n{self.tail()}") from None
        return found[-1]

    async def wait_exit(self, *, timeout: float = DEFAULT_TIMEOUT) -> int:
        proc = self._proc
        if proc is None:
            raise RuntimeError("the bot was never started")
        try:
            async with asyncio.timeout(timeout):
                code = await proc.wait()
                if self._reader is not None:
                    await self._reader
        except TimeoutError:
            raise BotFailed(f"the bot did not exit within {timeout:.0f}s.\n{self.tail()}") from None
        return code

    async def stop(self, *, timeout: float = DEFAULT_TIMEOUT) -> int:
        """SIGTERM and wait; returns the exit code (the contract says 0)."""
        if self._proc is None or self._proc.returncode is not None:
            return self.returncode if self.returncode is not None else 0
        self._proc.send_signal(signal.SIGTERM)
        return await self.wait_exit(timeout=timeout)

    async def kill(self) -> int:
        """kill -9: no chance to clean up (the database must survive it)."""
        if self._proc is None or self._proc.returncode is not None:
            return self.returncode if self.returncode is not None else 0
        self._proc.kill()
        return await self.wait_exit(timeout=DEFAULT_TIMEOUT)

    async def restart(self, *, hard: bool = False, timeout: float = 30.0) -> BotProcess:
        """Stop (SIGTERM, or SIGKILL with hard=True) and launch again on the same database."""
        if hard:
            await self.kill()
        else:
            await self.stop()
        return await self.start(timeout=timeout)

    async def aclose(self) -> None:
        """Make sure no process outlives the test: SIGTERM, then SIGKILL after a grace period."""
        if self._proc is None:
            return
        if self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(5.0):
                    await self._proc.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self._proc.kill()
                await self._proc.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                async with asyncio.timeout(2.0):
                    await self._reader

    # -- output -------------------------------------------------------------------------------------
    def output(self) -> str:
        return "\n".join(self.lines)

    def output_since_launch(self) -> str:
        return "\n".join(self._since_launch())

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.lines[-lines:])


class Reply:
    """What a member saw after an interaction: the response, the (edited) original message and follow-ups."""

    def __init__(self, driver: DiscordDriver, record: InteractionRecord) -> None:
        self.driver = driver
        self.record = record

    def __repr__(self) -> str:
        return f"<Reply interaction={self.record.id} type={self.response_type} content={self.content!r}>"

    @property
    def fake(self) -> FakeDiscord:
        return self.driver.fake

    @property
    def response_type(self) -> int | None:
        return self.record.response_type

    @property
    def deferred(self) -> bool:
        return self.response_type in (5, 6)

    @property
    def message(self) -> StoredMessage | None:
        """The original response (or, for 6/7, the message the component was on), as it is now."""
        if self.record.original_message_id is None:
            return None
        message = self.fake.messages.get(self.record.original_message_id)
        return None if message is None or message.deleted else message

    @property
    def followups(self) -> list[StoredMessage]:
        found = (self.fake.messages.get(i) for i in self.record.followup_ids)
        return [m for m in found if m is not None and not m.deleted]

    @property
    def messages(self) -> list[StoredMessage]:
        first = [self.message] if self.message is not None and self.response_type in (4, 5) else []
        return first + self.followups

    @property
    def content(self) -> str:
        return self.message.content if self.message is not None else ""

    @property
    def embeds(self) -> list[JSON]:
        return self.message.embeds if self.message is not None else []

    @property
    def embed(self) -> JSON:
        if not self.embeds:
            raise AssertionError(f"the reply has no embed: {self!r}")
        return self.embeds[0]

    @property
    def components(self) -> list[JSON]:
        return self.message.components if self.message is not None else []

    @property
    def attachments(self) -> list[StoredAttachment]:
        return self.message.attachments if self.message is not None else []

    @property
    def files(self) -> dict[str, bytes]:
        return {a.filename: a.data for a in self.attachments}

    @property
    def flags(self) -> int:
        return self.message.flags if self.message is not None else 0

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def text(self) -> str:
        """Everything readable in the original message and follow-ups, for ``in`` assertions."""
        return "\n".join(m.text for m in self.messages)

    @property
    def choices(self) -> list[JSON]:
        choices = self.record.choices
        if choices is None:
            raise AssertionError(f"interaction {self.record.id} was not answered with autocomplete choices")
        return choices

    @property
    def modal(self) -> JSON:
        modal = self.record.modal
        if modal is None:
            raise AssertionError(f"interaction {self.record.id} was not answered with a modal: {self!r}")
        return modal

    @property
    def latency(self) -> float | None:
        return self.record.latency

    def button_labels(self) -> list[str]:
        if self.message is None:
            return []
        return [c.get("label", "") for c in self.message.walk_components() if c.get("type") == 2]

    async def wait_visible(self, *, timeout: float = DEFAULT_TIMEOUT) -> Reply:
        """After a deferral, wait until the member sees something (edit of @original or a follow-up)."""

        def visible() -> bool:
            if self.response_type in (4, 6, 7, 8, 9):
                return True
            message = self.message
            return bool(self.followups) or (message is not None and not message.loading)

        await self.driver.wait_until(visible, timeout=timeout, what=f"a visible answer to interaction {self.record.id}")
        return self

    async def wait_followups(self, count: int = 1, *, timeout: float = DEFAULT_TIMEOUT) -> list[StoredMessage]:
        await self.driver.wait_until(
            lambda: len(self.followups) >= count, timeout=timeout, what=f"{count} follow-up(s)"
        )
        return self.followups

    async def wait_edit(self, *, edits: int = 1, timeout: float = DEFAULT_TIMEOUT) -> StoredMessage:
        await self.driver.wait_until(
            lambda: self.message is not None and self.message.edits >= edits, timeout=timeout, what="an edit"
        )
        assert self.message is not None
        return self.message

    def _target_message(self) -> StoredMessage:
        for message in reversed(self.messages):
            if message.components:
                return message
        if self.message is None:
            raise AssertionError(f"nothing to click: {self!r}")
        return self.message

    async def click(self, target: str, *, member: FakeMember | None = None, **kw: Any) -> Reply:
        return await self.driver.click(self._target_message(), target, member=member or self.record.member, **kw)

    async def select(self, target: str, values: list[Any], *, member: FakeMember | None = None, **kw: Any) -> Reply:
        message = self._target_message()
        return await self.driver.select(message, target, values, member=member or self.record.member, **kw)

    async def submit_modal(
        self, values: dict[str, Any] | None = None, *, member: FakeMember | None = None, **fields: Any
    ) -> Reply:
        return await self.driver.submit_modal(self, {**(values or {}), **fields}, member=member)


WaitMode = Literal["visible", "callback", "none"]


class DiscordDriver:
    """The members' side of Discord. Defaults: Alice acting in #general."""

    def __init__(
        self,
        fake: FakeDiscord,
        *,
        member: FakeMember | None = None,
        channel: FakeChannel | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        reaction_time: float = 0.15,
    ) -> None:
        self.fake = fake
        self.world = fake.world
        self.default_member = member or self.world.alice
        self.default_channel = channel or self.world.general
        self.timeout = timeout
        self.reaction_time = reaction_time

    async def _react(self, since: float | None) -> None:
        """A member needs a moment to see a message (or modal) before acting on it.

        discord.py registers a view or modal only after the callback's HTTP response reaches the bot, so an
        instant click can race ahead of that; no human is that fast, and the double should not be either.
        """
        if since is None:
            return
        remaining = self.reaction_time - (time.perf_counter() - since)
        if remaining > 0:
            await asyncio.sleep(remaining)

    # -- shortcuts -------------------------------------------------------------------------------
    @property
    def guild(self) -> Any:
        return self.world.guild

    def member(self, name: str) -> FakeMember:
        return self.world.guild.member(name)

    def channel(self, name: str) -> FakeChannel:
        return self.world.guild.channel(name)

    # -- acting ----------------------------------------------------------------------------------
    async def _run(self, record: InteractionRecord, wait: WaitMode, timeout: float | None) -> Reply:
        reply = Reply(self, record)
        await self.fake.dispatch_interaction(record)
        if wait == "none":
            return reply
        limit = timeout or self.timeout
        try:
            async with asyncio.timeout(limit):
                await record.responded.wait()
        except TimeoutError:
            raise AssertionError(self._no_answer(record, limit)) from None
        if wait == "visible":
            await reply.wait_visible(timeout=limit)
        return reply

    def _no_answer(self, record: InteractionRecord, limit: float) -> str:
        what = record.data.get("name") or record.data.get("custom_id") or record.id
        lines = [f"the bot did not answer interaction {what!r} (type {record.type}) within {limit:.0f}s"]
        for attempt in record.attempts:
            lines.append(f"  callback type {attempt.type} -> HTTP {attempt.status}")
        rejected = [r for r in self.fake.requests if r.status >= 400 and record.token in r.path]
        lines.extend(f"  {r.method} {r.path} -> {r.status}" for r in rejected)
        return "\n".join(lines)

    async def command(
        self,
        path: str,
        *,
        member: FakeMember | FakeUser | None = None,
        channel: FakeChannel | None = None,
        options: dict[str, Any] | None = None,
        locale: str = "en-US",
        wait: WaitMode = "visible",
        timeout: float | None = None,
        **kw_options: Any,
    ) -> Reply:
        """Invoke a slash command: ``await discord.command("/help", member=alice, channel=general)``.

        Options come as keywords (or ``options={...}`` for names that clash with ``member``/``channel``);
        they are typed against the tree the bot synced.
        """
        record = self.fake.command_interaction(
            path,
            {**(options or {}), **kw_options},
            member=member or self.default_member,
            channel=channel or self.default_channel,
            locale=locale,
        )
        return await self._run(record, wait, timeout)

    async def invoke(
        self,
        path: str,
        *,
        as_member: FakeMember | FakeUser | None = None,
        in_channel: FakeChannel | None = None,
        locale: str = "en-US",
        wait: WaitMode = "visible",
        timeout: float | None = None,
        **options: Any,
    ) -> Reply:
        """Like ``command``, every keyword an option: ``invoke("config channel", kind="picks", channel=picks)``."""
        return await self.command(
            path, member=as_member, channel=in_channel, options=options, locale=locale, wait=wait, timeout=timeout
        )

    async def autocomplete(
        self,
        path: str,
        focused: str,
        value: str = "",
        *,
        member: FakeMember | FakeUser | None = None,
        channel: FakeChannel | None = None,
        options: dict[str, Any] | None = None,
        timeout: float | None = None,
        **kw_options: Any,
    ) -> list[JSON]:
        """Type ``value`` into option ``focused``; returns the choices ([{"name", "value"}]) the bot offered."""
        record = self.fake.command_interaction(
            path,
            {**(options or {}), **kw_options, focused: value},
            member=member or self.default_member,
            channel=channel or self.default_channel,
            focused=focused,
        )
        reply = await self._run(record, "callback", timeout)
        return reply.choices

    async def click(
        self,
        message: StoredMessage,
        target: str,
        *,
        member: FakeMember | FakeUser | None = None,
        wait: WaitMode = "visible",
        timeout: float | None = None,
    ) -> Reply:
        """Click a button (by custom_id or label) on a stored message."""
        await self._react(message.touched_at)
        record = self.fake.component_interaction(message, target, member=member or self.default_member)
        return await self._run(record, wait, timeout)

    async def select(
        self,
        message: StoredMessage,
        target: str,
        values: list[Any],
        *,
        member: FakeMember | FakeUser | None = None,
        wait: WaitMode = "visible",
        timeout: float | None = None,
    ) -> Reply:
        """Choose ``values`` (option values or labels; members/roles/channels for entity selects)."""
        await self._react(message.touched_at)
        record = self.fake.component_interaction(message, target, member=member or self.default_member, values=values)
        return await self._run(record, wait, timeout)

    async def submit_modal(
        self,
        source: Reply | InteractionRecord,
        values: dict[str, Any],
        *,
        member: FakeMember | FakeUser | None = None,
        wait: WaitMode = "visible",
        timeout: float | None = None,
    ) -> Reply:
        """Submit the modal the bot answered ``source`` with; keys are field custom_ids or labels."""
        record = source.record if isinstance(source, Reply) else source
        await self._react(record.callback_at)
        submit = self.fake.modal_interaction(record, values, member=member)
        return await self._run(submit, wait, timeout)

    # -- reading back -------------------------------------------------------------------------------
    def messages(self, channel: FakeChannel | None = None, *, include_ephemeral: bool = False) -> list[StoredMessage]:
        return self.fake.channel_messages(channel or self.default_channel, include_ephemeral=include_ephemeral)

    def last_message(self, channel: FakeChannel | None = None) -> StoredMessage:
        messages = self.messages(channel)
        if not messages:
            raise AssertionError(f"no messages in #{(channel or self.default_channel).name}")
        return messages[-1]

    async def wait_for_message(
        self,
        channel: FakeChannel | None = None,
        predicate: Callable[[StoredMessage], bool] | None = None,
        *,
        timeout: float | None = None,
        after: int = 0,
    ) -> StoredMessage:
        """Wait for a (public) message in ``channel`` matching ``predicate``, newer than message id ``after``."""
        where = channel or self.default_channel

        def match() -> StoredMessage | None:
            for message in self.messages(where):
                if message.id > after and (predicate is None or predicate(message)):
                    return message
            return None

        result: StoredMessage = await self.wait_until(match, timeout=timeout, what=f"a message in #{where.name}")
        return result

    async def wait_until(self, predicate: Callable[[], Any], *, timeout: float | None = None, what: str = "") -> Any:
        return await self.fake.wait_until(predicate, timeout=timeout or self.timeout, what=what)

    # -- faults and the gateway -----------------------------------------------------------------------
    def inject(self, route: str, *, status: int = 429, times: int = 1, retry_after: float = 0.25) -> Fault:
        """Answer the next ``times`` requests on ``route`` (e.g. "POST /interactions/{id}/{token}/callback")."""
        return self.fake.faults.inject(route, status=status, times=times, retry_after=retry_after)

    async def drop_gateway(self, *, code: int = 4000) -> None:
        await self.fake.gateway.drop(code=code)

    async def wait_resumed(self, *, resumes: int = 1, timeout: float | None = None) -> None:
        await self.wait_until(
            lambda: self.fake.gateway.resume_count >= resumes and self.fake.gateway.connected,
            timeout=timeout,
            what=f"{resumes} gateway RESUME(s)",
        )


@dataclass
class ModuleBot:
    """A loopback Discord and one real bot shared by every test of a module (see :func:`module_bot`)."""

    fake: FakeDiscord
    discord: DiscordDriver
    bot: BotProcess

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read the bot's database (read-only, so the bot's own writes are never disturbed)."""
        with sqlite3.connect(f"file:{self.bot.db_path}?mode=ro", uri=True) as db:
            return db.execute(sql, params).fetchall()

    def film_id(self, slug: str) -> int:
        return int(self.query("SELECT id FROM films WHERE slug = ?", (slug,))[0][0])


@contextlib.asynccontextmanager
async def module_bot(
    workdir: Path, prepare: Callable[[FakeDiscord], object] | None = None, *, tmdb: TmdbDouble | None = None
) -> AsyncIterator[tuple[FakeDiscord, BotProcess]]:
    """Start the double (``prepare`` may add to its world first) and a real bot on ``workdir/club.db``; stop both
    afterwards, and fail if the bot called a route the double does not implement. For module-scoped fixtures:
    one bot launch serves a whole file. ``tmdb``: the bot gets film details from that (running) TMDb double; set
    ``bot.tmdb = None`` before a restart to run on without the provider."""
    async with FakeDiscord() as fake:
        if prepare is not None:
            prepare(fake)
        bot = BotProcess(fake, workdir, kind="real", db_path=workdir / "club.db", tmdb=tmdb)
        try:
            await bot.start()
            yield fake, bot
        finally:
            await bot.aclose()
        assert not fake.unknown_requests, f"the bot called unknown routes: {fake.unknown_requests}"
