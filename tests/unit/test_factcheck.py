"""The catalog fact-checker (tools/factcheck.py): matching, the checks, exceptions and the command line.

Reference files are tiny copies of the real formats written into tmp_path; one test, marked ``shared_data``, reads
the real ../shared/data when it is present.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bot.core.catalog import read_catalog  # noqa: E402
from tools import factcheck  # noqa: E402

TMDB_HEADER = [
    "popularity",
    "original_title",
    "director",
    "runtime",
    "production_companies",
    "vote_count",
    "vote_average",
    "release_year",
    "budget_adj",
    "revenue_adj",
    "genres",
]
OMDB_HEADER = [
    "movieId",
    "id",
    "Title",
    "Year",
    "Director(s)",
    "Actors",
    "Genre(s)",
    "Type",
    "Language(s)",
    "Countries",
    "imdbRating",
    "Soundtrack_URL",
    "Soundtrack",
]

THEME = """
[[theme]]
slug = "live-on-stage"
title = "Live on Stage"
description = "Concert films and tour documentaries, from the front row to the wings and the bus."
"""


def film_block(
    film_id: str,
    title: str,
    year: int,
    directors: list[str],
    runtime: int,
    *,
    kind: str = "documentary",
    alt_titles: list[str] | None = None,
    episodes: int | None = None,
) -> str:
    lines = [
        "[[film]]",
        f"id = {json.dumps(film_id)}",
        f"title = {json.dumps(title)}",
        f"year = {year}",
        f"directors = {json.dumps(directors)}",
        f"runtime = {runtime}",
        f"kind = {json.dumps(kind)}",
        'countries = ["US"]',
        'themes = ["live-on-stage"]',
        'blurb = "A test entry with a blurb long enough to pass the catalog validation rules."',
        'prompts = ["What does the camera choose to show?", "Who is the film really about?"]',
    ]
    if alt_titles:
        lines.append(f"alt_titles = {json.dumps(alt_titles)}")
    if episodes is not None:
        lines.append(f"episodes = {episodes}")
    return "\n".join(lines) + "\n"


def write_catalog(folder: Path, *blocks: str, name: str = "music-test.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(THEME + "\n" + "\n".join(blocks), encoding="utf-8")
    return folder


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]], *, crlf: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\r\n" if crlf else "\n", restval="")
        writer.writeheader()
        writer.writerows(rows)


def tmdb_row(title: str, director: str, runtime: int, year: int, genre: str = "Documentary") -> dict[str, str]:
    return {
        "popularity": "0.1",
        "original_title": title,
        "director": director,
        "runtime": str(runtime),
        "production_companies": "Test Films",
        "vote_count": "10",
        "vote_average": "7.0",
        "release_year": str(year),
        "budget_adj": "0.0",
        "revenue_adj": "0.0",
        "genres": genre,
    }


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A miniature shared/data folder in the real layouts (CRLF where the real files have it)."""
    root = tmp_path / "shared" / "data"
    write_csv(
        root / factcheck.TMDB_FILE,
        TMDB_HEADER,
        [
            # one row per (film, genre), as in the real file
            tmdb_row("Dont Look Back", "D.A. Pennebaker", 96, 1967),
            tmdb_row("Dont Look Back", "D.A. Pennebaker", 96, 1967, "Music"),
            tmdb_row("The Last Waltz", "Martin Scorsese", 117, 1978),
            tmdb_row("Madonna: Truth or Dare", "Alek Keshishian|Mark Aldo Miceli", 114, 1991),
            tmdb_row("Truth or Dare", "Robert Heath", 95, 2012, "Horror"),
            tmdb_row("20 Feet from Stardom", "Morgan Neville", 89, 2013),
            tmdb_row("Stop Making Sense", "Jonathan Demme", 88, 1984),
            tmdb_row("Gimme Shelter", "Albert Maysles|David Maysles|Charlotte Zwerin", 91, 1970),
            tmdb_row("Metallica Through the Never", "NimrÃ³d Antal", 92, 2013),
        ],
        crlf=True,
    )
    write_csv(
        root / factcheck.OMDB_FILE,
        OMDB_HEADER,
        [
            {
                "movieId": "1191",
                "id": "tt0102370",
                "Title": "Madonna: Truth or Dare",
                "Year": "1991",
                "Director(s)": "['Alek Keshishian']",
                "Type": "['movie']",
            },
            {  # OMDb titles are IMDb's, often the original-language one
                "movieId": "7297",
                "id": "tt0323872",
                "Title": "Salmer fra kjøkkenet",
                "Year": "2003",
                "Director(s)": "['Bent Hamer']",
                "Type": "['movie']",
            },
            {
                "movieId": "9001",
                "id": "tt0000001",
                "Title": "Only In Omdb",
                "Year": "2001",
                "Director(s)": '["Pat O\'Connor"]',
                "Type": "['movie']",
            },
        ],
    )
    (root / factcheck.MOVIELENS_FILE).parent.mkdir(parents=True, exist_ok=True)
    (root / factcheck.MOVIELENS_FILE).write_bytes(
        b"movieId,title,genres\r\n"
        b'5385,"Last Waltz, The (1978)",Documentary\r\n'
        b"103107,20 Feet from Stardom (Twenty Feet from Stardom) (2013),Documentary\r\n"
        b"1191,Madonna: Truth or Dare (1991),Documentary|Musical\r\n"
        b'7979,"Monterey Pop (1968)",Documentary|Musical\r\n'
        b"7297,Kitchen Stories (2003),Comedy|Drama\r\n"
        b'8477,"Jet\xc3\xa9e, La (1962)",Romance|Sci-Fi\r\n'
    )
    wikipedia = root / factcheck.WIKIPEDIA_DIR
    wikipedia.mkdir(parents=True, exist_ok=True)
    (wikipedia / "movies-1960s.json").write_text(
        json.dumps(
            [
                {
                    "title": "Dont Look Back",
                    "year": 1967,
                    "cast": ["Bob Dylan"],
                    "genres": ["Documentary"],
                    "href": "Dont_Look_Back",
                    "extract": "Dont Look Back is a 1967 American documentary film directed by D. A. Pennebaker "
                    "that covers Bob Dylan's 1965 concert tour in England.",
                },
                {
                    "title": "Monterey Pop",
                    "year": 1968,
                    "cast": [],
                    "genres": ["Documentary"],
                    "href": "Monterey_Pop",
                    "extract": "Monterey Pop is a 1968 concert film by D. A. Pennebaker that depicts the festival.",
                },
            ],
            indent=2,
        ),
        encoding="utf-8",
    )
    return root


def run_check(catalog: Path, shared: Path, exceptions: list[factcheck.FactException] | None = None) -> factcheck.Report:
    loaded = read_catalog(catalog)
    reference = factcheck.load_reference(shared)
    return factcheck.check_catalog(loaded.films, loaded.film_files, reference, exceptions or [])


def fields(report: factcheck.Report, film_id: str) -> set[str]:
    return {item.field for item in report.open if item.film_id == film_id}


# -- helpers --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("D. A. Pennebaker", "D.A. Pennebaker"),
        ("D. A. Pennebaker", "DA Pennebaker"),
        ("Alejandro González Iñárritu", "alejandro gonzalez inarritu"),
        ("Mark Miceli", "Mark Aldo Miceli"),
    ],
)
def test_same_person(a: str, b: str) -> None:
    assert factcheck.same_person(a, b)


def test_different_people() -> None:
    assert not factcheck.same_person("Albert Maysles", "David Maysles")
    assert factcheck.directors_disagree(["Martin Scorsese"], ["Jonathan Demme"])
    assert factcheck.directors_disagree(["Alek Keshishian"], ["Alek Keshishian", "Mark Aldo Miceli"])
    assert not factcheck.directors_disagree(["Albert Maysles", "David Maysles", "Charlotte Zwerin"], ["David Maysles"])


def test_repair_mojibake() -> None:
    assert factcheck.repair_mojibake("Alejandro GonzÃ¡lez IÃ±Ã¡rritu") == "Alejandro González Iñárritu"
    assert factcheck.repair_mojibake("Jonas Ã\u2026kerlund") == "Jonas Åkerlund"  # a Windows-1252 misreading
    assert factcheck.repair_mojibake("Amélie") == "Amélie"  # correct text is left alone
    assert factcheck.repair_mojibake("Plain ASCII") == "Plain ASCII"


def test_parse_movielens_title() -> None:
    assert factcheck.parse_movielens_title("Last Waltz, The (1978)") == ("Last Waltz, The", (), 1978)
    assert factcheck.parse_movielens_title("20 Feet from Stardom (Twenty Feet from Stardom) (2013)") == (
        "20 Feet from Stardom",
        ("Twenty Feet from Stardom",),
        2013,
    )
    assert factcheck.parse_movielens_title("Léon: The Professional (a.k.a. The Professional) (Léon) (1994)") == (
        "Léon: The Professional",
        ("The Professional", "Léon"),
        1994,
    )
    assert factcheck.parse_movielens_title("Babylon 5") == ("Babylon 5", (), None)


def test_directors_from_extract() -> None:
    extract = "Dont Look Back is a 1967 American documentary film directed by D. A. Pennebaker that covers"
    assert factcheck.directors_from_extract(extract) == ("D. A. Pennebaker",)
    assert factcheck.directors_from_extract(
        "Gimme Shelter is a 1970 documentary film directed by Albert and David Maysles and Charlotte Zwerin."
    ) == ("Albert Maysles", "David Maysles", "Charlotte Zwerin")
    assert factcheck.directors_from_extract("directed by Uli Edel and written by Karey Kirkpatrick.") == ("Uli Edel",)
    assert factcheck.directors_from_extract("a 1991 film by director Alek Keshishian.") == ("Alek Keshishian",)
    assert factcheck.directors_from_extract("The Last Waltz was a concert by the Band.") == ()


# -- matching and checks --------------------------------------------------------------------------------------------


def test_normalised_titles_match_without_disagreement(tmp_path: Path, shared: Path) -> None:
    catalog = write_catalog(
        tmp_path / "data",
        film_block("dont-look-back", "Don't Look Back", 1967, ["D. A. Pennebaker"], 96),  # apostrophe
        film_block("the-last-waltz", "THE LAST WALTZ", 1978, ["Martin Scorsese"], 117, kind="concert film"),  # case
        film_block("twenty-feet", "Twenty Feet from Stardom", 2013, ["Morgan Neville"], 89),  # MovieLens alt title
        film_block("monterey-pop", "Monterey Pop", 1968, ["D.A. Pennebaker"], 79, kind="concert film"),
        film_block("only-in-omdb", "Only in OMDb", 2001, ["Pat O’Connor"], 100),  # typographic apostrophe
        film_block("la-jetee", "La Jetée", 1962, ["Chris Marker"], 28, kind="short"),  # "Jetée, La", accent
    )
    report = run_check(catalog, shared)
    by_id = {result.film.slug: result for result in report.results}
    assert report.open == []
    assert by_id["dont-look-back"].source == factcheck.TMDB
    assert set(by_id["dont-look-back"].matches) == {factcheck.TMDB, factcheck.WIKIPEDIA}
    assert by_id["the-last-waltz"].matches[factcheck.MOVIELENS].record.title == "Last Waltz, The"  # article moved
    assert by_id["twenty-feet"].source == factcheck.MOVIELENS
    assert by_id["monterey-pop"].source == factcheck.MOVIELENS
    assert by_id["monterey-pop"].matches[factcheck.WIKIPEDIA].record.directors == ("D. A. Pennebaker",)
    assert by_id["only-in-omdb"].source == factcheck.OMDB
    assert by_id["la-jetee"].source == factcheck.MOVIELENS
    assert report.exit_code == 0


def test_alt_title_and_title_article_forms(tmp_path: Path, shared: Path) -> None:
    catalog = write_catalog(
        tmp_path / "data",
        film_block("last-waltz", "Last Waltz, The", 1978, ["Martin Scorsese"], 117, kind="concert film"),
        film_block("stardom", "Backing Singers", 2013, ["Morgan Neville"], 89, alt_titles=["20 Feet From Stardom"]),
    )
    report = run_check(catalog, shared)
    assert all(result.source == factcheck.TMDB for result in report.results)
    assert report.open == []


def test_omdb_joined_through_movielens_id(tmp_path: Path, shared: Path) -> None:
    catalog = write_catalog(
        tmp_path / "data", film_block("kitchen-stories", "Kitchen Stories", 2003, ["Bent Hamer"], 95)
    )
    result = run_check(catalog, shared).results[0]
    assert result.source == factcheck.OMDB
    assert result.matches[factcheck.OMDB].how == "MovieLens id"
    assert result.matches[factcheck.OMDB].record.directors == ("Bent Hamer",)


def test_wrong_year_is_reported(tmp_path: Path, shared: Path) -> None:
    catalog = write_catalog(
        tmp_path / "data", film_block("the-last-waltz", "The Last Waltz", 1977, ["Martin Scorsese"], 117)
    )
    report = run_check(catalog, shared)
    (item,) = report.open
    assert (item.field, item.catalog, item.reference, item.source) == ("year", "1977", "1978", factcheck.TMDB)
    assert item.file.endswith("music-test.toml")
    assert "MovieLens 1978" in item.others


def test_two_years_off_does_not_match(tmp_path: Path, shared: Path) -> None:
    catalog = write_catalog(
        tmp_path / "data", film_block("the-last-waltz", "The Last Waltz", 1976, ["Martin Scorsese"], 117)
    )
    report = run_check(catalog, shared)
    assert report.matched == []
    assert report.open == []


def test_wrong_director_is_reported(tmp_path: Path, shared: Path) -> None:
    catalog = write_catalog(
        tmp_path / "data",
        film_block("stop-making-sense", "Stop Making Sense", 1984, ["David Byrne"], 88, kind="concert film"),
    )
    report = run_check(catalog, shared)
    (item,) = report.open
    assert (item.field, item.catalog, item.reference) == ("directors", "David Byrne", "Jonathan Demme")


def test_missing_co_director_is_reported_but_extra_catalog_director_is_not(tmp_path: Path, shared: Path) -> None:
    catalog = write_catalog(
        tmp_path / "data",
        film_block("gimme-shelter", "Gimme Shelter", 1970, ["Albert Maysles", "David Maysles"], 91),
        film_block("stop-making-sense", "Stop Making Sense", 1984, ["Jonathan Demme", "David Byrne"], 88),
    )
    report = run_check(catalog, shared)
    assert fields(report, "gimme-shelter") == {"directors"}
    assert fields(report, "stop-making-sense") == set()


def test_mojibake_director_is_repaired(tmp_path: Path, shared: Path) -> None:
    catalog = write_catalog(
        tmp_path / "data",
        film_block("through-the-never", "Metallica Through the Never", 2013, ["Nimród Antal"], 92, kind="concert film"),
    )
    assert run_check(catalog, shared).open == []


def test_runtime_tolerance(tmp_path: Path, shared: Path) -> None:
    catalog = write_catalog(
        tmp_path / "data",
        film_block("dont-look-back", "Dont Look Back", 1967, ["D. A. Pennebaker"], 102),  # 6 minutes over
        film_block("the-last-waltz", "The Last Waltz", 1978, ["Martin Scorsese"], 113),  # 4 minutes under
    )
    report = run_check(catalog, shared)
    (item,) = report.open
    assert (item.film_id, item.field) == ("dont-look-back", "runtime")
    assert (item.catalog, item.reference) == ("102 min", "96 min")
    assert fields(report, "the-last-waltz") == set()


def test_series_runtime_is_not_checked(tmp_path: Path, shared: Path) -> None:
    catalog = write_catalog(
        tmp_path / "data",
        film_block(
            "last-waltz-series", "The Last Waltz", 1978, ["Martin Scorsese"], 600, kind="docuseries", episodes=5
        ),
    )
    report = run_check(catalog, shared)
    assert report.matched
    assert report.open == []


def test_series_does_not_match_a_namesake_film(tmp_path: Path, shared: Path) -> None:
    catalog = write_catalog(
        tmp_path / "data",
        film_block("stop-making-sense-tv", "Stop Making Sense", 1984, ["Someone Else"], 300, kind="series", episodes=6),
        film_block("gimme-shelter-tv", "Gimme Shelter", 1970, ["David Maysles"], 300, kind="docuseries", episodes=3),
    )
    report = run_check(catalog, shared)
    by_id = {result.film.slug: result for result in report.results}
    assert by_id["stop-making-sense-tv"].matches == {}  # TMDb's is a film by Jonathan Demme: another work
    assert by_id["gimme-shelter-tv"].source == factcheck.TMDB  # shares a director: the same work
    assert fields(report, "gimme-shelter-tv") == {"directors"}


def test_title_part_match_and_exception(tmp_path: Path, shared: Path) -> None:
    catalog = write_catalog(
        tmp_path / "data",
        film_block(
            "madonna-truth-or-dare", "Truth or Dare", 1991, ["Alek Keshishian"], 119, alt_titles=["In Bed with Madonna"]
        ),
    )
    report = run_check(catalog, shared)
    result = report.results[0]
    assert result.matches[factcheck.TMDB].record.title == "Madonna: Truth or Dare"  # not the 2012 horror film
    assert result.matches[factcheck.TMDB].how == "title part"
    (item,) = report.open
    assert item.field == "directors"
    assert "Mark Aldo Miceli" in item.reference
    assert "OMDb Alek Keshishian" in item.others

    reason = "TMDb adds Mark Aldo Miceli; every other source names Keshishian alone."
    excused = run_check(catalog, shared, [factcheck.FactException("madonna-truth-or-dare", "directors", reason)])
    assert excused.open == []
    (accepted,) = excused.accepted
    assert accepted.accepted == reason
    assert excused.unused_exceptions == []
    assert excused.exit_code == 0


def test_exception_for_another_field_or_source_does_not_excuse(tmp_path: Path, shared: Path) -> None:
    catalog = write_catalog(
        tmp_path / "data", film_block("stop-making-sense", "Stop Making Sense", 1984, ["David Byrne"], 88)
    )
    exceptions = [
        factcheck.FactException("stop-making-sense", "year", "wrong field"),
        factcheck.FactException("stop-making-sense", "directors", "wrong source", source=factcheck.OMDB),
    ]
    report = run_check(catalog, shared, exceptions)
    assert len(report.open) == 1
    assert len(report.unused_exceptions) == 2


def test_parse_exceptions_rejects_bad_entries() -> None:
    good = factcheck.parse_exceptions({"exception": [{"film": "x", "field": "directors", "reason": "because"}]})
    assert good == [factcheck.FactException("x", "directors", "because")]
    with pytest.raises(factcheck.ExceptionsInvalid, match="field must be one of"):
        factcheck.parse_exceptions({"exception": [{"film": "x", "field": "director", "reason": "because"}]})
    with pytest.raises(factcheck.ExceptionsInvalid, match="required"):
        factcheck.parse_exceptions({"exception": [{"film": "x", "field": "year"}]})


# -- command line ---------------------------------------------------------------------------------------------------


def test_cli_reports_and_fails(tmp_path: Path, shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = write_catalog(
        tmp_path / "data",
        film_block("the-last-waltz", "The Last Waltz", 1977, ["Martin Scorsese"], 117),
        film_block("unknown-film", "A Film Nobody Indexed", 2020, ["Nobody"], 90),
    )
    code = factcheck.main(
        ["--catalog", str(catalog), "--shared", str(shared), "--exceptions", str(tmp_path / "none.toml")]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "titles checked: 2" in out
    assert "titles matched in the reference: 1 (best source: TMDb 1); not found: 1" in out
    assert "the-last-waltz: year: catalog 1977; TMDb 1978" in out
    assert out.strip().splitlines()[-1].startswith("summary: 2 titles checked, 1 matched, 1 unexplained")


def test_cli_exception_file_accepts(tmp_path: Path, shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = write_catalog(
        tmp_path / "data", film_block("madonna-truth-or-dare", "Madonna: Truth or Dare", 1991, ["Alek Keshishian"], 114)
    )
    exceptions = tmp_path / "exceptions.toml"
    exceptions.write_text(
        '[[exception]]\nfilm = "madonna-truth-or-dare"\nfield = "directors"\n'
        'reason = "TMDb adds Mark Aldo Miceli; OMDb and the credits name Keshishian alone."\n',
        encoding="utf-8",
    )
    code = factcheck.main(["--catalog", str(catalog), "--shared", str(shared), "--exceptions", str(exceptions)])
    out = capsys.readouterr().out
    assert code == 0
    assert "disagreements: none" in out
    assert "accepted: TMDb adds Mark Aldo Miceli" in out
    assert "0 unexplained disagreements, 1 accepted -> OK" in out


def test_cli_skips_without_shared_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = write_catalog(tmp_path / "data", film_block("x-film", "X Film", 2000, ["Someone Else"], 90))
    code = factcheck.main(["--catalog", str(catalog), "--shared", str(tmp_path / "no" / "shared" / "data")])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("skipped: ")
    assert "not found" in out


def test_cli_invalid_catalog_checks_valid_films_and_exits_2(
    tmp_path: Path, shared: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    block = film_block("the-last-waltz", "The Last Waltz", 1977, ["M. Scorsese"], 117)
    folder = write_catalog(tmp_path / "data", block)
    (folder / "broken.toml").write_text("[[film]]\nid = 'x'\n", encoding="utf-8")
    assert factcheck.main(["--catalog", str(folder), "--shared", str(shared)]) == 2
    out = capsys.readouterr().out
    assert "warning: the catalog has" in out
    assert "the-last-waltz: year: catalog 1977; TMDb 1978" in out


# -- the real reference data ----------------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_core_films_against_real_shared_data(tmp_path: Path, shared_data: Path) -> None:
    if not (shared_data / factcheck.TMDB_FILE).exists():
        pytest.skip(f"{shared_data / factcheck.TMDB_FILE} not found")
    catalog = write_catalog(
        tmp_path / "data",
        film_block("dont-look-back", "Dont Look Back", 1967, ["D. A. Pennebaker"], 96),
        film_block("the-last-waltz", "The Last Waltz", 1978, ["Martin Scorsese"], 117, kind="concert film"),
        film_block(
            "madonna-truth-or-dare",
            "Madonna: Truth or Dare",
            1991,
            ["Alek Keshishian"],
            119,
            alt_titles=["Truth or Dare", "In Bed with Madonna"],
        ),
        film_block("20-feet-from-stardom", "20 Feet from Stardom", 2013, ["Morgan Neville"], 91),
        film_block(
            "the-beatles-get-back", "The Beatles: Get Back", 2021, ["Peter Jackson"], 468, kind="docuseries", episodes=3
        ),
    )
    loaded = read_catalog(catalog)
    reference = factcheck.load_reference(shared_data)
    report = factcheck.check_catalog(loaded.films, loaded.film_files, reference)
    by_id = {result.film.slug: result for result in report.results}

    def record(film_id: str, source: str) -> factcheck.RefRecord:
        return by_id[film_id].matches[source].record

    assert record("dont-look-back", factcheck.TMDB).directors == ("D.A. Pennebaker",)
    assert record("dont-look-back", factcheck.WIKIPEDIA).directors == ("D. A. Pennebaker",)
    assert record("the-last-waltz", factcheck.TMDB).directors == ("Martin Scorsese",)
    assert record("the-last-waltz", factcheck.MOVIELENS).ref == "movieId 5385"
    madonna = record("madonna-truth-or-dare", factcheck.TMDB)
    assert (madonna.year, madonna.directors) == (1991, ("Alek Keshishian", "Mark Aldo Miceli"))
    assert record("madonna-truth-or-dare", factcheck.OMDB).directors == ("Alek Keshishian",)
    assert record("20-feet-from-stardom", factcheck.TMDB).directors == ("Morgan Neville",)
    assert record("20-feet-from-stardom", factcheck.MOVIELENS).ref == "movieId 103107"
    assert by_id["the-beatles-get-back"].matches == {}  # a 2021 docuseries: in none of the sets

    # the only disagreement is TMDb's extra co-director, which the shipped exceptions file explains
    assert [(item.film_id, item.field) for item in report.open] == [("madonna-truth-or-dare", "directors")]
    shipped = factcheck.load_exceptions(factcheck.DEFAULT_EXCEPTIONS)
    excused = factcheck.check_catalog(loaded.films, loaded.film_files, reference, shipped)
    assert excused.open == []
