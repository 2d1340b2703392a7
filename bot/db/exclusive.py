"""One bot process per SQLite file: an exclusive lock on ``<database file>.lock``, held while the bot runs.

SQLite keeps one file consistent across processes, but it cannot share the bot's work: two bots on one file would
both run every timer (two weekly picks, two poll results). The lock is ``fcntl.flock``, which the kernel releases
when its process ends however it ends (kill -9 included), so a crash never leaves a stale lock behind to clear.
PostgreSQL needs no such lock: its processes split the servers by shard.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class DatabaseInUse(Exception):
    """Another process holds the database file's lock."""

    def __init__(self, lock_path: Path, holder: int | None) -> None:
        self.lock_path = lock_path
        self.holder = holder
        process = f"process {holder}" if holder is not None else "another process"
        super().__init__(f"{lock_path} is held by {process}")


def lock_path_for(database_path: Path) -> Path:
    return database_path.with_name(database_path.name + ".lock")


@contextmanager
def exclusive_use(database_path: Path) -> Iterator[Path]:
    """Hold the database file's lock for the ``with`` block (the lock file stays; only the lock matters). Raises
    :class:`DatabaseInUse` at once, without waiting, if another process holds it; the file then names that process,
    which writes its pid there once it has the lock."""
    lock_path = lock_path_for(database_path)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseInUse(lock_path, _holder(fd)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield lock_path
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


def _holder(fd: int) -> int | None:
    """The pid the lock's holder wrote, if it did (it may be between taking the lock and writing)."""
    text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return int(text) if text.isdigit() else None
