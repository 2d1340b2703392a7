"""Attendance: the cost of tracking voice states while screenings run, 1,000 members in 100 servers by default.

Every server (``--servers``) has a screening running in its voice channel; its members (``--members`` in all, spread
evenly) join, hop to another channel and back, and leave, each a VOICE_STATE_UPDATE handled as the bot does
(:func:`bot.core.attendance.voice_moved`, on a real database). Then a restart's reconciliation of every server with its
voice channels, and the end of every screening (:func:`bot.core.attendance.finish`). Prints CPU time and wall time per
event, the Python memory allocated at the peak (tracemalloc; the register lives in the database, not in memory) and
the database's growth per stretch.

Each backend (bench/backends.py: SQLite, and PostgreSQL when reachable, else a line saying it is skipped) gets its
own database; the figures print side by side.

    .venv/bin/python bench/attendance.py
    .venv/bin/python bench/attendance.py --backend postgres --database-url postgresql://postgres@127.0.0.1:55432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from backends import Record, SideBySide, add_arguments, backends  # noqa: E402

from bot.core import attendance  # noqa: E402
from bot.core.catalog import load_catalog  # noqa: E402
from bot.core.clock import to_db  # noqa: E402
from bot.core.screenings import get_screening  # noqa: E402
from bot.db.database import Database, open_database  # noqa: E402

START = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)
SCREENING = """
INSERT INTO screenings (guild_id, film_id, channel_id, announce_channel_id, starts_at, ends_at, remind_minutes,
                        event_id, status, started_at, created_at)
VALUES (?, ?, ?, ?, ?, ?, 0, ?, 'scheduled', ?, ?)
"""


class Clock:
    def __init__(self) -> None:
        self.moment = START

    def now(self) -> datetime:
        self.moment += timedelta(milliseconds=50)
        return self.moment


def voice(server: int) -> int:
    return 10_000 + server


def lobby(server: int) -> int:
    return 20_000 + server


async def fill(db: Database, servers: int) -> None:
    await load_catalog(db, REPO / "data")
    film_id = int(await db.fetchval("SELECT min(id) FROM films"))
    ends = to_db(START + timedelta(hours=3))
    rows = [
        (server, film_id, voice(server), 1, to_db(START), ends, 30_000 + server, to_db(START), to_db(START))
        for server in range(servers)
    ]
    await db.executemany(SCREENING, rows)


async def measure(db: Database, servers: int, members: int, record: Record) -> None:
    clock = Clock()
    everyone = [(n % servers, 1_000_000 + n) for n in range(members)]
    moves: list[tuple[int, int | None, int | None]] = []
    for server, user in everyone:
        moves += [(user, None, voice(server)), (user, voice(server), lobby(server))]
    for server, user in everyone:
        moves += [(user, lobby(server), voice(server))]
    half = everyone[: len(everyone) // 2]
    moves += [(user, voice(server), None) for server, user in half]

    tracemalloc.start()
    cpu, wall = time.process_time(), time.perf_counter()
    for user, before, after in moves:
        await attendance.voice_moved(db, clock, user, before, after)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    record("voice-state events", f"{len(moves):,} ({members:,} members, {servers} servers, a screening in each)")
    record(
        "per event in a screening's channel",
        f"CPU {cpu / len(moves) * 1e6:,.0f} µs, wall {wall / len(moves) * 1e6:,.0f} µs",
    )

    quiet: list[tuple[int, int | None, int | None]] = [
        (user, lobby(server), None) for server, user in everyone[len(everyone) // 2 :]
    ]
    cpu_q, wall_q = time.process_time(), time.perf_counter()
    for user, before, after in quiet:
        await attendance.voice_moved(db, clock, user, before, after)
    cpu_q, wall_q = time.process_time() - cpu_q, time.perf_counter() - wall_q
    record(
        "per event outside any screening's channel",
        f"CPU {cpu_q / len(quiet) * 1e6:,.0f} µs, wall {wall_q / len(quiet) * 1e6:,.0f} µs",
    )

    channels = {server: {voice(server): [u for s, u in everyone if s == server]} for server in range(servers)}
    cpu_r, wall_r = time.process_time(), time.perf_counter()
    changed = 0
    for server, present in channels.items():
        changed += await attendance.reconcile_guild(db, clock, server, present)
    cpu_r, wall_r = time.process_time() - cpu_r, time.perf_counter() - wall_r
    record(
        f"restart: reconciling {servers} servers",
        f"CPU {cpu_r * 1e3:,.0f} ms, wall {wall_r * 1e3:,.0f} ms ({changed:,} stretches changed)",
    )

    clock.moment = START + timedelta(hours=3)
    cpu_f, wall_f = time.process_time(), time.perf_counter()
    came = 0
    for server in range(servers):
        screening = await get_screening(db, server + 1)
        assert screening is not None
        came += len(await attendance.finish(db, clock, screening, 50))
    cpu_f, wall_f = time.process_time() - cpu_f, time.perf_counter() - wall_f
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    record(
        f"the end of {servers} screenings",
        f"CPU {cpu_f * 1e3:,.0f} ms, wall {wall_f * 1e3:,.0f} ms ({came:,} attending)",
    )
    record("Python memory at the peak (tracemalloc)", f"{peak / 1024:,.0f} KiB (nothing per member in memory)")


async def measure_backend(target: str, servers: int, members: int, record: Record) -> None:
    db = await open_database(target)
    try:
        await db.migrate()
        await fill(db, servers)
        await measure(db, servers, members, record)
        stretches = int(await db.fetchval("SELECT count(*) FROM attendance_intervals"))
        record("stretches stored", f"{stretches:,}")
    finally:
        await db.close()
    if not target.startswith("postgres"):
        size = await asyncio.to_thread(os.path.getsize, target)
        record("SQLite file (catalog included)", f"{size / 1024:,.0f} KiB")


async def run(args: argparse.Namespace, workdir: Path) -> bool:
    async with backends(args, workdir) as chosen:
        table = SideBySide(chosen.names)
        ok = True
        for backend in chosen.names:
            target = await chosen.fresh(backend, "attendance")
            ok &= await table.run(
                backend,
                lambda record, target=target: measure_backend(target, args.servers, args.members, record),
            )
    table.print()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=100)
    parser.add_argument("--members", type=int, default=1000, help="members in all, spread over the servers")
    add_arguments(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        return 0 if asyncio.run(run(args, Path(folder))) else 1


if __name__ == "__main__":
    sys.exit(main())
