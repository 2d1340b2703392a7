"""Weekly picks on a real database: theme rotation, the no-repeat rules, ranking, and exactly one post per week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core import collections, config, picks, schedule
from bot.core.catalog import load_catalog
from bot.core.errors import UserError
from bot.core.guilds import get_settings
from bot.core.reviews import rate
from bot.core.shards import ShardSet
from bot.core.timers import TimerService
from bot.core.watch import add_to_watchlist, mark_club_watched
from bot.db.database import Database
from tests.catalog_builder import film, theme, to_toml, write_catalog
from tests.clocks import FixedClock
from tests.db_failures import REFUSED, refusing

GUILD, MAYA, CHANNEL = 10, 21, 500
# Friday 6 March 2026, 12:00 UTC; the picks slot is Fridays 20:00 in London (GMT until 29 March).
START = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
SLOT = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)
GRACE = timedelta(hours=24)


@pytest.fixture
def clock() -> FixedClock:
    """Time stands still at ``START`` until a test moves it to the slot, or past it."""
    return FixedClock(START)


def catalog(folder: Path) -> Path:
    films = [film(f"alpha-{n}", themes=["alpha"]) for n in range(1, 7)]
    films += [film(f"beta-{n}", themes=["beta"]) for n in range(1, 5)]
    films += [film(f"gamma-{n}", themes=["gamma"]) for n in range(1, 3)]
    return write_catalog(
        folder,
        {
            "themes.toml": to_toml(themes=[theme("alpha"), theme("beta"), theme("gamma")]),
            "films.toml": to_toml(films=films),
        },
    )


@pytest.fixture
async def ids(db: Database, tmp_path: Path) -> dict[str, int]:
    await load_catalog(db, catalog(tmp_path / "catalog"))
    return {row["slug"]: row["id"] for row in await db.fetchall("SELECT id, slug FROM films")}


async def configure(db: Database, clock: FixedClock, timers: TimerService, **values: object) -> None:
    """Weekly picks in #picks on Fridays at 20:00 London time, with ``values`` for the other settings."""
    await config.set_channel(db, clock, timers, GUILD, MAYA, config.ChannelKind.PICKS, CHANNEL)
    await config.set_timezone(db, clock, timers, GUILD, MAYA, "Europe/London")
    await config.set_picks(db, clock, timers, GUILD, MAYA, day=4, at="20:00", **values)  # type: ignore[arg-type]


async def post_week(db: Database, clock: FixedClock, week: str) -> picks.Picks:
    """Choose, claim and mark posted, as the weekly timer and the cog do."""
    chosen = await picks.choose(db, await get_settings(db, GUILD), week)
    assert chosen is not None
    post = await picks.claim(db, clock, chosen, trigger="schedule", channel_id=CHANNEL)
    assert post is not None
    await picks.mark_posted(db, clock, post.id, 9000 + post.id)
    return chosen


def slugs(chosen: picks.Picks, ids: dict[str, int]) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id[film_id] for film_id in chosen.film_ids]


# -- choosing -------------------------------------------------------------------------------------------------------


async def test_themes_rotate_in_order_and_wrap(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers, count=2)
    themes = [(await post_week(db, clock, f"2026-W{10 + n}")).theme.slug for n in range(4)]
    assert themes == ["alpha", "beta", "gamma", "alpha"]


async def test_a_configured_rotation_is_followed_in_its_order(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers, count=2, themes="gamma, alpha")
    themes = [(await post_week(db, clock, f"2026-W{10 + n}")).theme.slug for n in range(3)]
    # gamma's two films were both picked two weeks before, so its third turn passes to alpha.
    assert themes == ["gamma", "alpha", "alpha"]


async def make_collection(db: Database, clock: FixedClock, ids: dict[str, int], name: str, *films: str) -> str:
    made = await collections.create_collection(db, clock, guild_id=GUILD, user_id=MAYA, name=name)
    for slug in films:
        await collections.add_film(db, clock, collection=made, film_id=ids[slug], user_id=MAYA)
    return made.theme_slug


async def test_a_servers_collection_takes_its_turn_in_the_rotation(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    noir = await make_collection(db, clock, ids, "Friday Noir", "beta-1", "gamma-2", "alpha-6")
    await configure(db, clock, timers, count=2, themes="friday noir, gamma")
    assert (await get_settings(db, GUILD)).picks_themes == (noir, "gamma")
    first = await post_week(db, clock, "2026-W10")
    assert (first.theme.slug, first.theme.title) == (noir, "Friday Noir")
    assert set(slugs(first, ids)) < {"beta-1", "gamma-2", "alpha-6"}
    assert (await post_week(db, clock, "2026-W11")).theme.slug == "gamma"


async def test_a_deleted_collection_is_skipped_by_the_rotation_with_a_log_line(
    db: Database, ids: dict[str, int], caplog: pytest.LogCaptureFixture, clock: FixedClock, timers: TimerService
) -> None:
    noir = await make_collection(db, clock, ids, "Friday Noir", "beta-1", "gamma-2")
    await configure(db, clock, timers, count=2, themes=f"{noir}, gamma")
    [gone] = await collections.list_collections(db, GUILD)
    await collections.delete_collection(db, collection=gone)
    assert (await post_week(db, clock, "2026-W10")).theme.slug == "gamma"
    assert f"weekly picks of guild {GUILD} skip {noir}: no longer a theme or collection" in caplog.text
    # With nothing listed left, the picks go on through every theme rather than stop.
    await config.set_picks(db, clock, timers, GUILD, MAYA, themes="gamma")
    await db.execute("UPDATE guild_settings SET picks_themes = ?", (f'["{noir}"]',))  # as if gamma were retired
    assert (await post_week(db, clock, "2026-W11")).theme.slug == "alpha"
    assert "none of the listed ones is left, so every theme is used" in caplog.text


async def test_no_film_repeats_within_twelve_weeks_and_may_return_after(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers, count=2, themes="gamma")
    first = await post_week(db, clock, "2026-W10")
    assert sorted(slugs(first, ids)) == ["gamma-1", "gamma-2"]
    settings = await get_settings(db, GUILD)
    for week in ("2026-W11", "2026-W16", "2026-W22"):  # 1, 6 and 12 weeks later: both films are still recent
        assert await picks.choose(db, settings, week) is None
    again = await picks.choose(db, settings, "2026-W23")  # 13 weeks later
    assert again is not None and sorted(slugs(again, ids)) == ["gamma-1", "gamma-2"]


async def test_a_theme_without_enough_fresh_films_is_passed_over(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers, count=3)
    assert (await post_week(db, clock, "2026-W10")).theme.slug == "alpha"
    # beta has 4 films, gamma only 2: after beta comes alpha again, since gamma cannot fill 3 places.
    assert (await post_week(db, clock, "2026-W11")).theme.slug == "beta"
    third = await post_week(db, clock, "2026-W12")
    assert third.theme.slug == "alpha"
    assert len(third.picks) == 3
    assert not set(third.film_ids) & set((await picks.history(db, GUILD))[-1].film_ids)


async def test_films_the_club_watched_are_never_picked(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers, count=2, themes="gamma")
    await mark_club_watched(db, clock, GUILD, ids["gamma-1"])
    chosen = await picks.choose(db, await get_settings(db, GUILD), "2026-W10")
    assert chosen is not None
    assert slugs(chosen, ids) == ["gamma-2"]  # fewer than asked: the only eligible film


async def test_well_rated_and_watchlisted_films_come_first_with_their_reasons(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers, count=3, themes="alpha")
    for member in (1, 2, 3):
        await rate(db, clock, guild_id=GUILD, user_id=member, film_id=ids["alpha-5"], stars=5)
    await rate(db, clock, guild_id=GUILD, user_id=1, film_id=ids["alpha-1"], stars=0.5)
    for member in (1, 2):
        await add_to_watchlist(db, clock, GUILD, member, ids["alpha-3"])
    chosen = await picks.choose(db, await get_settings(db, GUILD), "2026-W10")
    assert chosen is not None
    assert slugs(chosen, ids)[:2] == ["alpha-5", "alpha-3"]
    assert "alpha-1" not in slugs(chosen, ids)  # the poorly rated one sinks below the unrated ones
    reasons = [pick.reason for pick in chosen.picks]
    assert reasons[0] == "Rated 5.0★ by 3 members."
    assert reasons[1] == "On 2 watchlists."
    assert reasons[2] == "Fresh for the club: nobody here has rated it yet."
    assert chosen.picks[0].prompts == ("What did you make of the ending?", "Which scene stayed with you the most?")


async def test_choosing_is_deterministic_for_a_week_and_varies_between_weeks(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers, count=3, themes="alpha")
    settings = await get_settings(db, GUILD)
    week = await picks.choose(db, settings, "2026-W10")
    assert week is not None
    assert week == await picks.choose(db, settings, "2026-W10")
    orders = set()
    for n in range(10, 20):
        other = await picks.choose(db, settings, f"2026-W{n}")
        assert other is not None
        orders.add(tuple(other.film_ids))
    assert len(orders) > 1


# -- claims and the weekly slot ---------------------------------------------------------------------------------------


async def test_a_week_can_be_claimed_only_once_and_released(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers, count=2)
    chosen = await picks.choose(db, await get_settings(db, GUILD), "2026-W10")
    assert chosen is not None
    post = await picks.claim(db, clock, chosen, trigger="schedule", channel_id=CHANNEL)
    assert post is not None and post.film_ids == tuple(chosen.film_ids)
    assert await picks.claim(db, clock, chosen, trigger="now", channel_id=CHANNEL) is None
    await picks.release(db, post.id)
    assert await picks.claimed_post(db, GUILD, "2026-W10") is None
    assert await db.fetchval("SELECT count(*) FROM picks_post_films") == 0
    assert await picks.claim(db, clock, chosen, trigger="now", channel_id=CHANNEL) is not None


async def test_the_slot_posts_once_then_does_nothing_and_schedules_the_next(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers, count=2)
    assert await picks.reschedule(db, clock, timers, GUILD) == SLOT
    assert await timers.pending(picks.TIMER_KIND, f"{GUILD}:2026-W10") is not None

    clock.moment = SLOT + timedelta(seconds=1)
    decision = await picks.begin_slot(db, clock, timers, GUILD, SLOT, GRACE)
    assert decision.outcome is picks.SlotOutcome.POST
    assert decision.post is not None and decision.post.trigger == "schedule"
    next_week = await timers.pending(picks.TIMER_KIND, f"{GUILD}:2026-W11")
    assert next_week is not None and next_week.due_at == SLOT + timedelta(days=7)
    assert await picks.scheduled_slot(db, GUILD) == SLOT + timedelta(days=7)

    # The handler crashed before the post was recorded: the same claim is resumed, with the same films.
    again = await picks.begin_slot(db, clock, timers, GUILD, SLOT, GRACE)
    assert again.outcome is picks.SlotOutcome.RESUME
    assert again.post is not None and again.post.id == decision.post.id
    assert again.picks is not None and again.picks.film_ids == list(decision.post.film_ids)

    await picks.mark_posted(db, clock, decision.post.id, 777)
    done = await picks.begin_slot(db, clock, timers, GUILD, SLOT, GRACE)
    assert done.outcome is picks.SlotOutcome.DONE
    assert await db.fetchval("SELECT count(*) FROM picks_posts") == 1
    assert await picks.latest_picks(db, GUILD) == list(decision.post.film_ids)


async def test_a_slot_missed_while_down_is_caught_up_within_the_grace_window(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers, count=2)
    clock.moment = SLOT + timedelta(hours=5)
    decision = await picks.begin_slot(db, clock, timers, GUILD, SLOT, GRACE)
    assert decision.outcome is picks.SlotOutcome.POST
    assert decision.post is not None and decision.post.trigger == "catch-up"


async def test_a_slot_missed_beyond_the_grace_window_is_skipped(
    db: Database, ids: dict[str, int], caplog: pytest.LogCaptureFixture, clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers, count=2)
    clock.moment = SLOT + timedelta(hours=25)
    decision = await picks.begin_slot(db, clock, timers, GUILD, SLOT, GRACE)
    assert decision.outcome is picks.SlotOutcome.LATE
    assert "the slot was 25.0 hours ago, past the 24-hour grace window" in caplog.text
    assert await picks.claimed_post(db, GUILD, "2026-W10") is None
    assert await timers.pending(picks.TIMER_KIND, f"{GUILD}:2026-W11") is not None


async def posted_now(db: Database, clock: FixedClock, timers: TimerService) -> tuple[picks.PicksPost, picks.Picks]:
    """Maya's /picks now on the Friday schedule, before the slot, and its post sent: this week is taken care of."""
    await configure(db, clock, timers, count=2)
    await picks.reschedule(db, clock, timers, GUILD)
    post, chosen = await picks.claim_now(db, clock, GUILD, MAYA)
    await picks.mark_posted(db, clock, post.id, 42)
    return post, chosen


async def test_picks_now_counts_as_this_weeks_post(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    post, chosen = await posted_now(db, clock, timers)
    assert (post.week_key, post.trigger, post.requested_by) == ("2026-W10", "now", MAYA)
    with pytest.raises(UserError, match="already taken care of"):
        await picks.claim_now(db, clock, GUILD, MAYA)
    clock.moment = SLOT
    assert (await picks.begin_slot(db, clock, timers, GUILD, SLOT, GRACE)).outcome is picks.SlotOutcome.DONE
    # A schedule change now skips the claimed week: the next slot is next Friday.
    assert await picks.reschedule(db, FixedClock(START), timers, GUILD) == SLOT + timedelta(days=7)
    assert chosen.film_ids == await picks.latest_picks(db, GUILD)


async def test_picks_now_needs_a_channel(db: Database, ids: dict[str, int], clock: FixedClock) -> None:
    with pytest.raises(UserError, match="Set a picks channel first"):
        await picks.claim_now(db, clock, GUILD, MAYA)


async def test_timers_of_an_old_schedule_or_a_switched_off_one_do_nothing(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers, count=2)
    clock.moment = SLOT
    stale = await picks.begin_slot(db, clock, timers, GUILD, SLOT - timedelta(hours=1), GRACE)
    assert stale.outcome is picks.SlotOutcome.STALE
    await config.set_picks(db, clock, timers, GUILD, MAYA, enabled=False)
    assert (await picks.begin_slot(db, clock, timers, GUILD, SLOT, GRACE)).outcome is picks.SlotOutcome.OFF
    assert await picks.reschedule(db, clock, timers, GUILD) is None
    assert await picks.scheduled_slot(db, GUILD) is None


async def test_a_slot_whose_schedule_changed_without_a_re_plan_re_plans_it(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers, count=2)
    # The time was changed, and the bot died before the change's re-plan: the old slot's timer is still pending.
    await db.execute("UPDATE guild_settings SET picks_time = '21:00' WHERE guild_id = ?", (GUILD,))
    clock.moment = SLOT
    assert (await picks.begin_slot(db, clock, timers, GUILD, SLOT, GRACE)).outcome is picks.SlotOutcome.STALE
    assert await picks.scheduled_slot(db, GUILD) == SLOT + timedelta(hours=1)
    pending = await timers.pending(picks.TIMER_KIND, f"{GUILD}:2026-W10")
    assert pending is not None and pending.due_at == SLOT + timedelta(hours=1)


async def test_rescheduling_moves_the_pending_timer(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers, count=2)
    await picks.reschedule(db, clock, timers, GUILD)
    await config.set_picks(db, clock, timers, GUILD, MAYA, day=0, at="08:30")  # Mondays 08:30 London
    monday = await picks.reschedule(db, clock, timers, GUILD)
    assert monday == datetime(2026, 3, 9, 8, 30, tzinfo=UTC)
    assert await timers.pending(picks.TIMER_KIND, f"{GUILD}:2026-W10") is None
    assert await timers.pending(picks.TIMER_KIND, f"{GUILD}:2026-W11") is not None


async def test_start_up_arms_missing_timers_and_catches_up_within_grace(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers, count=2)
    await db.execute("DELETE FROM timers")  # saved, but no timer any more (as after a restore)
    clock.moment = SLOT + timedelta(hours=2)  # the bot comes up two hours after the slot
    assert await picks.ensure_scheduled(db, clock, timers, ShardSet.every(), GRACE) == 1
    pending = await timers.pending(picks.TIMER_KIND, f"{GUILD}:2026-W10")
    assert pending is not None and pending.due_at == SLOT  # overdue: it runs at once and catches up
    assert await picks.ensure_scheduled(db, clock, timers, ShardSet.every(), GRACE) == 0  # idempotent
    await timers.cancel(picks.TIMER_KIND, f"{GUILD}:2026-W10")  # the slot's timer ended without running
    assert await picks.ensure_scheduled(db, clock, timers, ShardSet.every(), GRACE) == 1


async def test_preview_shows_what_the_slot_will_post(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers, count=3)
    await picks.reschedule(db, clock, timers, GUILD)
    preview, slot = await picks.preview(db, clock, GUILD)
    assert slot == SLOT
    clock.moment = SLOT
    decision = await picks.begin_slot(db, clock, timers, GUILD, SLOT, GRACE)
    assert preview is not None and decision.picks == preview


async def test_the_schedule_follows_the_servers_clock_across_daylight_saving(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    clock.moment = datetime(2026, 3, 27, 21, 0, tzinfo=UTC)  # after Friday 27 March's slot (GMT)
    await configure(db, clock, timers, count=2)
    slot = await picks.reschedule(db, clock, timers, GUILD)
    assert slot == datetime(2026, 4, 3, 19, 0, tzinfo=UTC)  # 20:00 BST
    assert schedule.week_key(slot, schedule.zone("Europe/London")) == "2026-W14"


async def test_a_claim_that_was_never_posted_stops_blocking_the_week_after_a_while(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers, count=2)
    clock.moment = SLOT
    decision = await picks.begin_slot(db, clock, timers, GUILD, SLOT, GRACE)
    assert decision.outcome is picks.SlotOutcome.POST and decision.post is not None
    # Posting failed and the timer is still retrying: the week is taken.
    with pytest.raises(UserError, match="already taken care of"):
        await picks.claim_now(db, clock, GUILD, MAYA)
    # Its retries are long over (or a schedule change cancelled them): /picks now replaces the dead claim.
    clock.moment = SLOT + picks.STALE_CLAIM + timedelta(seconds=1)
    post, _chosen = await picks.claim_now(db, clock, GUILD, MAYA)
    assert (post.trigger, post.requested_by, post.claimed_at) == ("now", MAYA, clock.moment)
    assert [p.trigger for p in await picks.history(db, GUILD)] == ["now"]  # the dead claim is gone


# -- the watch-party poll, exactly once -------------------------------------------------------------------------------


async def posted_with_poll(
    db: Database, clock: FixedClock, timers: TimerService
) -> tuple[picks.PicksPost, picks.Picks]:
    """This week's picks, claimed and posted by the slot, with the watch-party poll asked for."""
    await configure(db, clock, timers, count=3, poll=True)
    clock.moment = SLOT
    decision = await picks.begin_slot(db, clock, timers, GUILD, SLOT, GRACE)
    assert decision.post is not None and decision.picks is not None
    await picks.mark_posted(db, clock, decision.post.id, 777)
    return decision.post, decision.picks


async def open_poll_crashing(
    db: Database, clock: FixedClock, timers: TimerService, post: picks.PicksPost, chosen: picks.Picks, *, at: str
) -> None:
    """Open the week's poll with the database failing ``at`` one point (``<event> ON <table>``): where a crash
    would stop the bot half-way."""
    async with refusing(db, at, message="crash"):
        with pytest.raises(REFUSED, match="crash"):
            await picks.open_watch_party_poll(db, clock, timers, post, chosen, creator_id=1)


async def test_a_crash_right_after_the_poll_is_stored_and_the_retry_open_exactly_one_poll(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    post, chosen = await posted_with_poll(db, clock, timers)
    # The poll row is stored; recording its id on the post fails.
    await open_poll_crashing(db, clock, timers, post, chosen, at="UPDATE OF poll_id ON picks_posts")

    # The slot's timer runs again: the week is posted, its poll is what is left to do.
    retry = await picks.begin_slot(db, clock, timers, GUILD, SLOT, GRACE)
    assert retry.outcome is picks.SlotOutcome.FINISH and retry.post is not None and retry.picks is not None
    assert retry.picks.film_ids == chosen.film_ids
    poll_id = await picks.open_watch_party_poll(db, clock, timers, retry.post, retry.picks, creator_id=1)
    assert poll_id is not None
    assert (await picks.begin_slot(db, clock, timers, GUILD, SLOT, GRACE)).outcome is picks.SlotOutcome.DONE
    assert await db.fetchval("SELECT count(*) FROM polls") == 1
    assert await db.fetchval("SELECT poll_id FROM picks_posts") == poll_id
    # Asking again (the slot's timer runs once more after a restart) opens nothing new.
    assert await picks.open_watch_party_poll(db, clock, timers, post, chosen, creator_id=1) == poll_id
    assert await db.fetchval("SELECT count(*) FROM polls") == 1


async def test_a_crash_after_the_poll_is_opened_is_retried_with_the_same_poll_and_its_timers(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    post, chosen = await posted_with_poll(db, clock, timers)
    # The poll and its record are stored; arming its publish timer (the next step) fails.
    await open_poll_crashing(db, clock, timers, post, chosen, at="INSERT ON timers")

    poll_id = await picks.open_watch_party_poll(db, clock, timers, post, chosen, creator_id=1)
    assert await db.fetchval("SELECT count(*) FROM polls") == 1
    assert await db.fetchval("SELECT poll_id FROM picks_posts") == poll_id
    assert await timers.pending("polls.publish", str(poll_id)) is not None  # it will still be posted
    assert await timers.pending("polls.close", str(poll_id)) is not None


async def test_the_poll_is_opened_only_for_a_post_that_asked_for_one(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers, count=3)  # no poll
    clock.moment = SLOT
    decision = await picks.begin_slot(db, clock, timers, GUILD, SLOT, GRACE)
    assert decision.post is not None and decision.picks is not None
    await picks.mark_posted(db, clock, decision.post.id, 777)
    await config.set_picks(db, clock, timers, GUILD, MAYA, poll=True)  # switched on after the week was posted
    assert await picks.open_watch_party_poll(db, clock, timers, decision.post, decision.picks, creator_id=1) is None
    assert await db.fetchval("SELECT count(*) FROM polls") == 0


async def test_after_picks_now_the_preview_and_the_next_post_are_next_weeks(
    db: Database, ids: dict[str, int], clock: FixedClock, timers: TimerService
) -> None:
    _post, chosen = await posted_now(db, clock, timers)

    next_week = SLOT + timedelta(days=7)
    preview, slot = await picks.preview(db, clock, GUILD)
    assert slot == next_week  # this Friday's slot posts nothing
    assert preview is not None and preview.week_key == "2026-W11"
    assert not set(preview.film_ids) & set(chosen.film_ids)
    assert await picks.next_post_slot(db, clock, await get_settings(db, GUILD)) == next_week  # what /config show says

    clock.moment = SLOT  # this week's slot does nothing; next week's posts exactly what was previewed
    assert (await picks.begin_slot(db, clock, timers, GUILD, SLOT, GRACE)).outcome is picks.SlotOutcome.DONE
    clock.moment = next_week
    decision = await picks.begin_slot(db, clock, timers, GUILD, next_week, GRACE)
    assert decision.outcome is picks.SlotOutcome.POST and decision.picks == preview
