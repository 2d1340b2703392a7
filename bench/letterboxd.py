"""Letterboxd import benchmark: the real export in ../shared/data (letterboxd-export-patrickmjones, MIT) imported into
a server with the shipped catalog; prints where every row went (matched to the catalog, became the server's own films,
skipped and why) and how long an import takes, on each backend side by side.

    python bench/letterboxd.py [--runs 5] [--backend sqlite|postgres|both] [--database-url URL]

Timings are of the core call /letterboxd import makes (bot.core.letterboxd.import_export: read the zip, match every
row, then one transaction that adds the server's films and writes ratings, seen films and the watchlist), with the
server's titles as the bot passes them (curated + the server's own, rebuilt after each import as the bot does):
- first import: a member of a server with no films of its own (the films are added); each run in a fresh server,
- again: the same member imports the same zip (nothing changes),
- second member: another member of that server (the films are matched, not added),
- skip: ``unmatched: skip`` in a fresh server (what the import cost before films were added).
Reading the zip and matching are timed alone too (no database).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from backends import Record, SideBySide, add_arguments, backends  # noqa: E402

from bot.core import letterboxd  # noqa: E402
from bot.core.catalog import load_catalog  # noqa: E402
from bot.core.films import ServerTitles, build_title_index  # noqa: E402
from bot.core.letterboxd import ImportResult, Unmatched  # noqa: E402
from bot.core.search import TitleIndex  # noqa: E402
from bot.db.database import Database, open_database  # noqa: E402
from tests.clocks import StepClock  # noqa: E402

EXPORT = REPO.parent / "shared" / "data" / "letterboxd-export-patrickmjones"
MEMBER, SECOND_MEMBER = 7, 8


def export_zip(folder: Path) -> bytes:
    """The export zipped the way Letterboxd ships it: CSV files at the top, lists in a folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples):7.0f} ms  max {max(samples):7.0f} ms  n={len(samples)}"


def account(result: ImportResult) -> list[tuple[str, str]]:
    """Where every row went, as figures."""
    figures = [
        ("rows read (5 files)", f"{result.rows:,}"),
        ("matched the catalog", f"{result.catalog.films:,} films, {result.catalog.rows:,} rows"),
        ("matched the server's own films", f"{result.server.films:,} films, {result.server.rows:,} rows"),
        ("became the server's own films", f"{len(result.added):,} films, {result.added_rows:,} rows"),
        ("skipped", f"{len(result.skipped):,} films, {result.skipped_rows:,} rows"),
    ]
    for reason, films in result.skipped_by_reason().items():
        named = "; ".join(film.label for film in films[:2]) + (" …" if len(films) > 2 else "")
        figures.append((f"  skipped: {reason.value}", f"{sum(f.rows for f in films):,} rows: {named}"))
    total = result.catalog.rows + result.server.rows + result.added_rows + result.skipped_rows
    figures.append(("every row accounted for", "yes" if total == result.rows else f"NO ({total:,} of {result.rows:,})"))
    return figures


async def measure(target: str, data: bytes, runs: int, record: Record) -> bool:
    async with await open_database(target) as db:
        await db.migrate()
        await load_catalog(db, REPO / "data")
        curated = await build_title_index(db)
        servers = ServerTitles(db)

        async def run(guild: int, member: int, unmatched: Unmatched = Unmatched.ADD) -> ImportResult:
            titles = await servers.for_guild(curated, guild)  # what titles_for gives the cog
            return await letterboxd.import_export(
                db,
                StepClock(),
                titles,
                guild_id=guild,
                user_id=member,
                filename="letterboxd-patrickmjones.zip",
                data=data,
                unmatched=unmatched,
            )

        async def timed(call: Callable[[], Awaitable[ImportResult]]) -> tuple[float, ImportResult]:
            started = time.perf_counter()
            result = await call()
            return (time.perf_counter() - started) * 1000, result

        first, again, second, skip = [], [], [], []
        results: dict[str, ImportResult] = {}
        for guild in range(1, runs + 1):
            elapsed, results["first"] = await timed(lambda guild=guild: run(guild, MEMBER))
            first.append(elapsed)
            elapsed, results["again"] = await timed(lambda guild=guild: run(guild, MEMBER))
            again.append(elapsed)
            elapsed, results["second"] = await timed(lambda guild=guild: run(guild, SECOND_MEMBER))
            second.append(elapsed)
            elapsed, results["skip"] = await timed(lambda guild=guild: run(1000 + guild, MEMBER, Unmatched.SKIP))
            skip.append(elapsed)
        for name, value in account(results["first"]):
            record(name, value)
        ok = sum(r.rows for r in results.values()) == 4 * results["first"].rows
        ok &= not results["again"].changed and not results["second"].added
        record("re-import: added, changed", f"{len(results['again'].added)}, {results['again'].changed}")
        record("second member: server's films matched", f"{results['second'].server.films:,}")
        record("import, first (adds the films)", ms(first))
        record("import, same member again (*)", ms(again))
        record("import, second member", ms(second))
        record("import, unmatched: skip", ms(skip))
        record("server films after the runs", f"{await films_in(db):,} in {runs} servers")
    return ok


async def films_in(db: Database) -> int:
    return int(await db.fetchval("SELECT count(*) FROM films WHERE guild_id IS NOT NULL"))


def cpu_only(data: bytes, curated: TitleIndex, runs: int) -> list[tuple[str, str]]:
    """Reading the zip and matching its rows (no database), with the curated index only (a server without films)."""
    reads, matches = [], []
    for _ in range(runs):
        started = time.perf_counter()
        parsed = letterboxd.parse_upload("letterboxd.zip", data)
        reads.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        letterboxd.match_entries(parsed, curated, unmatched=Unmatched.ADD, clock=StepClock())
        matches.append((time.perf_counter() - started) * 1000)
    return [("read the zip (no database)", ms(reads)), ("match every row (no database)", ms(matches))]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="imports of each kind (each first import a fresh server)")
    add_arguments(parser)
    args = parser.parse_args()
    if not EXPORT.is_dir():
        print(f"the Letterboxd export is not at {EXPORT}: nothing to measure")
        return 0
    data = export_zip(EXPORT)
    print(f"{EXPORT.name}: a {len(data) / 1024:.0f} KB zip, the shipped catalog, {args.runs} runs of each import")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        async with await open_database(folder / "cpu.db") as db:
            await db.migrate()
            await load_catalog(db, REPO / "data")
            for name, value in cpu_only(data, await build_title_index(db), args.runs):
                print(f"{name}: {value}")
        async with backends(args, folder) as chosen:
            table = SideBySide(chosen.names)
            ok = True
            for backend in chosen.names:
                target = await chosen.fresh(backend, "letterboxd")
                ok &= await table.run(backend, lambda record, target=target: measure(target, data, args.runs, record))
        table.print()
    print("(*) includes rebuilding the server's title index, once, after the first import added its films")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
