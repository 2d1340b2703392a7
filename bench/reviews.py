"""Reviews benchmark: /reviews film and /club stats through the core with 100,000 reviews in one server; prints
p50/p99 (target: p99 < 20 ms on a 2-core machine).

The reviews are MovieLens ml-latest-small's 100,836 real ratings (610 members, half stars, a long-tailed
popularity) on a catalog built from its 9,742 movies, when ../shared/data is there; otherwise 100,000 synthetic
reviews by 2,000 members of the shipped catalog, with Zipf-like popularity. Either way they go through the real
schema, so the triggers that keep the running totals fire for every one. Timings are of the core calls a command
makes (bot.core.reviews.film_reviews, bot.core.stats.club_stats) on the bot's own database wrapper; drawing the
PNG charts is timed separately.

    python bench/reviews.py [--synthetic] [--calls 1000] [--backend sqlite|postgres|both] [--database-url URL]

Each backend gets its own database with the same reviews; the figures print side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from backends import Record, SideBySide, add_arguments, backends, insert_many  # noqa: E402

from bot.core import reviews, stats  # noqa: E402
from bot.core.catalog import FIRST_FILM_YEAR, load_catalog  # noqa: E402
from bot.core.clock import to_db  # noqa: E402
from bot.db.database import Database, open_database  # noqa: E402
from bot.ui.charts import bar_chart  # noqa: E402
from bot.ui.reviews import histogram_png  # noqa: E402
from tests.catalog_builder import film, theme, to_toml  # noqa: E402

MOVIELENS = REPO.parent / "shared" / "data" / "movielens-ml-latest-small"
GUILD = 1
TARGET_MS = 20.0
_TITLE_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})\)\s*$")

Review = tuple[int, str, int, int, str | None, str]  # (member, film slug, half stars, day offset, body, ...)


def movielens_catalog(folder: Path) -> tuple[Path, list[tuple[int, str, int, int]]]:
    """A catalog of MovieLens movies (genres as themes) and the ratings as (member, slug, half stars, timestamp)."""
    genres: set[str] = set()
    films: list[dict[str, object]] = []
    slugs: dict[str, str] = {}
    seen: set[tuple[str, int]] = set()
    with (MOVIELENS / "movies.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            match = _TITLE_YEAR.match(row["title"])
            if not match:
                continue
            title, year = match["title"].strip()[:200] or "Untitled", int(match["year"])
            if (title.casefold(), year) in seen or not FIRST_FILM_YEAR <= year <= 2026:
                continue
            seen.add((title.casefold(), year))
            themes = [re.sub(r"[^a-z0-9]+", "-", g.lower()).strip("-") for g in row["genres"].split("|")]
            themes = [t for t in themes if t and t != "no-genres-listed"] or ["unsorted"]
            genres.update(themes)
            slug = f"ml-{row['movieId']}"
            slugs[row["movieId"]] = slug
            films.append(film(slug, title=title, year=year, themes=themes[:3]))
    folder.mkdir(parents=True)
    (folder / "themes.toml").write_text(to_toml(themes=[theme(g) for g in sorted(genres)]), encoding="utf-8")
    for start in range(0, len(films), 1000):
        (folder / f"films-{start // 1000:02d}.toml").write_text(to_toml(films=films[start : start + 1000]), "utf-8")
    ratings = []
    with (MOVIELENS / "ratings.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            slug = slugs.get(row["movieId"])
            if slug is not None:
                ratings.append((int(row["userId"]), slug, round(float(row["rating"]) * 2), int(row["timestamp"])))
    return folder, ratings


def synthetic_ratings(slugs: list[str], count: int, members: int = 2000) -> list[tuple[int, str, int, int]]:
    rng = random.Random(42)
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(slugs))]
    quality = {slug: rng.uniform(2.0, 4.6) for slug in slugs}
    chosen: set[tuple[int, str]] = set()
    out = []
    while len(out) < count:
        member = rng.randint(1, members)
        slug = rng.choices(slugs, weights)[0]
        if (member, slug) in chosen:
            continue
        chosen.add((member, slug))
        half = max(1, min(10, round(rng.gauss(quality[slug], 0.9) * 2)))
        out.append((member, slug, half, 1_600_000_000 + rng.randint(0, 150_000_000)))
    return out


async def insert_reviews(db: Database, ratings: list[tuple[int, str, int, int]]) -> None:
    ids = {row[0]: row[1] for row in await db.fetchall("SELECT slug, id FROM films")}
    rng = random.Random(3)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    rows = []
    for member, slug, half, stamp in ratings:
        body = None
        if rng.random() < 0.3:
            body = " ".join(rng.choice(["loud", "tender", "long", "sharp", "odd", "warm"]) for _ in range(40))
        moment = to_db(epoch + timedelta(seconds=stamp))
        spoiler = int(body is not None and rng.random() < 0.1)
        rows.append((GUILD, member, ids[slug], half, body, spoiler, moment, moment))
    await insert_many(
        db,
        "INSERT INTO reviews (guild_id, user_id, film_id, rating, body, spoiler, source, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, 'discord', ?, ?)",
        rows,
    )
    await db.execute("ANALYZE")


async def timed(call: Callable[[], Awaitable[object]], times: int) -> list[float]:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def report(record: Record, name: str, samples: list[float]) -> bool:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    record(name, f"p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  max {ordered[-1]:6.1f} ms  n={len(ordered)}")
    return p99 < TARGET_MS


async def measure(
    target: str, catalog: Path, ratings: list[tuple[int, str, int, int]], calls: int, record: Record
) -> bool:
    """Record the figures; True when the p99 target is met."""
    async with await open_database(target) as db:
        await db.migrate()
        started = time.perf_counter()
        await load_catalog(db, catalog)
        if not ratings:
            slugs = [row[0] for row in await db.fetchall("SELECT slug FROM films WHERE retired = 0 ORDER BY id")]
            ratings = synthetic_ratings(slugs, 100_000)
        await insert_reviews(db, ratings)
        setup = time.perf_counter() - started

        totals = [
            (int(film_id), int(count))
            for film_id, count in await db.fetchall(
                "SELECT film_id, reviews FROM review_film_totals WHERE guild_id = ? ORDER BY reviews DESC", (GUILD,)
            )
        ]
        members = await db.fetchval("SELECT count(*) FROM review_member_totals WHERE guild_id = ?", (GUILD,))
        busiest, busiest_count = totals[0]
        record(
            "reviews in one server",
            f"{sum(n for _f, n in totals):,} by {members:,} members, {len(totals):,} films (busiest {busiest_count:,})",
        )
        record("set up (catalog, reviews, totals)", f"{setup:.1f} s")

        rng = random.Random(9)
        film_ids = [f for f, _n in totals]
        counts = dict(totals)
        # Films as often as members look them up (popular ones most), page 1 mostly; drawn before timing.
        lookups = iter(
            [
                (film_id, 0 if rng.random() < 0.7 else rng.randrange(max(1, -(-counts[film_id] // reviews.PAGE_SIZE))))
                for film_id in rng.choices(film_ids, [n for _f, n in totals], k=calls + 50)
            ]
        )

        async def random_film_page() -> object:
            film_id, page = next(lookups)
            return await reviews.film_reviews(db, GUILD, film_id, page)

        async def busiest_last_page() -> object:
            return await reviews.film_reviews(db, GUILD, busiest, 10**6)

        async def club() -> object:
            return await stats.club_stats(db, GUILD)

        await timed(random_film_page, 50)  # warm the page cache
        ok = report(record, "/reviews film (popular films, any page)", await timed(random_film_page, calls))
        ok &= report(record, "/reviews film (busiest film, last page)", await timed(busiest_last_page, calls // 4))
        ok &= report(record, "/club stats", await timed(club, max(100, calls // 5)))
        record(f"target p99 < {TARGET_MS:.0f} ms", "met" if ok else "NOT met")

        page = await reviews.film_reviews(db, GUILD, busiest, 0)
        result = await stats.club_stats(db, GUILD)
        histogram = await timed(lambda: asyncio.to_thread(histogram_png, "Ratings", page.histogram), 50)
        labels = [r.film.label for r in result.top_rated]
        scores = [r.score for r in result.top_rated]
        chart = await timed(lambda: asyncio.to_thread(bar_chart, "Top rated", labels, scores), 50)
        report(record, "PNG rating histogram (outside the core)", histogram)
        report(record, "PNG top-rated chart (outside the core)", chart)
    return ok


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", action="store_true", help="synthetic reviews even when MovieLens is there")
    parser.add_argument("--calls", type=int, default=1000, help="calls per /reviews film figure")
    add_arguments(parser)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if MOVIELENS.is_dir() and not args.synthetic:
            catalog, ratings = movielens_catalog(folder / "catalog")
            print(f"MovieLens ml-latest-small: {len(ratings):,} real ratings")
        else:
            catalog, ratings = REPO / "data", []
            print("synthetic reviews on the shipped catalog")
        async with backends(args, folder) as chosen:
            table = SideBySide(chosen.names)
            ok = True
            for backend in chosen.names:
                target = await chosen.fresh(backend, "reviews")
                ok &= await table.run(
                    backend, lambda record, target=target: measure(target, catalog, ratings, args.calls, record)
                )
        table.print()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
