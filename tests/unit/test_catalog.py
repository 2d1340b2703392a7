"""Reading, validating and loading the catalog, on real TOML files and a real SQLite database."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import asyncpg
import pytest
from pydantic import SecretStr

from bot.client import FilmClubBot
from bot.core.catalog import apply_catalog, catalog_generation, load_catalog, read_catalog
from bot.core.clock import SystemClock
from bot.core.errors import CatalogError, CatalogInvalid
from bot.core.reviews import rate
from bot.core.text import normalise_title
from bot.db.database import Database, open_database
from bot.settings import Settings
from tests.catalog_builder import film, theme, to_toml, write_catalog


def problems(path: Path) -> list[CatalogError]:
    with pytest.raises(CatalogInvalid) as caught:
        read_catalog(path)
    return caught.value.errors


def only_problem(path: Path) -> str:
    errors = problems(path)
    assert len(errors) == 1, [str(e) for e in errors]
    return str(errors[0])


def one_file(tmp_path: Path, films: list[dict[str, object]], themes: list[dict[str, object]] | None = None) -> Path:
    themes = themes if themes is not None else [theme("live-on-stage")]
    return write_catalog(tmp_path / "cat", {"catalog.toml": to_toml(themes, films)}) / "catalog.toml"


def test_the_starter_catalog_reads(catalog_dir: Path) -> None:
    catalog = read_catalog(catalog_dir)
    assert [t.slug for t in catalog.themes] == ["live-on-stage", "on-the-road"]
    assert {f.slug for f in catalog.films} == {"the-last-waltz", "dont-look-back", "get-back"}
    assert catalog.film_files["get-back"].endswith("films.toml")


def test_unknown_field_is_named(tmp_path: Path) -> None:
    path = one_file(tmp_path, [film("x-film", diretors=["A"])])
    message = only_problem(path)
    assert "catalog.toml: film 'x-film': field 'diretors': is not a known field" in message


def test_missing_field_is_named(tmp_path: Path) -> None:
    entry = film("x-film")
    del entry["runtime"]
    assert "film 'x-film': field 'runtime': is missing" in only_problem(one_file(tmp_path, [entry]))


def test_wrong_type_is_named(tmp_path: Path) -> None:
    message = only_problem(one_file(tmp_path, [film("x-film", year="1978")]))
    assert "film 'x-film': field 'year': Input should be a valid integer" in message


@pytest.mark.parametrize("year", [1850, 2999])
def test_year_out_of_range(tmp_path: Path, year: int) -> None:
    message = only_problem(one_file(tmp_path, [film("x-film", year=year)]))
    assert "field 'year': must be between 1874 and" in message


def test_duplicate_id_across_files_names_both_files(tmp_path: Path) -> None:
    folder = write_catalog(
        tmp_path / "cat",
        {
            "a.toml": to_toml([theme("live-on-stage")], [film("same-id", title="One")]),
            "b.toml": to_toml([], [film("same-id", title="Two")]),
        },
    )
    message = only_problem(folder)
    assert "b.toml: film 'same-id': field 'id': is already used in" in message
    assert "a.toml" in message


def test_duplicate_title_and_year_is_caught_despite_punctuation(tmp_path: Path) -> None:
    films = [film("a", title="Don't Look Back", year=1967), film("b", title="Dont Look Back", year=1967)]
    message = only_problem(one_file(tmp_path, films))
    assert "film 'b': field 'title': 'Dont Look Back' (1967) is already in the catalog as 'a'" in message


def test_same_title_in_another_year_is_fine(tmp_path: Path) -> None:
    films = [film("control-2007", title="Control", year=2007), film("control-2004", title="Control", year=2004)]
    assert len(read_catalog(one_file(tmp_path, films)).films) == 2


def test_unknown_theme_suggests_the_closest(tmp_path: Path) -> None:
    message = only_problem(one_file(tmp_path, [film("x-film", themes=["live-on-stag"])]))
    assert "film 'x-film': field 'themes': no theme 'live-on-stag'; did you mean 'live-on-stage'?" in message


def test_series_need_episodes_and_films_must_not_have_them(tmp_path: Path) -> None:
    films = [film("a-series", kind="docuseries"), film("a-film", episodes=3)]
    messages = [str(e) for e in problems(one_file(tmp_path, films))]
    assert any("film 'a-series': field 'episodes': a docuseries needs its number of episodes" in m for m in messages)
    assert any("film 'a-film': field 'episodes': only a series or docuseries has episodes" in m for m in messages)


def test_bad_kind_lists_the_allowed_kinds(tmp_path: Path) -> None:
    message = only_problem(one_file(tmp_path, [film("x-film", kind="concert")]))
    assert "field 'kind': must be one of: documentary, concert film" in message


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    folder = write_catalog(tmp_path / "cat", {"broken.toml": "[[film]]\nid = 'x\n"})
    assert "broken.toml: is not valid TOML" in only_problem(folder)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    films = [film("one", year="x"), film("two", kind="cartoon"), film("three", themes=["nope"])]
    errors = problems(one_file(tmp_path, films))
    assert {e.entry for e in errors} == {"film 'one'", "film 'two'", "film 'three'"}


def test_entry_without_an_id_is_located_by_title_or_position(tmp_path: Path) -> None:
    entry = film("ignored", title="Nameless")
    del entry["id"]
    assert "film 'Nameless': field 'id': is missing" in only_problem(one_file(tmp_path, [entry]))


def test_titles_normalise_for_matching() -> None:
    assert normalise_title("Don't Look Back") == normalise_title("DONT LOOK BACK") == "dont look back"
    assert normalise_title("Last Waltz, The") == normalise_title("The Last Waltz!") == "last waltz"
    assert normalise_title("Simon & Garfunkel") == "simon and garfunkel"
    assert normalise_title("Björk: Biophilia Live") == "bjork biophilia live"


# -- loading ---------------------------------------------------------------------------------------------------------


async def test_first_load_adds_everything_and_links_themes(db: Database, catalog_dir: Path) -> None:
    summary = await load_catalog(db, catalog_dir)
    assert (summary.films_added, summary.themes_added, summary.films_active, summary.themes_active) == (3, 2, 3, 2)
    links = await db.fetchall(
        "SELECT theme_slug FROM film_themes JOIN films ON films.id = film_id WHERE slug = 'the-last-waltz'"
    )
    assert {row[0] for row in links} == {"live-on-stage", "on-the-road"}


async def test_unchanged_catalog_reload_is_skipped(db: Database, catalog_dir: Path) -> None:
    await load_catalog(db, catalog_dir)
    summary = await load_catalog(db, catalog_dir)
    assert summary.skipped
    assert "unchanged" in summary.describe()
    forced = await load_catalog(db, catalog_dir, force=True)
    assert not forced.skipped
    assert (forced.films_added, forced.films_updated, forced.films_retired) == (0, 0, 0)


async def test_reload_keeps_a_review_that_points_at_a_film(db: Database, catalog_dir: Path) -> None:
    await load_catalog(db, catalog_dir)
    film_id = await db.fetchval("SELECT id FROM films WHERE slug = 'the-last-waltz'")
    await rate(db, SystemClock(), guild_id=1, user_id=2, film_id=film_id, stars=5, body="five stars")

    text = (catalog_dir / "films.toml").read_text().replace("runtime = 117", "runtime = 118")
    (catalog_dir / "films.toml").write_text(text)
    summary = await load_catalog(db, catalog_dir)

    assert (summary.films_updated, summary.films_added) == (1, 0)
    assert await db.fetchval("SELECT id FROM films WHERE slug = 'the-last-waltz'") == film_id
    assert await db.fetchval("SELECT runtime FROM films WHERE id = ?", (film_id,)) == 118
    assert await db.fetchval("SELECT body FROM reviews WHERE film_id = ?", (film_id,)) == "five stars"


async def test_dropped_film_is_retired_then_restored_with_its_id(db: Database, catalog_dir: Path) -> None:
    await load_catalog(db, catalog_dir)
    film_id = await db.fetchval("SELECT id FROM films WHERE slug = 'get-back'")
    original = (catalog_dir / "films.toml").read_text()
    kept = original.split("[[film]]")
    (catalog_dir / "films.toml").write_text("[[film]]".join(kept[:-1]))  # drop the last film (get-back)

    summary = await load_catalog(db, catalog_dir)
    assert (summary.films_retired, summary.films_active) == (1, 2)
    assert await db.fetchval("SELECT retired FROM films WHERE id = ?", (film_id,)) == 1

    (catalog_dir / "films.toml").write_text(original)
    summary = await load_catalog(db, catalog_dir)
    assert (summary.films_updated, summary.films_active) == (1, 3)
    assert await db.fetchval("SELECT retired FROM films WHERE slug = 'get-back'") == 0
    assert await db.fetchval("SELECT id FROM films WHERE slug = 'get-back'") == film_id


async def contents(db: Database) -> dict[str, list[str]]:
    """Every row of every table, in a stable order: what a load that fails must leave exactly as it was."""
    tables = [row[0] for row in await db.fetchall(db.dialect.user_tables())]
    return {table: sorted(repr(tuple(row)) for row in await db.fetchall(f"SELECT * FROM {table}")) for table in tables}


async def test_invalid_reload_leaves_the_database_unchanged(db: Database, catalog_dir: Path) -> None:
    await load_catalog(db, catalog_dir)
    before = await contents(db)
    (catalog_dir / "films.toml").write_text(
        (catalog_dir / "films.toml").read_text().replace("runtime = 117", 'runtime = "long"')
    )
    (catalog_dir / "more.toml").write_text(to_toml([], [film("new-film", themes=["live-on-stage"])]))
    with pytest.raises(CatalogInvalid) as caught:
        await load_catalog(db, catalog_dir)
    assert "film 'the-last-waltz': field 'runtime'" in str(caught.value.errors[0])
    assert await contents(db) == before


async def test_a_failure_midway_through_writing_rolls_everything_back(db: Database, catalog_dir: Path) -> None:
    await load_catalog(db, catalog_dir)
    # An index the catalog does not ask for makes the third film's insert fail (it shares an existing film's title),
    # standing in for a crash half-way through the transaction.
    await db.execute("CREATE UNIQUE INDEX one_film_per_title ON films (title)")
    before = await contents(db)
    extra = [
        film("a-film", themes=["live-on-stage"]),
        film("b-film", themes=["live-on-stage"]),
        film("c-film", title="The Last Waltz", year=1990, themes=["live-on-stage"]),
    ]
    (catalog_dir / "more.toml").write_text(to_toml([theme("new-theme")], extra))
    with pytest.raises((sqlite3.IntegrityError, asyncpg.UniqueViolationError)):
        await load_catalog(db, catalog_dir)
    assert await contents(db) == before


async def test_loading_from_another_folder_changes_nothing(
    db: Database, catalog_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored file names and hashes are relative to the catalog, not to where the command was run."""
    monkeypatch.chdir(tmp_path)
    await load_catalog(db, catalog_dir)

    # One film more, loaded from inside the catalog folder: only that film is new, nothing else is rewritten.
    (catalog_dir / "more.toml").write_text(to_toml([], [film("new-film", title="A New Film")]), encoding="utf-8")
    monkeypatch.chdir(catalog_dir)
    summary = await load_catalog(db, Path("."))
    assert (summary.films_added, summary.films_updated, summary.themes_added, summary.themes_updated) == (1, 0, 0, 0)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    forced = await load_catalog(db, Path("..") / catalog_dir.name, force=True)
    assert (forced.films_added, forced.films_updated, forced.themes_updated) == (0, 0, 0)
    stored = await db.fetchall("SELECT slug, source_file FROM films ORDER BY slug")
    assert {row["slug"]: row["source_file"] for row in stored}["new-film"] == "more.toml"
    assert {row["source_file"] for row in stored} == {"films.toml", "more.toml"}


async def test_every_load_that_changes_rows_bumps_the_generation(db: Database, catalog_dir: Path) -> None:
    assert await catalog_generation(db) == 0
    await load_catalog(db, catalog_dir)
    assert await catalog_generation(db) == 1
    await load_catalog(db, catalog_dir)  # skipped: the files did not change
    await load_catalog(db, catalog_dir, force=True)  # loaded, but no row changed
    assert await catalog_generation(db) == 1
    (catalog_dir / "more.toml").write_text(to_toml([], [film("new-film", title="A New Film")]), encoding="utf-8")
    await load_catalog(db, catalog_dir)
    assert await catalog_generation(db) == 2
    (catalog_dir / "more.toml").unlink()
    await load_catalog(db, catalog_dir)  # a retirement is a change too
    assert await catalog_generation(db) == 3


async def test_two_processes_loading_new_files_at_once_load_them_once(
    db: Database, db_target: str | Path, catalog_dir: Path
) -> None:
    """Both have read the files and found them new; the catalog lock lets one load them, and the other, once it
    holds the lock, finds them loaded: no film inserted twice, one generation."""
    catalog = read_catalog(catalog_dir)
    async with await open_database(db_target) as other_process:
        summaries = await asyncio.gather(apply_catalog(db, catalog), apply_catalog(other_process, catalog))
    assert sorted(summary.skipped for summary in summaries) == [False, True]
    assert [summary.films_active for summary in summaries] == [3, 3]
    assert await db.fetchval("SELECT count(*) FROM films") == 3
    assert await catalog_generation(db) == 1


async def test_the_running_bot_sees_a_catalog_loaded_by_another_process(
    db_target: str | Path, catalog_dir: Path
) -> None:
    """`filmclub catalog load` writes through its own connection; the bot's title index follows without a restart
    (its catalog check every few seconds is :meth:`FilmClubBot.refresh_catalog`)."""
    if isinstance(db_target, Path):
        settings = Settings(database_path=db_target, catalog_path=catalog_dir)
    else:
        settings = Settings(database_url=SecretStr(db_target), catalog_path=catalog_dir)
    async with FilmClubBot(settings) as bot:  # a sharded bot closes once entered
        await bot.open_services()
        assert [entry.label for entry in bot.titles.search("moon", limit=3)] == []
        assert await bot.refresh_catalog() is False  # nothing changed: nothing rebuilt

        (catalog_dir / "more.toml").write_text(
            to_toml([], [film("moon-film", title="A Film About the Moon", year=1990)]), encoding="utf-8"
        )
        async with await open_database(db_target) as other_process:
            await load_catalog(other_process, catalog_dir)

        assert await bot.refresh_catalog() is True
        assert [entry.label for entry in bot.titles.search("moon", limit=3)] == ["A Film About the Moon (1990)"]
        assert await bot.refresh_catalog() is False
