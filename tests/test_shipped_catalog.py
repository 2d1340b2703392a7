"""The catalog we ship: valid, the size and shape the club was promised, and the landmark films exactly right."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.core.catalog import Catalog, read_catalog
from bot.core.text import normalise_title
from bot.settings import SHIPPED_CATALOG

MUSIC_THEMES = {
    "making-the-album",
    "on-the-road",
    "band-dynamics",
    "live-on-stage",
    "unsung-players",
    "archival-rediscoveries",
    "artist-biopics",
    "scenes-and-places",
    "producers-and-engineers",
    "portraits-of-the-artist",
}
COLLECTIONS = {
    "quiet-comedies",
    "serialized-fantasy",
    "holiday-favourites",
    "community-gardens",
    "transgressive-cinema",
    "quiet-endurance",
    "animated-horror",
    "dangerous-desire",
    "kind-kids-series",
    "radical-experimental",
    "unforgettable-openings",
    "queer-song-and-animation",
    "female-led-suspense",
    "midlife-turns",
    "essay-nonfiction",
    "urban-noir",
    "moral-dilemmas",
    "serialized-neo-noir",
    "lovable-misfits",
    "coming-of-age-animation",
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return read_catalog(SHIPPED_CATALOG)  # raises, listing every problem, if the shipped files are invalid


def test_size_and_themes(catalog: Catalog) -> None:
    assert len(catalog.films) >= 300
    assert len(catalog.themes) >= 24
    assert {t.slug for t in catalog.themes} >= MUSIC_THEMES | COLLECTIONS


def test_every_theme_has_at_least_eight_films_and_a_real_description(catalog: Catalog) -> None:
    counts = Counter(slug for film in catalog.films for slug in film.themes)
    thin = {t.slug: counts[t.slug] for t in catalog.themes if counts[t.slug] < 8}
    assert thin == {}
    for theme in catalog.themes:
        sentences = [s for s in theme.description.replace("!", ".").replace("?", ".").split(".") if s.strip()]
        assert 2 <= len(sentences) <= 4, f"{theme.slug}: describe it in 2-3 sentences"


def test_the_music_core_has_at_least_120_titles(catalog: Catalog) -> None:
    music = [film for film in catalog.films if MUSIC_THEMES & set(film.themes)]
    assert len(music) >= 120


def test_no_duplicate_films(catalog: Catalog) -> None:
    ids = Counter(film.slug for film in catalog.films)
    titles = Counter((normalise_title(film.title), film.year) for film in catalog.films)
    assert [i for i, n in ids.items() if n > 1] == []
    assert [t for t, n in titles.items() if n > 1] == []


def test_every_film_has_prompts_and_a_sensible_blurb(catalog: Catalog) -> None:
    for film in catalog.films:
        assert 2 <= len(film.prompts) <= 3, film.slug
        assert 40 <= len(film.blurb) <= 400, film.slug
        assert len(set(film.prompts)) == len(film.prompts), f"{film.slug} repeats a prompt"
        assert all(prompt.rstrip().endswith("?") for prompt in film.prompts), f"{film.slug}: prompts are questions"
    blurbs = Counter(film.blurb for film in catalog.films)
    assert [b for b, n in blurbs.items() if n > 1] == [], "two films share a blurb"


@pytest.mark.parametrize(
    ("title", "year", "director", "kind"),
    [
        ("Dont Look Back", 1967, "D. A. Pennebaker", "documentary"),
        ("The Last Waltz", 1978, "Martin Scorsese", "concert film"),
        ("Madonna: Truth or Dare", 1991, "Alek Keshishian", "documentary"),
        ("20 Feet from Stardom", 2013, "Morgan Neville", "documentary"),
        ("The Beatles: Get Back", 2021, "Peter Jackson", "docuseries"),
    ],
)
def test_the_landmark_films(catalog: Catalog, title: str, year: int, director: str, kind: str) -> None:
    film = next(f for f in catalog.films if f.title == title)
    assert (film.year, film.kind) == (year, kind)
    assert director in film.directors
    assert MUSIC_THEMES & set(film.themes)


def test_get_back_is_an_honest_docuseries(catalog: Catalog) -> None:
    film = next(f for f in catalog.films if f.title == "The Beatles: Get Back")
    assert film.episodes == 3
    assert film.runtime == 157 + 173 + 138


def test_alternative_titles_members_search_for(catalog: Catalog) -> None:
    alt = {film.title: set(film.alt_titles) for film in catalog.films}
    assert "In Bed with Madonna" in alt["Madonna: Truth or Dare"]
    assert "Twenty Feet from Stardom" in alt["20 Feet from Stardom"]
    assert "Don't Look Back" in alt["Dont Look Back"]
