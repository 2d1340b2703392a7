"""The owned task registry: tasks are kept until they end, failures are logged, close() cancels and awaits."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.core.tasks import BackgroundTasks, wait_for_event


async def test_close_cancels_and_awaits_running_tasks() -> None:
    tasks = BackgroundTasks("test")
    unwound = asyncio.Event()
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)  # unwinding takes a step: close() must wait for it
            unwound.set()

    task = tasks.spawn(forever(), name="forever")
    await started.wait()
    assert len(tasks) == 1
    await tasks.close()
    assert task.cancelled()
    assert unwound.is_set()
    assert len(tasks) == 0
    with pytest.raises(RuntimeError, match="closed"):
        tasks.spawn(forever(), name="too late")


async def test_finished_tasks_are_forgotten_and_failures_logged(caplog: pytest.LogCaptureFixture) -> None:
    tasks = BackgroundTasks("test")

    async def fails() -> None:
        raise ValueError("boom")

    async def works() -> int:
        return 7

    with caplog.at_level(logging.ERROR, logger="bot.core.tasks"):
        failing = tasks.spawn(fails(), name="fails")
        assert await tasks.spawn(works(), name="works") == 7
        await asyncio.wait([failing])
        await asyncio.sleep(0)  # done callbacks run on the next step
    assert len(tasks) == 0
    assert "task fails failed" in caplog.text
    await tasks.close()


async def test_a_wait_cancelled_as_its_event_is_set_is_cancelled() -> None:
    """The timer loop sleeps in this wait; the bot's shut-down cancels it just as a finishing handler sets the event.
    The cancellation must win: with asyncio.wait_for (Python 3.11) the wait returned, the loop went on, and the
    shut-down waited for it for ever."""
    event = asyncio.Event()
    waiting = asyncio.create_task(wait_for_event(event, 60))
    await asyncio.sleep(0)  # the task is now waiting
    event.set()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def test_a_wait_ends_with_its_event_or_its_timeout() -> None:
    event = asyncio.Event()
    assert await wait_for_event(event, 0) is False
    event.set()
    assert await wait_for_event(event, 60) is True
