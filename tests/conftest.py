"""Fixtures shared by every test level: a real database (SQLite in a temporary folder, and PostgreSQL), small catalogs
and a clock.

The ``db`` fixture runs each test that uses it twice, ``[sqlite]`` and ``[postgres]``: the PostgreSQL case gets a
fresh migrated database on ``TEST_DATABASE_URL``'s server or on a throwaway server this session starts
(tests/postgres_server.py), and skips, counted in the summary, when neither is available.

The tests never depend on the caller's configuration: every setting variable the bot knows is removed from the
environment when the session starts, and each test runs in its own empty working directory, so no ``.env`` (the
developer's, beside the code) is read. A test that wants a setting or a ``.env`` sets it itself.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import Clock
from bot.core.timers import TimerService
from bot.db.database import Database, open_database
from bot.settings import environment_variables
from tests.catalog_builder import starter_catalog
from tests.clocks import StepClock
from tests.letterboxd_feed_double import LetterboxdFeedDouble
from tests.postgres_server import create_database, drop_database, postgres_server, unavailable_reason, unique_name
from tests.tmdb_double import TmdbDouble

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


def pytest_configure(config: pytest.Config) -> None:
    """Forget the caller's settings (DATABASE_PATH, CATALOG_PATH, PICKS_GRACE_HOURS, ...) for the whole session,
    bot processes included; the list comes from the Settings class, so a new setting is covered without an edit."""
    del config
    for name in environment_variables():
        os.environ.pop(name, None)


@pytest.fixture(autouse=True)
def _no_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read ``.env`` from the working directory: make it the test's own empty folder."""
    monkeypatch.chdir(tmp_path)


POSTGRES_MISSING = unavailable_reason()
#: The browser tests (tests/browser/) drive Debian's Chromium; without it they skip, and the summary says so once.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = f"no Chromium at {CHROMIUM} (Debian's chromium package): the browser tests did not run"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The admin URL of a PostgreSQL server for this test session (one per xdist worker); skips without one."""
    if POSTGRES_MISSING is not None:
        pytest.skip(POSTGRES_MISSING)
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_template(postgres_url: str) -> Iterator[str]:
    """A migrated database that each test's database is copied from."""
    name = unique_name("filmclub_template")

    async def create() -> None:
        async with await open_database(await create_database(postgres_url, name)) as template:
            await template.migrate()

    _run_apart(create())
    yield name
    _run_apart(drop_database(postgres_url, name))


def _run_apart(work: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to its end from a synchronous session fixture, which pytest-asyncio may call from inside a
    test's running event loop (where asyncio.run is refused): on a thread with a loop of its own."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, work).result()


async def fresh_postgres_database(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A new, migrated PostgreSQL database for one test; dropped afterwards."""
    server: str = request.getfixturevalue("postgres_url")
    template: str = request.getfixturevalue("postgres_template")
    name = unique_name("filmclub_test")
    url = await create_database(server, name, template=template)
    try:
        yield url
    finally:
        await drop_database(server, name)


@pytest.fixture(params=["sqlite", "postgres"])
async def db_target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str | Path]:
    """Where the test's database lives: a SQLite file, or a PostgreSQL URL. Open it again with
    ``open_database(db_target)`` to act as a second process on the same data."""
    if request.param == "sqlite":
        yield tmp_path / "club.db"
        return
    async for url in fresh_postgres_database(request):
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_db_target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str | Path]:
    """Like ``db_target``, but nothing migrated: an empty SQLite file's path or an empty PostgreSQL database's URL."""
    if request.param == "sqlite":
        yield tmp_path / "empty.db"
        return
    server: str = request.getfixturevalue("postgres_url")
    name = unique_name("filmclub_empty")
    url = await create_database(server, name)
    try:
        yield url
    finally:
        await drop_database(server, name)


@pytest.fixture
async def db(db_target: str | Path) -> AsyncIterator[Database]:
    """A migrated database on each backend in turn: real SQLite and real PostgreSQL, never a mock."""
    database = await open_database(db_target)
    await database.migrate()
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite file, for tests of what only SQLite has (its file, its backup, its PRAGMAs)."""
    database = await open_database(tmp_path / "club.db")
    await database.migrate()
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def postgres_database_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A fresh migrated PostgreSQL database's URL, for tests that only make sense on PostgreSQL (several bot
    processes sharing one database)."""
    async for url in fresh_postgres_database(request):
        yield url


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    return starter_catalog(tmp_path / "catalog")


@pytest.fixture
def clock() -> StepClock:
    """A fresh clock that moves on at every reading (``tests/clocks.py``), so each write has its own moment.

    A test module that needs time held still overrides this fixture with a ``FixedClock``."""
    return StepClock()


@pytest.fixture
def timers(db: Database, clock: Clock) -> TimerService:
    """The timer service on the test's database and ``clock``; never started, so no timer fires by itself."""
    return TimerService(db, clock)


@pytest.fixture
async def tmdb_double() -> AsyncIterator[TmdbDouble]:
    """The loopback TMDb (tests/tmdb_double.py), with its films; ``tmdb_double.env()`` points a bot process at it.
    A test that made the bot call a route the double does not implement fails."""
    async with TmdbDouble() as double:
        yield double
        unknown = list(double.unknown_requests)
    if unknown:
        pytest.fail(f"the bot called TMDb route(s) the double does not implement: {unknown}", pytrace=False)


@pytest.fixture
async def letterboxd_feed() -> AsyncIterator[LetterboxdFeedDouble]:
    """The loopback Letterboxd feed server (tests/letterboxd_feed_double.py), no members yet;
    ``letterboxd_feed.env()`` points a bot process at it. A test that requested a path it does not serve fails."""
    async with LetterboxdFeedDouble() as double:
        yield double
        unknown = list(double.unknown_requests)
    if unknown:
        pytest.fail(f"the bot requested Letterboxd path(s) the double does not serve: {unknown}", pytrace=False)


SHARED_DATA_MISSING = f"../shared/data not found (looked in {SHARED_DATA})"


@pytest.fixture
def shared_data() -> Path:
    """The public reference datasets beside the repo; tests that need them skip cleanly without them.

    This fixture is the only way a test reaches ../shared/data: a test that asks for it is marked ``shared_data``
    automatically, and a test marked ``shared_data`` without it is refused (see below)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(SHARED_DATA_MISSING)
    return SHARED_DATA


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``shared_data`` the marker and ``shared_data`` the fixture always go together."""
    del config
    unmarked_readers = []
    for item in items:
        uses_fixture = "shared_data" in getattr(item, "fixturenames", ())
        if uses_fixture:
            item.add_marker(pytest.mark.shared_data)
        elif item.get_closest_marker("shared_data") is not None:
            unmarked_readers.append(item.nodeid)
    if unmarked_readers:
        raise pytest.UsageError(
            f"marked shared_data but not using the shared_data fixture: {', '.join(unmarked_readers)}"
        )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many tests did not run for want of ../shared/data, PostgreSQL or Chromium, so CI never skips them
    silently."""
    known = {SHARED_DATA_MISSING, POSTGRES_MISSING, CHROMIUM_MISSING}
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        if isinstance(report.longrepr, tuple):
            reason = str(report.longrepr[2]).removeprefix("Skipped: ")
            if reason in known:
                reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in reasons.items():
        terminalreporter.write_line(
            f"{count} test{'s' if count != 1 else ''} skipped: {reason}", yellow=True, bold=True
        )
