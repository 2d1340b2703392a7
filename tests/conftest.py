"""Fixtures shared by every test level: a real SQLite database in a temporary folder, small catalogs and a clock.

The tests never depend on the caller's configuration: every setting variable the bot knows is removed from the
environment when the session starts, and each test runs in its own empty working directory, so no ``.env`` (the
developer's, beside the code) is read. A test that wants a setting or a ``.env`` sets it itself.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.clock import Clock
from bot.core.timers import TimerService
from bot.db.database import Database, open_database
from bot.settings import environment_variables
from tests.catalog_builder import starter_catalog
from tests.clocks import StepClock

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


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database file in ``tmp_path``: real SQLite, never a mock."""
    database = await open_database(tmp_path / "club.db")
    await database.migrate()
    try:
        yield database
    finally:
        await database.close()


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
    """Say how many tests did not run for want of ../shared/data, so CI never skips them silently."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        if "shared_data" in getattr(report, "keywords", {}) and isinstance(report.longrepr, tuple):
            reason = str(report.longrepr[2]).removeprefix("Skipped: ")
            reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in reasons.items():
        terminalreporter.write_line(
            f"{count} test{'s' if count != 1 else ''} skipped: {reason}", yellow=True, bold=True
        )
