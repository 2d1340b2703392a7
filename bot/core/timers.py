"""Timers that live in the database: poll deadlines, weekly picks and reminders survive restarts and crashes.

A feature registers a handler for a ``kind`` and schedules timers of that kind with a ``key`` (one pending timer per
kind and key: scheduling again moves it). :meth:`TimerService.start` runs a loop that sleeps until the earliest due
timer, so a timer due while the bot was down runs as soon as it is back. A timer is marked done only after its
handler returns, so handlers must be idempotent: a crash between the two runs the handler again, never zero times.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.clock import Clock, from_db, to_db
from bot.db import timers as store
from bot.db.database import Database

log = logging.getLogger(__name__)

#: Re-check the table at least this often, in case the wall clock jumps while the loop sleeps.
MAX_SLEEP = timedelta(minutes=5)
BATCH = 50


@dataclass(frozen=True)
class Timer:
    id: int
    kind: str
    key: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int


TimerHandler = Callable[[Timer], Awaitable[None]]


def _timer(row: tuple[int, str, str, str, str, int]) -> Timer:
    timer_id, kind, key, due_at, payload, attempts = row
    return Timer(timer_id, kind, key, from_db(due_at), json.loads(payload), attempts)


class TimerService:
    """Schedules, cancels and runs persisted timers."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        retry_delay: timedelta = timedelta(seconds=30),
        max_attempts: int = 5,
    ) -> None:
        self._db = db
        self._clock = clock
        self._retry_delay = retry_delay
        self._max_attempts = max_attempts
        self._handlers: dict[str, TimerHandler] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def register(self, kind: str, handler: TimerHandler) -> None:
        if kind in self._handlers:
            raise ValueError(f"a handler for timer kind {kind!r} is already registered")
        self._handlers[kind] = handler

    async def schedule(self, kind: str, key: str, due_at: datetime, payload: dict[str, Any] | None = None) -> int:
        """Persist a timer (replacing the pending one with the same kind and key) and wake the loop."""
        timer_id = await store.schedule(
            self._db, kind, key, to_db(due_at), json.dumps(payload or {}), to_db(self._clock.now())
        )
        self._wake.set()
        return timer_id

    async def cancel(self, kind: str, key: str) -> bool:
        """Cancel the pending timer of that kind and key; return whether there was one."""
        return await store.cancel(self._db, kind, key, to_db(self._clock.now()))

    async def pending(self, kind: str, key: str) -> Timer | None:
        row = await store.pending(self._db, kind, key)
        return None if row is None else _timer(row)

    async def run_due(self) -> int:
        """Run every timer that is due now, oldest first; return how many ran (successfully or not)."""
        ran = 0
        while True:
            rows = await store.due(self._db, to_db(self._clock.now()), BATCH)
            if not rows:
                return ran
            for row in rows:
                await self._run_one(_timer(row))
                ran += 1

    async def _run_one(self, timer: Timer) -> None:
        handler = self._handlers.get(timer.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler is registered for timer kind {timer.kind!r}")
            await handler(timer)
        except Exception as exc:
            attempts = timer.attempts + 1
            if attempts >= self._max_attempts:
                log.error(
                    "timer %s (%s %s) failed %d times; giving up",
                    timer.id,
                    timer.kind,
                    timer.key,
                    attempts,
                    exc_info=exc,
                )
                await store.finish(self._db, timer.id, to_db(self._clock.now()), "failed")
                return
            delay = self._retry_delay * (2**timer.attempts)
            log.warning("timer %s (%s %s) failed; retrying in %s", timer.id, timer.kind, timer.key, delay, exc_info=exc)
            await store.retry_later(self._db, timer.id, to_db(self._clock.now() + delay), repr(exc))
            return
        await store.finish(self._db, timer.id, to_db(self._clock.now()), "done")
        log.info("timer %s (%s %s) done", timer.id, timer.kind, timer.key)

    def start(self) -> None:
        """Start the loop: overdue timers run at once, the rest when they fall due."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="filmclub-timers")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            self._wake.clear()  # before looking, so a timer scheduled meanwhile wakes the wait below
            try:
                await self.run_due()
                next_due = await store.next_due(self._db)
            except Exception:
                log.exception("the timer loop hit an error; trying again shortly")
                next_due = None
                await asyncio.sleep(self._retry_delay.total_seconds())
            sleep = MAX_SLEEP
            if next_due is not None:
                sleep = min(MAX_SLEEP, max(timedelta(0), from_db(next_due) - self._clock.now()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=sleep.total_seconds())
