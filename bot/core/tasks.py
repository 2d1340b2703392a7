"""The background tasks a component starts, kept until they end and cancelled (and awaited) when it closes.

``asyncio`` holds only a weak reference to a task: one started with a bare ``create_task`` and not kept can be
garbage-collected mid-flight, its exception is reported late or never, and nothing stops it at shut-down. Every task
the bot starts goes through a :class:`BackgroundTasks` instead (the bot's own, or the timer service's).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class BackgroundTasks:
    """An owned set of running tasks: :meth:`spawn` starts and keeps one, :meth:`close` cancels and awaits them all."""

    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
        """Start ``coro`` as a task that is kept until it ends; a failure is logged with its traceback."""
        if self._closed:
            coro.close()
            raise RuntimeError(f"{self._owner} is closed; it starts no more tasks")
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("%s: task %s failed", self._owner, task.get_name(), exc_info=error)

    def __len__(self) -> int:
        return len(self._tasks)

    async def close(self) -> None:
        """Cancel every task still running and wait for them to finish unwinding (the calling task excepted)."""
        self._closed = True
        current = asyncio.current_task()
        running = [task for task in self._tasks if task is not current]
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)


async def wait_for_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait until ``event`` is set or ``seconds`` passed; return whether it was set.

    Not ``asyncio.wait_for``: on Python 3.11 it swallows a cancellation that arrives as the event is set (it returns
    the result instead), so a loop sleeping in it could survive the ``cancel()`` of a shut-down and hang it.
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()
