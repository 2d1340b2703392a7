"""The catalog's optional ``tmdb_id`` (validated, loaded into films.tmdb_id) and ``filmclub catalog enrich``, which
proposes ids from the loopback TMDb, reports them, never guesses, and writes them into the TOML text in place."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.core.catalog import load_catalog, read_catalog
from bot.core.enrich import Proposal, Verdict, WriteFailed, insert_ids, propose_ids, write_ids
from bot.core.errors import CatalogInvalid
from bot.db.database import Database
from bot.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from bot.services.http import RetryPolicy
from bot.services.tmdb import TmdbClient
from tests.catalog_builder import film, theme, to_toml, write_catalog
from tests.tmdb_double import TmdbDouble, TmdbFilm
from tests.unit.test_cli import cli

QUICK = RetryPolicy(attempts=2, attempt_timeout=0.5, backoff=0.01, backoff_cap=0.05, deadline=2.0)
THEMES = [theme("live-on-stage")]


@pytest.fixture
async def tmdb(tmdb_double: TmdbDouble) -> AsyncIterator[TmdbClient]:
    client = TmdbClient(SecretStr(tmdb_double.api_key), base_url=tmdb_double.api_base, policy=QUICK)
    yield client
    await client.close()


def catalog_of(folder: Path, films: list[dict[str, object]]) -> Path:
    return write_catalog(folder, {"films.toml": to_toml(THEMES, films)})


# -- the field --------------------------------------------------------------------------------------------------------


async def test_a_tmdb_id_is_loaded_into_the_films_table_and_removed_with_the_line(db: Database, tmp_path: Path) -> None:
    folder = catalog_of(tmp_path / "c", [film("alien", title="Alien", tmdb_id=348), film("other")])
    await load_catalog(db, folder)
    rows = await db.fetchall("SELECT slug, tmdb_id FROM films ORDER BY slug")
    assert [(row["slug"], row["tmdb_id"]) for row in rows] == [("alien", 348), ("other", None)]

    catalog_of(folder, [film("alien", title="Alien"), film("other", tmdb_id=24128)])
    summary = await load_catalog(db, folder)

    rows = await db.fetchall("SELECT slug, tmdb_id FROM films ORDER BY slug")
    assert [(row["slug"], row["tmdb_id"]) for row in rows] == [("alien", None), ("other", 24128)]
    assert summary.films_updated == 2


async def test_adding_an_id_to_one_film_updates_that_film_only(db: Database, tmp_path: Path) -> None:
    folder = catalog_of(tmp_path / "c", [film(f"f-{n}") for n in range(5)])
    await load_catalog(db, folder)

    catalog_of(folder, [film(f"f-{n}", tmdb_id=100 + n if n == 2 else None) for n in range(5)])
    summary = await load_catalog(db, folder)

    assert (summary.films_added, summary.films_updated) == (0, 1)


@pytest.mark.parametrize("shown", ["0", "-3", '"348"', "3.5", "100000001"])
def test_a_tmdb_id_must_be_a_positive_whole_number(tmp_path: Path, shown: str) -> None:
    text = to_toml(THEMES, [film("alien")]) + f"tmdb_id = {shown}\n"
    folder = write_catalog(tmp_path / "c", {"films.toml": text})

    with pytest.raises(CatalogInvalid) as invalid:
        read_catalog(folder)

    [error] = invalid.value.errors
    assert error.field == "tmdb_id"
    assert "TMDb movie id" in error.message


def test_a_tmdb_id_is_unique_across_the_catalog(tmp_path: Path) -> None:
    folder = write_catalog(
        tmp_path / "c",
        {
            "a.toml": to_toml(THEMES, [film("alien", tmdb_id=348)]),
            "b.toml": to_toml([], [film("alien-again", title="Alien Again", tmdb_id=348)]),
        },
    )

    with pytest.raises(CatalogInvalid) as invalid:
        read_catalog(folder)

    [error] = invalid.value.errors
    assert (error.field, error.entry) == ("tmdb_id", "film 'alien-again'")
    assert "already the TMDb id of 'alien'" in error.message


# -- proposals --------------------------------------------------------------------------------------------------------


async def test_proposals_match_title_year_and_director_and_never_guess(
    tmp_path: Path, tmdb: TmdbClient, tmdb_double: TmdbDouble
) -> None:
    for tmdb_id in (7001, 7002):  # two films of one title, year and director: nothing tells them apart
        tmdb_double.add_film(TmdbFilm(tmdb_id, "Twin Peaks Live", "1990-01-01", 90, ("Same Person",)))
    folder = catalog_of(
        tmp_path / "c",
        [
            film("alien", title="Alien", year=1979, directors=["Ridley Scott"]),
            film("solaris", title="Solaris", year=1972, directors=["Andrei Tarkovsky"]),
            film("the-thing", title="Thing, The", year=1982, directors=["John Carpenter"]),
            film("stop-making-sense", title="Stop Making Sense", year=1985, directors=["Jonathan Demme"]),
            film("twins", title="Twin Peaks Live", year=1990, directors=["Same Person"]),
            film("paris-texas", title="Paris, Texas", year=1984, directors=["Somebody Else"]),
            film("nowhere", title="A Film Nobody Made", year=2001),
            film("a-series", title="Alien Series", kind="docuseries", episodes=3),
            film("known", title="Aliens", year=1986, tmdb_id=679),
        ],
    )
    catalog = read_catalog(folder)

    report = await propose_ids(catalog, tmdb)

    verdicts = {proposal.slug: (proposal.verdict, proposal.tmdb_id) for proposal in report.proposals}
    assert verdicts == {
        "alien": (Verdict.MATCH, 348),
        "solaris": (Verdict.MATCH, 593),  # the 2002 Solaris is another year
        "the-thing": (Verdict.MATCH, 1091),  # "Thing, The" is the same title; 2011's remake another year
        "stop-making-sense": (Verdict.MATCH, 24128),  # a year off (festival or release) still counts
        "twins": (Verdict.AMBIGUOUS, None),
        "paris-texas": (Verdict.DOUBTFUL, None),
        "nowhere": (Verdict.NOT_FOUND, None),
        "a-series": (Verdict.SKIPPED, None),
    }
    assert report.already == 1
    twins = next(proposal for proposal in report.proposals if proposal.slug == "twins")
    assert {candidate.tmdb_id for candidate in twins.candidates} == {7001, 7002}
    assert "7001 Twin Peaks Live (1990)" in twins.describe()
    alien = next(proposal for proposal in report.proposals if proposal.slug == "alien")
    assert alien.describe() == "films.toml: film 'alien': tmdb_id = 348 (Alien (1979); Ridley Scott)"
    assert "Wim Wenders" in next(p for p in report.proposals if p.slug == "paris-texas").reason
    assert report.summary() == (
        "4 ids proposed, 1 ambiguous, 1 doubtful, 1 not found, 1 skipped; 1 films already have one"
    )


async def test_an_id_another_film_has_is_taken_not_proposed(tmp_path: Path, tmdb: TmdbClient) -> None:
    folder = catalog_of(
        tmp_path / "c",
        [
            film("alien", title="Alien", year=1979, directors=["Ridley Scott"], tmdb_id=348),
            film(
                "alien-cut",
                title="Alien: The Director's Cut",
                alt_titles=["Alien"],
                year=1979,
                directors=["Ridley Scott"],
            ),
        ],
    )

    report = await propose_ids(read_catalog(folder), tmdb)

    [taken] = report.proposals
    assert (taken.verdict, taken.tmdb_id) == (Verdict.TAKEN, 348)
    assert "already 'alien'" in taken.reason
    assert report.matches == []


async def test_tmdb_failing_is_reported_per_film(tmp_path: Path, tmdb: TmdbClient, tmdb_double: TmdbDouble) -> None:
    tmdb_double.fail("*", status=500, times=None)
    folder = catalog_of(tmp_path / "c", [film("alien", title="Alien", year=1979, directors=["Ridley Scott"])])

    [failed] = (await propose_ids(read_catalog(folder), tmdb)).proposals

    assert failed.verdict is Verdict.FAILED and "TMDb did not answer" in failed.reason


# -- writing ----------------------------------------------------------------------------------------------------------

HAND_WRITTEN = '''# The curators' own file: comments, alignment and blank lines are theirs.

[[theme]]
slug = "live-on-stage"
title = "Live on Stage"
description = """
A theme with a description long enough to pass validation, written by hand,
over several lines. year = 1900 is not a key here."""

[[film]]
id = "alien"                       # the first film
title = "Alien"
year = 1979                        # first release
directors = ["Ridley Scott"]
runtime = 117
kind = "fiction feature"
countries = ["GB"]
themes = ["live-on-stage"]
blurb = """
A crew, a signal, a stowaway: the haunted-house film moved into space and set the rules.
"""
prompts = [
  "Who is the film's real hero?",
  "What does the ship's computer know?",
]

[[film]]
  id = "solaris"
  title = "Solaris"
  year = 1972
  directors = ["Andrei Tarkovsky"]
  runtime = 167
  kind = "fiction feature"
  countries = ["SU"]
  themes = ["live-on-stage"]
  blurb = "A psychologist on a space station meets the people his memory makes, and cannot leave them."
  prompts = ["What does the ocean want?", "Is Kris's choice at the end a defeat?"]
  imdb = "tt0069293"   # Mosfilm

[[film]]
id = "known"
title = "Aliens"
year = 1986
tmdb_id = 679
directors = ["James Cameron"]
runtime = 137
kind = "fiction feature"
countries = ["US"]
themes = ["live-on-stage"]
blurb = "Ripley goes back with marines, and the sequel turns the haunted house into a war film."
prompts = ["Is this a better film than Alien, or a different one?", "What does Ripley fight for?"]'''


def test_ids_go_in_after_imdb_or_year_and_nothing_else_changes() -> None:
    written, done = insert_ids(HAND_WRITTEN, {"alien": 348, "solaris": 593, "known": 1, "missing": 5})

    assert done == {"alien", "solaris"}  # "known" has one already; "missing" is in no block
    added = [line for line in written.splitlines() if line not in HAND_WRITTEN.splitlines()]
    assert added == ["tmdb_id = 348", "  tmdb_id = 593"]
    assert written.replace("tmdb_id = 348\n", "").replace("  tmdb_id = 593\n", "") == HAND_WRITTEN
    assert "year = 1979                        # first release\ntmdb_id = 348\n" in written
    assert 'imdb = "tt0069293"   # Mosfilm\n  tmdb_id = 593\n' in written


def test_windows_line_endings_are_kept() -> None:
    text = HAND_WRITTEN.replace("\n", "\r\n")

    written, done = insert_ids(text, {"alien": 348})

    assert done == {"alien"}
    assert "year = 1979                        # first release\r\ntmdb_id = 348\r\n" in written
    assert written.count("\n") == written.count("\r\n")


def test_a_year_inside_a_multi_line_string_is_not_a_key() -> None:
    text = '[[film]]\nid = "x"\nblurb = """\nyear = 1900\n"""\nyear = 1979\n'

    written, _done = insert_ids(text, {"x": 7})

    assert written == '[[film]]\nid = "x"\nblurb = """\nyear = 1900\n"""\nyear = 1979\ntmdb_id = 7\n'


def test_written_files_are_still_the_catalog_with_the_ids(tmp_path: Path) -> None:
    folder = write_catalog(tmp_path / "c", {"hand.toml": HAND_WRITTEN})
    proposals = [
        Proposal("alien", "hand.toml", Verdict.MATCH, 348, "Alien (1979)"),
        Proposal("solaris", "hand.toml", Verdict.AMBIGUOUS, None, "two"),
    ]

    result = write_ids(folder, proposals)

    assert (result.files, result.written) == (("hand.toml",), 1)
    ids = {entry.slug: entry.tmdb_id for entry in read_catalog(folder).films}
    assert ids == {"alien": 348, "solaris": None, "known": 679}
    assert "# The curators' own file" in (folder / "hand.toml").read_text()


def test_a_write_that_would_break_the_catalog_puts_every_file_back(tmp_path: Path) -> None:
    folder = write_catalog(tmp_path / "c", {"hand.toml": HAND_WRITTEN, "more.toml": to_toml([], [film("more")])})
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    clash = [  # 679 is Aliens' id already: the catalog refuses it
        Proposal("more", "more.toml", Verdict.MATCH, 348, ""),
        Proposal("alien", "hand.toml", Verdict.MATCH, 679, ""),
    ]

    with pytest.raises(WriteFailed, match="no longer be a valid catalog"):
        write_ids(folder, clash)

    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before  # no temporary file left either


# -- the command ------------------------------------------------------------------------------------------------------


def enrich_env(double: TmdbDouble) -> dict[str, str]:
    return {"TMDB_API_KEY": double.api_key, "TMDB_API_BASE_URL": double.api_base}


async def test_the_command_reports_and_writes_only_with_write(tmp_path: Path, tmdb_double: TmdbDouble) -> None:
    for tmdb_id in (7001, 7002):
        tmdb_double.add_film(TmdbFilm(tmdb_id, "Solaris", "1972-03-01", 90, ("Andrei Tarkovsky",)))
    folder = write_catalog(tmp_path / "c", {"hand.toml": HAND_WRITTEN})

    report = await asyncio.to_thread(cli, "catalog", "enrich", str(folder), cwd=tmp_path, **enrich_env(tmdb_double))

    assert report.returncode == EXIT_OK, report.stderr
    lines = report.stdout.splitlines()
    assert f"{folder / 'hand.toml'}: film 'alien': tmdb_id = 348 (Alien (1979); Ridley Scott)" in lines
    assert any(
        line.startswith(f"{folder / 'hand.toml'}: film 'solaris': ambiguous: 3 TMDb films match") for line in lines
    )
    assert "1 ids proposed, 1 ambiguous; 1 films already have one" in lines
    assert lines[-1] == "nothing written: review the list, then run again with --write to add the 1 ids"
    assert (folder / "hand.toml").read_text() == HAND_WRITTEN
    assert "looked up 2 of 2 films" in report.stderr

    written = await asyncio.to_thread(
        cli, "catalog", "enrich", str(folder), "--write", cwd=tmp_path, **enrich_env(tmdb_double)
    )

    assert written.returncode == EXIT_OK, written.stderr
    assert written.stdout.splitlines()[-1] == "wrote 1 tmdb_id lines into 1 files; `filmclub catalog load` loads them"
    text = (folder / "hand.toml").read_text()
    assert text.count("tmdb_id = ") == 2 and "tmdb_id = 348" in text
    assert "# The curators' own file" in text and "# Mosfilm" in text
    checked = await asyncio.to_thread(cli, "catalog", "check", str(folder), cwd=tmp_path)
    assert checked.returncode == EXIT_OK, checked.stderr


async def test_the_command_needs_a_key_and_says_when_tmdb_refuses_it(tmp_path: Path, tmdb_double: TmdbDouble) -> None:
    folder = write_catalog(tmp_path / "c", {"hand.toml": HAND_WRITTEN})

    keyless = await asyncio.to_thread(cli, "catalog", "enrich", str(folder), cwd=tmp_path)
    refused = await asyncio.to_thread(
        cli, "catalog", "enrich", str(folder), cwd=tmp_path, **{**enrich_env(tmdb_double), "TMDB_API_KEY": "f" * 32}
    )
    limited = await asyncio.to_thread(
        cli, "catalog", "enrich", str(folder), "--limit", "0", cwd=tmp_path, **enrich_env(tmdb_double)
    )

    assert keyless.returncode == EXIT_USAGE and "set TMDB_API_KEY" in keyless.stderr
    assert refused.returncode == EXIT_FAILED
    assert "TMDb refused TMDB_API_KEY (401)" in refused.stderr and "f" * 32 not in refused.stderr + refused.stdout
    assert "Traceback" not in refused.stderr
    assert limited.returncode == EXIT_USAGE and "must be at least 1" in limited.stderr
    assert (folder / "hand.toml").read_text() == HAND_WRITTEN
