"""Persisted timers at start-up with many servers: how soon the first due timer runs, and how fast they all do.

10,000 servers (``--servers``), each with one pending timer, all due when the timer services start (the bot was down
through everyone's deadline). ``--processes N`` splits the servers' shards over N timer services, each on a Database
of its own holding its shards (two processes' worth of connections; on SQLite, one process runs every shard). Each
handler returns at once, or after ``--handler-ms`` (a Discord call's latency), so the figures are the timer
machinery's own. Every timer must run exactly once, on the service of its server's shard.

    .venv/bin/python bench/timers.py                                     # SQLite, one process
    .venv/bin/python bench/timers.py --database postgresql://postgres@127.0.0.1:55432/timers_bench --processes 2

A PostgreSQL database given here is emptied of timers first. Prints start-up to the first dispatch, time to run them
all and timers per second.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.core.clock import SystemClock, to_db  # noqa: E402
from bot.core.timers import Timer, TimerService  # noqa: E402
from bot.db.database import Database, is_postgres_url, open_database  # noqa: E402

KIND = "bench.timer"
INSERT = "INSERT INTO timers (kind, key, guild_id, due_at, payload, created_at) VALUES (?, ?, ?, ?, '{}', ?)"


def server(serial: int) -> int:
    """A server id whose shard, of any count, is ``serial`` modulo that count (Discord's ``(id >> 22) % count``)."""
    return serial << 22 | 4242


async def fill(db: Database, servers: int) -> None:
    now = datetime.now(UTC)
    due = to_db(now - timedelta(minutes=1))
    await db.execute("DELETE FROM timers")
    await db.executemany(INSERT, [(KIND, str(n), server(n), due, to_db(now)) for n in range(servers)])


async def run(target: str, servers: int, processes: int, handler_ms: float) -> None:
    databases = [await open_database(target) for _ in range(processes)]
    try:
        await databases[0].migrate()
        await fill(databases[0], servers)
        ran: Counter[str] = Counter()
        wrong_shard: list[str] = []
        first = asyncio.Event()
        everything = asyncio.Event()
        services = []
        for shard, db in enumerate(databases):
            await db.hold_shards([shard])
            service = TimerService(db, SystemClock(), shard_count=processes, shard_ids=[shard])

            async def handler(timer: Timer, shard: int = shard) -> None:
                first.set()
                if handler_ms:
                    await asyncio.sleep(handler_ms / 1000)
                ran[timer.key] += 1
                if timer.guild_id is None or (timer.guild_id >> 22) % processes != shard:
                    wrong_shard.append(timer.key)
                if sum(ran.values()) == servers:
                    everything.set()

            service.register(KIND, handler)
            services.append(service)

        started = time.perf_counter()
        for service in services:
            service.start()
        await asyncio.wait_for(first.wait(), timeout=60)
        to_first = time.perf_counter() - started
        await asyncio.wait_for(everything.wait(), timeout=3600)
        to_all = time.perf_counter() - started
        for service in services:
            await service.drain()  # the last runs record their outcome
            await service.stop()

        twice = [key for key, count in ran.items() if count > 1]
        pending = await databases[0].fetchval("SELECT count(*) FROM timers WHERE done_at IS NULL")
        where = "PostgreSQL" if is_postgres_url(target) else "SQLite"
        print(
            f"{where}, {processes} process(es), {servers:,} servers, handler {handler_ms:g} ms: "
            f"first dispatch {to_first * 1000:.0f} ms after start; all run in {to_all:.2f} s "
            f"({servers / to_all:,.0f} timers/s, {to_all / servers * 1e6:.0f} µs each)"
        )
        print(
            f"  ran once: {len(ran) - len(twice):,}/{servers:,}; twice or more: {len(twice)}; "
            f"on a wrong shard: {len(wrong_shard)}; still pending: {pending}"
        )
        if twice or wrong_shard or pending or len(ran) != servers:
            raise SystemExit("FAILED: every timer must run exactly once, on its shard")
    finally:
        for db in databases:
            await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--servers", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=1, help="timer services, one shard each (PostgreSQL)")
    parser.add_argument("--handler-ms", type=float, default=0.0, help="how long each handler takes")
    parser.add_argument("--database", help="a postgresql:// URL (default: a SQLite file in a temporary folder)")
    args = parser.parse_args()
    if args.database is None:
        if args.processes != 1:
            parser.error("SQLite runs every shard in one process: --processes needs a PostgreSQL --database")
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(run(str(Path(tmp) / "club.db"), args.servers, 1, args.handler_ms))
    else:
        asyncio.run(run(args.database, args.servers, args.processes, args.handler_ms))


if __name__ == "__main__":
    main()
