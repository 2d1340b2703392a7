"""Title autocomplete on the shipped catalog: typos, abbreviations and alternative titles find their film."""

from __future__ import annotations

import pytest

from bot.core.catalog import load_catalog
from bot.core.errors import NotFoundError
from bot.core.films import Theme, build_title_index, list_themes, resolve_film, search_themes
from bot.core.search import TitleIndex, description_excerpt
from bot.db.database import Database
from tests.conftest import REPO

#: (what a member types, the film's title, its year): misspelled, abbreviated, run together, or another title.
QUALITY_QUERIES: list[tuple[str, str, int]] = [
    ("last walts", "The Last Waltz", 1978),
    ("lastwaltz", "The Last Waltz", 1978),
    ("the band last waltz", "The Last Waltz", 1978),
    ("dont look back", "Dont Look Back", 1967),
    ("don't look back", "Dont Look Back", 1967),
    ("20 feet", "20 Feet from Stardom", 2013),
    ("twenty feet from stardom", "20 Feet from Stardom", 2013),
    ("in bed with madonna", "Madonna: Truth or Dare", 1991),
    ("truth or dare", "Madonna: Truth or Dare", 1991),
    ("stop makin sense", "Stop Making Sense", 1984),
    ("stopmakingsense", "Stop Making Sense", 1984),
    ("gimmie shelter", "Gimme Shelter", 1970),
    ("monteray pop", "Monterey Pop", 1968),
    ("woodstok", "Woodstock", 1970),
    ("summer of sol", "Summer of Soul", 2021),
    ("spinal tap", "This Is Spinal Tap", 1984),
    ("beatles get back", "The Beatles: Get Back", 2021),
    ("get back beatles", "The Beatles: Get Back", 2021),
    ("amelie", "Amélie", 2001),
    ("searching for sugarman", "Searching for Sugar Man", 2012),
    ("buena vista social", "Buena Vista Social Club", 1999),
    ("almost famus", "Almost Famous", 2000),
    ("wiplash", "Whiplash", 2014),
    ("some kind of monster", "Metallica: Some Kind of Monster", 2004),
    ("american utopia", "David Byrne's American Utopia", 2020),
    ("eight days a week", "The Beatles: Eight Days a Week – The Touring Years", 2016),
    ("anvil story", "Anvil! The Story of Anvil", 2008),
    ("hedwig angry inch", "Hedwig and the Angry Inch", 2001),
    ("rocky horror", "The Rocky Horror Picture Show", 1975),
    ("nightmare befor christmas", "The Nightmare Before Christmas", 1993),
    ("kikis delivery", "Kiki's Delivery Service", 1989),
    ("return of the king", "The Lord of the Rings: The Return of the King", 2003),
    ("jeanne dielman", "Jeanne Dielman, 23 quai du Commerce, 1080 Bruxelles", 1975),
    ("2001 space odyssey", "2001: A Space Odyssey", 1968),
    ("inglorious basterds", "Inglourious Basterds", 2009),
    ("silence of the lamb", "The Silence of the Lambs", 1991),
    ("mulholland dr", "Mulholland Drive", 2001),
    ("sid & nancy", "Sid and Nancy", 1986),
    ("whats love got to do with it", "What's Love Got to Do with It", 1993),
    ("straight outa compton", "Straight Outta Compton", 2015),
    ("coal miners daughter", "Coal Miner's Daughter", 1980),
    ("my life as a courgette", "My Life as a Zucchini", 2016),
    ("1991 year punk broke", "1991: The Year Punk Broke", 1992),
    ("rattle & hum", "Rattle and Hum", 1988),
]


@pytest.fixture
async def shipped(db: Database) -> TitleIndex:
    await load_catalog(db, REPO / "data")
    return await build_title_index(db)


async def test_every_quality_query_finds_its_film_in_the_top_three(shipped: TitleIndex) -> None:
    assert len(QUALITY_QUERIES) >= 30
    misses = []
    for query, title, year in QUALITY_QUERIES:
        top = [(m.entry.title, m.entry.year) for m in shipped.search(query, limit=3)]
        if (title, year) not in top:
            misses.append(f"{query!r} -> {top}")
    assert misses == []


async def test_typing_a_title_letter_by_letter_keeps_it_in_view(shipped: TitleIndex) -> None:
    """Autocomplete runs on every keystroke: from four letters on, the film stays among the 25 choices."""
    for query, title, _year in QUALITY_QUERIES[:12]:
        for end in range(4, len(query) + 1):
            titles = [m.entry.title for m in shipped.search(query[:end], limit=25)]
            assert len(titles) <= 25
            if end == len(query):
                assert title in titles, query


async def test_prefixes_come_first_and_whole_titles_before_longer_ones(shipped: TitleIndex) -> None:
    titles = [m.entry.title for m in shipped.search("notor", limit=5)]
    assert titles[:2] == ["Notorious", "Notorious"]
    assert shipped.search("elvis", limit=2)[0].entry.title == "Elvis"


async def test_same_titles_are_told_apart_by_year(db: Database, shipped: TitleIndex) -> None:
    labels = [m.label for m in shipped.search("notorious", limit=5)]
    assert "Notorious (1946)" in labels and "Notorious (2009)" in labels
    with pytest.raises(Exception, match=r"Notorious \(1946\) or Notorious \(2009\)|Notorious \(2009\) or Notorious"):
        await resolve_film(db, shipped, "Notorious", guild_id=None)
    assert (await resolve_film(db, shipped, "Notorious (1946)", guild_id=None)).year == 1946
    assert (await resolve_film(db, shipped, "notorious 2009", guild_id=None)).year == 2009


async def test_a_typed_title_with_a_typo_resolves_when_one_film_is_clearly_meant(
    db: Database, shipped: TitleIndex
) -> None:
    """Typed and not picked from the list: "last walts" is The Last Waltz (similar enough, and far ahead of any
    other film), not "No film called 'last walts', did you mean The Last Waltz"."""
    for typed, label in [
        ("last walts", "The Last Waltz (1978)"),
        ("the lst waltz 1978", "The Last Waltz (1978)"),
        ("gimmie shelter", "Gimme Shelter (1970)"),
        ("monteray pop", "Monterey Pop (1968)"),
        ("wiplash", "Whiplash (2014)"),
    ]:
        assert (await resolve_film(db, shipped, typed, guild_id=None)).label == label


async def test_an_unclear_typed_title_gets_did_you_mean_with_the_choices(db: Database, shipped: TitleIndex) -> None:
    with pytest.raises(NotFoundError, match=r"Did you mean Notorious \(1946\), Notorious \(2009\)"):
        await resolve_film(db, shipped, "notorius", guild_id=None)  # as close to both
    with pytest.raises(NotFoundError, match=r"Did you mean Gimme"):
        await resolve_film(db, shipped, "gimme", guild_id=None)  # Gimme Shelter or Gimme Danger: too little typed
    with pytest.raises(NotFoundError, match=r"No film called 'hedwig angry inch'.*Did you mean Hedwig"):
        await resolve_film(db, shipped, "hedwig angry inch", guild_id=None)  # close, but not close enough to assume
    with pytest.raises(NotFoundError, match=r"No film called 'last walts 1999'"):
        await resolve_film(db, shipped, "last walts 1999", guild_id=None)  # the year rules out the only close film


def test_a_clear_match_needs_similarity_and_a_margin() -> None:
    index = TitleIndex([(1, "sound-city", "Sound City", 2013, []), (2, "sound-citty", "Sound Citty", 2020, [])])
    assert index.clear_match("sound cty") is None  # about as close to both
    lone = TitleIndex([(1, "sound-city", "Sound City", 2013, [])])
    assert [entry.film_id for entry in filter(None, [lone.clear_match("sound cty")])] == [1]
    assert lone.clear_match("sound") is None  # too far from the title to assume


async def test_alternative_titles_say_which_title_matched(shipped: TitleIndex) -> None:
    best = shipped.search("in bed with madonna", limit=1)[0]
    assert best.entry.title == "Madonna: Truth or Dare"
    assert best.matched == "In Bed with Madonna"


async def test_empty_and_nonsense_queries_answer_without_error(shipped: TitleIndex) -> None:
    assert len(shipped.search("", limit=25)) == 25
    assert len(shipped.search("   ", limit=10)) == 10
    assert len(shipped.search("zzqxj", limit=25)) <= 25
    assert shipped.search("!!!", limit=5) == shipped.search("", limit=5)


def test_an_index_never_scans_every_title() -> None:
    """Candidates come from the prefix list and trigram postings: a query touches at most a few hundred keys."""
    films = [(i, f"film-{i}", f"Film number {i}", 1900 + i % 120, []) for i in range(5000)]
    films.append((9999, "the-last-waltz", "The Last Waltz", 1978, ["La Dernière Valse"]))
    index = TitleIndex(films)
    assert index.search("last walts", limit=1)[0].entry.title == "The Last Waltz"
    assert index.search("derniere valse", limit=1)[0].entry.title == "The Last Waltz"
    assert len(index._trigram_candidates("film number 12")) <= 150


# -- themes ---------------------------------------------------------------------------------------------------------


def themes_named(*titles: str, described: dict[str, str] | None = None) -> list[Theme]:
    """Themes in alphabetical order, as list_themes gives them (ties keep this order)."""
    return [
        Theme(
            slug=title.lower().replace(" ", "-"),
            title=title,
            description=(described or {}).get(title, ""),
            film_count=1,
        )
        for title in sorted(titles)
    ]


def test_theme_ranking_is_exact_then_prefix_then_word_start_then_inside_then_typo_then_description() -> None:
    themes = themes_named(
        "Broadcast News",
        "Road",
        "Roadside Diners",
        "On the Road",
        "Holiday Broadcasts",
        "Raod",
        "Motels",
        described={"Motels": "Neon signs by the side of the road, and who stops there."},
    )
    ranked = [t.title for t in search_themes(themes, "road")]
    assert ranked == ["Road", "Roadside Diners", "On the Road", "Broadcast News", "Holiday Broadcasts", "Raod",
                      "Motels"]  # fmt: skip


async def test_themes_on_the_shipped_catalog(db: Database) -> None:
    await load_catalog(db, REPO / "data")
    themes = await list_themes(db)
    road = [t.title for t in search_themes(themes, "road")]
    assert road.index("On the Road") < road.index("Holiday Broadcasts and Seasonal Favourites")
    assert [t.slug for t in search_themes(themes, "backup sing")][:1] == ["unsung-players"]  # "Backing singers, ..."
    assert [t.slug for t in search_themes(themes, "session players")][:1] == ["unsung-players"]
    assert [t.slug for t in search_themes(themes, "makng the albm")][:1] == ["making-the-album"]
    assert len(search_themes(themes, "", limit=25)) == 25


def test_a_description_match_says_which_words_matched() -> None:
    unsung = Theme(
        "unsung-players", "The Unsung", "Session players and backing singers: the people on records you know.", 17
    )
    assert description_excerpt("backup sing", unsung) == "backing singers: the people on records you know."
    assert description_excerpt("backup sing", unsung, length=24) == "backing singers: the…"
    assert description_excerpt("unsung", unsung) is None  # the title matched: nothing to explain
    assert description_excerpt("zebra", unsung) is None
