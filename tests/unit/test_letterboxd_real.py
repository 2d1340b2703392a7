"""A real Letterboxd export (../shared/data/letterboxd-export-patrickmjones, MIT) against the shipped catalog.

Read in place, never copied; the tests skip when the reference data is absent.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from bot.core import letterboxd, reviews, watch
from bot.core.catalog import load_catalog
from bot.core.films import active_films, build_title_index
from bot.core.letterboxd import Count, Skip
from bot.core.search import TitleIndex
from bot.db import films as films_db
from bot.db.database import Database
from tests.conftest import REPO
from tests.letterboxd_files import club_titles, import_file, real_export

pytestmark = pytest.mark.shared_data

GUILD, MEMBER = 1, 77
EXPECTED_ROWS = {"ratings.csv": 5, "reviews.csv": 162, "diary.csv": 2132, "watched.csv": 2604, "watchlist.csv": 805}


@pytest.fixture
def export_dir(shared_data: Path) -> Path:
    return real_export(shared_data)


@pytest.fixture
def export_zip(export_dir: Path) -> bytes:
    """The export zipped the way Letterboxd ships it: CSV files at the top, lists in a folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(export_dir.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(export_dir).as_posix())
    return buffer.getvalue()


@pytest.fixture
async def index(db: Database) -> TitleIndex:
    await load_catalog(db, REPO / "data")
    return await build_title_index(db)


@pytest.mark.parametrize("name", sorted(EXPECTED_ROWS))
def test_every_real_export_file_parses_alone(export_dir: Path, name: str) -> None:
    parsed = letterboxd.parse_upload(name, (export_dir / name).read_bytes())
    assert parsed.files == (name,)
    assert len(parsed.entries) == EXPECTED_ROWS[name]
    assert all(entry.name for entry in parsed.entries)


def test_the_real_quirks_survive_parsing(export_dir: Path) -> None:
    diary = letterboxd.parse_upload("diary.csv", (export_dir / "diary.csv").read_bytes())
    assert sum(1 for e in diary.entries if e.year is None) == 2  # two diary rows have an empty Year
    assert sum(1 for e in diary.entries if e.rating is not None) == 6
    watchlist = letterboxd.parse_upload("watchlist.csv", (export_dir / "watchlist.csv").read_bytes())
    assert any(e.name == "Heaven’s Waiting" and e.year is None for e in watchlist.entries)
    found = letterboxd.parse_upload("reviews.csv", (export_dir / "reviews.csv").read_bytes())
    roma = next(e for e in found.entries if e.name == "Roma")
    assert roma.body is not None and roma.body.startswith("The birth scene was so weird to me")
    assert '"we did everything we could"' in roma.body and "\n" in roma.body  # quoted quotes, multi-line
    assert not any("<a " in (e.body or "") or "</blockquote>" in (e.body or "") for e in found.entries)
    assert found.shortened >= 1  # some reviews are longer than 2,000 characters
    assert all(len(e.body or "") <= reviews.MAX_REVIEW_LENGTH for e in found.entries)


async def test_the_real_export_imports_once_accounting_for_every_row(
    db: Database, index: TitleIndex, export_zip: bytes
) -> None:
    titles = await club_titles(db, GUILD)
    result = await import_file(db, titles, "letterboxd-patrickmjones.zip", export_zip, guild_id=GUILD, user_id=MEMBER)
    assert result.files == tuple(kind.value for kind in letterboxd.LETTERBOXD_FILES)
    assert result.rows == sum(EXPECTED_ROWS.values())
    assert result.rows == result.catalog.rows + result.server.rows + result.added_rows + result.skipped_rows
    assert result.catalog.films >= 50
    assert result.server == Count()  # the server had no films of its own
    assert len(result.added) > 3000  # most of a general film diary is outside a music-documentary catalog
    assert "Soylent Green (1973)" in result.added
    skipped = {film.label: film.reason for film in result.skipped}
    assert skipped["Heaven’s Waiting"] is Skip.NO_YEAR  # an empty Year, and no film of that title anywhere
    assert "Sallie Gardner at a Gallop (1878)" in result.added  # films begin in 1874 (Passage de Vénus)
    assert set(skipped.values()) <= {Skip.NO_YEAR, Skip.AMBIGUOUS}
    assert result.watched_added >= 2500
    assert result.watchlist_added >= 700

    films = {(f.title, f.year): f.id for f in await active_films(db)}
    seen = (await watch.seen_by(db, GUILD, [MEMBER]))[MEMBER]
    assert films[("Rushmore", 1998)] in seen
    assert films[("Mulholland Drive", 2001)] in await watch.watchlist(db, GUILD, MEMBER)
    own = {(f.title, f.year): f for f in await films_db.server_films(db, GUILD)}
    assert len(own) == len(result.added)
    soylent = own["Soylent Green", 1973]
    assert soylent.id in seen and soylent.letterboxd_uri is not None
    assert soylent.letterboxd_uri.startswith("https://boxd.it/")

    before = await db.fetchall("SELECT * FROM reviews ORDER BY film_id")
    titles = await club_titles(db, GUILD)
    again = await import_file(db, titles, "letterboxd-patrickmjones.zip", export_zip, guild_id=GUILD, user_id=MEMBER)
    assert not again.changed
    assert (again.added, again.catalog, again.skipped) == ((), result.catalog, result.skipped)
    assert again.server == Count(len(result.added), result.added_rows)  # the films the first import added
    assert [tuple(r) for r in await db.fetchall("SELECT * FROM reviews ORDER BY film_id")] == [tuple(r) for r in before]
    assert len(await films_db.server_films(db, GUILD)) == len(result.added)
