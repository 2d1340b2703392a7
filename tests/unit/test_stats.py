"""Club statistics and member profiles on a real database: the top list by club rating, tie-breaks, most reviewed,
most active members, themes the club screened, favourite themes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bot.core import reviews, stats, watch
from bot.core.score import club_rating
from bot.db.database import Database
from tests.catalog_builder import film, load_films, theme
from tests.clocks import StepClock

GUILD = 7


@pytest.fixture
async def ids(db: Database, tmp_path: Path) -> dict[str, int]:
    themes = [theme("live-on-stage"), theme("on-the-road"), theme("studio-craft")]
    films = [
        film("alpha", title="Alpha", themes=["live-on-stage"]),
        film("bravo", title="Bravo", themes=["live-on-stage", "on-the-road"]),
        film("charlie", title="Charlie", themes=["on-the-road"]),
        film("delta", title="Delta", themes=["studio-craft"]),
        film("echo", title="Echo", themes=["studio-craft", "live-on-stage"]),
        film("foxtrot", title="Foxtrot", themes=["studio-craft"]),
    ]
    return await load_films(db, tmp_path / "cat", films, themes)


async def review(db: Database, clock: StepClock, member: int, film_id: int, stars: float) -> None:
    await reviews.post_review(db, clock, guild_id=GUILD, user_id=member, film_id=film_id, stars=stars)


async def test_one_five_star_review_does_not_top_the_chart(db: Database, ids: dict[str, int], clock: StepClock) -> None:
    await review(db, clock, 1, ids["alpha"], 5)  # one enthusiast
    for member, stars in enumerate([4.5, 4.5, 4, 5, 4.5, 4], start=10):  # six who agree Bravo is great
        await review(db, clock, member, ids["bravo"], stars)
    for member, stars in enumerate([2, 3, 2.5, 3], start=10):
        await review(db, clock, member, ids["charlie"], stars)
    result = await stats.club_stats(db, GUILD)
    assert [r.film.slug for r in result.top_rated][:2] == ["bravo", "alpha"]
    assert result.top_rated[0].average == 26.5 / 6  # exact: the same double on every backend
    assert result.top_rated[1].average == 5.0
    assert result.top_rated[1].score < result.top_rated[0].score
    assert (result.reviews, result.reviewers, result.films_reviewed) == (11, 7, 3)
    assert result.average == (5 + 26.5 + 10.5) / 11


async def test_one_good_review_does_not_top_three_in_a_generous_club(
    db: Database, ids: dict[str, int], clock: StepClock
) -> None:
    """The footer's promise in the case that broke it: in a club that rates generously (a mean above 4★), one 4.5★
    review used to outrank three reviews averaging 4.2★, because every film was pulled towards that high mean."""
    await review(db, clock, 1, ids["alpha"], 4.5)
    for member, stars in enumerate([4, 4, 4.5], start=10):
        await review(db, clock, member, ids["bravo"], stars)
    for member, stars in enumerate([5, 4.5, 4.5, 5], start=20):  # a generous club
        await review(db, clock, member, ids["charlie"], stars)
    result = await stats.club_stats(db, GUILD)
    assert result.average is not None and result.average > 4
    assert [(r.film.slug, r.reviews, round(r.average, 1)) for r in result.top_rated] == [
        ("charlie", 4, 4.8),
        ("bravo", 3, 4.2),
        ("alpha", 1, 4.5),
    ]


async def test_the_sql_order_is_the_club_rating(db: Database, ids: dict[str, int], clock: StepClock) -> None:
    """Top rated is read in SQL; its order must be exactly the order of bot.core.score.club_rating."""
    rng = random.Random(11)
    for film_id in ids.values():
        for member in range(rng.randint(1, 7)):
            await review(db, clock, member, film_id, rng.randint(1, 10) / 2)
    result = await stats.club_stats(db, GUILD, limit=len(ids))
    expected = sorted(
        result.top_rated, key=lambda r: (-club_rating(r.average * r.reviews, r.reviews), -r.reviews, r.film.title)
    )
    assert [r.film.slug for r in result.top_rated] == [r.film.slug for r in expected]
    assert len(result.top_rated) == len(ids)


async def test_ties_go_to_more_reviews_then_to_the_title(db: Database, ids: dict[str, int], clock: StepClock) -> None:
    for slug in ("foxtrot", "delta", "echo"):  # the same single 4-star review each
        await review(db, clock, 1, ids[slug], 4)
    result = await stats.club_stats(db, GUILD, limit=2)
    assert [r.film.slug for r in result.top_rated] == ["delta", "echo"]
    assert [r.film.slug for r in result.most_reviewed] == ["delta", "echo"]


async def test_most_reviewed_and_most_active(db: Database, ids: dict[str, int], clock: StepClock) -> None:
    for member in (1, 2, 3):
        await review(db, clock, member, ids["charlie"], 2)
    for member in (1, 2):
        await review(db, clock, member, ids["alpha"], 3)
    await review(db, clock, 1, ids["delta"], 5)
    result = await stats.club_stats(db, GUILD)
    assert [(r.film.slug, r.reviews) for r in result.most_reviewed] == [("charlie", 3), ("alpha", 2), ("delta", 1)]
    assert [(m.user_id, m.reviews) for m in result.most_active] == [(1, 3), (2, 2), (3, 1)]
    assert result.most_active[0].average == 10 / 3


async def test_themes_the_club_screened(db: Database, ids: dict[str, int], clock: StepClock) -> None:
    for slug in ("alpha", "bravo", "echo", "delta"):
        await watch.mark_club_watched(db, clock, GUILD, ids[slug], source="screening")
    result = await stats.club_stats(db, GUILD)
    assert [(t.title, t.films) for t in result.themes_watched] == [
        ("Live On Stage", 3),
        ("Studio Craft", 2),
        ("On The Road", 1),
    ]
    assert result.screenings == 4


async def test_an_empty_club(db: Database, ids: dict[str, int]) -> None:
    result = await stats.club_stats(db, GUILD)
    assert result.reviews == 0
    assert result.average is None
    assert result.top_rated == result.most_reviewed == result.most_active == result.themes_watched == ()


async def test_a_profile_counts_reviews_favourite_themes_recent_and_watchlist(
    db: Database, ids: dict[str, int], clock: StepClock
) -> None:
    member = 42
    await review(db, clock, member, ids["delta"], 5)
    await review(db, clock, member, ids["foxtrot"], 4.5)
    await review(db, clock, member, ids["alpha"], 2)
    await review(db, clock, member, ids["charlie"], 3)
    await watch.add_to_watchlist(db, clock, GUILD, member, ids["bravo"])
    await watch.mark_watched(db, clock, GUILD, member, ids["echo"])
    profile = await stats.member_profile(db, GUILD, member)
    assert profile.reviews == 4
    assert profile.average == 14.5 / 4
    assert [t.slug for t in profile.favourite_themes] == ["studio-craft", "on-the-road", "live-on-stage"]
    assert profile.favourite_themes[0].films == 2
    assert profile.favourite_themes[0].average == pytest.approx(4.75)
    assert [r.film_id for r in profile.recent] == [ids["charlie"], ids["alpha"], ids["foxtrot"], ids["delta"]]
    assert (profile.watchlist, profile.seen) == (1, 5)

    stranger = await stats.member_profile(db, GUILD, 999)
    assert (stranger.reviews, stranger.average, stranger.favourite_themes, stranger.recent) == (0, None, (), ())


async def test_themes_screened_as_often_rank_by_title_in_code_point_order(
    db: Database, tmp_path: Path, clock: StepClock
) -> None:
    """Ranked in Python, not by the database's collation: a linguistic one (PostgreSQL's en_US) would put "on the
    road" first, ignoring case; every backend must give SQLite's order."""
    themes = [theme("on-the-road", title="on the road"), theme("studio-craft", title="Studio Craft")]
    films = [film("alpha", themes=["on-the-road"]), film("bravo", themes=["studio-craft"])]
    ids = await load_films(db, tmp_path / "cat", films, themes)
    for film_id in ids.values():
        await watch.mark_club_watched(db, clock, GUILD, film_id, source="screening")
    result = await stats.club_stats(db, GUILD)
    assert [(t.title, t.films) for t in result.themes_watched] == [("Studio Craft", 1), ("on the road", 1)]
