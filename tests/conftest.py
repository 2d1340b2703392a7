"""Fixtures shared by every test level: a real SQLite database in a temporary folder, and small catalogs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db.database import Database
from tests.catalog_builder import starter_catalog

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


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
