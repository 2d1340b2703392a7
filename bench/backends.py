"""The benchmarks' two backends: ``--backend sqlite|postgres|both`` and ``--database-url``, a fresh database per run,
and the figures of each backend printed side by side, so one run compares them on the same machine at the same time.

PostgreSQL comes from ``--database-url`` (the admin URL of a server the benchmark may create and drop databases on),
else ``TEST_DATABASE_URL``, else a throwaway server started in a temporary folder (tests/postgres_server.py); each
benchmark gets databases of its own there, dropped at the end. By default both backends run when PostgreSQL is
reachable that way, SQLite alone otherwise (said on the first line).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.db.database import Database, Params  # noqa: E402
from tests.postgres_server import (  # noqa: E402
    ThrowawayServer,
    create_database,
    drop_database,
    server_bin,
    unique_name,
)

BACKENDS = ("sqlite", "postgres")

#: What a benchmark gives for one figure: its name and its value as printed.
Record = Callable[[str, str], None]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        choices=[*BACKENDS, "both"],
        help="the storage to measure (default: both when PostgreSQL is reachable, else sqlite)",
    )
    parser.add_argument(
        "--database-url",
        help="admin URL of a PostgreSQL server to create throwaway databases on "
        "(default: TEST_DATABASE_URL, else a throwaway server from /usr/lib/postgresql)",
    )


def chosen(args: argparse.Namespace) -> list[str]:
    """The backends to run, in print order."""
    if args.backend == "both":
        return list(BACKENDS)
    if args.backend:
        return [args.backend]
    reachable = args.database_url or os.environ.get("TEST_DATABASE_URL") or server_bin() is not None
    if not reachable:
        print("PostgreSQL not reachable (no --database-url, TEST_DATABASE_URL or server programs): SQLite only")
        return ["sqlite"]
    return list(BACKENDS)


class Backends:
    """Fresh databases on the chosen backends; :meth:`close` drops the PostgreSQL ones and stops a throwaway server."""

    def __init__(self, names: list[str], workdir: Path, server_url: str | None) -> None:
        self.names = names
        self.workdir = workdir
        self._server_url = server_url
        self._server: ThrowawayServer | None = None
        self._created: list[str] = []

    @property
    def server_url(self) -> str:
        """The PostgreSQL server's admin URL, starting a throwaway server on first use."""
        if self._server_url is None:
            self._server = ThrowawayServer.start()
            self._server_url = self._server.url
        return self._server_url

    async def fresh(self, backend: str, label: str) -> str:
        """Where a new, empty database of ``backend`` is: a SQLite file path or a PostgreSQL URL."""
        if backend == "sqlite":
            path = self.workdir / f"{label}.db"
            path.unlink(missing_ok=True)
            return str(path)
        name = unique_name(f"bench_{label}")
        url = await create_database(self.server_url, name)
        self._created.append(name)
        return url

    async def close(self) -> None:
        for name in self._created:
            with contextlib.suppress(Exception):
                await drop_database(self.server_url, name)
        if self._server is not None:
            self._server.stop()


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


@contextlib.asynccontextmanager
async def backends(args: argparse.Namespace, workdir: Path) -> AsyncIterator[Backends]:
    """The chosen backends; a SIGTERM (``timeout``, ``kill``) ends the run through the clean-up below, so neither a
    throwaway server nor a database is left behind."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    opened = Backends(chosen(args), workdir, args.database_url or os.environ.get("TEST_DATABASE_URL"))
    try:
        yield opened
    finally:
        await opened.close()


async def insert_many(db: Database, sql: str, rows: Sequence[Params], chunk: int = 2_000) -> None:
    """``executemany`` with a transaction per ``chunk`` rows. On PostgreSQL one transaction of 100,000 reviews never
    ends: each row's trigger updates the server's one totals row again, and within a transaction every update walks
    the chain of that row's earlier versions (none can be pruned before the commit), so the cost grows with the
    square of the rows; a commit every few thousand rows keeps it linear (and each statement under the 60 s
    timeout of bot.db.postgres)."""
    for start in range(0, len(rows), chunk):
        async with db.transaction() as tx:
            await tx.executemany(sql, rows[start : start + chunk])


class SideBySide:
    """Figures per backend, printed as one row per figure with one column per backend."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.rows: dict[str, dict[str, str]] = {}

    def column(self, backend: str) -> Record:
        def record(figure: str, value: str) -> None:
            self.rows.setdefault(figure, {})[backend] = value

        return record

    async def run(self, backend: str, measure: Callable[[Record], Awaitable[bool | None]]) -> bool:
        """Run one backend's measurement: False when it failed or returned False (a target missed). A failure (SQL
        not yet portable, say) is a row of the table, not the end of the run, so the other backend's figures print."""
        record = self.column(backend)
        try:
            return await measure(record) is not False
        except Exception as error:  # reported in the table, the traceback's last frames on stderr
            record("FAILED", f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:70])
            traceback.print_exc(limit=-3, file=sys.stderr)
            return False

    def print(self) -> None:
        label = max((len(figure) for figure in self.rows), default=6) + 2
        width = max((len(v) for row in self.rows.values() for v in row.values()), default=10) + 3
        print(f"{'':<{label}}" + "".join(f"{name:<{width}}" for name in self.backends))
        for figure, values in self.rows.items():
            print(f"{figure:<{label}}" + "".join(f"{values.get(name, '-'):<{width}}" for name in self.backends))
