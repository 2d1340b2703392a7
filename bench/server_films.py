"""Autocomplete with every server's own films: the 36,000-film catalog plus 5,000 server films in each of 100 servers
(500,000 server films), every server's index warm; prints figures.

The catalog's titles are the Wikipedia list's (bench/catalog_load.py; synthetic without ../shared/data). Each server's
films are 5,000 drawn (a different draw per server) from MovieLens' and TMDb's titles, so servers overlap the way
clubs' lists do; synthetic titles without the shared data. Server films go in through bot.db.films.insert_server_films
into a real database (SQLite; ``--backend postgres|both`` too), and each server's index is built the way the bot
builds it (bot.core.films.ServerTitles).

Measured:
- memory of the 100 warm server indexes (tracemalloc: what building them allocated and kept), per server and per film;
- autocomplete p50/p99: a random server's ClubTitles.search for every prefix of real queries, in-process
  (``search``), and with the per-request version check the bot makes (``titles_for``: one key read, then search);
- a server index's build time (after its films change), and the recommender's snapshot for a server with 5,000 films
  of its own (built once per change of its films) and /forme there.

    .venv/bin/python bench/server_films.py [--servers 100] [--per-server 5000] [--films 36000] [--synthetic]

Target (issue 13): autocomplete p99 < 10 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gc
import random
import re
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from backends import Record, SideBySide, add_arguments, backends  # noqa: E402
from catalog_load import synthetic_films  # noqa: E402
from recommend import build_catalog  # noqa: E402

from bot.core.catalog import load_catalog  # noqa: E402
from bot.core.clock import to_db  # noqa: E402
from bot.core.films import ServerTitles, build_title_index  # noqa: E402
from bot.core.recommend import Recommender  # noqa: E402
from bot.core.search import SERVER_SLUG_PREFIX, ClubTitles  # noqa: E402
from bot.core.text import normalise_title  # noqa: E402
from bot.db import reviews as reviews_sql  # noqa: E402
from bot.db.database import Database, open_database  # noqa: E402
from bot.db.films import NewServerFilm, insert_server_films  # noqa: E402
from tests.unit.test_search import QUALITY_QUERIES  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
MOVIELENS = SHARED / "movielens-ml-latest-small" / "movies.csv"
TMDB = SHARED / "tmdb-movies-udacity-cleaned" / "tmdb-movies.csv"
_ML_TITLE = re.compile(r"^(?P<title>.*?)\s*(?:\((?P<alt>[^()]*)\))?\s*\((?P<year>\d{4})\)\s*$")
#: What members type into a server's autocomplete: titles of films clubs add themselves, mistyped and cut short.
SERVER_QUERIES = ["toy stor", "jumanj", "heat", "sabrina", "goldeneye", "casino", "sense and sens", "babe", "se7en"]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, -(-int(pct * len(ordered)) // 100)) - 1]


def figures(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return f"p50 {percentile(ms, 50):6.2f} ms   p99 {percentile(ms, 99):6.2f} ms   max {max(ms):6.1f} ms  (n={len(ms)})"


def title_pool(synthetic: bool) -> tuple[list[tuple[str, int]], str]:
    """Distinct (title, year) pairs clubs might add: MovieLens' and TMDb's lists."""
    pool: dict[tuple[str, int], tuple[str, int]] = {}
    if not synthetic and MOVIELENS.is_file():
        with MOVIELENS.open(newline="", encoding="utf-8") as handle:
            for _id, title, _genres in list(csv.reader(handle))[1:]:
                match = _ML_TITLE.match(title)
                if match and normalise_title(match["title"]):
                    pool.setdefault(
                        (normalise_title(match["title"]), int(match["year"])), (match["title"], int(match["year"]))
                    )
    if not synthetic and TMDB.is_file():
        with TMDB.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                title, year = (row.get("original_title") or "").strip(), row.get("release_year") or ""
                if title and year.isdigit() and normalise_title(title):
                    pool.setdefault((normalise_title(title), int(year)), (title[:200], int(year)))
    if len(pool) < 5_000:
        return [(title, year) for title, year, _g, _c in synthetic_films(20_000)], "synthetic"
    return list(pool.values()), f"MovieLens + TMDb ({len(pool)} distinct titles)"


async def seed(db: Database, servers: int, per_server: int, pool: list[tuple[str, int]]) -> None:
    """``per_server`` server films in each server, a different draw from ``pool`` each."""
    now = to_db(datetime(2026, 12, 1, tzinfo=UTC))
    for guild in range(1, servers + 1):
        drawn = random.Random(guild).sample(pool, per_server)
        films = [
            NewServerFilm(
                guild_id=guild,
                slug=f"{SERVER_SLUG_PREFIX}{guild}-{at}",
                title=title,
                title_key=normalise_title(title),
                year=year,
                added_by=None,
            )
            for at, (title, year) in enumerate(drawn)
        ]
        async with db.transaction() as tx:
            await insert_server_films(tx, films, now)


async def seed_ratings(db: Database, guild: int) -> int:
    """50 members rating 40 films each in ``guild``, half of them the server's own."""
    rng = random.Random(9)
    curated = [int(r[0]) for r in await db.fetchall("SELECT id FROM films WHERE guild_id IS NULL LIMIT 3000")]
    own = [int(r[0]) for r in await db.fetchall("SELECT id FROM films WHERE guild_id = ? LIMIT 3000", (guild,))]
    now = to_db(datetime(2026, 12, 1, tzinfo=UTC))
    rows = [
        {"guild_id": guild, "user_id": user, "film_id": film_id, "rating": rng.randint(2, 10), "body": None,
         "spoiler": 0, "source": "discord", "now": now}
        for user in range(1, 51)
        for film_id in {*rng.sample(curated, 20), *rng.sample(own, 20)}
    ]  # fmt: skip
    async with db.transaction() as tx:
        await tx.executemany(reviews_sql.INSERT_REVIEW, rows)
    return len(rows)


async def measure(target: str, catalog: Path, args: argparse.Namespace, record: Record) -> None:
    pool, source = title_pool(args.synthetic)
    async with await open_database(target) as db:
        await db.migrate()
        summary = await load_catalog(db, catalog)
        curated = await build_title_index(db)
        record("catalog", f"{summary.films_active} films")
        started = time.perf_counter()
        await seed(db, args.servers, args.per_server, pool)
        total = args.servers * args.per_server
        record("server films stored", f"{total:,} in {time.perf_counter() - started:.1f} s ({source})")

        gc.collect()
        titles = ServerTitles(db)
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        for guild in range(1, args.servers + 1):
            await titles.index(guild)
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        kept = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
        record(
            f"{args.servers} server indexes warm",
            f"{kept / 2**20:.1f} MiB kept ({kept / args.servers / 2**20:.2f} MiB a server, "
            f"{kept / total:.0f} B a film)",
        )
        gc.freeze()

        rng = random.Random(3)
        queries = [q for q, _t, _y in QUALITY_QUERIES] + SERVER_QUERIES
        prefixes = [query[:end] for query in queries for end in range(1, len(query) + 1)]
        guilds = [rng.randint(1, args.servers) for _ in prefixes]
        indexes = {guild: await titles.index(guild) for guild in range(1, args.servers + 1)}
        samples = []
        for prefix, guild in zip(prefixes * 2, guilds * 2, strict=True):
            started = time.perf_counter()
            ClubTitles(curated, indexes[guild]).search(prefix, 25)
            samples.append(time.perf_counter() - started)
        record(f"autocomplete search (every prefix of {len(queries)} queries, twice)", figures(samples))
        samples = []
        for prefix, guild in zip(prefixes, guilds, strict=True):
            started = time.perf_counter()
            (await titles.for_guild(curated, guild)).search(prefix, 25)
            samples.append(time.perf_counter() - started)
        record("autocomplete with the version check (titles_for + search)", figures(samples))
        found = total_asked = 0
        for guild in range(1, 11):
            own = await titles.index(guild)
            for entry in random.Random(guild).sample([m.entry for m in own.search("", 5_000)], 10):
                total_asked += 1
                top = ClubTitles(curated, indexes[guild]).search(entry.title, 3)
                found += any(m.entry.slug == entry.slug for m in top)
        record("a server film in the top 3 for its title (10 × 10)", f"{found}/{total_asked}")
        started = time.perf_counter()
        for guild in range(1, 11):
            await ServerTitles(db).index(guild)
        record("a server index built (after its films change)", f"{(time.perf_counter() - started) * 100:.0f} ms")

        engine = Recommender(db, rng=random.Random(1))
        await engine.warm()
        versions = await engine._versions(1)  # the one step this figure is about
        started = time.perf_counter()
        snapshot = await engine.server_snapshot(1, versions)
        record(
            f"recommender snapshot with a server's {snapshot.server_films} films",
            f"{(time.perf_counter() - started) * 1000:.0f} ms (once per change of its films)",
        )
        samples = []
        for run in range(200):
            started = time.perf_counter()
            await engine.for_member(1, 1 + run % 50, count=5)
            samples.append(time.perf_counter() - started)
        record("forme in that server (cold start, warm caches)", figures(samples))
        rated = await seed_ratings(db, 1)
        started = time.perf_counter()
        await engine.for_member(1, 1)
        record(
            f"taste model fit there ({rated} ratings, half of server films)", f"{time.perf_counter() - started:.2f} s"
        )
        samples = []
        for run in range(200):
            started = time.perf_counter()
            await engine.for_member(1, 1 + run % 50, count=5)
            samples.append(time.perf_counter() - started)
        record("forme in that server (from ratings)", figures(samples))


async def run(args: argparse.Namespace, catalog: Path, workdir: Path) -> bool:
    async with backends(args, workdir) as chosen:
        table = SideBySide(chosen.names)
        ok = True
        for backend in chosen.names:
            target = await chosen.fresh(backend, "server_films")

            async def one(record: Record, target: str = target) -> None:
                await measure(target, catalog, args, record)

            ok &= await table.run(backend, one)
    table.print()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--servers", type=int, default=100)
    parser.add_argument("--per-server", type=int, default=5_000)
    parser.add_argument("--films", type=int, default=36_000)
    parser.add_argument("--synthetic", action="store_true", help="ignore ../shared/data even when present")
    add_arguments(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        described = build_catalog(Path(tmp) / "catalog", args.films, args.synthetic)
        print(f"built {described} in {time.perf_counter() - started:.1f} s")
        return 0 if asyncio.run(run(args, Path(tmp) / "catalog", Path(tmp))) else 1


if __name__ == "__main__":
    sys.exit(main())
