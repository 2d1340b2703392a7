"""Reviews on a real database: half-star ratings, one review per member per film, deletions and moderator
removals, pages of a film's and a member's reviews, and the running totals the triggers keep."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import pytest

from bot.core import reviews, watch
from bot.core.catalog import load_catalog
from bot.core.errors import NotFoundError, PermissionDenied, UserError
from bot.core.films import Film, active_films
from bot.db.database import Database
from bot.ui.reviews import TakeDown
from tests.clocks import StepClock

GUILD = 1
ALICE, BOB, CAROL, MAYA = 11, 12, 13, 14


@pytest.fixture
async def films(db: Database, catalog_dir: Path) -> dict[str, Film]:
    await load_catalog(db, catalog_dir)
    return {film.slug: film for film in await active_films(db)}


@pytest.mark.parametrize(("stars", "stored"), [(0.5, 1), (1, 2), (3.5, 7), (5, 10), (5.0, 10)])
def test_half_stars_accepts_half_steps_from_half_a_star_to_five(stars: float, stored: int) -> None:
    assert reviews.half_stars(stars) == stored


@pytest.mark.parametrize("stars", [0, -0.5, 5.5, 6, 3.3, 4.25, 0.1, float("nan"), float("inf")])
def test_half_stars_refuses_anything_else(stars: float) -> None:
    with pytest.raises(UserError, match="half steps"):
        reviews.half_stars(stars)


async def test_reviewing_again_replaces_the_review_and_marks_it_edited(
    db: Database, films: dict[str, Film], clock: StepClock
) -> None:
    waltz = films["the-last-waltz"]
    first = await reviews.post_review(
        db, clock, guild_id=GUILD, user_id=ALICE, film_id=waltz.id, stars=4, body="  Robbie's film.  "
    )
    assert not first.replaced
    assert first.review.body == "Robbie's film."
    assert not first.review.edited
    second = await reviews.post_review(db, clock, guild_id=GUILD, user_id=ALICE, film_id=waltz.id, stars=4.5)
    assert second.replaced
    assert second.review.edited
    assert second.review.rating == 9
    assert second.review.body is None  # replaced, not merged
    assert second.review.created_at == first.review.created_at
    assert second.review.updated_at > first.review.updated_at
    assert await db.fetchval("SELECT count(*) FROM reviews") == 1


async def test_review_text_is_limited_and_blank_text_is_no_text(
    db: Database, films: dict[str, Film], clock: StepClock
) -> None:
    film_id = films["the-last-waltz"].id
    with pytest.raises(UserError, match="at most 2000 characters; yours has 2001"):
        await reviews.post_review(db, clock, guild_id=GUILD, user_id=ALICE, film_id=film_id, stars=3, body="x" * 2001)
    assert await db.fetchval("SELECT count(*) FROM reviews") == 0
    posted = await reviews.post_review(
        db, clock, guild_id=GUILD, user_id=ALICE, film_id=film_id, stars=3, body="   \n ", spoiler=True
    )
    assert posted.review.body is None
    assert not posted.review.spoiler  # a spoiler flag means nothing without text
    exactly = await reviews.post_review(
        db, clock, guild_id=GUILD, user_id=ALICE, film_id=film_id, stars=3, body="y" * 2000
    )
    assert exactly.review.body == "y" * 2000


async def test_control_characters_are_dropped_so_both_backends_store_the_review(
    db: Database, films: dict[str, Film], clock: StepClock
) -> None:
    """A NUL (which PostgreSQL refuses in text) or another invisible control character is not stored; lines stay."""
    film_id = films["the-last-waltz"].id
    posted = await reviews.post_review(
        db, clock, guild_id=GUILD, user_id=ALICE, film_id=film_id, stars=4, body="Robbie\x00 \x1b[31mand\nthe Band\x7f"
    )
    assert posted.review.body == "Robbie [31mand\nthe Band"
    assert await db.fetchval("SELECT body FROM reviews") == "Robbie [31mand\nthe Band"


async def test_a_bad_rating_writes_nothing(db: Database, films: dict[str, Film], clock: StepClock) -> None:
    with pytest.raises(UserError):
        await reviews.post_review(db, clock, guild_id=GUILD, user_id=ALICE, film_id=films["get-back"].id, stars=3.3)
    with pytest.raises(UserError):
        await reviews.rate(db, clock, guild_id=GUILD, user_id=ALICE, film_id=films["get-back"].id, stars=7)
    assert await db.fetchval("SELECT count(*) FROM reviews") == 0


async def test_reviewing_takes_the_film_off_the_watchlist(
    db: Database, films: dict[str, Film], clock: StepClock
) -> None:
    film_id = films["dont-look-back"].id
    await watch.add_to_watchlist(db, clock, GUILD, ALICE, film_id)
    posted = await reviews.post_review(db, clock, guild_id=GUILD, user_id=ALICE, film_id=film_id, stars=5)
    assert posted.unwatchlisted
    assert await watch.watchlist(db, GUILD, ALICE) == []
    again = await reviews.post_review(db, clock, guild_id=GUILD, user_id=ALICE, film_id=film_id, stars=4)
    assert not again.unwatchlisted


async def test_members_delete_their_own_reviews_without_a_record(
    db: Database, films: dict[str, Film], clock: StepClock
) -> None:
    film_id = films["the-last-waltz"].id
    await reviews.post_review(db, clock, guild_id=GUILD, user_id=ALICE, film_id=film_id, stars=2, body="meh")
    deleted = await reviews.delete_review(
        db, clock, guild_id=GUILD, film_id=film_id, author_id=ALICE, actor_id=ALICE, actor_is_moderator=False
    )
    assert deleted.review.body == "meh"
    assert await reviews.get_review(db, GUILD, ALICE, film_id) is None
    assert await reviews.removals(db, GUILD) == []
    with pytest.raises(NotFoundError, match="You have no review"):
        await reviews.delete_review(
            db, clock, guild_id=GUILD, film_id=film_id, author_id=ALICE, actor_id=ALICE, actor_is_moderator=False
        )


async def test_only_moderators_remove_someone_elses_review_and_the_removal_is_recorded(
    db: Database, films: dict[str, Film], clock: StepClock
) -> None:
    film_id = films["the-last-waltz"].id
    await reviews.post_review(
        db, clock, guild_id=GUILD, user_id=BOB, film_id=film_id, stars=1, body="@everyone buy my stuff", spoiler=True
    )
    with pytest.raises(PermissionDenied):
        await reviews.delete_review(
            db, clock, guild_id=GUILD, film_id=film_id, author_id=BOB, actor_id=ALICE, actor_is_moderator=False
        )
    assert await reviews.get_review(db, GUILD, BOB, film_id) is not None
    with pytest.raises(UserError, match="reason under 200"):
        await reviews.delete_review(
            db,
            clock,
            guild_id=GUILD,
            film_id=film_id,
            author_id=BOB,
            actor_id=MAYA,
            actor_is_moderator=True,
            reason="r" * 201,
        )
    await reviews.delete_review(
        db, clock, guild_id=GUILD, film_id=film_id, author_id=BOB, actor_id=MAYA, actor_is_moderator=True, reason="spam"
    )
    assert await reviews.get_review(db, GUILD, BOB, film_id) is None
    [removal] = await reviews.removals(db, GUILD)
    assert (removal.user_id, removal.film_id, removal.rating, removal.removed_by) == (BOB, film_id, 2, MAYA)
    assert (removal.body, removal.spoiler, removal.reason) == ("@everyone buy my stuff", True, "spam")
    with pytest.raises(NotFoundError, match="That member has no review"):
        await reviews.delete_review(
            db, clock, guild_id=GUILD, film_id=film_id, author_id=BOB, actor_id=MAYA, actor_is_moderator=True
        )


async def test_film_reviews_pages_newest_first_with_average_and_histogram(
    db: Database, films: dict[str, Film], clock: StepClock
) -> None:
    film_id = films["the-last-waltz"].id
    stars = [5, 4.5, 4.5, 3, 0.5, 5, 4, 2.5]
    for member, rating in enumerate(stars, start=100):
        await reviews.post_review(db, clock, guild_id=GUILD, user_id=member, film_id=film_id, stars=rating)
    await reviews.post_review(db, clock, guild_id=GUILD + 1, user_id=100, film_id=film_id, stars=1)  # other server

    first = await reviews.film_reviews(db, GUILD, film_id, page=0, per_page=3)
    assert (first.count, first.pages, first.page) == (8, 3, 0)
    assert first.average == sum(stars) / len(stars)
    assert first.histogram == (1, 0, 0, 0, 1, 1, 0, 1, 2, 2)
    assert [r.user_id for r in first.reviews] == [107, 106, 105]
    last = await reviews.film_reviews(db, GUILD, film_id, page=2, per_page=3)
    assert [r.user_id for r in last.reviews] == [101, 100]
    beyond = await reviews.film_reviews(db, GUILD, film_id, page=99, per_page=3)
    assert beyond.page == 2
    assert beyond.reviews == last.reviews
    negative = await reviews.film_reviews(db, GUILD, film_id, page=-4, per_page=3)
    assert negative.page == 0

    empty = await reviews.film_reviews(db, GUILD, films["get-back"].id)
    assert (empty.count, empty.average, empty.pages, empty.reviews) == (0, None, 1, ())
    assert empty.histogram == (0,) * 10


async def test_member_reviews_pages_newest_first(db: Database, films: dict[str, Film], clock: StepClock) -> None:
    for slug, rating in (("the-last-waltz", 5), ("dont-look-back", 3), ("get-back", 4)):
        await reviews.post_review(db, clock, guild_id=GUILD, user_id=CAROL, film_id=films[slug].id, stars=rating)
    page = await reviews.member_reviews(db, GUILD, CAROL, page=0, per_page=2)
    assert (page.count, page.pages, page.average) == (3, 2, 4.0)
    assert [r.film_id for r in page.reviews] == [films["get-back"].id, films["dont-look-back"].id]
    nobody = await reviews.member_reviews(db, GUILD, 999)
    assert (nobody.count, nobody.average, nobody.reviews) == (0, None, ())


async def test_running_totals_match_the_reviews_after_any_mix_of_writes(
    db: Database, films: dict[str, Film], clock: StepClock
) -> None:
    rng = random.Random(5)
    film_ids = [film.id for film in films.values()]
    for _ in range(300):
        guild, member, film_id = rng.choice([1, 2]), rng.randint(1, 8), rng.choice(film_ids)
        if rng.random() < 0.25:
            with contextlib.suppress(NotFoundError):
                await reviews.delete_review(
                    db,
                    clock,
                    guild_id=guild,
                    film_id=film_id,
                    author_id=member,
                    actor_id=member,
                    actor_is_moderator=False,
                )
        else:
            await reviews.post_review(
                db, clock, guild_id=guild, user_id=member, film_id=film_id, stars=rng.randint(1, 10) / 2
            )
    by_film = await db.fetchall(
        "SELECT guild_id, film_id, count(*), CAST(sum(rating) AS BIGINT) FROM reviews GROUP BY guild_id, film_id"
        " ORDER BY 1, 2"
    )
    totals = await db.fetchall("SELECT guild_id, film_id, reviews, half_stars FROM review_film_totals ORDER BY 1, 2")
    assert [tuple(r) for r in by_film] == [tuple(r) for r in totals]
    by_member = await db.fetchall(
        "SELECT guild_id, user_id, count(*), CAST(sum(rating) AS BIGINT) FROM reviews GROUP BY guild_id, user_id"
        " ORDER BY 1, 2"
    )
    member_totals = await db.fetchall(
        "SELECT guild_id, user_id, reviews, half_stars FROM review_member_totals ORDER BY 1, 2"
    )
    assert [tuple(r) for r in by_member] == [tuple(r) for r in member_totals]
    by_guild = await db.fetchall(
        "SELECT guild_id, count(DISTINCT film_id), count(DISTINCT user_id), count(*), CAST(sum(rating) AS BIGINT)"
        " FROM reviews"
        " GROUP BY guild_id ORDER BY 1"
    )
    guild_totals = await db.fetchall(
        "SELECT guild_id, films, members, reviews, half_stars FROM review_guild_totals WHERE reviews > 0 ORDER BY 1"
    )
    assert [tuple(r) for r in by_guild] == [tuple(r) for r in guild_totals]
    summary = await reviews.film_ratings(db, 1)
    for guild, film_id, count, total in by_film:
        if guild == 1:
            assert summary[film_id].count == count
            assert summary[film_id].average == total / 2 / count  # exact, on every backend


async def test_shared_helpers_keep_their_contract(db: Database, films: dict[str, Film], clock: StepClock) -> None:
    waltz, dylan = films["the-last-waltz"].id, films["dont-look-back"].id
    assert not await reviews.rate(db, clock, guild_id=GUILD, user_id=ALICE, film_id=waltz, stars=4.5)
    assert await reviews.rate(db, clock, guild_id=GUILD, user_id=ALICE, film_id=waltz, stars=4)
    await reviews.rate(db, clock, guild_id=GUILD, user_id=BOB, film_id=dylan, stars=2.5)
    assert await reviews.member_ratings(db, GUILD, ALICE) == {waltz: 4.0}
    assert sorted(await reviews.guild_ratings(db, GUILD)) == sorted([(ALICE, waltz, 4.0), (BOB, dylan, 2.5)])
    assert await watch.seen_by(db, GUILD, [ALICE, BOB]) == {ALICE: {waltz}, BOB: {dylan}}


async def test_a_deleted_review_hands_back_its_public_posts_and_forgets_them(
    db: Database, films: dict[str, Film], clock: StepClock
) -> None:
    film_id = films["the-last-waltz"].id
    await reviews.post_review(db, clock, guild_id=GUILD, user_id=BOB, film_id=film_id, stars=1, body="spam")
    for message_id in (501, 502):  # the first post, then the post of a replacement
        await reviews.record_post(
            db, guild_id=GUILD, user_id=BOB, film_id=film_id, channel_id=90, message_id=message_id
        )
    await reviews.record_post(db, guild_id=GUILD, user_id=CAROL, film_id=film_id, channel_id=90, message_id=503)
    deleted = await reviews.delete_review(
        db, clock, guild_id=GUILD, film_id=film_id, author_id=BOB, actor_id=MAYA, actor_is_moderator=True
    )
    assert deleted.posts == (reviews.ReviewPost(90, 501), reviews.ReviewPost(90, 502))
    assert await db.fetchval("SELECT count(*) FROM review_posts") == 0  # Carol has no review: nothing was kept


def test_whoever_deletes_a_review_is_told_what_became_of_its_posts() -> None:
    assert TakeDown(deleted=1).sentence() == "Its public post was deleted."
    assert TakeDown(deleted=2).sentence() == "Its 2 public posts were deleted."
    assert TakeDown(blanked=1).sentence() == "1 post could not be deleted, so it now says the review was removed."
    assert TakeDown(deleted=1, failed=(90, 90)).sentence() == (
        "Its public post was deleted. I couldn't take down its public post in <#90>; please delete it by hand."
    )
