"""Recommendations on a real database: theme ranking and its reasons, filters and what to widen, paging, /similar,
/surprise, /forme, /tonight's least-misery ranking, /film facts, /theme pages, and caches that follow every change."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from bot.core import collections, reviews, watch
from bot.core.catalog import load_catalog
from bot.core.errors import NotFoundError, UserError
from bot.core.films import Film, Theme, active_films
from bot.core.recommend import Filters, NothingFound, Recommender, _percentiles, _tonight_reason, theme_key
from bot.db.database import Database
from tests.catalog_builder import film, theme, to_toml, write_catalog
from tests.clocks import StepClock

GUILD, OTHER_GUILD = 100, 200
ALICE, BOB, CAROL, DAN = 1, 2, 3, 4


def club_catalog(folder: Path) -> Path:
    """Fourteen films in four themes, with shared people, so every ranking signal has something to bite on."""
    themes = [
        theme("live", title="Live on Stage"),
        theme("road", title="On the Road"),
        theme("studio", title="In the Studio"),
        theme("misc", title="Quiet Comedies"),
    ]
    films = [
        film("last-waltz", title="The Last Waltz", year=1978, runtime=117, kind="concert film",
             themes=["live", "road"], featuring=["The Band", "Bob Dylan"], directors=["Martin Scorsese"]),
        film("gimme-shelter", title="Gimme Shelter", year=1970, runtime=91, themes=["live", "road"],
             featuring=["The Rolling Stones"], directors=["Albert Maysles"]),
        film("monterey-pop", title="Monterey Pop", year=1968, runtime=79, kind="concert film", themes=["live"],
             featuring=["Jimi Hendrix"], directors=["D. A. Pennebaker"]),
        film("woodstock", title="Woodstock", year=1970, runtime=225, kind="concert film", themes=["live"],
             featuring=["Jimi Hendrix", "The Who"], directors=["Michael Wadleigh"]),
        film("stop-making-sense", title="Stop Making Sense", year=1984, runtime=88, kind="concert film",
             themes=["live"], featuring=["Talking Heads"], directors=["Jonathan Demme"]),
        film("dont-look-back", title="Dont Look Back", year=1967, runtime=96, themes=["road"],
             featuring=["Bob Dylan"], directors=["D. A. Pennebaker"]),
        film("almost-famous", title="Almost Famous", year=2000, runtime=122, kind="fiction feature",
             themes=["road"], directors=["Cameron Crowe"]),
        film("spinal-tap", title="This Is Spinal Tap", year=1984, runtime=82, kind="fiction feature",
             themes=["road"], directors=["Rob Reiner"]),
        film("let-it-be", title="Let It Be", year=1970, runtime=81, themes=["studio"], featuring=["The Beatles"],
             directors=["Michael Lindsay-Hogg"]),
        film("sound-city", title="Sound City", year=2013, runtime=108, themes=["studio"], directors=["Dave Grohl"]),
        film("get-back", title="The Beatles: Get Back", year=2021, runtime=468, kind="docuseries", episodes=3,
             themes=["studio", "live"], featuring=["The Beatles"], directors=["Peter Jackson"]),
        film("paterson", title="Paterson", year=2016, runtime=118, kind="fiction feature", themes=["misc"],
             directors=["Jim Jarmusch"]),
        film("local-hero", title="Local Hero", year=1983, runtime=111, kind="fiction feature", themes=["misc"],
             directors=["Bill Forsyth"]),
        film("stranger", title="Stranger Than Paradise", year=1984, runtime=89, kind="fiction feature",
             themes=["misc"], directors=["Jim Jarmusch"]),
    ]  # fmt: skip
    return write_catalog(folder, {"themes.toml": to_toml(themes=themes), "films.toml": to_toml(films=films)})


@pytest.fixture
async def films(db: Database, tmp_path: Path) -> dict[str, Film]:
    await load_catalog(db, club_catalog(tmp_path / "catalog"))
    return {f.slug: f for f in await active_films(db)}


@pytest.fixture
def clock() -> StepClock:
    return StepClock(step=timedelta(minutes=1))


@pytest.fixture
def engine(db: Database) -> Recommender:
    return Recommender(db, rng=random.Random(7))


async def rate(db: Database, clock: StepClock, user: int, film_: Film, stars: float, guild: int = GUILD) -> None:
    await reviews.rate(db, clock, guild_id=guild, user_id=user, film_id=film_.id, stars=stars)


async def themes_by_slug(engine: Recommender, guild: int = GUILD) -> dict[str, Theme]:
    return {t.slug: t for t in await engine.themes(guild)}


# -- /recommend ---------------------------------------------------------------------------------------------------


async def test_theme_ranking_puts_loved_then_core_then_disliked_films(
    db: Database, engine: Recommender, films: dict[str, Film], clock: StepClock
) -> None:
    await rate(db, clock, ALICE, films["monterey-pop"], 5)
    await rate(db, clock, BOB, films["monterey-pop"], 4.5)
    await rate(db, clock, ALICE, films["woodstock"], 1)
    live = (await themes_by_slug(engine))["live"]
    result = await engine.recommend(GUILD, live, count=10)
    order = [pick.film.slug for pick in result.picks]
    assert order[0] == "monterey-pop"  # the club loves it
    assert order[-1] == "woodstock"  # the club disliked it: below every unrated film
    # Unrated films whose first theme is Live on Stage come before Get Back (its first theme is In the Studio).
    assert order.index("last-waltz") < order.index("get-back")
    assert result.total == 6 and not result.has_more
    reason = result.picks[0].reason
    assert reason == "concert film · 79 min · 4.8★ from 2 members · the club hasn't seen it"
    waltz = next(p for p in result.picks if p.film.slug == "last-waltz")
    assert "also On the Road" in waltz.reason and "no club ratings yet" in waltz.reason


async def test_watchlists_lift_a_film_and_the_club_watched_ones_drop_out(
    db: Database, engine: Recommender, films: dict[str, Film], clock: StepClock
) -> None:
    road = (await themes_by_slug(engine))["road"]
    await watch.add_to_watchlist(db, clock, GUILD, ALICE, films["spinal-tap"].id)
    await watch.add_to_watchlist(db, clock, GUILD, BOB, films["spinal-tap"].id)
    await watch.mark_club_watched(db, clock, GUILD, films["dont-look-back"].id)
    result = await engine.recommend(GUILD, road, count=10)
    assert result.picks[0].film.slug == "spinal-tap"
    assert "on 2 watchlists" in result.picks[0].reason
    assert "dont-look-back" not in [p.film.slug for p in result.picks]
    everything = await engine.recommend(GUILD, road, Filters(include_watched=True), count=10)
    watched = next(p for p in everything.picks if p.film.slug == "dont-look-back")
    assert "the club watched it" in watched.reason
    assert everything.total == result.total + 1


async def test_filters_narrow_and_an_empty_result_says_which_filter_to_widen(
    engine: Recommender, films: dict[str, Film]
) -> None:
    live = (await themes_by_slug(engine))["live"]
    seventies = await engine.recommend(GUILD, live, Filters(decade=1970), count=10)
    assert {p.film.slug for p in seventies.picks} == {"last-waltz", "gimme-shelter", "woodstock"}
    assert seventies.heading == "Live on Stage · from the 1970s"
    short = await engine.recommend(GUILD, live, Filters(max_runtime=90, kind="concert film"), count=10)
    assert {p.film.slug for p in short.picks} == {"monterey-pop", "stop-making-sense"}
    with pytest.raises(NothingFound) as empty:
        await engine.recommend(GUILD, live, Filters(decade=1980, max_runtime=85))
    message = str(empty.value)
    assert message.startswith("No film in Live on Stage fits from the 1980s, up to 85 min that the club hasn't")
    assert "raise or drop max_runtime (1 film)" in message
    assert "drop decade (1 film)" in message  # Monterey Pop is short enough, but from the 1960s
    with pytest.raises(NothingFound, match="Try fewer filters"):
        await engine.recommend(GUILD, live, Filters(decade=1990, max_runtime=60))


async def test_a_theme_the_club_has_seen_entirely_points_at_include_watched(
    db: Database, engine: Recommender, films: dict[str, Film], clock: StepClock
) -> None:
    for slug in ("let-it-be", "sound-city", "get-back"):
        await watch.mark_club_watched(db, clock, GUILD, films[slug].id)
    studio = (await themes_by_slug(engine))["studio"]
    with pytest.raises(NothingFound, match=r"set include_watched to True \(3 films\)"):
        await engine.recommend(GUILD, studio)


async def test_more_picks_pages_through_the_same_ranking(engine: Recommender, films: dict[str, Film]) -> None:
    live = (await themes_by_slug(engine))["live"]
    everything = [p.film.id for p in (await engine.recommend(GUILD, live, count=10)).picks]
    first = await engine.recommend(GUILD, live, count=4)
    second = await engine.recommend(GUILD, live, count=4, page=1)
    assert first.has_more and not second.has_more
    assert [p.film.id for p in first.picks + second.picks] == everything
    with pytest.raises(NothingFound, match="every pick"):
        await engine.recommend(GUILD, live, count=4, page=2)


async def test_decades_offered_are_the_ones_with_films(
    db: Database, engine: Recommender, films: dict[str, Film], clock: StepClock
) -> None:
    assert await engine.decades(GUILD) == [(1960, 2), (1970, 4), (1980, 4), (2000, 1), (2010, 2), (2020, 1)]
    studio = (await themes_by_slug(engine))["studio"]
    assert await engine.decades(GUILD, studio) == [(1970, 1), (2010, 1), (2020, 1)]
    mine = await collections.create_collection(db, clock, guild_id=GUILD, user_id=ALICE, name="Eighties")
    await collections.add_film(db, clock, collection=mine, film_id=films["spinal-tap"].id, user_id=ALICE)
    eighties = next(t for t in await engine.themes(GUILD) if t.is_collection)
    assert await engine.decades(GUILD, eighties) == [(1980, 1)]


async def test_bad_filters_and_unknown_themes_are_refused(engine: Recommender, films: dict[str, Film]) -> None:
    with pytest.raises(UserError, match="decade"):
        Filters(decade=1975)
    with pytest.raises(UserError, match="runtime"):
        Filters(max_runtime=0)
    with pytest.raises(UserError, match="kind"):
        Filters(kind="opera")
    with pytest.raises(NotFoundError, match=r"No theme named 'live on stagee'\. Did you mean Live on Stage"):
        await engine.resolve_theme(GUILD, "live on stagee")
    assert (await engine.resolve_theme(GUILD, "LIVE ON STAGE")).slug == "live"
    with pytest.raises(UserError, match="1 to 10"):
        await engine.recommend(GUILD, await engine.resolve_theme(GUILD, "live"), count=11)


async def test_caches_follow_new_ratings_and_screenings(
    db: Database, engine: Recommender, films: dict[str, Film], clock: StepClock
) -> None:
    misc = (await themes_by_slug(engine))["misc"]
    assert (await engine.recommend(GUILD, misc, count=1)).picks[0].film.slug == "paterson"
    await rate(db, clock, ALICE, films["stranger"], 5)
    assert (await engine.recommend(GUILD, misc, count=1)).picks[0].film.slug == "stranger"
    await watch.mark_club_watched(db, clock, GUILD, films["stranger"].id)
    assert (await engine.recommend(GUILD, misc, count=1)).picks[0].film.slug == "paterson"
    # Another server's ratings never leak in.
    await rate(db, clock, BOB, films["local-hero"], 5, guild=OTHER_GUILD)
    assert (await engine.recommend(GUILD, misc, count=1)).picks[0].film.slug == "paterson"
    assert (await engine.recommend(OTHER_GUILD, misc, count=1)).picks[0].film.slug == "local-hero"


# -- /similar, /surprise --------------------------------------------------------------------------------------------


async def test_similar_ranks_shared_themes_and_people_and_says_what_is_shared(
    engine: Recommender, films: dict[str, Film]
) -> None:
    result = await engine.similar(GUILD, films["last-waltz"], count=3)
    slugs = [p.film.slug for p in result.picks]
    # Bob Dylan is in only two films, so sharing him (and On the Road) beats sharing two broad themes.
    assert slugs[:2] == ["dont-look-back", "gimme-shelter"]
    assert "last-waltz" not in slugs
    assert result.picks[0].reason == "shares On the Road · with Bob Dylan · 1967"
    assert result.picks[1].reason == "shares Live on Stage, On the Road · 8 years apart"
    assert result.heading == "Like The Last Waltz (1978)"


async def test_shared_themes_outrank_a_film_that_only_shares_a_director(db: Database, tmp_path: Path) -> None:
    # Stop Making Sense and The Silence of the Lambs share only Jonathan Demme; concert films share a theme.
    themes = [theme("live", title="Live on Stage"), theme("thrillers", title="Thrillers")]
    films = [
        film("sms", title="Stop Making Sense", year=1984, kind="concert film", themes=["live"],
             directors=["Jonathan Demme"], featuring=["Talking Heads"]),
        film("lambs", title="The Silence of the Lambs", year=1991, kind="fiction feature", themes=["thrillers"],
             directors=["Jonathan Demme"]),
        film("waltz", title="The Last Waltz", year=1978, kind="concert film", themes=["live"],
             directors=["Martin Scorsese"]),
        film("monterey", title="Monterey Pop", year=1968, themes=["live"], directors=["D. A. Pennebaker"]),
        film("gold", title="Heart of Gold", year=2006, themes=["live"], directors=["Someone Else"]),
        film("seven", title="Se7en", year=1995, kind="fiction feature", themes=["thrillers"], directors=["D. F."]),
    ]  # fmt: skip
    await load_catalog(db, write_catalog(tmp_path / "demme", {"c.toml": to_toml(themes=themes, films=films)}))
    by_slug = {f.slug: f for f in await active_films(db)}
    result = await Recommender(db).similar(GUILD, by_slug["sms"], count=10)
    slugs = [p.film.slug for p in result.picks]
    assert slugs[:3] == ["waltz", "monterey", "gold"]  # every film that shares Live on Stage, nearest years first
    assert slugs[-1] == "lambs"
    assert result.picks[-1].reason.startswith("with Jonathan Demme · 7 years apart")


async def test_similar_pages_through_every_film_it_found(engine: Recommender, films: dict[str, Film]) -> None:
    everything = await engine.similar(GUILD, films["last-waltz"], count=10)
    first = await engine.similar(GUILD, films["last-waltz"], count=4)
    second = await engine.similar(GUILD, films["last-waltz"], count=4, page=1)
    assert first.total == everything.total == 8 and first.has_more and second.page == 1
    assert [p.film.id for p in first.picks + second.picks] == [p.film.id for p in everything.picks[:8]]
    with pytest.raises(NothingFound, match="every film like The Last Waltz"):
        await engine.similar(GUILD, films["last-waltz"], count=10, page=5)


async def test_surprise_draws_only_what_the_club_has_not_watched(
    db: Database, engine: Recommender, films: dict[str, Film], clock: StepClock
) -> None:
    for slug in ("paterson", "local-hero"):
        await watch.mark_club_watched(db, clock, GUILD, films[slug].id)
    misc = (await themes_by_slug(engine))["misc"]
    for _ in range(5):
        pick = await engine.surprise(GUILD, misc)
        assert pick.film.slug == "stranger"
        assert pick.reason.startswith("the club hasn't seen it in Quiet Comedies · fiction feature · 89 min")
    await watch.mark_club_watched(db, clock, GUILD, films["stranger"].id)
    with pytest.raises(NothingFound, match="watched every film in Quiet Comedies"):
        await engine.surprise(GUILD, misc)
    drawn = {(await engine.surprise(GUILD, exclude=films["last-waltz"].id)).film.slug for _ in range(30)}
    assert drawn <= set(films) - {"paterson", "local-hero", "stranger", "last-waltz"}
    assert len(drawn) > 3


# -- /forme ---------------------------------------------------------------------------------------------------------


async def test_for_me_follows_my_ratings_and_never_repeats_what_i_saw(
    db: Database, engine: Recommender, films: dict[str, Film], clock: StepClock
) -> None:
    await rate(db, clock, ALICE, films["dont-look-back"], 5)
    await rate(db, clock, ALICE, films["paterson"], 1.5)
    await watch.mark_watched(db, clock, GUILD, ALICE, films["almost-famous"].id)
    result = await engine.for_member(GUILD, ALICE, count=10)
    slugs = [p.film.slug for p in result.picks]
    assert not {"dont-look-back", "paterson", "almost-famous"} & set(slugs)
    assert slugs[0] == "last-waltz"  # On the Road and Bob Dylan, like the film she loved
    assert result.picks[0].reason.startswith("because you gave Dont Look Back (1967) 5★ · On the Road")
    assert "with Bob Dylan" in result.picks[0].reason
    assert slugs.index("stranger") > slugs.index("spinal-tap")  # Paterson's neighbour: she rated Paterson low
    assert result.note is None


async def test_for_me_learns_from_members_with_similar_taste(
    db: Database, engine: Recommender, films: dict[str, Film], clock: StepClock
) -> None:
    for member in (BOB, CAROL):
        await rate(db, clock, member, films["paterson"], 5)
        await rate(db, clock, member, films["sound-city"], 4.5)
    await rate(db, clock, ALICE, films["paterson"], 4.5)
    result = await engine.for_member(GUILD, ALICE, count=3)
    top = result.picks[0]
    assert top.film.slug == "sound-city"
    assert "2 members with similar taste gave it 4.5★" in top.reason


async def test_for_me_without_ratings_offers_the_clubs_favourites_and_says_so(
    db: Database, engine: Recommender, films: dict[str, Film], clock: StepClock
) -> None:
    await rate(db, clock, BOB, films["sound-city"], 5)
    result = await engine.for_member(GUILD, DAN, count=2)
    assert result.note is not None and "haven't rated anything yet" in result.note
    assert result.picks[0].film.slug == "sound-city"
    studio = (await themes_by_slug(engine))["studio"]
    within = await engine.for_member(GUILD, BOB, count=5, theme=studio)
    assert {p.film.slug for p in within.picks} <= {"let-it-be", "get-back"}
    assert within.heading == "For you in In the Studio"


# -- /tonight -------------------------------------------------------------------------------------------------------


def test_match_percentiles_share_ties() -> None:
    assert _percentiles(np.array([3.0, 1.0, 2.0])).tolist() == [1.0, 0.0, 0.5]
    assert _percentiles(np.array([0.0, 0.0, 1.0])).tolist() == [0.25, 0.25, 1.0]


async def test_tonight_prefers_what_suits_everyone_over_one_members_favourite(
    db: Database, engine: Recommender, films: dict[str, Film], clock: StepClock
) -> None:
    # Alice loves films on the road, Bob loves concert films; The Last Waltz is both, and neither has seen it.
    await rate(db, clock, ALICE, films["dont-look-back"], 5)
    await rate(db, clock, ALICE, films["spinal-tap"], 4.5)
    await rate(db, clock, BOB, films["monterey-pop"], 5)
    await rate(db, clock, BOB, films["stop-making-sense"], 4.5)
    await watch.mark_watched(db, clock, GUILD, BOB, films["gimme-shelter"].id)
    result = await engine.tonight(GUILD, {ALICE: "Alice", BOB: "Bob"}, count=3)
    slugs = [p.film.slug for p in result.picks]
    assert slugs[0] == "last-waltz"
    assert not {"dont-look-back", "spinal-tap", "monterey-pop", "stop-making-sense", "gimme-shelter"} & set(slugs)
    assert result.picks[0].reason.startswith("suits all 2 — match ")
    assert result.heading == "Tonight for Alice and Bob"
    short = await engine.tonight(GUILD, {ALICE: "Alice", BOB: "Bob", DAN: "Dan"}, max_runtime=100, count=10)
    assert all(p.film.runtime <= 100 for p in short.picks)
    assert short.note == "Dan has no ratings yet, so that match follows their watchlist and the club's taste."
    with pytest.raises(NothingFound, match="raise max_runtime"):
        await engine.tonight(GUILD, {ALICE: "Alice"}, max_runtime=10)
    with pytest.raises(UserError, match="Name who is watching"):
        await engine.tonight(GUILD, {})


def cold_catalog(folder: Path) -> Path:
    """A 1,400-minute series first in the file, then films in three themes of different sizes."""
    themes = [theme("stage", title="Live on Stage"), theme("road", title="On the Road"), theme("noir", title="Noir")]
    films = [
        film("long-series", title="The Long Series", year=2020, runtime=1400, kind="docuseries", episodes=20,
             themes=["stage"], directors=["A"]),
        film("stage-1", year=1970, themes=["stage"], directors=["B"]),
        film("stage-2", year=1971, themes=["stage"], directors=["C"]),
        film("stage-3", year=1972, themes=["stage"], directors=["D"]),
        film("road-1", year=1980, themes=["road"], directors=["E"]),
        film("road-2", year=1981, themes=["road"], directors=["F"]),
        film("noir-1", year=1946, kind="fiction feature", themes=["noir"], directors=["G"]),
        film("noir-2", year=1947, kind="fiction feature", themes=["noir"], directors=["H"]),
    ]  # fmt: skip
    return write_catalog(folder, {"c.toml": to_toml(themes=themes, films=films)})


@pytest.fixture
async def cold_films(db: Database, tmp_path: Path) -> dict[str, Film]:
    await load_catalog(db, cold_catalog(tmp_path / "cold"))
    return {f.slug: f for f in await active_films(db)}


async def test_cold_start_with_nothing_to_go_on_spreads_films_over_themes_before_any_series(
    engine: Recommender, cold_films: dict[str, Film]
) -> None:
    result = await engine.for_member(GUILD, DAN, count=8)
    slugs = [p.film.slug for p in result.picks]
    assert slugs[:3] == ["stage-1", "road-1", "noir-1"]  # each theme's first film, biggest theme first
    assert slugs[-1] == "long-series"
    assert result.picks[0].reason == "a core film of Live on Stage · documentary · 100 min"
    assert result.note is not None and result.note.startswith("You haven't rated anything yet")
    assert "from across the catalog's themes, series last" in result.note
    tonight = await engine.tonight(GUILD, {ALICE: "Alice", BOB: "Bob"}, count=8)
    assert [p.film.slug for p in tonight.picks][:3] == ["stage-1", "road-1", "noir-1"]
    assert tonight.picks[-1].film.slug == "long-series"
    series = await engine.tonight(GUILD, {ALICE: "Alice", BOB: "Bob"}, kind="docuseries")
    assert [p.film.slug for p in series.picks] == ["long-series"]  # asked for: still offered
    mine = await engine.for_member(GUILD, DAN, kind="docuseries")
    assert [p.film.slug for p in mine.picks] == ["long-series"] and mine.heading == "For you (kind docuseries)"


async def test_cold_start_follows_my_watchlist_then_what_the_club_engages_with(
    db: Database, engine: Recommender, cold_films: dict[str, Film], clock: StepClock
) -> None:
    await watch.add_to_watchlist(db, clock, GUILD, BOB, cold_films["road-2"].id)
    await watch.mark_club_watched(db, clock, GUILD, cold_films["road-1"].id)
    club_led = await engine.for_member(GUILD, DAN, count=3)
    assert [p.film.slug for p in club_led.picks][:2] == ["road-1", "road-2"]  # a screening, then a watchlist
    assert "the club screened it" in club_led.picks[0].reason
    assert club_led.picks[1].reason == "On the Road, a theme the club is into · on 1 watchlist · documentary · 100 min"
    assert club_led.note is not None and "the club's best-known films and themes" in club_led.note

    await watch.add_to_watchlist(db, clock, GUILD, DAN, cold_films["noir-2"].id)
    mine = await engine.for_member(GUILD, DAN, count=3)
    assert [p.film.slug for p in mine.picks][:2] == ["noir-2", "noir-1"]
    assert mine.picks[0].reason.startswith("on your watchlist · Noir, like your watchlist")
    assert mine.note is not None and "the themes on your watchlist" in mine.note
    tonight = await engine.tonight(GUILD, {DAN: "Dan", CAROL: "Carol"}, count=2)
    top = {p.film.slug: p.reason for p in tonight.picks}
    assert set(top) == {"noir-2", "road-1"}  # the top of Dan's watchlist and of what the club engages with
    assert top["noir-2"].startswith("on the watchlist of Dan · Noir, a theme the club is into")
    assert (
        tonight.note
        == "None of you has rated anything yet, so these follow your watchlists and the club's best-known films."
    )


async def test_tonight_with_no_ratings_singles_nobody_out(engine: Recommender, films: dict[str, Film]) -> None:
    result = await engine.tonight(GUILD, {ALICE: "Alice", BOB: "Bob", CAROL: "Carol"}, count=5)
    for pick in result.picks:
        assert "most" not in pick.reason and "Alice" not in pick.reason and "%" not in pick.reason
    assert result.note is not None and result.note.startswith("None of you has rated anything yet, so these are films")


async def test_equal_matches_suit_everyone_equally(films: dict[str, Film]) -> None:
    paterson = films["paterson"]
    reason = _tonight_reason({"Bob": 0.5, "Alice": 0.5, "Carol": 0.5}, paterson)
    assert reason == "suits all 3 equally — match 50% each · fiction feature · 118 min"
    assert _tonight_reason({"Bob": 0.9, "Alice": 0.9, "Carol": 0.2}, paterson).startswith("suits Alice and Bob most")


async def test_tonight_pages_through_every_film_none_of_them_has_seen(
    engine: Recommender, films: dict[str, Film]
) -> None:
    group = {ALICE: "Alice", BOB: "Bob"}
    everything = await engine.tonight(GUILD, group, count=10)
    second = await engine.tonight(GUILD, group, count=5, page=1)
    assert second.page == 1 and second.total == everything.total == 14
    assert [p.film.id for p in second.picks] == [p.film.id for p in everything.picks[5:10]]


# -- /film, /theme, collections ---------------------------------------------------------------------------------------


async def test_film_facts_gather_the_clubs_view(
    db: Database, engine: Recommender, films: dict[str, Film], clock: StepClock
) -> None:
    waltz = films["last-waltz"]
    await rate(db, clock, ALICE, waltz, 4)
    await rate(db, clock, BOB, waltz, 5)
    await watch.add_to_watchlist(db, clock, GUILD, CAROL, waltz.id)
    mine = await collections.create_collection(db, clock, guild_id=GUILD, user_id=ALICE, name="Friday Night")
    await collections.add_film(db, clock, collection=mine, film_id=waltz.id, user_id=ALICE)
    facts = await engine.film_facts(GUILD, waltz)
    assert facts.theme_titles == ("Live on Stage", "On the Road")
    assert facts.collections == ("Friday Night",)
    assert (facts.average, facts.reviews, facts.watchlisted_by) == (4.5, 2, (CAROL,))
    elsewhere = await engine.film_facts(OTHER_GUILD, waltz)
    assert (elsewhere.average, elsewhere.collections, elsewhere.watchlisted_by) == (None, (), ())


async def test_theme_pages_list_core_films_first(engine: Recommender, films: dict[str, Film]) -> None:
    live = (await themes_by_slug(engine))["live"]
    first = await engine.theme_page(GUILD, live, 0)
    assert (first.pages, first.total) == (1, 6)
    assert first.lines[-1].startswith("**The Beatles: Get Back** (2021) · docuseries · 3 episodes · 468 min")
    listing = await engine.theme_list(GUILD)
    assert [t.title for t in listing.themes] == ["In the Studio", "Live on Stage", "On the Road", "Quiet Comedies"]


async def test_a_collection_is_a_theme_in_its_own_server_only(
    db: Database, engine: Recommender, films: dict[str, Film], clock: StepClock
) -> None:
    mine = await collections.create_collection(
        db, clock, guild_id=GUILD, user_id=ALICE, name="Dylan  Night", description="All things Bob."
    )
    assert mine.title == "Dylan Night"
    for slug in ("dont-look-back", "last-waltz"):
        assert await collections.add_film(db, clock, collection=mine, film_id=films[slug].id, user_id=ALICE)
    assert not await collections.add_film(
        db, clock, collection=(await collections.list_collections(db, GUILD))[0], film_id=films["last-waltz"].id,
        user_id=ALICE,
    )  # fmt: skip
    themes = await engine.themes(GUILD)
    dylan = next(t for t in themes if t.is_collection)
    assert (dylan.slug, dylan.title, dylan.film_count) == (f"@{mine.id}", "Dylan Night", 2)
    assert [t.title for t in await engine.search_themes(GUILD, "dylan")][:1] == ["Dylan Night"]
    assert (await engine.resolve_theme(GUILD, "dylan night")).slug == dylan.slug
    result = await engine.recommend(GUILD, dylan, count=5)
    assert [p.film.slug for p in result.picks] == ["dont-look-back", "last-waltz"]  # the moderators' order
    assert (await engine.theme_from_key(GUILD, theme_key(dylan))).title == "Dylan Night"
    with pytest.raises(NotFoundError):
        await engine.resolve_theme(OTHER_GUILD, "Dylan Night")
    assert not any(t.is_collection for t in await engine.themes(OTHER_GUILD))
    page = await engine.theme_page(GUILD, dylan)
    assert page.lines[0].startswith("**Dont Look Back** (1967)")
    assert await collections.remove_film(db, collection=mine, film_id=films["dont-look-back"].id)
    assert [p.film.slug for p in (await engine.recommend(GUILD, dylan)).picks] == ["last-waltz"]
    assert await collections.delete_collection(db, collection=mine)
    with pytest.raises(NotFoundError):
        await engine.resolve_theme(GUILD, "Dylan Night")
    with pytest.raises(NotFoundError, match="no longer exists"):
        await engine.theme_from_key(GUILD, dylan.slug)


async def test_tonights_group_is_remembered_for_its_page_buttons(engine: Recommender, films: dict[str, Film]) -> None:
    group = {BOB: "Bob", ALICE: "Alice"}
    group_id = await engine.remember_group(GUILD, group)
    assert await engine.remember_group(GUILD, {BOB: "Bob", ALICE: "Alice"}) == group_id  # asked again: the same row
    assert list((await engine.group(GUILD, group_id)).items()) == [(BOB, "Bob"), (ALICE, "Alice")]  # in order
    with pytest.raises(NotFoundError, match="Ask `/tonight` again"):
        await engine.group(OTHER_GUILD, group_id)
