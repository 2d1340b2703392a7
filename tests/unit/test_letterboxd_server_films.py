"""A Letterboxd import adds the films that match nothing as the importing server's own: title, year and Letterboxd
link; every row accounted for (the catalog's, the server's own, added, skipped and why); odd rows skipped, never the
whole file; nothing twice (a re-import, another member, a stale title index, two imports at once); nothing
half-written; another server never sees them; and the export carries their links for Letterboxd's importer."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest

from bot.core import letterboxd, reviews, server_films, watch
from bot.core.csvfile import FORMULA_STARTS
from bot.core.films import build_title_index, resolve_film
from bot.core.letterboxd import Count, ExportScope, Skip, SkippedFilm, Unmatched
from bot.core.server_films import ServerFilmEntry
from bot.db import films as films_db
from bot.db.database import Database, open_database
from tests.catalog_builder import film, load_films
from tests.clocks import StepClock
from tests.db_failures import REFUSED, refusing
from tests.letterboxd_files import (
    DIARY_HEADER,
    LIST_HEADER,
    RATINGS_HEADER,
    REVIEWS_HEADER,
    club_titles,
    csv_bytes,
    import_file,
    zip_bytes,
)

GUILD, OTHER_GUILD, ALICE, BOB = 1, 2, 11, 12
LONG_TITLE = "A" * 299 + "Z"  # 300 characters: longer than a film's title may be


@pytest.fixture
async def ids(db: Database, tmp_path: Path) -> dict[str, int]:
    films = [
        film("the-last-waltz", title="The Last Waltz", year=1978, imdb="tt0077838"),
        film("woodstock-1970", title="Woodstock", year=1970),
        film("woodstock-1999", title="Woodstock", year=1999),
    ]
    return await load_films(db, tmp_path / "cat", films)


async def load(
    db: Database,
    filename: str,
    data: bytes,
    *,
    user: int = ALICE,
    guild: int = GUILD,
    unmatched: Unmatched = Unmatched.ADD,
) -> letterboxd.ImportResult:
    """Import as the bot does: with the server's titles as they are now."""
    titles = await club_titles(db, guild)
    return await import_file(db, titles, filename, data, guild_id=guild, user_id=user, unmatched=unmatched)


def accounted(result: letterboxd.ImportResult) -> bool:
    return result.rows == result.catalog.rows + result.server.rows + result.added_rows + result.skipped_rows


async def own_films(db: Database, guild: int = GUILD) -> dict[str, films_db.Film]:
    return {f.label: f for f in await films_db.server_films(db, guild)}


EXPORT = {
    "watched.csv": csv_bytes(
        LIST_HEADER,
        "2024-01-01,Soylent Green,1973,https://boxd.it/1u4I",
        "2024-01-02,The Last Waltz,1978,https://boxd.it/29Pq",
        "2024-01-03,Paris Is Burning,1990,https://letterboxd.com/film/paris-is-burning/",
    ),
    "diary.csv": csv_bytes(
        DIARY_HEADER,
        "2024-01-01,Soylent Green,1973,https://boxd.it/1VoAHp,3.5,,,2024-01-01",
        "2024-02-01,Brand New Film,2025,https://boxd.it/2abcDE,4,,,2024-02-01",  # a log entry's link: not the film's
        "2024-03-01,Paris Is Burning,,https://boxd.it/2xyzAB,,,,2024-03-01",  # no year: the film the import adds
    ),
    "watchlist.csv": csv_bytes(LIST_HEADER, "2024-04-01,Heaven’s Waiting,,https://boxd.it/qeWY"),
}


async def test_unmatched_films_become_the_servers_own_and_a_reimport_matches_them(
    db: Database, ids: dict[str, int]
) -> None:
    result = await load(db, "export.zip", zip_bytes(EXPORT))
    assert (result.rows, result.catalog, result.server) == (7, Count(1, 1), Count())
    assert result.added == ("Soylent Green (1973)", "Brand New Film (2025)", "Paris Is Burning (1990)")
    assert result.added_rows == 5
    assert result.skipped == (SkippedFilm("Heaven’s Waiting", Skip.NO_YEAR, 1, "watchlist.csv, line 2"),)
    assert accounted(result) and result.changed

    own = await own_films(db)
    assert list(own) == ["Soylent Green (1973)", "Brand New Film (2025)", "Paris Is Burning (1990)"]
    assert own["Soylent Green (1973)"].letterboxd_uri == "https://boxd.it/1u4I"  # from watched.csv, not the diary
    assert own["Brand New Film (2025)"].letterboxd_uri is None  # only a diary entry's link
    assert own["Paris Is Burning (1990)"].letterboxd_uri == "https://letterboxd.com/film/paris-is-burning/"
    assert all(f.is_server_film and f.guild_id == GUILD and f.slug.startswith("~") for f in own.values())
    assert {r.film_id: r.stars for r in await reviews.all_member_reviews(db, GUILD, ALICE)} == {
        own["Soylent Green (1973)"].id: 3.5,
        own["Brand New Film (2025)"].id: 4.0,
    }
    assert (await watch.seen_by(db, GUILD, [ALICE]))[ALICE] == {ids["the-last-waltz"], *(f.id for f in own.values())}
    titles = await club_titles(db, GUILD)  # and members can name them
    assert (await resolve_film(db, titles, "soylent green", guild_id=GUILD)).id == own["Soylent Green (1973)"].id

    again = await load(db, "export.zip", zip_bytes(EXPORT))
    assert (again.added, again.server, again.changed) == ((), Count(3, 5), False)
    bob = await load(db, "export.zip", zip_bytes(EXPORT), user=BOB)
    assert (bob.added, bob.server, bob.catalog) == ((), Count(3, 5), Count(1, 1))
    assert bob.changed and bob.watched_added == 4
    assert await own_films(db) == own


async def test_a_stale_title_index_still_adds_nothing_twice(db: Database, ids: dict[str, int]) -> None:
    curated_only = await build_title_index(db)  # knows none of the server's films
    first = await import_file(db, curated_only, "export.zip", zip_bytes(EXPORT), guild_id=GUILD, user_id=ALICE)
    again = await import_file(db, curated_only, "export.zip", zip_bytes(EXPORT), guild_id=GUILD, user_id=BOB)
    assert len(first.added) == 3 and again.added == ()
    # found again in the transaction by title and year; the row without a year by the film the import would add
    assert again.server == Count(3, 5)
    assert again.skipped == (SkippedFilm("Heaven’s Waiting", Skip.NO_YEAR, 1, "watchlist.csv, line 2"),)
    assert len(await own_films(db)) == 3


async def test_another_server_never_sees_them(db: Database, ids: dict[str, int]) -> None:
    del ids
    await load(db, "export.zip", zip_bytes(EXPORT))
    other = await load(db, "export.zip", zip_bytes(EXPORT), guild=OTHER_GUILD)
    assert len(other.added) == 3 and other.server == Count()  # its own copies
    mine, theirs = await own_films(db), await own_films(db, OTHER_GUILD)
    assert set(mine) == set(theirs) and not {f.id for f in mine.values()} & {f.id for f in theirs.values()}


async def test_odd_rows_are_skipped_with_a_reason_and_the_rest_imports(db: Database, ids: dict[str, int]) -> None:
    del ids
    data = csv_bytes(
        RATINGS_HEADER,
        "2024-01-01,Woodstock,,u,4",  # two films of that title, no year
        "2024-01-02,Some Film,19x5,u,4",  # not a year
        "2024-01-03,Some Film,0,u,4",
        "2024-01-04,Before Any Film,1873,u,4",  # FIRST_FILM_YEAR is 1874
        "2024-01-05,Future Film,2999,u,4",
        f"2024-01-06,{LONG_TITLE},2001,u,4",
        "2024-01-07,!!!,2001,u,4",
        '2024-01-08,"Line\nbreak   and\ttab",2001,u,4',
        "2024-01-09,Good Film,2001,u,4",
    )
    result = await load(db, "ratings.csv", data)
    assert result.added == ("Line break and tab (2001)", "Good Film (2001)")
    assert [(f.label, f.reason, f.first) for f in result.skipped] == [
        ("Woodstock", Skip.AMBIGUOUS, "ratings.csv, line 2"),
        ("Some Film (19x5)", Skip.BAD_YEAR, "ratings.csv, line 3"),
        ("Some Film (0)", Skip.BAD_YEAR, "ratings.csv, line 4"),
        ("Before Any Film (1873)", Skip.YEAR_RANGE, "ratings.csv, line 5"),
        ("Future Film (2999)", Skip.YEAR_RANGE, "ratings.csv, line 6"),
        (f"{LONG_TITLE} (2001)", Skip.LONG_TITLE, "ratings.csv, line 7"),
        ("!!! (2001)", Skip.NO_LETTERS, "ratings.csv, line 8"),
    ]
    assert accounted(result) and result.ratings_added == 2
    assert list(result.skipped_by_reason()) == [
        Skip.AMBIGUOUS,
        Skip.BAD_YEAR,
        Skip.YEAR_RANGE,
        Skip.LONG_TITLE,
        Skip.NO_LETTERS,
    ]
    report = letterboxd.import_report(result).decode()
    assert "Skipped, its Year is not a year: 2 rows\nSome Film (19x5) (ratings.csv, line 3)\n" in report
    assert "Added as this server's films: 2 (2 rows)\nLine break and tab (2001)\nGood Film (2001)\n" in report


async def test_markup_and_formula_titles_are_kept_as_text_and_exported_inert(db: Database, ids: dict[str, int]) -> None:
    del ids
    titles = ["<script>alert(1)</script>", '=HYPERLINK("https://evil.example","Trailer")', "+1", "@everyone"]
    rows = [
        f'2024-01-0{i + 1},"{t.replace(chr(34), chr(34) * 2)}",2013,https://boxd.it/a{i},4'
        for i, t in enumerate(titles)
    ]
    result = await load(db, "ratings.csv", csv_bytes(RATINGS_HEADER, *rows))
    assert result.added == tuple(f"{t} (2013)" for t in titles)
    assert sorted(f.title for f in await films_db.server_films(db, GUILD)) == sorted(titles)

    backup = await letterboxd.export_csv(db, StepClock(), guild_id=GUILD, user_id=ALICE, scope=ExportScope.EVERYTHING)
    cells = [cell for row in csv.reader(io.StringIO(backup.data.decode(), newline="")) for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert "'" + titles[1] in cells and "'+1" in cells and "'@everyone" in cells
    again = await load(db, backup.filename, backup.data)  # our export reads back: the same films, none added
    assert (again.added, again.server.films, again.changed) == ((), 4, False)


async def test_unmatched_skip_adds_no_film(db: Database, ids: dict[str, int]) -> None:
    del ids
    result = await load(db, "export.zip", zip_bytes(EXPORT), unmatched=Unmatched.SKIP)
    assert result.added == () and result.catalog == Count(1, 1)
    assert {(f.label, f.reason, f.rows) for f in result.skipped} == {
        ("Soylent Green (1973)", Skip.NOT_ADDED, 2),
        ("Brand New Film (2025)", Skip.NOT_ADDED, 1),
        ("Paris Is Burning (1990)", Skip.NOT_ADDED, 1),
        ("Paris Is Burning", Skip.NOT_ADDED, 1),
        ("Heaven’s Waiting", Skip.NOT_ADDED, 1),
    }
    assert accounted(result)
    assert await films_db.server_films(db, GUILD) == []


async def test_a_failed_import_leaves_no_film_behind(db: Database, ids: dict[str, int]) -> None:
    del ids
    async with refusing(db, "INSERT ON member_watched"):
        with pytest.raises(REFUSED):
            await load(db, "export.zip", zip_bytes(EXPORT))
    assert await films_db.server_films(db, GUILD) == []
    assert await films_db.server_films_version(db, GUILD) == 0
    assert await db.fetchval("SELECT count(*) FROM reviews") == 0


async def test_a_server_holds_at_most_its_limit_of_films(
    db: Database, ids: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    del ids
    monkeypatch.setattr(letterboxd, "MAX_SERVER_FILMS", 2)
    result = await load(db, "export.zip", zip_bytes(EXPORT))
    assert result.added == ("Soylent Green (1973)", "Brand New Film (2025)")
    assert [(f.label, f.reason) for f in result.skipped] == [
        ("Paris Is Burning", Skip.SERVER_FULL),  # diary.csv is read before watchlist.csv and watched.csv
        ("Heaven’s Waiting", Skip.NO_YEAR),
        ("Paris Is Burning (1990)", Skip.SERVER_FULL),
    ]
    assert accounted(result)


async def test_a_backup_restores_server_films_by_their_ids_without_duplicating(
    db: Database, ids: dict[str, int]
) -> None:
    entry = ServerFilmEntry("Gimme Shelter", 1970, tmdb_id=4762)  # as a nomination enters it
    [nominated] = await server_films.add_server_films(db, StepClock(), await build_title_index(db), GUILD, BOB, [entry])
    assert nominated.created and nominated.film is not None
    await watch.mark_seen(db, StepClock(), GUILD, ALICE, nominated.film.id)
    await load(db, "watched.csv", EXPORT["watched.csv"])
    backup = await letterboxd.export_csv(db, StepClock(), guild_id=GUILD, user_id=ALICE, scope=ExportScope.EVERYTHING)
    rows = {row["Title"]: row for row in csv.DictReader(io.StringIO(backup.data.decode(), newline=""))}
    assert (rows["Gimme Shelter"]["tmdbID"], rows["Gimme Shelter"]["LetterboxdURI"]) == ("4762", "")
    assert rows["Soylent Green"]["LetterboxdURI"] == "https://boxd.it/1u4I"
    assert (rows["The Last Waltz"]["imdbID"], rows["The Last Waltz"]["tmdbID"]) == ("tt0077838", "")

    # Renamed in the file (a member's edit, or TMDb's title): the TMDb id and the IMDb id still find the films.
    renamed = backup.data.decode().replace('"Gimme Shelter"', '"Gimme Shelter (Director\'s Cut)"')
    renamed = renamed.replace('"The Last Waltz"', '"Last Waltz Live"')
    restored = await load(db, backup.filename, renamed.encode(), user=BOB)
    assert restored.added == ()
    assert (restored.server, restored.catalog) == (Count(3, 3), Count(1, 1))
    assert len(await own_films(db)) == 3

    elsewhere = await load(db, backup.filename, backup.data, guild=OTHER_GUILD)
    assert len(elsewhere.added) == 3
    theirs = await own_films(db, OTHER_GUILD)
    assert theirs["Gimme Shelter (1970)"].tmdb_id == 4762
    assert theirs["Soylent Green (1973)"].letterboxd_uri == "https://boxd.it/1u4I"


async def test_two_imports_at_once_add_each_film_once(db: Database, db_target: str | Path, ids: dict[str, int]) -> None:
    """Two processes (two database handles) importing the same films at the same moment: the second waits for the
    first's lock, then finds its films."""
    del ids
    async with await open_database(db_target) as second:
        titles = await club_titles(db, GUILD)
        results = await asyncio.gather(
            import_file(db, titles, "export.zip", zip_bytes(EXPORT), guild_id=GUILD, user_id=ALICE),
            import_file(second, titles, "export.zip", zip_bytes(EXPORT), guild_id=GUILD, user_id=BOB),
        )
    assert sorted(len(r.added) for r in results) == [0, 3]
    assert sorted(r.server.films for r in results) == [0, 3]
    assert len(await own_films(db)) == 3


async def test_a_review_file_names_the_log_entry_so_its_link_is_not_the_films(
    db: Database, ids: dict[str, int]
) -> None:
    del ids
    data = csv_bytes(REVIEWS_HEADER, '2024-06-01,Soylent Green,1973,https://boxd.it/1VoAHp,4,,"People!",,2024-05-30')
    await load(db, "reviews.csv", data)
    [soylent] = await films_db.server_films(db, GUILD)
    assert soylent.letterboxd_uri is None


async def test_a_film_renamed_on_letterboxd_is_found_by_its_link(db: Database, ids: dict[str, int]) -> None:
    del ids
    await load(db, "watched.csv", csv_bytes(LIST_HEADER, "2024-01-01,Soylent Green,1973,https://boxd.it/1u4I"))
    renamed = csv_bytes(LIST_HEADER, "2024-01-01,Soylent Green (Restored),1972,https://boxd.it/1u4I")
    result = await load(db, "watched.csv", renamed, user=BOB)
    assert (result.added, result.server) == ((), Count(1, 1))
    assert list(await own_films(db)) == ["Soylent Green (1973)"]
