"""Letterboxd import and export on a real database: the export's file formats and their quirks (BOM, CRLF, commas
and quotes in titles, empty years, non-Latin titles, HTML in reviews), matching to the catalog, merging files,
idempotence, all-or-nothing rejection of malformed files, and the size limits that stop zip bombs."""

from __future__ import annotations

import csv
import io
import random
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core import letterboxd, reviews, watch
from bot.core.errors import UserError
from bot.core.films import build_title_index
from bot.core.letterboxd import Count, ImportRejected, Kind, Skip, SkippedFilm, Unmatched
from bot.core.search import ClubTitles, TitleIndex
from bot.db import films as films_db
from bot.db.database import Database
from tests.catalog_builder import film, load_films
from tests.clocks import StepClock
from tests.letterboxd_files import (
    DIARY_HEADER,
    LIST_HEADER,
    RATINGS_HEADER,
    REVIEWS_HEADER,
    csv_bytes,
    import_file,
    zip_bytes,
)

GUILD, ALICE, BOB = 1, 11, 12


@pytest.fixture
async def ids(db: Database, tmp_path: Path) -> dict[str, int]:
    films = [
        film("the-last-waltz", title="The Last Waltz", year=1978, alt_titles=["La Dernière Valse"]),
        film("dont-look-back", title="Dont Look Back", year=1967),
        film("didi", title="Dìdi", year=2024, alt_titles=["弟弟"]),
        film("daylight", title='Crosby, Stills & Nash: "Daylight Again"', year=1983),
        film("woodstock-1970", title="Woodstock", year=1970),
        film("woodstock-1999", title="Woodstock", year=1999),
        film("stop-making-sense", title="Stop Making Sense", year=1984),
    ]
    return await load_films(db, tmp_path / "cat", films)


@pytest.fixture
async def index(db: Database, ids: dict[str, int]) -> TitleIndex:
    del ids
    return await build_title_index(db)


async def run_import(
    db: Database,
    index: TitleIndex | ClubTitles,
    filename: str,
    data: bytes,
    user: int = ALICE,
    unmatched: Unmatched = Unmatched.ADD,
) -> letterboxd.ImportResult:
    return await import_file(db, index, filename, data, guild_id=GUILD, user_id=user, unmatched=unmatched)


async def snapshot(db: Database) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for table in ("reviews", "watchlist", "member_watched", "review_film_totals", "review_member_totals"):
        rows.extend((table, *row) for row in await db.fetchall(f"SELECT * FROM {table} ORDER BY 1, 2, 3"))
    return rows


# -- reading ---------------------------------------------------------------------------------------------------------


def test_a_bom_crlf_quotes_commas_and_non_latin_titles_parse() -> None:
    data = csv_bytes(
        RATINGS_HEADER,
        '2024-01-02,"Crosby, Stills & Nash: ""Daylight Again""",1983,https://boxd.it/a,4.5',
        "2024-01-03,弟弟,2024,https://boxd.it/b,5",
        "2024-01-04,Dont Look Back,,https://boxd.it/c,3",
        bom=True,
        crlf=True,
    )
    parsed = letterboxd.parse_upload("ratings.csv", data)
    assert parsed.files == ("ratings.csv",)
    assert [(e.name, e.year, e.rating) for e in parsed.entries] == [
        ('Crosby, Stills & Nash: "Daylight Again"', 1983, 9),
        ("弟弟", 2024, 10),
        ("Dont Look Back", None, 6),
    ]
    assert [e.line for e in parsed.entries] == [2, 3, 4]


def test_the_kind_of_a_lone_csv_comes_from_its_columns_and_for_lists_its_name() -> None:
    def kind(name: str, header: str) -> Kind:
        return Kind(letterboxd.parse_upload(name, csv_bytes(header)).files[0])

    assert kind("anything.csv", RATINGS_HEADER) is Kind.RATINGS
    assert kind("x.csv", REVIEWS_HEADER) is Kind.REVIEWS
    assert kind("x.csv", DIARY_HEADER) is Kind.DIARY
    assert kind("watchlist (1).csv", LIST_HEADER) is Kind.WATCHLIST
    assert kind("watched.csv", LIST_HEADER) is Kind.WATCHED
    with pytest.raises(ImportRejected, match=r"could be watchlist.csv or watched.csv"):
        letterboxd.parse_upload("export.csv", csv_bytes(LIST_HEADER))


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("ratings.csv", b"", "is empty"),
        ("ratings.csv", b"  \r\n\n", "is empty"),
        ("ratings.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV file"),
        ("ratings.csv", "Name,Year\nCafé,1999\n".encode("latin-1"), "not UTF-8"),
        ("ratings.csv", b'{"films": ["The Last Waltz"]}', "needs the columns Name and Year"),
        ("ratings.csv", b"title,stars\nAlien,5\n", "needs the columns Name and Year"),
        ("ratings.csv", b'Name,Year,"Rating\n', "not a CSV file"),
        ("diary.csv", b"Name,Year,Rating,Watched Date\n", r"missing the column\(s\) Date"),
        ("export.zip", b"PK\x03\x04 not really a zip", "not a valid zip"),
        ("export.zip", b"hello", "not a valid zip"),
    ],
)
def test_files_that_are_not_letterboxd_csv_are_refused(filename: str, data: bytes, message: str) -> None:
    with pytest.raises(ImportRejected, match=message):
        letterboxd.parse_upload(filename, data)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2024-01-02,Alien,1979,https://boxd.it/x,6", r"line 3: rating '6' is not 0.5 to 5"),
        ("2024-01-02,Alien,1979,https://boxd.it/x,3.3", r"line 3: rating '3.3'"),
        ("2024-01-02,Alien,1979,https://boxd.it/x,0", r"line 3: rating '0'"),
        ("2024-01-02,Alien,1979,https://boxd.it/x,great", r"line 3: rating 'great'"),
        ("2024-01-02,,1979,https://boxd.it/x,4", r"line 3: the Name is empty"),
        ("yesterday,Alien,1979,https://boxd.it/x,4", r"line 3: Date 'yesterday' is not a date"),
        ("2024-01-02,Alien,1979,https://boxd.it/x,4,extra", r"line 3: more columns than the header"),
        ("2024-01-02,Alien,1979", r"line 3: fewer columns than the header"),
    ],
)
def test_a_malformed_row_is_named_by_its_line(row: str, message: str) -> None:
    data = csv_bytes(RATINGS_HEADER, "2024-01-01,The Last Waltz,1978,https://boxd.it/w,5", row)
    with pytest.raises(ImportRejected, match=message):
        letterboxd.parse_upload("ratings.csv", data)


def test_review_html_becomes_discord_text() -> None:
    html = (
        'I saw <a href="https://letterboxd.com/film/x/">Secret Sunshine</a> first.<br />'
        "<b>Loud</b> and <i>quiet</i> &amp; &quot;odd&quot;.\r\n\r\n\r\n"
        "<blockquote>Line one\nline two</blockquote> <3"
    )
    assert letterboxd.html_to_text(html) == (
        'I saw Secret Sunshine first.\n**Loud** and *quiet* & "odd".\n\n> Line one\n> line two <3'
    )


def test_review_paragraphs_stay_apart_and_scripts_go_with_their_content() -> None:
    html = ' <p><img src="poster.jpg"/></p> <p>First <script>alert(1)</script>part.</p>\n <p> Second part. </p> '

    assert letterboxd.html_to_text(html) == "First part.\n\nSecond part."


def test_long_reviews_are_shortened_to_the_review_limit() -> None:
    data = csv_bytes(REVIEWS_HEADER, f'2024-01-01,The Last Waltz,1978,u,4,,"{"word " * 700}",,2024-01-01')
    parsed = letterboxd.parse_upload("reviews.csv", data)
    [entry] = parsed.entries
    assert entry.body is not None
    assert len(entry.body) == reviews.MAX_REVIEW_LENGTH
    assert entry.body.endswith("…")
    assert parsed.shortened == 1


# -- zips ------------------------------------------------------------------------------------------------------------


def test_a_zip_reads_the_export_files_at_its_top_or_in_one_folder_and_skips_deleted_ones() -> None:
    data = zip_bytes(
        {
            "letterboxd-alice-2026/ratings.csv": csv_bytes(RATINGS_HEADER, "2024-01-01,The Last Waltz,1978,u,5"),
            "letterboxd-alice-2026/deleted/diary.csv": csv_bytes(DIARY_HEADER, "2024-01-01,Ghost,2000,u,1,,,"),
            "letterboxd-alice-2026/lists/faves.csv": b"Letterboxd list export v7\n",
            "letterboxd-alice-2026/profile.csv": b"Date Joined,Username\n",
            "letterboxd-alice-2026/watchlist.csv": csv_bytes(LIST_HEADER),
        }
    )
    parsed = letterboxd.parse_upload("letterboxd-alice-2026.zip", data)
    assert parsed.files == ("ratings.csv", "watchlist.csv")
    assert [e.name for e in parsed.entries] == ["The Last Waltz"]


def test_a_zip_without_export_files_or_with_a_broken_one_is_refused() -> None:
    with pytest.raises(ImportRejected, match="none of Letterboxd's files"):
        letterboxd.parse_upload("x.zip", zip_bytes({"notes.txt": b"hello"}))
    with pytest.raises(ImportRejected, match=r"diary.csv, line 2"):
        letterboxd.parse_upload(
            "x.zip",
            zip_bytes(
                {
                    "ratings.csv": csv_bytes(RATINGS_HEADER, "2024-01-01,The Last Waltz,1978,u,5"),
                    "diary.csv": csv_bytes(DIARY_HEADER, "2024-01-01,Alien,1979,u,11,,,"),
                }
            ),
        )
    with pytest.raises(ImportRejected, match=r"ratings.csv is missing the column"):
        letterboxd.parse_upload("x.zip", zip_bytes({"ratings.csv": csv_bytes(LIST_HEADER)}))


def test_an_oversized_attachment_is_refused_by_its_declared_size() -> None:
    letterboxd.check_upload("letterboxd.zip", letterboxd.MAX_UPLOAD_BYTES)
    with pytest.raises(ImportRejected, match="limited to 10 MB"):
        letterboxd.check_upload("letterboxd.zip", letterboxd.MAX_UPLOAD_BYTES + 1)
    with pytest.raises(ImportRejected, match=r"Upload the \.zip"):
        letterboxd.check_upload("export.xlsx", 100)
    with pytest.raises(ImportRejected, match="larger than 10 MB"):
        letterboxd.parse_upload("ratings.csv", b"x" * (letterboxd.MAX_UPLOAD_BYTES + 1))


def test_a_zip_bomb_is_refused_before_anything_is_inflated() -> None:
    bomb = zip_bytes({"ratings.csv": b"0" * (50 * 1024 * 1024)}, level=9)
    assert len(bomb) < 100_000
    with pytest.raises(ImportRejected, match=r"inflates .* times"):
        letterboxd.parse_upload("export.zip", bomb)


def test_a_zip_that_would_unpack_too_large_is_refused_by_its_declared_sizes() -> None:
    size = letterboxd.MAX_UNCOMPRESSED_BYTES + 1024 * 1024
    low_entropy = random.Random(1).randbytes(size).translate(bytes(b"ab"[i % 2] for i in range(256)))
    archive = zip_bytes({"diary.csv": low_entropy}, level=1)
    assert len(archive) < letterboxd.MAX_UPLOAD_BYTES  # small enough to upload, not a bomb by ratio
    with pytest.raises(ImportRejected, match="would unpack to 41 MB"):
        letterboxd.parse_upload("export.zip", archive)


def test_a_zip_that_lies_about_a_files_size_is_refused() -> None:
    archive = bytearray(zip_bytes({"ratings.csv": csv_bytes(RATINGS_HEADER, *["2024-01-01,Alien,1979,u,4"] * 50)}))
    info = zipfile.ZipFile(io.BytesIO(bytes(archive))).infolist()[0]
    true_size = info.file_size.to_bytes(4, "little")
    fake_size = (100).to_bytes(4, "little")
    patched = bytes(archive).replace(true_size, fake_size)  # local header and central directory
    with pytest.raises(ImportRejected, match=r"damaged|larger than it claims"):
        letterboxd.parse_upload("export.zip", patched)


# -- matching and importing ------------------------------------------------------------------------------------------


async def test_matching_by_normalised_title_and_year(index: TitleIndex, ids: dict[str, int]) -> None:
    assert letterboxd.match_film(index, "the last waltz!", 1978) == ids["the-last-waltz"]
    assert letterboxd.match_film(index, "Last Waltz, The", 1978) == ids["the-last-waltz"]
    assert letterboxd.match_film(index, "La Dernière Valse", 1978) == ids["the-last-waltz"]
    assert letterboxd.match_film(index, "Don't Look Back", 1967) == ids["dont-look-back"]
    assert letterboxd.match_film(index, "弟弟", 2024) == ids["didi"]
    assert letterboxd.match_film(index, "Didi", None) == ids["didi"]
    assert letterboxd.match_film(index, "Stop Making Sense", 1983) == ids["stop-making-sense"]  # a year off
    assert letterboxd.match_film(index, "Stop Making Sense", 1990) is None
    assert letterboxd.match_film(index, "The Last Waltz", 1967) is None
    assert letterboxd.match_film(index, "Woodstock", 1999) == ids["woodstock-1999"]
    assert letterboxd.match_film(index, "Woodstock", None) is None  # two films, no year: ambiguous
    assert letterboxd.match_film(index, "Alien", 1979) is None


async def test_an_import_told_to_skip_unmatched_films_accounts_for_them(
    db: Database, index: TitleIndex, ids: dict[str, int]
) -> None:
    data = csv_bytes(
        RATINGS_HEADER,
        '2024-01-02,"Crosby, Stills & Nash: ""Daylight Again""",1983,u,4.5',
        "2024-01-03,弟弟,2024,u,5",
        "2024-01-04,Dont Look Back,,u,3",
        "2024-01-05,Woodstock,,u,4",
        "2024-01-06,Alien,1979,u,4",
        "2024-01-07,Alien,1979,u,4",
        "2024-01-08,@everyone <@&123>,2020,u,1",
        bom=True,
        crlf=True,
    )
    result = await run_import(db, index, "ratings.csv", data, unmatched=Unmatched.SKIP)
    assert result.matched == 3
    assert (result.rows, result.catalog, result.added) == (7, Count(3, 3), ())
    assert result.skipped == (
        SkippedFilm("Woodstock", Skip.AMBIGUOUS, 1, "ratings.csv, line 5"),
        SkippedFilm("Alien (1979)", Skip.NOT_ADDED, 2, "ratings.csv, line 6"),
        SkippedFilm("@everyone <@&123> (2020)", Skip.NOT_ADDED, 1, "ratings.csv, line 8"),
    )
    assert (result.ratings_added, result.ratings_updated, result.watched_added) == (3, 0, 0)
    assert await reviews.member_ratings(db, GUILD, ALICE) == {
        ids["daylight"]: 4.5,
        ids["didi"]: 5.0,
        ids["dont-look-back"]: 3.0,
    }
    assert await films_db.server_films(db, GUILD) == []
    imported = await reviews.get_review(db, GUILD, ALICE, ids["didi"])
    assert imported is not None
    assert imported.source == "letterboxd"
    assert imported.created_at == datetime(2024, 1, 3, tzinfo=UTC)


async def test_a_full_export_merges_its_files(db: Database, index: TitleIndex, ids: dict[str, int]) -> None:
    export = zip_bytes(
        {
            "ratings.csv": csv_bytes(RATINGS_HEADER, "2025-05-01,The Last Waltz,1978,u,4.5"),
            "diary.csv": csv_bytes(
                DIARY_HEADER,
                "2023-01-01,The Last Waltz,1978,u,3,,,2022-12-31",
                "2024-06-01,The Last Waltz,1978,u,4,Yes,,2024-05-30",
                "2024-02-02,Stop Making Sense,1984,u,2.5,,,2024-02-01",
                "2024-02-03,Stop Making Sense,1984,u,3.5,Yes,,2024-02-03",
            ),
            "reviews.csv": csv_bytes(
                REVIEWS_HEADER,
                '2024-06-01,The Last Waltz,1978,u,4,Yes,"Second time: <i>better</i>.",,2024-05-30',
                '2023-01-01,The Last Waltz,1978,u,3,,"First time.",,2022-12-31',
                '2024-03-01,Dont Look Back,1967,u,,,"No stars, just words.\nTwo lines.",,2024-02-28',
            ),
            "watched.csv": csv_bytes(LIST_HEADER, "2021-01-01,Woodstock,1970,u"),
            "watchlist.csv": csv_bytes(LIST_HEADER, "2025-01-01,弟弟,2024,u", "2025-01-02,Alien,1979,u"),
        }
    )
    result = await run_import(db, index, "letterboxd-alice.zip", export)
    assert result.files == ("ratings.csv", "reviews.csv", "diary.csv", "watchlist.csv", "watched.csv")
    assert result.matched == 5
    assert (result.added, result.added_rows, result.skipped) == (("Alien (1979)",), 1, ())
    assert (result.ratings_added, result.with_text, result.without_rating) == (2, 1, 1)
    assert (result.watched_added, result.watchlist_added) == (4, 2)

    waltz = await reviews.get_review(db, GUILD, ALICE, ids["the-last-waltz"])
    assert waltz is not None
    assert waltz.stars == 4.5  # ratings.csv is Letterboxd's current rating
    assert waltz.body == "Second time: *better*."  # the newest review
    sense = await reviews.get_review(db, GUILD, ALICE, ids["stop-making-sense"])
    assert sense is not None
    assert (sense.stars, sense.body) == (3.5, None)  # the newest rated diary entry
    assert await reviews.get_review(db, GUILD, ALICE, ids["dont-look-back"]) is None  # text without stars
    seen = (await watch.seen_by(db, GUILD, [ALICE]))[ALICE]
    assert seen == {ids["the-last-waltz"], ids["stop-making-sense"], ids["dont-look-back"], ids["woodstock-1970"]}
    [alien] = await films_db.server_films(db, GUILD)  # not in the catalog: now the server's own
    assert (alien.title, alien.year, alien.slug[0], alien.letterboxd_uri) == ("Alien", 1979, "~", None)
    assert await watch.watchlist(db, GUILD, ALICE) == [ids["didi"], alien.id]
    first_seen = await db.fetchval(
        "SELECT watched_at FROM member_watched WHERE user_id = ? AND film_id = ?", (ALICE, ids["the-last-waltz"])
    )
    assert first_seen.startswith("2022-12-31")


async def test_importing_the_same_file_again_changes_nothing(
    db: Database, index: TitleIndex, ids: dict[str, int]
) -> None:
    del ids
    export = zip_bytes(
        {
            "ratings.csv": csv_bytes(RATINGS_HEADER, "2025-05-01,The Last Waltz,1978,u,4.5"),
            "reviews.csv": csv_bytes(REVIEWS_HEADER, '2024-06-01,Dont Look Back,1967,u,2,,"Hm.",,2024-05-30'),
            "watchlist.csv": csv_bytes(LIST_HEADER, "2025-01-01,弟弟,2024,u"),
            "watched.csv": csv_bytes(LIST_HEADER, "2021-01-01,Woodstock,1970,u"),
        }
    )
    first = await run_import(db, index, "export.zip", export)
    assert first.changed
    before = await snapshot(db)
    again = await run_import(db, index, "export.zip", export)
    assert not again.changed
    assert (again.matched, again.ratings_unchanged) == (first.matched, 2)
    assert await snapshot(db) == before


async def test_an_import_never_overwrites_a_review_written_on_discord(
    db: Database, index: TitleIndex, ids: dict[str, int], clock: StepClock
) -> None:
    await reviews.post_review(
        db, clock, guild_id=GUILD, user_id=ALICE, film_id=ids["the-last-waltz"], stars=2, body="Mine."
    )
    result = await run_import(db, index, "ratings.csv", csv_bytes(RATINGS_HEADER, "2025-05-01,The Last Waltz,1978,u,5"))
    assert (result.kept_discord, result.ratings_added, result.ratings_updated) == (1, 0, 0)
    kept = await reviews.get_review(db, GUILD, ALICE, ids["the-last-waltz"])
    assert kept is not None
    assert (kept.stars, kept.body, kept.source) == (2.0, "Mine.", "discord")


async def test_a_newer_export_updates_what_an_earlier_import_wrote(
    db: Database, index: TitleIndex, ids: dict[str, int]
) -> None:
    await run_import(db, index, "ratings.csv", csv_bytes(RATINGS_HEADER, "2025-05-01,The Last Waltz,1978,u,3"))
    result = await run_import(
        db, index, "ratings.csv", csv_bytes(RATINGS_HEADER, "2025-07-01,The Last Waltz,1978,u,3.5")
    )
    assert (result.ratings_updated, result.ratings_added) == (1, 0)
    updated = await reviews.get_review(db, GUILD, ALICE, ids["the-last-waltz"])
    assert updated is not None
    assert (updated.stars, updated.updated_at) == (3.5, datetime(2025, 7, 1, tzinfo=UTC))
    assert not updated.edited  # "edited" is for reviews replaced on Discord; an import's row depends only on the files
    assert (await reviews.film_reviews(db, GUILD, ids["the-last-waltz"])).average == 3.5


async def test_a_malformed_file_imports_nothing(db: Database, index: TitleIndex, ids: dict[str, int]) -> None:
    del ids
    good_then_bad = zip_bytes(
        {
            "ratings.csv": csv_bytes(RATINGS_HEADER, "2025-05-01,The Last Waltz,1978,u,4"),
            "watchlist.csv": csv_bytes(LIST_HEADER, "2025-01-01,弟弟,2024,u", "2025-01-02,Dont Look Back,1967"),
        }
    )
    with pytest.raises(ImportRejected, match=r"watchlist.csv, line 3: fewer columns"):
        await run_import(db, index, "export.zip", good_then_bad)
    assert await snapshot(db) == []


async def test_a_header_only_file_imports_nothing_without_complaint(db: Database, index: TitleIndex) -> None:
    result = await run_import(db, index, "ratings.csv", csv_bytes(RATINGS_HEADER))
    assert (result.rows, result.matched, result.added, result.skipped, result.changed) == (0, 0, (), (), False)


async def test_imports_are_per_member(db: Database, index: TitleIndex, ids: dict[str, int]) -> None:
    data = csv_bytes(RATINGS_HEADER, "2025-05-01,The Last Waltz,1978,u,4")
    await run_import(db, index, "ratings.csv", data, user=ALICE)
    result = await run_import(db, index, "ratings.csv", data, user=BOB)
    assert result.ratings_added == 1
    assert (await reviews.film_reviews(db, GUILD, ids["the-last-waltz"])).count == 2


# -- exporting -------------------------------------------------------------------------------------------------------


async def test_the_export_is_a_csv_letterboxd_imports(
    db: Database, index: TitleIndex, ids: dict[str, int], clock: StepClock
) -> None:
    await reviews.post_review(
        db,
        clock,
        guild_id=GUILD,
        user_id=ALICE,
        film_id=ids["daylight"],
        stars=4.5,
        body='Harmonies, "gorgeous",\nand long.',
        spoiler=True,
    )
    await reviews.post_review(db, clock, guild_id=GUILD, user_id=ALICE, film_id=ids["didi"], stars=5)
    await watch.mark_seen(db, clock, GUILD, ALICE, ids["woodstock-1970"])
    await run_import(db, index, "ratings.csv", csv_bytes(RATINGS_HEADER, "2025-05-01,The Last Waltz,1978,u,4"))
    await reviews.post_review(db, clock, guild_id=GUILD, user_id=BOB, film_id=ids["didi"], stars=1)

    exported = await letterboxd.export_csv(db, clock, guild_id=GUILD, user_id=ALICE)
    assert exported.filename.startswith("filmclub-for-letterboxd-2026-03-01")
    assert exported.rows == 3
    rows = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8"), newline="")))
    assert list(rows[0]) == ["Title", "Year", "Rating", "WatchedDate", "Review", "LetterboxdURI", "tmdbID", "imdbID"]
    by_title = {row["Title"]: row for row in rows}
    assert set(by_title) == {'Crosby, Stills & Nash: "Daylight Again"', "Dìdi", "Woodstock"}  # not the import
    assert by_title['Crosby, Stills & Nash: "Daylight Again"'] == {
        "Title": 'Crosby, Stills & Nash: "Daylight Again"',
        "Year": "1983",
        "Rating": "4.5",
        "WatchedDate": "2026-03-01",
        "Review": 'Harmonies, "gorgeous",\nand long.',
        "LetterboxdURI": "",
        "tmdbID": "",
        "imdbID": "",
    }
    assert by_title["Dìdi"]["Rating"] == "5"
    assert (by_title["Woodstock"]["Rating"], by_title["Woodstock"]["Review"]) == ("", "")

    with pytest.raises(UserError, match="Nothing to export"):
        await letterboxd.export_csv(db, clock, guild_id=GUILD, user_id=999)
