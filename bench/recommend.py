"""Recommendation and autocomplete latency on a 36,000-film catalog with 100,000 ratings; prints figures.

The catalog is the shipped one plus films from ../shared/data/wikipedia-movie-data (built with the helpers of
bench/catalog_load.py; synthetic titles without that folder), so the shipped films keep their alternative titles
among 36,000 distractors. The ratings are MovieLens ml-latest-small (100,836 ratings by 610 users) mapped onto it:
by title and year where the film exists, otherwise onto a film chosen by a hash of the MovieLens id (synthetic
ratings without that folder). Some screenings and watchlist entries are added so every filter has work to do.

Measured in-process, on the core the cogs call (no Discord round trip):
- autocomplete: TitleIndex.search for every prefix (1 character up) of the quality queries, and theme search;
- the quality list: how many misspelled, abbreviated or alternative-title queries find their film in the top 3;
- /recommend (theme resolution + ranking + the shown films' rows), /similar, /surprise, /forme, /tonight,
  each on warm caches, and the cold costs: catalog snapshot, club statistics after a new rating, taste-model fit.

    .venv/bin/python bench/recommend.py [--films 36000] [--synthetic] [--runs 500] [--backend sqlite|postgres|both]

Each backend (bench/backends.py) gets its own database with the same club; the figures print side by side.

Targets on a 2-core machine: recommend p99 < 20 ms; autocomplete p99 < 10 ms with the quality list intact.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gc
import math
import random
import re
import shutil
import sys
import tempfile
import time
import zlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from backends import Record, SideBySide, add_arguments, backends, insert_many  # noqa: E402
from catalog_load import WIKIPEDIA, _slug, synthetic_films, wikipedia_films  # noqa: E402

from bot.core.catalog import KINDS, load_catalog, read_catalog  # noqa: E402
from bot.core.clock import to_db  # noqa: E402
from bot.core.films import build_title_index, get_films  # noqa: E402
from bot.core.recommend import Filters, Recommender  # noqa: E402
from bot.core.text import normalise_title  # noqa: E402
from bot.db import reviews as reviews_sql  # noqa: E402
from bot.db import watch as watch_sql  # noqa: E402
from bot.db.database import Database, open_database  # noqa: E402
from tests.catalog_builder import film, theme, to_toml  # noqa: E402
from tests.unit.test_search import QUALITY_QUERIES  # noqa: E402

MOVIELENS = REPO.parent / "shared" / "data" / "movielens-ml-latest-small"
GUILD = 1
FILMS_PER_FILE = 1_000
#: Queries for films that only the Wikipedia list holds (American films), on top of the shipped-catalog list.
WIKIPEDIA_QUERIES = [
    ("wizrd of oz", "The Wizard of Oz", 1939),
    ("bladerunner", "Blade Runner", 1982),
    ("casablanka", "Casablanca", 1942),
    ("citizen kane", "Citizen Kane", 1941),
    ("back to the futur", "Back to the Future", 1985),
    ("godfather part 2", "The Godfather Part II", 1974),
    ("et the extra terrestrial", "E.T. the Extra-Terrestrial", 1982),
    ("jurasic park", "Jurassic Park", 1993),
    ("singin in the rain", "Singin' in the Rain", 1952),
    ("terminator 2", "Terminator 2: Judgment Day", 1991),
]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1]


def figures(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return f"p50 {percentile(ms, 50):6.2f} ms   p99 {percentile(ms, 99):6.2f} ms   max {max(ms):6.1f} ms  (n={len(ms)})"


# -- the catalog ------------------------------------------------------------------------------------------------


def build_catalog(folder: Path, films: int, synthetic: bool) -> str:
    """The shipped catalog plus other films up to ``films``, as TOML files a moderator could have written."""
    folder.mkdir(parents=True)
    for path in (REPO / "data").glob("*.toml"):
        shutil.copy(path, folder / path.name)
    shipped = read_catalog(REPO / "data")
    taken = {(normalise_title(f.title), f.year) for f in shipped.films}
    ids = {f.slug for f in shipped.films}
    source = "synthetic" if synthetic or not WIKIPEDIA.is_dir() else "wikipedia-movie-data"
    rows = [
        row
        for row in (synthetic_films if source == "synthetic" else wikipedia_films)(films + 1_000)
        if (normalise_title(row[0]), row[1]) not in taken
    ][: films - len(shipped.films)]
    shipped_slugs = {t.slug for t in shipped.themes}
    genres = sorted(({_slug(g) for _t, _y, gs, _c in rows for g in gs} | {"uncategorised"}) - shipped_slugs)
    (folder / "bench-themes.toml").write_text(to_toml(themes=[theme(s) for s in genres]), encoding="utf-8")
    rng = random.Random(11)
    entries = []
    for title, year, genre_list, cast in rows:
        film_id = _slug(title)[:70].strip("-")
        if film_id in ids:
            film_id = f"{film_id}-{year}"
        while film_id in ids:
            film_id += "-x"
        ids.add(film_id)
        kind = rng.choice(["fiction feature"] * 6 + ["documentary", "animated feature", "concert film", "biopic"])
        entries.append(
            film(
                film_id,
                title=title,
                year=year,
                runtime=70 + (zlib.crc32(title.encode()) % 90),
                themes=sorted({_slug(g) for g in genre_list} - shipped_slugs) or ["uncategorised"],
                featuring=cast,
                kind=kind,
                blurb=f"A {', '.join(genre_list) or 'film'} picture from {year}, kept here for the benchmark.",
            )
        )
    for start in range(0, len(entries), FILMS_PER_FILE):
        chunk = to_toml(films=entries[start : start + FILMS_PER_FILE])
        (folder / f"bench-films-{start // FILMS_PER_FILE:03d}.toml").write_text(chunk, encoding="utf-8")
    return f"{len(entries) + len(shipped.films)} films ({len(shipped.films)} shipped + {len(entries)} from {source})"


# -- the ratings ------------------------------------------------------------------------------------------------

_ML_TITLE = re.compile(r"^(?P<title>.*?)\s*(?:\((?P<alt>[^()]*)\))?\s*\((?P<year>\d{4})\)\s*$")


def movielens_ratings(film_of: Callable[[str, int, int], int]) -> list[tuple[int, int, float, int]]:
    """(user, film id, stars, unix time) for every MovieLens rating, each movie mapped by ``film_of``."""
    movies: dict[int, int] = {}
    with (MOVIELENS / "movies.csv").open(newline="", encoding="utf-8") as handle:
        for movie_id, title, _genres in list(csv.reader(handle))[1:]:
            match = _ML_TITLE.match(title)
            name, year = (match["title"], int(match["year"])) if match else (title, 0)
            movies[int(movie_id)] = film_of(name, year, int(movie_id))
    with (MOVIELENS / "ratings.csv").open(newline="", encoding="utf-8") as handle:
        return [(int(u), movies[int(m)], float(s), int(t)) for u, m, s, t in list(csv.reader(handle))[1:]]


def synthetic_ratings(film_ids: list[int], count: int = 100_000) -> list[tuple[int, int, float, int]]:
    rng = random.Random(5)
    popular = film_ids[:: max(1, len(film_ids) // 9_000)]
    seen: set[tuple[int, int]] = set()
    out = []
    while len(out) < count:
        user, film_id = rng.randint(1, 610), popular[min(len(popular) - 1, int(rng.paretovariate(1.2)) - 1)]
        if (user, film_id) not in seen:
            seen.add((user, film_id))
            out.append((user, film_id, rng.randint(1, 10) / 2, 1_500_000_000 + rng.randint(0, 10**8)))
    return out


async def seed(db: Database) -> str:
    rows = await db.fetchall("SELECT id, title, year, alt_titles FROM films WHERE retired = 0 ORDER BY id")
    film_ids = [int(r[0]) for r in rows]
    by_key: dict[tuple[str, int], int] = {}
    for film_id, title, year, alt_titles in rows:
        for name in [title, *re.findall(r'"((?:[^"\\]|\\.)*)"', alt_titles)]:
            by_key.setdefault((normalise_title(name), int(year)), int(film_id))
    matched = 0

    def film_of(title: str, year: int, movie_id: int) -> int:
        nonlocal matched
        found = by_key.get((normalise_title(title), year))
        if found is not None:
            matched += 1
            return found
        return film_ids[zlib.crc32(str(movie_id).encode()) % len(film_ids)]

    if MOVIELENS.is_dir():
        ratings = movielens_ratings(film_of)
        source = f"MovieLens ({matched} of 9,742 films matched)"
    else:
        ratings = synthetic_ratings(film_ids)
        source = "synthetic"
    unique: dict[tuple[int, int], tuple[int, int, float, int]] = {}
    for user, film_id, stars, at in ratings:
        unique[(user, film_id)] = (user, film_id, stars, at)  # two movies hashed onto one film: keep one rating
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    params = [
        {
            "guild_id": GUILD,
            "user_id": user,
            "film_id": film_id,
            "rating": int(stars * 2),
            "body": None,
            "spoiler": 0,
            "source": "discord",
            "now": to_db(epoch + timedelta(seconds=at)),
        }
        for user, film_id, stars, at in unique.values()
    ]
    rng = random.Random(3)
    now = to_db(datetime(2026, 1, 1, tzinfo=UTC))
    await insert_many(db, reviews_sql.INSERT_REVIEW, params)
    async with db.transaction() as tx:
        watched = rng.sample(film_ids, 300)
        await tx.executemany(watch_sql.MARK_CLUB_WATCHED, [(GUILD, f, "manual", None, now) for f in watched])
        listed = {(rng.randint(1, 610), rng.choice(film_ids)) for _ in range(3_000)}
        await tx.executemany(watch_sql.ADD_TO_WATCHLIST, [(GUILD, u, f, "discord", now) for u, f in listed])
    return f"{len(params)} ratings by {len({p['user_id'] for p in params})} members from {source}"


# -- measuring --------------------------------------------------------------------------------------------------


async def timed(runs: int, make: Callable[[int], Awaitable[object]]) -> list[float]:
    samples = []
    for run in range(runs):
        started = time.perf_counter()
        await make(run)
        samples.append(time.perf_counter() - started)
    return samples


async def measure(target: str, catalog: Path, runs: int, record: Record) -> str:
    """Record the figures; returns what was seeded."""
    async with await open_database(target) as db:
        await db.migrate()
        started = time.perf_counter()
        summary = await load_catalog(db, catalog)
        record(
            "catalog load",
            f"{time.perf_counter() - started:.1f} s ({summary.films_active} films, {summary.themes_active} themes)",
        )
        started = time.perf_counter()
        seeded = await seed(db)
        record("seed", f"{time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        index = await build_title_index(db)
        record("title index built", f"{(time.perf_counter() - started) * 1000:.0f} ms for {len(index)} films")
        gc.collect()
        gc.freeze()  # as the bot does once started (bot.client.settle_garbage_collector)

        queries = QUALITY_QUERIES + WIKIPEDIA_QUERIES
        hits = sum(
            (title, year) in [(m.entry.title, m.entry.year) for m in index.search(q, 3)] for q, title, year in queries
        )
        prefixes = [query[:end] for query, _t, _y in queries for end in range(1, len(query) + 1)]
        samples = []
        for prefix in prefixes * 2:
            started = time.perf_counter()
            index.search(prefix, 25)
            samples.append(time.perf_counter() - started)
        record(f"autocomplete (every prefix of {len(queries)} queries, twice)", figures(samples))
        record("quality (film in the top 3)", f"{hits}/{len(queries)} queries")

        engine = Recommender(db, rng=random.Random(1))
        started = time.perf_counter()
        await engine.warm()
        record("cold snapshot (catalog as arrays; at start-up)", f"{(time.perf_counter() - started) * 1000:.0f} ms")
        themes = await engine.themes(GUILD)
        started = time.perf_counter()
        await engine.recommend(GUILD, themes[0])
        record("cold club stats (first /recommend after a change)", f"{(time.perf_counter() - started) * 1000:.0f} ms")
        theme_prefixes = [t.title[:end] for t in themes for end in (1, 3, 6)]
        samples = await timed(len(theme_prefixes), lambda i: engine.search_themes(GUILD, theme_prefixes[i]))
        record("theme search", figures(samples))

        rng = random.Random(2)
        decades = [None, None, None, None, 1930, 1950, 1970, 1990, 2000]
        runtimes = [None, None, None, 100, 120]
        kinds = [None, None, None, None, None, None, "documentary", "fiction feature"]
        combos = [
            (
                rng.choice(themes).title,
                Filters(rng.choice(decades), rng.choice(runtimes), rng.choice(kinds), rng.random() < 0.2),
                rng.choice([0, 0, 0, 1, 2]),
            )
            for _ in range(runs)
        ]
        empty = 0

        async def recommend(i: int) -> None:
            nonlocal empty
            title, filters, page = combos[i]
            try:
                chosen = await engine.resolve_theme(GUILD, title)
                await engine.recommend(GUILD, chosen, filters, count=5, page=page)
            except Exception:  # an empty filter combination is answered too: it is part of the cost
                empty += 1

        samples = await timed(runs, recommend)
        record("recommend (random theme/filters/page)", f"{figures(samples)}; {empty} said what to widen")
        film_rows = await db.fetchall("SELECT id FROM films WHERE retired = 0 ORDER BY random() LIMIT ?", (runs,))
        sample_films = list((await get_films(db, [r[0] for r in film_rows])).values())
        samples = await timed(runs, lambda i: engine.similar(GUILD, sample_films[i % len(sample_films)]))
        record("similar", figures(samples))
        samples = await timed(runs, lambda i: engine.surprise(GUILD, themes[i % len(themes)]))
        record("surprise", figures(samples))

        started = time.perf_counter()
        await engine.for_member(GUILD, 1)
        record("taste model fit (once per change of ratings)", f"{time.perf_counter() - started:.2f} s")
        samples = await timed(runs, lambda i: engine.for_member(GUILD, 1 + i % 610, count=5))
        record("forme", figures(samples))
        groups = [{rng.randint(1, 610): f"m{k}" for k in range(5)} for _ in range(runs)]
        samples = await timed(runs, lambda i: engine.tonight(GUILD, groups[i], count=5))
        record("tonight (5)", figures(samples))

        await db.execute(
            reviews_sql.INSERT_REVIEW,
            {"guild_id": GUILD, "user_id": 9999, "film_id": sample_films[0].id, "rating": 9, "body": None,
             "spoiler": 0, "source": "discord", "now": to_db(datetime(2026, 2, 1, tzinfo=UTC))},
        )  # fmt: skip
        started = time.perf_counter()
        await recommend(0)
        record("after a rating (club statistics rebuilt once)", f"{(time.perf_counter() - started) * 1000:.0f} ms")
    return seeded


async def run(args: argparse.Namespace, catalog: Path, workdir: Path) -> bool:
    async with backends(args, workdir) as chosen:
        table = SideBySide(chosen.names)
        ok = True
        for backend in chosen.names:
            target = await chosen.fresh(backend, "recommend")

            async def one(record: Record, target: str = target) -> None:
                record("seeded", await measure(target, catalog, args.runs, record))

            ok &= await table.run(backend, one)
    table.print()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--films", type=int, default=36_000)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--synthetic", action="store_true", help="ignore ../shared/data even when present")
    add_arguments(parser)
    args = parser.parse_args()
    assert set(KINDS) >= {"documentary", "fiction feature"}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        described = build_catalog(Path(tmp) / "catalog", args.films, args.synthetic)
        print(f"built {described} in {time.perf_counter() - started:.1f} s")
        return 0 if asyncio.run(run(args, Path(tmp) / "catalog", Path(tmp))) else 1


if __name__ == "__main__":
    sys.exit(main())
