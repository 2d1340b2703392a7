"""The one club rating (bot.core.score): its formula, the promise /club stats makes with it, and that
recommendations, weekly picks and /club stats all rank by it."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from bot.core import picks, reviews, stats
from bot.core.recommend import Recommender
from bot.core.reviews import RatingSummary
from bot.core.score import PRIOR_HALF_STARS, PRIOR_REVIEWS, PRIOR_STARS, RANKING_NOTE, club_rating, shrunk_average
from bot.db.database import Database
from tests.catalog_builder import film, load_films, theme
from tests.clocks import StepClock

GUILD = 5


def test_the_club_rating_is_a_shrunk_average() -> None:
    assert club_rating(0.0, 0.0) == PRIOR_STARS  # nobody rated it: an ordinary film
    assert club_rating(5.0, 1.0) == pytest.approx((PRIOR_REVIEWS * PRIOR_STARS + 5) / (PRIOR_REVIEWS + 1))
    assert club_rating(450.0, 100.0) == pytest.approx(4.5, abs=0.05)  # many reviews: nearly their own average
    assert shrunk_average(9.0, 2.0, 4.0, 2) == pytest.approx(4.25)
    arrays = club_rating(np.array([0.0, 5.0]), np.array([0.0, 1.0]))
    assert arrays.tolist() == [club_rating(0.0, 0.0), club_rating(5.0, 1.0)]
    assert PRIOR_HALF_STARS == 2 * PRIOR_STARS * PRIOR_REVIEWS


def test_the_footers_promise_holds_for_every_single_review() -> None:
    """RANKING_NOTE says one review, even 5★, never outranks a film whose three or more reviews average 4★ or
    more: check it for every single rating against every such film up to 30 reviews (ties go to more reviews)."""
    assert "never outranks a film whose three or more reviews average 4★ or more" in RANKING_NOTE
    for single in range(1, 11):
        alone = club_rating(single / 2, 1.0)
        for count in range(3, 31):
            for half_stars in range(8 * count, 10 * count + 1):  # averages from 4★ to 5★
                assert club_rating(half_stars / 2, float(count)) >= alone


@pytest.fixture
async def films(db: Database, tmp_path: Path) -> dict[str, int]:
    themes = [theme("live", title="Live on Stage")]
    catalog = [film(slug, title=slug.title(), themes=["live"]) for slug in ("one-rave", "three-good", "loved")]
    return await load_films(db, tmp_path / "cat", catalog, themes)


async def test_every_ranking_puts_three_good_reviews_above_one_rave(
    db: Database, films: dict[str, int], clock: StepClock
) -> None:
    """In a generous club, the club stats chart, /recommend and the weekly picks all rank a film with three reviews
    averaging 4.2★ above one with a single 4.5★ review (recommendations used to shrink towards the club's mean, and
    so ranked the single review first)."""
    given = {"one-rave": [4.5], "three-good": [4, 4, 4.5], "loved": [5, 4.5, 5, 4.5]}
    for slug, ratings in given.items():
        for member, stars in enumerate(ratings, start=1):
            await reviews.post_review(db, clock, guild_id=GUILD, user_id=member, film_id=films[slug], stars=stars)

    top = (await stats.club_stats(db, GUILD)).top_rated
    assert [r.film.slug for r in top] == ["loved", "three-good", "one-rave"]

    engine = Recommender(db, rng=random.Random(1))
    live = next(t for t in await engine.themes(GUILD) if t.slug == "live")
    recommended = await engine.recommend(GUILD, live, count=3)
    assert [p.film.slug for p in recommended.picks] == ["loved", "three-good", "one-rave"]

    summaries = await reviews.film_ratings(db, GUILD)
    weekly = sorted(films, key=lambda slug: -picks.score(summaries[films[slug]], 0))
    assert weekly == ["loved", "three-good", "one-rave"]
    assert picks.score(RatingSummary(0, 5.0, 1), 0) == club_rating(5.0, 1.0)
