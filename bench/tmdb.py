"""TMDb benchmark: film details and searches through FilmDetailsService (the database cache, the polite client) against
the loopback TMDb (tests/tmdb_double.py) with a network latency, and the cache's hit rate over a simulated week.

Figures, per backend:

- details and search p50/p99, cold (every call asks TMDb: the request, its rate limit and the cache write) and warm
  (every call answered by the cache), and ``cached()`` of a poll's 25 films;
- ``/nominate`` as it asks the provider (a search, then the chosen film's details) during the simulated week:
  p50/p99, with the cache as that week left it at each moment;
- the week: ``--clubs`` clubs, each day ``--views`` film cards (``for_film``, films drawn with a long-tailed
  popularity from ``--films`` films) and ``--nominations`` nominations; hit rate, requests TMDb got, answers given
  stale;
- TMDb hanging (every answer 10 s late): how long 20 concurrent commands take to answer without details (the 2 s
  budget a command gives, within Discord's 3 s).

    python bench/tmdb.py [--films 2000] [--latency 0.02] [--calls 200] [--clubs 10] [--views 8] [--nominations 1]
                         [--backend sqlite|postgres|both] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from backends import Record, SideBySide, add_arguments, backends  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from bot.core.details import FilmDetailsService  # noqa: E402
from bot.db.database import Database, open_database  # noqa: E402
from bot.services.tmdb import TmdbClient  # noqa: E402
from tests.clocks import FixedClock  # noqa: E402
from tests.tmdb_double import TmdbDouble, TmdbFilm  # noqa: E402

WORDS = (
    "night",
    "river",
    "glass",
    "summer",
    "winter",
    "echo",
    "silent",
    "paper",
    "crown",
    "harbour",
    "velvet",
    "iron",
    "orchard",
    "signal",
    "lantern",
    "desert",
    "garden",
    "mirror",
    "thunder",
    "ballad",
    "shadow",
    "island",
    "circus",
    "station",
)
FIRST_ID = 100_000


def synthetic_films(count: int, rng: random.Random) -> list[TmdbFilm]:
    """``count`` films with distinct titles, years, a director, genres and a poster."""
    films = []
    for index in range(count):
        title = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {index}"
        year = rng.randint(1930, 2025)
        films.append(
            TmdbFilm(
                FIRST_ID + index,
                title,
                f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                rng.randint(70, 180),
                (f"{rng.choice(WORDS).title()} Director{index % 97}",),
                ("Drama", "Music") if index % 3 else ("Documentary",),
                tuple(rng.sample(WORDS, 3)),
                "A synthetic film for the benchmark.",
                f"/poster{index}.jpg",
                f"tt{9_000_000 + index}",
                popularity=rng.random() * 100,
                providers={"US": {"flatrate": ["Kanopy"], "rent": ["Apple TV"]}},
            )
        )
    return films


def client_of(double: TmdbDouble) -> TmdbClient:
    return TmdbClient(SecretStr(double.api_key), base_url=double.api_base, image_base_url=double.image_base)


def percentiles(samples: list[float]) -> str:
    """p50 / p99 of samples in seconds, as milliseconds."""
    if not samples:
        return "-"
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered) * 1000:.1f} / {p99 * 1000:.1f} ms"


async def timed(call: Callable[[], Awaitable[object]], samples: list[float]) -> None:
    started = time.perf_counter()
    await call()
    samples.append(time.perf_counter() - started)


def popular(films: list[TmdbFilm], rng: random.Random, count: int) -> list[TmdbFilm]:
    """``count`` draws with a long tail: the film of rank r is drawn in proportion to 1 / r^1.1."""
    weights = [1 / (rank**1.1) for rank in range(1, len(films) + 1)]
    return rng.choices(films, weights=weights, k=count)


async def measure(
    target: str, double: TmdbDouble, films: list[TmdbFilm], args: argparse.Namespace, record: Record
) -> None:
    rng = random.Random(7)
    clock = FixedClock()
    async with await open_database(target) as db:
        await db.migrate()
        service = FilmDetailsService(db, clock, client_of(double))
        try:
            await one_by_one(service, films, args, record, rng)
        finally:
            await service.close()
        clock.advance(timedelta(days=365))  # the week starts from an empty cache
        await service.forget_expired(timedelta(0))
        week = FilmDetailsService(db, clock, client_of(double))
        try:
            await simulated_week(week, clock, films, args, record, rng, double)
        finally:
            await week.close()
        await hanging(db, clock, double, record)


async def one_by_one(
    service: FilmDetailsService, films: list[TmdbFilm], args: argparse.Namespace, record: Record, rng: random.Random
) -> None:
    chosen = rng.sample(films, args.calls)
    for label, call in (
        ("details", lambda film: service.details(film.id)),
        ("search", lambda film: service.search(film.title, film.year)),
    ):
        for temperature in ("cold", "warm"):
            samples: list[float] = []
            for film in chosen:
                await timed(lambda film=film, call=call: call(film), samples)
            record(f"{label} {temperature} p50/p99", percentiles(samples))
    poll = [film.id for film in chosen[:25]]
    samples = []
    for _ in range(args.calls):
        await timed(lambda: service.cached(poll), samples)
    record("cached() of 25 films p50/p99", percentiles(samples))


async def simulated_week(
    service: FilmDetailsService,
    clock: FixedClock,
    films: list[TmdbFilm],
    args: argparse.Namespace,
    record: Record,
    rng: random.Random,
    double: TmdbDouble,
) -> None:
    """A week of club use from an empty cache: every hour's commands run concurrently, in time order."""
    asked_before = double.count()
    events: list[tuple[int, str, TmdbFilm]] = []
    for _club in range(args.clubs):
        for day in range(7):
            for film in popular(films, rng, args.views):
                events.append((day * 24 + rng.randint(9, 23), "view", film))
            for film in popular(films, rng, args.nominations):
                events.append((day * 24 + rng.randint(9, 23), "nominate", film))
    events.sort(key=lambda event: event[0])
    nominate: list[float] = []
    views: list[float] = []
    start = clock.now()
    for hour in sorted({event[0] for event in events}):
        clock.moment = start + timedelta(hours=hour)
        batch = [event for event in events if event[0] == hour]

        async def one(kind: str, film: TmdbFilm) -> None:
            if kind == "view":
                await timed(lambda: service.details(film.id), views)
                return

            async def nominated() -> None:
                candidates = await service.search(film.title, film.year)
                if candidates:
                    await service.details(candidates[0].tmdb_id)

            await timed(nominated, nominate)

        await asyncio.gather(*(one(kind, film) for _hour, kind, film in batch))
    counters = service.counters
    record("week: commands", f"{len(events)} ({args.clubs} clubs x 7 days)")
    record("week: cache hit rate", f"{counters.hit_rate:.1%} ({counters.hits} hits, {counters.misses} misses)")
    record("week: requests to TMDb", str(double.count() - asked_before))
    record("week: stale / failed", f"{counters.stale} / {counters.failures}")
    record("week: /film details p50/p99", percentiles(views))
    record("week: /nominate p50/p99", percentiles(nominate))


async def hanging(db: Database, clock: FixedClock, double: TmdbDouble, record: Record) -> None:
    """TMDb accepts the connections and answers 10 s later: commands still answer within their 2 s budget."""
    service = FilmDetailsService(db, clock, client_of(double), background_limit=3.0)
    double.slow("*", seconds=10)
    samples: list[float] = []
    try:
        await asyncio.gather(*(timed(lambda i=i: service.details(400 + i), samples) for i in range(20)))
    finally:
        double.clear_faults()
        await service.close()
    record("TMDb hanging: 20 commands answer in", f"max {max(samples) * 1000:.0f} ms (budget 2000 ms)")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--films", type=int, default=2000, help="films the loopback TMDb knows (default 2000)")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds TMDb takes per answer (default 0.02)")
    parser.add_argument("--calls", type=int, default=200, help="calls per one-by-one figure (default 200)")
    parser.add_argument("--clubs", type=int, default=10, help="clubs in the simulated week (default 10)")
    parser.add_argument("--views", type=int, default=8, help="film cards a club opens a day (default 8)")
    parser.add_argument("--nominations", type=int, default=1, help="nominations a club makes a day (default 1)")
    add_arguments(parser)
    args = parser.parse_args()
    rng = random.Random(42)
    films = synthetic_films(args.films, rng)
    print(
        f"loopback TMDb with {len(films)} films, {args.latency * 1000:.0f} ms a request; the client's limit is "
        "20 requests/s"
    )
    with tempfile.TemporaryDirectory() as workdir:
        async with TmdbDouble(tuple(films)) as double, backends(args, Path(workdir)) as chosen:
            double.slow("*", seconds=args.latency)
            table = SideBySide(chosen.names)
            for backend in chosen.names:
                target = await chosen.fresh(backend, "tmdb")
                await table.run(backend, lambda record, target=target: measure(target, double, films, args, record))
                double.clear_faults()
                double.slow("*", seconds=args.latency)
        table.print()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
