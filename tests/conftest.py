"""Fixtures shared by every test level: a real SQLite database in a temporary folder, and small catalogs.

The tests never depend on the caller's configuration: every setting variable the bot knows is removed from the
environment when the session starts, and each test runs in its own empty working directory, so no ``.env`` (the
developer's, beside the code) is read. A test that wants a setting or a ``.env`` sets it itself.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db.database import Database
from bot.settings import environment_variables
from tests.catalog_builder import starter_catalog

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
    database = await Database.open(tmp_path / "club.db")
    await database.migrate()
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    return starter_catalog(tmp_path / "catalog")


@pytest.fixture
def shared_data() -> Path:
    """The public reference datasets beside the repo; tests that need them skip cleanly without them."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA
