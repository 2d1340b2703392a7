"""The command line: ``filmclub`` or ``python -m bot``.

``run`` starts the bot; ``catalog check|load|enrich`` validate and load the catalog (and propose TMDb ids for it);
``db migrate|backup|copy`` look after the database. Logging and settings are set up here, once; nothing else reads
the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from bot import __version__
from bot.core.catalog import load_catalog, read_catalog
from bot.core.details import DetailsRefused
from bot.core.errors import CatalogInvalid
from bot.db.copy import CopyRefused, copy_database
from bot.db.database import DatabaseUnavailable, is_postgres_url, open_database
from bot.db.exclusive import DatabaseInUse, exclusive_use
from bot.db.sqlite import SqliteDatabase
from bot.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE
from bot.settings import Settings

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="filmclub", description="A Discord bot for film clubs.")
    parser.add_argument("--version", action="version", version=f"filmclub {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="run the bot (needs DISCORD_TOKEN)")

    catalog = commands.add_parser("catalog", help="validate or load the film catalog")
    catalog_commands = catalog.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = catalog_commands.add_parser("check", help="validate the catalog files and list every problem")
    check.add_argument("path", nargs="?", type=Path, help="catalog folder or file (default: CATALOG_PATH)")
    load = catalog_commands.add_parser("load", help="load the catalog into the database")
    load.add_argument("path", nargs="?", type=Path, help="catalog folder or file (default: CATALOG_PATH)")
    load.add_argument("--force", action="store_true", help="load even if the files have not changed")
    enrich = catalog_commands.add_parser(
        "enrich", help="propose TMDb ids for films that lack one (needs TMDB_API_KEY); --write adds them to the files"
    )
    enrich.add_argument("path", nargs="?", type=Path, help="catalog folder or file (default: CATALOG_PATH)")
    enrich.add_argument("--write", action="store_true", help="write the proposed ids into the catalog files")
    enrich.add_argument("--limit", type=_positive, help="look up only the first N films that lack an id")

    database = commands.add_parser("db", help="database maintenance")
    db_commands = database.add_subparsers(dest="action", required=True, metavar="ACTION")
    db_commands.add_parser("migrate", help="apply pending schema migrations")
    backup = db_commands.add_parser("backup", help="copy the database, safely, even while the bot runs")
    backup.add_argument("path", type=Path, help="where to write the copy")
    copy = db_commands.add_parser(
        "copy", help="copy a club into a new, empty database: SQLite to PostgreSQL or back (stop the bot first)"
    )
    copy.add_argument("source", help="a SQLite file or a postgresql:// URL")
    copy.add_argument("target", help="a SQLite file or a postgresql:// URL, empty")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _fail(message: str) -> None:
    print(f"filmclub: {message}", file=sys.stderr)


def _report_catalog(exc: CatalogInvalid) -> None:
    for error in exc.errors:
        print(error, file=sys.stderr)
    _fail(f"{exc}; nothing was loaded")


def _catalog_check(path: Path) -> int:
    try:
        catalog = read_catalog(path)
    except CatalogInvalid as exc:
        _report_catalog(exc)
        return EXIT_FAILED
    print(f"catalog ok: {len(catalog.films)} films in {len(catalog.themes)} themes ({path})")
    return EXIT_OK


async def _catalog_load(settings: Settings, path: Path, force: bool) -> int:
    async with await open_database(settings.database_target()) as db:
        await db.migrate()
        try:
            summary = await load_catalog(db, path, force=force)
        except CatalogInvalid as exc:
            _report_catalog(exc)
            return EXIT_FAILED
    print(summary.describe())
    return EXIT_OK


def _catalog_enrich(settings: Settings, path: Path, write: bool, limit: int | None) -> int:
    """Propose TMDb ids (a report on stdout, progress on stderr); with ``write``, add the matches to the files."""
    from bot.core import enrich  # noqa: PLC0415 - the TMDb client loads only for this command
    from bot.services.tmdb import client_from_settings  # noqa: PLC0415

    try:
        catalog = read_catalog(path)
    except CatalogInvalid as exc:
        _report_catalog(exc)
        return EXIT_FAILED
    client = client_from_settings(settings)
    if client is None:
        _fail("catalog enrich asks TMDb: set TMDB_API_KEY (a TMDb API key or read-access token; see .env.example)")
        return EXIT_USAGE

    def progress(done: int, total: int) -> None:
        if done % 100 == 0 or done == total:
            print(f"looked up {done} of {total} films", file=sys.stderr)

    async def look_up() -> enrich.EnrichReport:
        try:
            return await enrich.propose_ids(catalog, client, limit=limit, progress=progress)
        finally:
            await client.close()

    try:
        report = asyncio.run(look_up())
    except DetailsRefused:
        _fail("TMDb refused TMDB_API_KEY (401); check the key")
        return EXIT_FAILED
    root = path if path.is_dir() else path.parent
    for proposal in report.proposals:
        print(proposal.describe(str(root / proposal.file)))
    print(report.summary())
    if not write:
        if report.matches:
            print(f"nothing written: review the list, then run again with --write to add the {len(report.matches)} ids")
        return EXIT_OK
    try:
        result = enrich.write_ids(path, report.proposals)
    except (enrich.WriteFailed, OSError) as exc:
        _fail(f"could not write the ids: {exc}; every file was left as it was")
        return EXIT_FAILED
    print(f"wrote {result.written} tmdb_id lines into {len(result.files)} files; `filmclub catalog load` loads them")
    return EXIT_OK


async def _db_migrate(settings: Settings) -> int:
    async with await open_database(settings.database_target()) as db:
        applied = await db.migrate()
        version = await db.schema_version()
        where = db.description
    names = ", ".join(m.name for m in applied) or "none pending"
    print(f"database {where} at schema version {version} (applied: {names})")
    return EXIT_OK


async def _db_backup(settings: Settings, destination: Path) -> int:
    if destination.exists():  # noqa: ASYNC240 - one stat before a CLI copy
        _fail(f"{destination} already exists; choose a new file name")
        return EXIT_FAILED
    if settings.database_url is not None:
        from bot.db import pg_dump  # noqa: PLC0415 - asyncpg loads only for PostgreSQL

        result = await pg_dump.back_up(settings.database_url.get_secret_value(), destination, pg_dump.find_pg_dump())
        if not result.ok:
            _fail(result.message)
            return EXIT_FAILED
        print(result.message)
        return EXIT_OK
    if not settings.database_path.exists():
        _fail(f"no database at {settings.database_path} (set DATABASE_PATH)")
        return EXIT_FAILED
    async with await SqliteDatabase.open(settings.database_path) as db:
        await db.backup(destination)
    print(f"backed up {settings.database_path} to {destination}")
    return EXIT_OK


async def _db_copy(source: str, target: str) -> int:
    """Copy a club between backends; exit non-zero when it is refused or any table differs afterwards."""
    if not is_postgres_url(source) and not Path(source).exists():  # noqa: ASYNC240 - one stat before a CLI copy
        _fail(f"no database at {source}")
        return EXIT_FAILED
    async with await open_database(source) as source_db, await open_database(target) as target_db:
        try:
            report = await copy_database(source_db, target_db)
        except CopyRefused as exc:
            _fail(f"{exc}; nothing was copied")
            return EXIT_FAILED
    print(report.describe())
    if not report.matches:
        _fail("the copy differs from the source (see the table above); do not use it")
        return EXIT_FAILED
    return EXIT_OK


def _run(settings: Settings) -> int:
    token = settings.discord_token
    if token is None or not token.get_secret_value().strip():
        _fail("DISCORD_TOKEN is not set: put your bot token in .env (copy .env.example) or in the environment")
        return EXIT_USAGE
    if settings.database_url is not None:
        return _run_bot(settings)
    shards = settings.shards
    if not shards.is_every_shard:
        _fail(
            f"SHARD_IDS would have this process run only {shards.describe()}, but SQLite serves one process, which "
            "runs every shard: leave SHARD_IDS unset, or set DATABASE_URL to a PostgreSQL database all processes share"
        )
        return EXIT_USAGE
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(exclusive_use(settings.database_path))
        except DatabaseInUse as exc:
            holder = f"process {exc.holder}" if exc.holder is not None else "another process"
            _fail(
                f"another filmclub ({holder}) is running on {settings.database_path} (it holds {exc.lock_path}); "
                "SQLite serves one process: stop that one first, or share a PostgreSQL database (DATABASE_URL)"
            )
            return EXIT_USAGE
        except OSError as exc:
            _fail(f"cannot lock {settings.database_path}: {exc.strerror} ({exc.filename}); check DATABASE_PATH")
            return EXIT_FAILED
        return _run_bot(settings)


def _run_bot(settings: Settings) -> int:
    from bot.client import run_bot  # noqa: PLC0415 - imported here so that catalog and db commands do not load discord.py

    return asyncio.run(run_bot(settings))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        _fail(f"invalid settings: {problems} (see .env.example)")
        return EXIT_USAGE
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)-8s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return _dispatch(args, settings)
    except DatabaseUnavailable as exc:
        _fail(f"{exc} (check DATABASE_URL)")
        return EXIT_UNREACHABLE if exc.retry else EXIT_USAGE


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "run":
        return _run(settings)
    if args.command == "catalog":
        path = args.path or settings.catalog_path
        if args.action == "check":
            return _catalog_check(path)
        if args.action == "enrich":
            return _catalog_enrich(settings, path, args.write, args.limit)
        return asyncio.run(_catalog_load(settings, path, args.force))
    if args.action == "migrate":
        return asyncio.run(_db_migrate(settings))
    if args.action == "copy":
        return asyncio.run(_db_copy(args.source, args.target))
    return asyncio.run(_db_backup(settings, args.path))


if __name__ == "__main__":
    sys.exit(main())
