"""The owned task registry: tasks are kept until they end, failures are logged, close() cancels and awaits."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.core.tasks import BackgroundTasks


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
