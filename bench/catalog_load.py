"""Catalog load benchmark: cold load, unchanged reload and forced reload of an N-film catalog; prints figures.

The catalog is built from ../shared/data/wikipedia-movie-data when it is there (titles, years, genres as themes,
cast as featured people; blurbs and prompts are generated, never copied), synthetic otherwise, and written as TOML
files of 1,000 films into a temporary folder, exactly as a moderator's catalog would be.

    python bench/catalog_load.py [--films 36000] [--synthetic] [--backend sqlite|postgres|both] [--database-url URL]

Targets on a 2-core machine: cold < 3 s, unchanged < 0.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from backends import Record, SideBySide, add_arguments, backends  # noqa: E402

from bot.core.catalog import FIRST_FILM_YEAR, load_catalog  # noqa: E402
from bot.core.text import normalise_title  # noqa: E402
from bot.db.database import open_database  # noqa: E402
from tests.catalog_builder import film, theme, to_toml  # noqa: E402

WIKIPEDIA = REPO.parent / "shared" / "data" / "wikipedia-movie-data"
FILMS_PER_FILE = 1_000


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def wikipedia_films(limit: int) -> Iterator[tuple[str, int, list[str], list[str]]]:
    """(title, year, genres, cast) for distinct titles, oldest decade first."""
    seen: set[tuple[str, int]] = set()
    count = 0
    for path in sorted(WIKIPEDIA.glob("movies-*.json")):
        for record in json.loads(path.read_text(encoding="utf-8")):
            title, year = str(record.get("title") or "").strip(), record.get("year")
            key = (normalise_title(title), year)
            if not title or not isinstance(year, int) or key in seen or not key[0]:
                continue
            if not FIRST_FILM_YEAR <= year <= 2030:
                continue
            seen.add(key)
            yield title[:200], year, list(record.get("genres") or []), [c for c in record.get("cast") or [] if c][:6]
            count += 1
            if count >= limit:
                return


def synthetic_films(limit: int) -> Iterator[tuple[str, int, list[str], list[str]]]:
    rng = random.Random(7)
    genres = ["Drama", "Comedy", "Documentary", "Musical", "Horror", "Western", "Noir", "Animated", "Romance"]
    for index in range(limit):
        yield (
            f"Film number {index}",
            rng.randint(1920, 2024),
            rng.sample(genres, 2),
            [f"Person {rng.randint(1, 5000)}" for _ in range(3)],
        )


def build_catalog(folder: Path, films: int, synthetic: bool) -> str:
    source = "synthetic" if synthetic or not WIKIPEDIA.is_dir() else "wikipedia-movie-data"
    rows = list((synthetic_films if source == "synthetic" else wikipedia_films)(films))
    genre_slugs = sorted({_slug(g) for _t, _y, genres, _c in rows for g in genres} | {"uncategorised"})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "themes.toml").write_text(to_toml(themes=[theme(slug) for slug in genre_slugs]), encoding="utf-8")
    ids: set[str] = set()
    entries = []
    for title, year, genres, cast in rows:
        film_id = _slug(title)[:70].strip("-")
        if film_id in ids:
            film_id = f"{film_id}-{year}"
        while film_id in ids:
            film_id += "-x"
        ids.add(film_id)
        themes = sorted({_slug(g) for g in genres}) or ["uncategorised"]
        entries.append(
            film(
                film_id,
                title=title,
                year=year,
                runtime=90 + len(title) % 60,
                themes=themes,
                featuring=cast,
                kind="fiction feature",
                blurb=f"A {', '.join(genres) or 'film'} picture from {year}, kept here for the benchmark.",
            )
        )
    for start in range(0, len(entries), FILMS_PER_FILE):
        chunk = entries[start : start + FILMS_PER_FILE]
        (folder / f"films-{start // FILMS_PER_FILE:03d}.toml").write_text(to_toml(films=chunk), encoding="utf-8")
    return f"{len(entries)} films in {len(genre_slugs)} themes from {source}"


async def measure(folder: Path, target: str, record: Record) -> None:
    async with await open_database(target) as db:
        await db.migrate()
        started = time.perf_counter()
        cold = await load_catalog(db, folder)
        record("cold load (target < 3 s)", f"{time.perf_counter() - started:.2f} s")
        started = time.perf_counter()
        unchanged = await load_catalog(db, folder)
        record("unchanged reload (target < 500 ms)", f"{(time.perf_counter() - started) * 1000:.1f} ms")
        started = time.perf_counter()
        forced = await load_catalog(db, folder, force=True)
        record("forced reload (re-validates, writes nothing)", f"{time.perf_counter() - started:.2f} s")
    assert cold.films_added > 0 and unchanged.skipped and forced.films_updated == 0
    record("peak RSS of this process so far", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


async def run(args: argparse.Namespace, folder: Path, workdir: Path) -> bool:
    async with backends(args, workdir) as chosen:
        table = SideBySide(chosen.names)
        ok = True
        for backend in chosen.names:
            target = await chosen.fresh(backend, "catalog")
            ok &= await table.run(backend, lambda record, target=target: measure(folder, target, record))
    table.print()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--films", type=int, default=36_000)
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
