"""Timers that live in the database: poll deadlines, weekly picks and reminders survive restarts and crashes.

A feature registers a handler for a ``kind`` and schedules timers of that kind with a ``key`` (one pending timer per
kind and key: scheduling again moves it). :meth:`TimerService.start` runs a loop that sleeps until the earliest due
timer, so a timer due while the bot was down runs as soon as it is back. A timer is marked done only after its
handler returns, so handlers must be idempotent: a crash between the two runs the handler again, never zero times.

The loop dispatches, it does not wait: each due handler runs in its own task, so a slow one delays no other. At most
``max_concurrent`` handlers run at once, and never two runs of the same kind and key.

Several processes can share one database, each running some of the bot's shards: a timer belongs to the shard of
its server (``guild_id``; a timer of no server belongs to shard 0), and a service only ever claims and runs timers of
the shards it was given. One process per shard is the deployment's guarantee (``Database.hold_shards``); within it,
the loop claims due timers in the database (one statement for a whole batch) before running them, marking them with
this service's :attr:`TimerService.instance`, and records an outcome only over its own claim. A process that died
mid-run leaves its timers claimed and pending: the next process to run that shard takes them over (before its first
claim) and runs them, and the process it replaced, should it still be running, can neither record nor claim them.

Every timer ends, with its outcome on its row (``outcome``, ``attempts``, ``last_error``) and a log line:

- **done**: the handler returned;
- **failed**: the handler raised :class:`PermanentFailure` (retrying cannot help), or failed ``max_attempts`` times
  (each failure, a timeout included, is retried after ``retry_delay`` doubled per attempt), or the row cannot be
  decoded;
- **cancelled**: :meth:`TimerService.cancel`.

Finished rows are deleted :data:`FINISHED_RETENTION` after they finished, so the table stays the size of what is
pending plus a month of history to debug with.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.core.clock import Clock, from_db, to_db
from bot.core.tasks import BackgroundTasks, wait_for_event
from bot.db import timers as store
from bot.db.database import Database

log = logging.getLogger(__name__)

#: Re-check the table at least this often, in case the wall clock jumps while the loop sleeps.
MAX_SLEEP = timedelta(minutes=5)
#: How many handlers may run at the same time (each in its own task).
MAX_CONCURRENT = 8
#: A handler still running after this long is cancelled; that counts as a failed attempt (and is retried).
HANDLER_TIMEOUT = timedelta(minutes=10)
#: Finished timers (done, cancelled or failed) are kept this long, to see what happened, then deleted.
FINISHED_RETENTION = timedelta(days=30)
#: How often the loop deletes finished timers older than the retention.
PURGE_EVERY = timedelta(hours=1)


class TimerOutcome(StrEnum):
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


class PermanentFailure(Exception):
    """Raised by a handler when running it again cannot succeed: the timer ends at once as failed, with this reason."""


@dataclass(frozen=True)
class Timer:
    id: int
    kind: str
    key: str
    guild_id: int | None
    due_at: datetime
    payload: dict[str, Any]
    attempts: int
    last_error: str | None = None
    outcome: TimerOutcome | None = None
    done_at: datetime | None = None


TimerHandler = Callable[[Timer], Awaitable[None]]
TimerKey = tuple[str, str]


def _timer(row: store.TimerRow) -> Timer:
    """Decode a stored row; raises (ValueError) on a row that cannot be, which then fails for good."""
    payload = json.loads(row.payload)
    if not isinstance(payload, dict):
        raise ValueError(f"the payload is not a JSON object: {row.payload[:80]!r}")
    return Timer(
        row.id,
        row.kind,
        row.key,
        row.guild_id,
        from_db(row.due_at),
        payload,
        row.attempts,
        row.last_error,
        None if row.outcome is None else TimerOutcome(row.outcome),
        None if row.done_at is None else from_db(row.done_at),
    )


class TimerService:
    """Schedules, cancels and runs persisted timers; runs only those of its shards (``shard_ids`` out of
    ``shard_count``: by default the one shard of an unsharded bot)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        shard_count: int = 1,
        shard_ids: Sequence[int] = (0,),
        retry_delay: timedelta = timedelta(seconds=30),
        max_attempts: int = 5,
        max_concurrent: int = MAX_CONCURRENT,
        handler_timeout: timedelta = HANDLER_TIMEOUT,
        retention: timedelta = FINISHED_RETENTION,
    ) -> None:
        if shard_count < 1 or not shard_ids or not all(0 <= shard < shard_count for shard in shard_ids):
            raise ValueError(f"shards {list(shard_ids)} are not a set of shards out of {shard_count}")
        self._db = db
        self._clock = clock
        self._shards = store.Shards(shard_count, tuple(sorted(set(shard_ids))))
        #: Marks the timers this service claimed; new at every start of the process, so a restarted process knows
        #: the claims it finds are not its own.
        self.instance = secrets.token_hex(8)
        self._retry_delay = retry_delay
        self._max_attempts = max_attempts
        self._max_concurrent = max_concurrent
        self._handler_timeout = handler_timeout
        self._retention = retention
        self._handlers: dict[str, TimerHandler] = {}
        self._wake = asyncio.Event()
        self._tasks = BackgroundTasks("timers")
        self._running: dict[TimerKey, asyncio.Task[None]] = {}
        self._claiming = asyncio.Lock()  # one claim at a time, so each sees what the one before started
        self._took_over = False
        self._loop_task: asyncio.Task[None] | None = None
        self._next_purge = float("-inf")

    @property
    def clock(self) -> Clock:
        """The clock the timers run on (callers that only hold the service date their writes by it)."""
        return self._clock

    def register(self, kind: str, handler: TimerHandler) -> None:
        if kind in self._handlers:
            raise ValueError(f"a handler for timer kind {kind!r} is already registered")
        self._handlers[kind] = handler

    async def schedule(
        self,
        kind: str,
        key: str,
        due_at: datetime,
        payload: dict[str, Any] | None = None,
        *,
        guild_id: int | None,
    ) -> int:
        """Persist a timer (replacing the pending one with the same kind and key) and wake the loop.

        ``guild_id`` is the server the timer is about: the process that runs that server's shard runs it. It is
        required, so that no server's timer is left to shard 0 by mistake; ``None`` is for timers of no server."""
        timer_id = await store.schedule(
            self._db, kind, key, guild_id, to_db(due_at), json.dumps(payload or {}), to_db(self._clock.now())
        )
        self._wake.set()
        return timer_id

    async def move_on(self, timer: Timer, due_at: datetime) -> bool:
        """From ``timer``'s own handler: run it again at ``due_at``, unless it was scheduled again or cancelled while
        it ran (that newer request stands: a member's "check now", an unlink). Whether it moved; one statement, so no
        request made during the run is lost between reading and writing."""
        moved = await store.move_on(self._db, timer.id, to_db(timer.due_at), to_db(due_at))
        if moved:
            self._wake.set()
        return moved

    async def cancel(self, kind: str, key: str) -> bool:
        """Cancel the pending timer of that kind and key; return whether there was one."""
        return await store.cancel(self._db, kind, key, to_db(self._clock.now()))

    async def pending(self, kind: str, key: str) -> Timer | None:
        row = await store.pending(self._db, kind, key)
        return None if row is None else _timer(row)

    async def pending_pairs(self, pairs: Sequence[TimerKey]) -> set[TimerKey]:
        """Which of these (kind, key) pairs have a pending timer (a few queries for many: start-up's re-arming)."""
        return await store.pending_pairs(self._db, pairs)

    async def ever_armed(self, pairs: Sequence[TimerKey]) -> set[TimerKey]:
        """Which of these (kind, key) pairs ever had a timer, pending or finished (one query for many)."""
        return await store.ever_armed(self._db, pairs)

    async def latest(self, kind: str, key: str) -> Timer | None:
        """The newest timer of that kind and key, pending or finished (its ``outcome`` and ``last_error`` say how)."""
        row = await store.latest(self._db, kind, key)
        return None if row is None else _timer(row)

    @property
    def running(self) -> int:
        """How many handlers are running now."""
        return len(self._running)

    # -- running ------------------------------------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Run every timer that is due now (concurrently, within the bounds) and wait for them; return how many ran."""
        ran = 0
        while True:
            started = await self._dispatch_due()
            if not started:
                return ran
            await asyncio.gather(*started)
            ran += len(started)

    async def _dispatch_due(self) -> list[asyncio.Task[None]]:
        """Claim the due timers of our shards that are not running here, as many as there is room for, and start a
        task for each."""
        async with self._claiming:
            if not self._took_over:
                await self._take_over()
            room = self._max_concurrent - len(self._running)
            if room <= 0:
                return []
            rows = await store.claim_due(
                self._db, self._shards, self.instance, to_db(self._clock.now()), list(self._running), room
            )
            started = []
            for row in rows:
                key = (row.kind, row.key)
                task = self._tasks.spawn(self._run_one(row), name=f"timer-{row.kind}-{row.key}")
                self._running[key] = task
                task.add_done_callback(functools.partial(self._finished_running, key))
                started.append(task)
            return started

    async def _take_over(self) -> None:
        """Before the first claim: this process now runs its shards, so timers an earlier process claimed and never
        finished (it died mid-run) are ours to run."""
        taken = await store.take_over(self._db, self._shards, self.instance)
        self._took_over = True
        if taken:
            log.warning("took over %d timer(s) that an earlier process started and never finished", taken)

    def _finished_running(self, key: TimerKey, _task: asyncio.Task[None]) -> None:
        self._running.pop(key, None)
        self._wake.set()  # room for another, and this timer may have moved

    async def _run_one(self, row: store.TimerRow) -> None:
        """One attempt at a timer this service claimed; records its outcome. Never raises, except when cancelled (the
        timer then stays pending, and claimable again)."""
        attempts = row.attempts + 1
        try:
            timer = _timer(row)
        except ValueError as exc:  # a row that cannot be decoded will not decode next time either
            await self._give_up(row, attempts, exc, "cannot be decoded")
            return
        handler = self._handlers.get(timer.kind)
        limit: asyncio.Timeout | None = None
        try:
            if handler is None:
                raise LookupError(f"no handler is registered for timer kind {timer.kind!r}")
            async with asyncio.timeout(self._handler_timeout.total_seconds()) as limit:
                await handler(timer)
        except PermanentFailure as exc:
            await self._give_up(row, attempts, exc, "cannot succeed")
            return
        except Exception as exc:
            error: Exception = exc
            if isinstance(exc, TimeoutError) and limit is not None and limit.expired():
                error = TimeoutError(f"the handler was still running after {self._handler_timeout}")
            if attempts >= self._max_attempts:
                await self._give_up(row, attempts, error, f"failed {attempts} times")
                return
            delay = self._retry_delay * (2 ** (attempts - 1))
            log.warning("timer %s (%s %s) failed; retrying in %s", row.id, row.kind, row.key, delay, exc_info=error)
            retry_at = to_db(self._clock.now() + delay)
            recorded = await store.retry_later(
                self._db, row, self.instance, retry_at, attempts=attempts, error=_describe(error)
            )
            self._note_unrecorded(row, recorded)
            return
        now = to_db(self._clock.now())
        recorded = await store.finish(self._db, row, self.instance, now, TimerOutcome.DONE, attempts=attempts)
        self._note_unrecorded(row, recorded)
        log.info("timer %s (%s %s) done", row.id, row.kind, row.key)

    @staticmethod
    def _note_unrecorded(row: store.TimerRow, recorded: bool) -> None:
        if not recorded:  # scheduled again by its handler (the new time stands), cancelled, or taken over
            log.info(
                "timer %s (%s %s) changed while it ran; this run's outcome is not recorded", row.id, row.kind, row.key
            )

    async def _give_up(self, row: store.TimerRow, attempts: int, exc: Exception, why: str) -> None:
        log.error(
            "timer %s (%s %s) %s; giving up (outcome failed): %s",
            row.id,
            row.kind,
            row.key,
            why,
            exc,
            exc_info=exc,
        )
        recorded = await store.finish(
            self._db,
            row,
            self.instance,
            to_db(self._clock.now()),
            TimerOutcome.FAILED,
            attempts=attempts,
            error=_describe(exc),
        )
        self._note_unrecorded(row, recorded)

    async def purge_finished(self) -> int:
        """Delete timers that finished more than the retention ago; return how many."""
        purged = await store.purge_finished(self._db, self._shards, to_db(self._clock.now() - self._retention))
        if purged:
            log.info("deleted %d timer(s) finished more than %s ago", purged, self._retention)
        return purged

    async def drain(self) -> None:
        """Wait until the handlers running now have finished (and recorded their outcome)."""
        while self._running:
            await asyncio.wait(list(self._running.values()))

    # -- the loop -----------------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the loop: overdue timers run at once, the rest when they fall due."""
        if self._loop_task is None:
            self._loop_task = self._tasks.spawn(self._loop(), name="filmclub-timers")
            shards = ", ".join(map(str, self._shards.ids))
            log.info("timers of shard(s) %s of %d run as instance %s", shards, self._shards.count, self.instance)

    async def stop(self) -> None:
        """Stop the loop and cancel running handlers (their timers stay pending and run again at the next start)."""
        await self._tasks.close()
        self._tasks = BackgroundTasks("timers")  # so that start() can run the loop again
        self._loop_task = None

    async def _loop(self) -> None:
        while True:
            self._wake.clear()  # before looking, so a timer scheduled (or a handler finishing) meanwhile wakes us
            try:
                if time.monotonic() >= self._next_purge:
                    self._next_purge = time.monotonic() + PURGE_EVERY.total_seconds()
                    await self.purge_finished()
                await self._dispatch_due()
                sleep = await self._until_next_due()
            except Exception:
                log.exception("the timer loop hit an error; trying again shortly")
                sleep = self._retry_delay
            await wait_for_event(self._wake, sleep.total_seconds())

    async def _until_next_due(self) -> timedelta:
        """How long until the earliest pending timer of our shards that is not running (a finished handler wakes us
        sooner)."""
        if len(self._running) >= self._max_concurrent:
            return MAX_SLEEP
        due_at = await store.next_due(self._db, self._shards, self.instance, list(self._running))
        if due_at is None:
            return MAX_SLEEP
        return min(MAX_SLEEP, max(timedelta(0), from_db(due_at) - self._clock.now()))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
