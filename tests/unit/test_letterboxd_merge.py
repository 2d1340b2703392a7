"""Importing a Letterboxd export one file at a time, in any order, ends where importing the whole zip once does.

A member may upload reviews.csv today and diary.csv next week, or the zip after some of its files. What the files
say about a film is merged: a rating comes from the newest entry (by the dates the files carry; see
``bot.core.letterboxd``), text is never erased by a file that has none, and re-importing anything changes nothing.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from bot.core import letterboxd, reviews
from bot.core.catalog import load_catalog
from bot.core.films import active_films
from bot.db.database import Database, bundled_migrations, open_database
from tests.catalog_builder import film, load_films, theme, to_toml, write_catalog
from tests.conftest import REPO
from tests.letterboxd_files import (
    DIARY_HEADER,
    LIST_HEADER,
    RATINGS_HEADER,
    REVIEWS_HEADER,
    club_titles,
    csv_bytes,
    import_file,
    real_export,
    zip_bytes,
)

GUILD = 1
#: What an import leaves for one member, table by table (see ``state``).
State = dict[str, list[tuple[object, ...]]]

#: A small export whose files disagree: ratings.csv is newer than the diary for one film and older for another, a
#: review has text but no stars (ratings.csv has the stars), and watched.csv dates a film later than the diary does.
EXPORT: dict[str, bytes] = {
    "ratings.csv": csv_bytes(
        RATINGS_HEADER,
        "2025-05-01,The Last Waltz,1978,u,4.5",
        "2023-01-01,Stop Making Sense,1984,u,2",
        "2024-03-10,Dont Look Back,1967,u,4",
    ),
    "reviews.csv": csv_bytes(
        REVIEWS_HEADER,
        '2024-06-01,The Last Waltz,1978,u,4,Yes,"Second time: <i>better</i>.",,2024-05-30',
        '2023-01-01,The Last Waltz,1978,u,3,,"First time.",,2022-12-31',
        '2024-03-01,Dont Look Back,1967,u,,,"No stars, just words.",,2024-02-28',
    ),
    "diary.csv": csv_bytes(
        DIARY_HEADER,
        "2023-01-01,The Last Waltz,1978,u,3,,,2022-12-31",
        "2024-06-01,The Last Waltz,1978,u,4,Yes,,2024-05-30",
        "2024-02-02,Stop Making Sense,1984,u,2.5,,,2024-02-01",
        "2024-02-03,Stop Making Sense,1984,u,3.5,Yes,,2024-02-03",
        "2020-05-05,Woodstock,1970,u,,,,2020-05-04",
    ),
    "watched.csv": csv_bytes(LIST_HEADER, "2021-01-01,Woodstock,1970,u", "2024-06-01,The Last Waltz,1978,u"),
    "watchlist.csv": csv_bytes(LIST_HEADER, "2025-01-01,弟弟,2024,u", "2025-01-02,Alien,1979,u"),
}


@pytest.fixture
async def ids(db: Database, tmp_path: Path) -> dict[str, int]:
    films = [
        film("the-last-waltz", title="The Last Waltz", year=1978),
        film("dont-look-back", title="Dont Look Back", year=1967),
        film("didi", title="Dìdi", year=2024, alt_titles=["弟弟"]),
        film("woodstock", title="Woodstock", year=1970),
        film("stop-making-sense", title="Stop Making Sense", year=1984),
    ]
    return await load_films(db, tmp_path / "cat", films)


async def state(db: Database, user_id: int) -> State:
    """Everything an import leaves for one member, without the member id."""
    queries = {
        "reviews": "SELECT film_id, rating, body, spoiler, source, created_at, updated_at, edited FROM reviews",
        "member_watched": "SELECT film_id, source, watched_at FROM member_watched",
        "watchlist": "SELECT film_id, source, added_at FROM watchlist",
    }
    return {
        table: [
            tuple(row)
            for row in await db.fetchall(f"{query} WHERE guild_id = ? AND user_id = ? ORDER BY 1", (GUILD, user_id))
        ]
        for table, query in queries.items()
    }


async def load(db: Database, user_id: int, filename: str, data: bytes) -> letterboxd.ImportResult:
    """Import one upload as the bot does (the server's titles as they are now: an earlier import may have added
    films), on a fresh clock that moves on, so nothing may depend on when a file was imported."""
    return await import_file(db, await club_titles(db, GUILD), filename, data, guild_id=GUILD, user_id=user_id)


@pytest.fixture
async def whole(db: Database, ids: dict[str, int]) -> State:
    """What member 1 has after importing the whole export zip once: where every other way of importing must end."""
    del ids
    await load(db, 1, "export.zip", zip_bytes(EXPORT))
    return await state(db, 1)


async def test_the_whole_export_gives_each_film_its_newest_rating_and_its_newest_text(
    db: Database, ids: dict[str, int]
) -> None:
    await load(db, 1, "export.zip", zip_bytes(EXPORT))
    got = {r.film_id: (r.stars, r.body) for r in await reviews.all_member_reviews(db, GUILD, 1)}
    assert got == {
        ids["the-last-waltz"]: (4.5, "Second time: *better*."),  # ratings.csv, 2025, is newer than the diary
        ids["stop-making-sense"]: (3.5, None),  # the diary's 2024 rewatch is newer than ratings.csv's 2023
        ids["dont-look-back"]: (4.0, "No stars, just words."),  # stars from ratings.csv, text from reviews.csv
    }
    watched_at = await db.fetchval("SELECT watched_at FROM member_watched WHERE film_id = ?", (ids["woodstock"],))
    assert watched_at.startswith("2020-05-04")  # the diary's watched date, earlier than watched.csv's


async def test_reviews_then_diary_keeps_the_review_text(db: Database, ids: dict[str, int]) -> None:
    await load(db, 1, "reviews.csv", EXPORT["reviews.csv"])
    await load(db, 1, "diary.csv", EXPORT["diary.csv"])
    waltz = await reviews.get_review(db, GUILD, 1, ids["the-last-waltz"])
    assert waltz is not None and waltz.body == "Second time: *better*."


async def test_ratings_then_an_older_diary_entry_keeps_the_rating(db: Database, ids: dict[str, int]) -> None:
    await load(db, 1, "ratings.csv", EXPORT["ratings.csv"])
    await load(db, 1, "diary.csv", EXPORT["diary.csv"])
    waltz = await reviews.get_review(db, GUILD, 1, ids["the-last-waltz"])
    assert waltz is not None and waltz.stars == 4.5  # the diary's 2024 entries are older than ratings.csv's 2025
    sense = await reviews.get_review(db, GUILD, 1, ids["stop-making-sense"])
    assert sense is not None and sense.stars == 3.5  # here the diary is the newer one


async def test_every_order_of_the_files_ends_where_the_whole_zip_does(db: Database, whole: State) -> None:
    assert whole["reviews"] and whole["member_watched"] and whole["watchlist"]
    for user_id, order in enumerate(itertools.permutations(EXPORT), start=100):
        for name in order:
            await load(db, user_id, name, EXPORT[name])
        assert await state(db, user_id) == whole, f"importing {', '.join(order)} one at a time"


async def test_any_subset_then_the_whole_zip_and_any_subset_again_change_nothing(db: Database, whole: State) -> None:
    subsets = [c for size in range(1, len(EXPORT)) for c in itertools.combinations(EXPORT, size)]
    for user_id, subset in enumerate(subsets, start=1000):
        await load(db, user_id, "part.zip", zip_bytes({name: EXPORT[name] for name in subset}))
        await load(db, user_id, "export.zip", zip_bytes(EXPORT))
        assert await state(db, user_id) == whole, f"{', '.join(subset)}, then the whole zip"
    for subset in subsets:
        again = await load(db, 1, "part.zip", zip_bytes({name: EXPORT[name] for name in subset}))
        assert not again.changed, subset
        assert await state(db, 1) == whole, f"the whole zip, then {', '.join(subset)} again"


@pytest.mark.shared_data
async def test_the_real_export_one_file_at_a_time_ends_where_the_whole_zip_does(
    db: Database, shared_data: Path
) -> None:
    folder = real_export(shared_data)
    await load_catalog(db, REPO / "data")
    files = {kind.value: (folder / kind.value).read_bytes() for kind in letterboxd.LETTERBOXD_FILES}
    await load(db, 1, "letterboxd.zip", zip_bytes(files))
    whole = await state(db, 1)
    assert whole["member_watched"] and whole["watchlist"]
    orders = [list(reversed(files)), ["diary.csv", "watched.csv", "ratings.csv", "watchlist.csv", "reviews.csv"]]
    for user_id, order in enumerate(orders, start=2):
        for name in order:
            await load(db, user_id, name, files[name])
        assert await state(db, user_id) == whole, f"importing {', '.join(order)} one at a time"
    for name, data in files.items():
        again = await load(db, 1, name, data)
        assert not again.changed, name
    assert await state(db, 1) == whole


async def test_reviews_imported_before_the_upgrade_are_merged_not_overwritten(tmp_path: Path) -> None:
    """The migration that keeps what imports said dates the reviews earlier imports wrote, so an older entry
    imported after the upgrade does not replace them."""
    migrations = bundled_migrations("sqlite")
    mine = next(i for i, m in enumerate(migrations) if m.name.endswith("_letterboxd_merge_and_review_posts.sql"))
    async with await open_database(tmp_path / "old.db") as db:
        await db.migrate(migrations[:mine])
        # The film as that version's loader stored it (today's loader expects today's schema).
        await db.execute(
            "INSERT INTO films (id, slug, title, year, runtime, kind, blurb, source_file, content_hash)"
            " VALUES (1, 'the-last-waltz', 'The Last Waltz', 1978, 117, 'concert film', '', 'c.toml', '')"
        )
        await db.execute(
            "INSERT INTO reviews (guild_id, user_id, film_id, rating, body, spoiler, source, created_at, updated_at,"
            " edited) VALUES (?, 1, 1, 9, 'Kept.', 0, 'letterboxd', ?, ?, 0)",
            (GUILD, "2025-05-01T00:00:00.000000Z", "2025-05-01T00:00:00.000000Z"),
        )
        await db.migrate()
        films = [film("the-last-waltz", title="The Last Waltz", year=1978)]
        await load_catalog(db, write_catalog(tmp_path / "cat", {"c.toml": to_toml([theme("live-on-stage")], films)}))
        [waltz] = await active_films(db)
        assert waltz.id == 1
        older = csv_bytes(REVIEWS_HEADER, '2024-01-01,The Last Waltz,1978,u,2,,"Older.",,2024-01-01')
        await load(db, 1, "reviews.csv", older)
        kept = await reviews.get_review(db, GUILD, 1, waltz.id)
        assert kept is not None and (kept.rating, kept.body) == (9, "Kept.")


async def test_a_file_that_only_dates_a_film_earlier_counts_as_a_change(db: Database, ids: dict[str, int]) -> None:
    await load(db, 1, "watched.csv", EXPORT["watched.csv"])
    result = await load(db, 1, "diary.csv", EXPORT["diary.csv"])
    # Woodstock: watched.csv says 2021, the diary 2020; The Last Waltz: watched.csv 2024, the diary 2022
    assert result.redated == 2 and result.changed
    watched_at = await db.fetchval("SELECT watched_at FROM member_watched WHERE film_id = ?", (ids["woodstock"],))
    assert watched_at.startswith("2020-05-04")
