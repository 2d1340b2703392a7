"""Weekly picks benchmark: choosing a week's picks on a large catalog with a busy club, the slot arithmetic, and the
start-up re-arm of many servers' schedules; prints figures.

The catalog is bench/catalog_load.py's (36,000 films from ../shared/data/wikipedia-movie-data, genres as themes;
synthetic without it). The club's ratings are MovieLens ml-latest-small's 100,836 real ratings by 610 members
(../shared/data/movielens-ml-latest-small), each MovieLens film mapped onto a catalog film; synthetic without it.
Every member also has 20 films on their watchlist, and the club has watched 300 films.

    python bench/picks.py [--films 36000] [--weeks 20] [--guilds 1000] [--synthetic] [--backend sqlite|postgres|both]

Each backend (bench/backends.py) gets its own database with the same club; the figures print side by side.

Targets on a 2-core machine: choosing a week's picks < 250 ms (p50), one slot computation < 50 µs, re-arming
1,000 servers at start-up < 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from backends import Record, SideBySide, add_arguments, backends, insert_many  # noqa: E402
from catalog_load import build_catalog  # noqa: E402

from bot.core import config, picks, schedule  # noqa: E402
from bot.core.catalog import load_catalog  # noqa: E402
from bot.core.clock import to_db  # noqa: E402
from bot.core.guilds import get_settings  # noqa: E402
from bot.core.shards import ShardSet  # noqa: E402
from bot.core.timers import TimerService  # noqa: E402
from bot.db.database import Database, open_database  # noqa: E402

MOVIELENS = REPO.parent / "shared" / "data" / "movielens-ml-latest-small" / "ratings.csv"
GUILD = 1
START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


def club_ratings(film_ids: list[int], synthetic: bool) -> tuple[str, list[tuple[int, int, int]]]:
    """(member, film, half stars) rows: MovieLens's real ratings mapped onto catalog films, or synthetic ones."""
    rng = random.Random(11)
    if not synthetic and MOVIELENS.is_file():
        mapping: dict[str, int] = {}
        rows = []
        with MOVIELENS.open(newline="", encoding="utf-8") as handle:
            for record in csv.DictReader(handle):
                film = mapping.setdefault(record["movieId"], rng.choice(film_ids))
                rows.append((int(record["userId"]), film, int(float(record["rating"]) * 2)))
        unique = {(member, film): stars for member, film, stars in rows}  # two MovieLens films may share a film
        return "movielens ratings", [(m, f, s) for (m, f), s in unique.items()]
    unique = {(rng.randint(1, 610), rng.choice(film_ids)): rng.randint(1, 10) for _ in range(100_000)}
    return "synthetic ratings", [(m, f, s) for (m, f), s in unique.items()]


async def populate(db: Database, synthetic: bool) -> str:
    film_ids = [row[0] for row in await db.fetchall("SELECT id FROM films WHERE retired = 0")]
    source, ratings = club_ratings(film_ids, synthetic)
    now = to_db(START)
    rng = random.Random(5)
    await insert_many(
        db,
        "INSERT INTO reviews (guild_id, user_id, film_id, rating, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        [(GUILD, member, film, stars, now, now) for member, film, stars in ratings],
    )
    members = sorted({member for member, _f, _s in ratings})
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO watchlist (guild_id, user_id, film_id, added_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(GUILD, member, film, now) for member in members for film in rng.sample(film_ids, 20)],
        )
        await tx.executemany(
            "INSERT INTO club_watched (guild_id, film_id, source, watched_at) VALUES (?, ?, 'manual', ?)",
            [(GUILD, film, now) for film in rng.sample(film_ids, 300)],
        )
    return f"{len(ratings):,} {source} by {len(members)} members, {len(members) * 20:,} watchlist entries"


async def measure(folder: Path, target: str, weeks: int, guilds: int, synthetic: bool, record: Record) -> bool:
    """Record the figures; True when the targets are met."""
    async with await open_database(target) as db:
        await db.migrate()
        await load_catalog(db, folder)
        record("club", await populate(db, synthetic))
        clock = Clock(START)
        timers = TimerService(db, clock)
        await config.set_channel(db, clock, TimerService(db, clock), GUILD, 9, config.ChannelKind.PICKS, 100)
        await config.set_timezone(db, clock, TimerService(db, clock), GUILD, 9, "Europe/London")
        await config.set_picks(db, clock, TimerService(db, clock), GUILD, 9, day=4, at="20:00", count=5)
        slot = await picks.reschedule(db, clock, timers, GUILD)
        assert slot is not None

        choose_ms, slot_ms = [], []
        for _ in range(weeks):
            settings = await get_settings(db, GUILD)
            week = schedule.week_key(slot, schedule.zone("Europe/London"))
            started = time.perf_counter()
            await picks.choose(db, settings, week)
            choose_ms.append((time.perf_counter() - started) * 1000)
            clock.moment = slot
            started = time.perf_counter()
            decision = await picks.begin_slot(db, clock, timers, GUILD, slot, timedelta(hours=24))
            slot_ms.append((time.perf_counter() - started) * 1000)
            assert decision.post is not None and decision.outcome is picks.SlotOutcome.POST
            await picks.mark_posted(db, clock, decision.post.id, decision.post.id)
            slot = schedule.next_slot(slot, schedule.zone("Europe/London"), 4, clock_time(20))
        themes = len({post.theme_slug for post in await picks.history(db, GUILD, weeks)})
        record(
            "choose a week's picks (target p50 < 250 ms)",
            f"p50 {statistics.median(choose_ms):.1f} ms  max {max(choose_ms):6.1f} ms ({weeks} weeks, {themes} themes)",
        )
        record("whole slot (claim too)", f"p50 {statistics.median(slot_ms):6.1f} ms  max {max(slot_ms):6.1f} ms")

        tz = ZoneInfo("America/New_York")
        moment, count = START, 100_000
        started = time.perf_counter()
        for _ in range(count):
            moment = schedule.next_slot(moment, tz, 6, clock_time(2, 30))
        per_call = (time.perf_counter() - started) / count * 1e6
        record("next slot arithmetic (New York 02:30)", f"{per_call:6.1f} µs a call ({count:,} consecutive weeks)")

        zones = ["Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC"]
        for guild in range(2, guilds + 2):
            await db.execute(
                "INSERT INTO guild_settings (guild_id, picks_channel_id, timezone, picks_day, picks_time) "
                "VALUES (?, ?, ?, ?, ?)",
                (guild, 100 + guild, zones[guild % len(zones)], guild % 7, f"{guild % 24:02d}:30"),
            )
        started = time.perf_counter()
        created = await picks.ensure_scheduled(db, clock, timers, ShardSet.every())
        cold = time.perf_counter() - started
        started = time.perf_counter()
        again = await picks.ensure_scheduled(db, clock, timers, ShardSet.every())
        warm = time.perf_counter() - started
        record(
            f"start-up re-arm of {guilds:,} servers (target < 3 s)",
            f"{cold:6.2f} s for {created:,} without a timer, {warm:.2f} s all armed ({again} created)",
        )
    return statistics.median(choose_ms) < 250 and cold < 3


async def run(args: argparse.Namespace, folder: Path, workdir: Path) -> bool:
    async with backends(args, workdir) as chosen:
        table = SideBySide(chosen.names)
        ok = True
        for backend in chosen.names:
            target = await chosen.fresh(backend, "picks")
            ok &= await table.run(
                backend,
                lambda record, target=target: measure(folder, target, args.weeks, args.guilds, args.synthetic, record),
            )
    table.print()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--films", type=int, default=36_000)
    parser.add_argument("--weeks", type=int, default=20)
    parser.add_argument("--guilds", type=int, default=1_000)
    parser.add_argument("--synthetic", action="store_true", help="ignore ../shared/data even when present")
    add_arguments(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        described = build_catalog(Path(tmp) / "catalog", args.films, args.synthetic)
        print(f"built {described} in {time.perf_counter() - started:.1f}s")
        return 0 if asyncio.run(run(args, Path(tmp) / "catalog", Path(tmp))) else 1


if __name__ == "__main__":
    sys.exit(main())
