"""Letterboxd, live (bot.core.letterboxd_follow), on both backends: linking and its rules, each feed entry handled
exactly once by its guid, an edited review updating the imported one, a deleted one left alone, films matched by TMDb
id before title and year (unmatched ones becoming the server's own), the opt-ins, the first check not posting the
past, conditional reads, and a failing feed read less often and its member told once.

The feed is a scripted :class:`FeedReader` (the service's interface; the service itself is tested against the
loopback feed server in test_letterboxd_feed and end to end in tests/e2e/test_letterboxd_live.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core import config, reviews
from bot.core import letterboxd_follow as follow
from bot.core.clock import to_db
from bot.core.errors import UserError
from bot.core.letterboxd_follow import DiaryPost
from bot.core.letterboxd_live import FeedResult, FeedStatus
from bot.core.search import ClubTitles
from bot.core.shards import ShardSet
from bot.core.timers import TimerService
from bot.db import films as films_db
from bot.db import letterboxd_follow as store
from bot.db import reviews as reviews_db
from bot.db.database import Database, bundled_migrations, open_database
from tests.catalog_builder import film, load_films
from tests.clocks import FixedClock
from tests.letterboxd_feeds import ScriptedFeed, entry, ok
from tests.letterboxd_files import club_titles

GUILD, OTHER_GUILD, ALICE, BOB, MOD = 1, 2, 11, 12, 99
DIARY_CHANNEL = 500
INTERVAL = timedelta(minutes=30)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
async def ids(db: Database, tmp_path: Path) -> dict[str, int]:
    return await load_films(
        db,
        tmp_path / "cat",
        [
            film("stop-making-sense", title="Stop Making Sense", year=1984, tmdb_id=24128),
            film("the-last-waltz", title="The Last Waltz", year=1978),
            film("woodstock", title="Woodstock", year=1970, tmdb_id=900),
        ],
    )


async def titles(db: Database, guild_id: int) -> ClubTitles:
    return await club_titles(db, guild_id)


async def check(db: Database, clock: FixedClock, feed: ScriptedFeed, user: int = ALICE) -> follow.CheckOutcome:
    async def titles_for(guild_id: int) -> ClubTitles:
        return await titles(db, guild_id)

    return await follow.check_feed(db, clock, feed, titles_for, GUILD, user, interval=INTERVAL)


async def linked(
    db: Database, clock: FixedClock, *, diary: bool = True, import_entries: bool = True, user: int = ALICE
) -> None:
    timers = TimerService(db, clock)
    await follow.link_account(db, clock, timers, GUILD, user, "Alice_B", diary=diary, import_entries=import_entries)
    await config.set_channel(db, clock, timers, GUILD, MOD, config.ChannelKind.DIARY, DIARY_CHANNEL)


async def posts(db: Database, user: int = ALICE) -> list[DiaryPost]:
    taken = []
    for pending in await follow.pending_posts(db, GUILD, user):
        post = await follow.take_post(db, pending)
        assert post is not None
        taken.append(post)
    return taken


async def review_of(db: Database, film_id: int, user: int = ALICE) -> reviews_db.Review | None:
    return await reviews.get_review(db, GUILD, user, film_id)


# -- linking -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "x" * 16, "has space", "dash-name", "naïve", "", "../etc", "name?x=1"])
async def test_link_refuses_names_letterboxd_would_not_give(db: Database, clock: FixedClock, name: str) -> None:
    with pytest.raises(UserError, match="2 to 15 letters"):
        await follow.link_account(db, clock, TimerService(db, clock), GUILD, ALICE, name)
    assert await store.get_link(db, GUILD, ALICE) is None


@pytest.mark.parametrize(
    ("given", "kept"), [("Alice_B", "alice_b"), ("https://letterboxd.com/alice_b/", "alice_b"), ("@ab", "ab")]
)
async def test_link_takes_a_name_or_a_profile_address(db: Database, clock: FixedClock, given: str, kept: str) -> None:
    timers = TimerService(db, clock)
    link = (await follow.link_account(db, clock, timers, GUILD, ALICE, given)).link
    assert (link.username, link.diary, link.import_entries) == (kept, False, False)  # both opt-ins off by default
    pending = await timers.pending(follow.TIMER_KIND, follow.timer_key(GUILD, ALICE))
    assert pending is not None
    assert pending.guild_id == GUILD
    assert pending.due_at == clock.now() + follow.FIRST_CHECK


async def test_links_are_per_server_and_unlink_stops_following(db: Database, clock: FixedClock) -> None:
    timers = TimerService(db, clock)
    await follow.link_account(db, clock, timers, GUILD, ALICE, "alice")
    await follow.link_account(db, clock, timers, OTHER_GUILD, ALICE, "alice2")
    removed = await follow.unlink_account(db, timers, GUILD, ALICE)
    assert removed is not None
    assert removed.username == "alice"
    assert await store.get_link(db, GUILD, ALICE) is None
    assert await timers.pending(follow.TIMER_KIND, follow.timer_key(GUILD, ALICE)) is None
    other = await store.get_link(db, OTHER_GUILD, ALICE)
    assert other is not None
    assert other.username == "alice2"
    assert await follow.unlink_account(db, timers, GUILD, ALICE) is None


async def test_linking_the_same_name_again_changes_only_the_options_given(
    db: Database, clock: FixedClock, ids: dict[str, int]
) -> None:
    timers = TimerService(db, clock)
    await follow.link_account(db, clock, timers, GUILD, ALICE, "alice", diary=True)
    await check(db, clock, ScriptedFeed(ok(entry("g1", "The Last Waltz", 1978))))
    changed = (await follow.link_account(db, clock, timers, GUILD, ALICE, "Alice", import_entries=True)).link
    assert (changed.diary, changed.import_entries, changed.primed) == (True, True, True)
    assert await store.count_entries(db, GUILD, ALICE) == 1  # nothing handled is forgotten
    await timers.schedule(follow.TIMER_KIND, follow.timer_key(GUILD, ALICE), clock.now() + INTERVAL, guild_id=GUILD)
    await follow.link_account(db, clock, timers, GUILD, ALICE, "alice")
    pending = await timers.pending(follow.TIMER_KIND, follow.timer_key(GUILD, ALICE))
    assert pending is not None
    assert pending.due_at == clock.now() + follow.FIRST_CHECK  # asked again: checked in a moment


async def test_asking_for_a_check_while_one_runs_is_not_lost(db: Database, clock: FixedClock) -> None:
    """The member asks again while a check runs (it may have read the feed before their new entry): the running
    check's next time (an interval away) does not replace the request; without a request, it does."""
    timers = TimerService(db, clock)
    key = follow.timer_key(GUILD, ALICE)
    await follow.link_account(db, clock, timers, GUILD, ALICE, "alice")
    clock.advance(follow.FIRST_CHECK)
    running = await timers.pending(follow.TIMER_KIND, key)
    assert running is not None and running.due_at == clock.now()  # due: the service runs it now
    clock.advance(timedelta(seconds=1))
    await follow.link_account(db, clock, timers, GUILD, ALICE, "alice")  # "check now", during the run
    assert not await timers.move_on(running, clock.now() + INTERVAL)  # the run ends: the request stands
    asked = await timers.pending(follow.TIMER_KIND, key)
    assert asked is not None and asked.due_at == clock.now() + follow.FIRST_CHECK

    clock.advance(follow.FIRST_CHECK)
    assert await timers.move_on(asked, clock.now() + INTERVAL)  # a run nobody interrupted
    later = await timers.pending(follow.TIMER_KIND, key)
    assert later is not None and later.due_at == clock.now() + INTERVAL
    await follow.unlink_account(db, timers, GUILD, ALICE)
    assert not await timers.move_on(later, clock.now() + INTERVAL)  # unlinked during a run: no check comes back
    assert await timers.pending(follow.TIMER_KIND, key) is None


# -- following ---------------------------------------------------------------------------------------------------


async def test_each_entry_is_handled_once_and_only_new_ones_are_posted(
    db: Database, clock: FixedClock, ids: dict[str, int]
) -> None:
    await linked(db, clock)
    old = entry("letterboxd-watch-1", "The Last Waltz", 1978, rating=3.5)
    new = entry(
        "letterboxd-review-2", "Stop Making Sense", 1984, tmdb_id=24128, rating=5.0, review="Once in a lifetime."
    )
    feed = ScriptedFeed(ok(old), ok(new, old, etag='"v2"'), ok(new, old, etag='"v2"'))

    first = await check(db, clock, feed)
    assert (first.new, first.imported) == (1, 1)
    assert await posts(db) == []  # the feed's past is taken in without flooding the diary channel
    assert await review_of(db, ids["the-last-waltz"]) is not None

    second = await check(db, clock, feed)
    third = await check(db, clock, feed)
    assert (second.new, second.imported, third.new, third.edited, third.imported) == (1, 1, 0, 0, 0)
    sent = await posts(db)
    assert [(p.title, p.film_id, p.rating, p.excerpt) for p in sent] == [
        ("Stop Making Sense", ids["stop-making-sense"], 10, "Once in a lifetime.")
    ]
    assert await posts(db) == []  # taken once: nobody sends it again
    review = await review_of(db, ids["stop-making-sense"])
    assert review is not None
    assert (review.rating, review.body, review.source) == (10, "Once in a lifetime.", "letterboxd")
    link = await store.get_link(db, GUILD, ALICE)
    assert link is not None
    assert (link.etag, link.entries_imported, link.failures) == ('"v2"', 2, 0)
    assert feed.reads[1][1:] == ('"v1"', "Fri, 27 Feb 2026 20:00:00 GMT")  # conditional from the second read on


async def test_an_edited_review_updates_the_import_and_a_deleted_one_is_left_alone(
    db: Database, clock: FixedClock, ids: dict[str, int]
) -> None:
    await linked(db, clock)
    review = entry("letterboxd-review-7", "The Last Waltz", 1978, rating=3.0, review="Fine.")
    edited = replace(review, rating=4.5, review="Better on a second thought.", spoiler=True)
    feed = ScriptedFeed(ok(), ok(review), ok(edited), ok())
    for _ in range(3):
        await check(db, clock, feed)
    imported = await review_of(db, ids["the-last-waltz"])
    assert imported is not None
    assert (imported.rating, imported.body, imported.spoiler) == (9, "Better on a second thought.", True)
    assert [p.excerpt for p in await posts(db)] == ["Fine."]  # posted when new; the edit is not posted again

    gone = await check(db, clock, feed)  # deleted on Letterboxd: the feed no longer has it
    assert (gone.new, gone.edited) == (0, 0)
    assert await review_of(db, ids["the-last-waltz"]) == imported


async def test_a_review_written_on_discord_is_never_overwritten(
    db: Database, clock: FixedClock, ids: dict[str, int]
) -> None:
    await linked(db, clock)
    await reviews.rate(db, clock, guild_id=GUILD, user_id=ALICE, film_id=ids["the-last-waltz"], stars=2, body="Mine.")
    await check(db, clock, ScriptedFeed(ok(entry("g1", "The Last Waltz", 1978, rating=5.0, review="Feed."))))
    kept = await review_of(db, ids["the-last-waltz"])
    assert kept is not None
    assert (kept.rating, kept.body, kept.source) == (4, "Mine.", "discord")


async def test_tmdb_id_first_then_title_and_year_then_a_server_film(
    db: Database, clock: FixedClock, ids: dict[str, int]
) -> None:
    await linked(db, clock)
    entries = [
        entry("g1", "The Last Waltz", 1978, tmdb_id=900),  # the TMDb id decides, whatever the title says
        entry("g2", "Stop Making Sense (Restored)", 1985, tmdb_id=24128),  # retitled, but its TMDb id is known
        entry("g3", "The Last Waltz", 1978),  # no TMDb id: title and year
        entry("g4", "Some Obscure Tour Film", 2001, tmdb_id=555),  # nothing here: becomes the server's own
    ]
    await check(db, clock, ScriptedFeed(ok(*entries)))
    handled = await store.handled(db, GUILD, ALICE)
    own = {f.title: f for f in await films_db.server_films(db, GUILD)}
    assert set(own) == {"Some Obscure Tour Film"}
    assert own["Some Obscure Tour Film"].tmdb_id == 555
    assert handled["g1"].film_id == ids["woodstock"]
    assert handled["g2"].film_id == ids["stop-making-sense"]
    assert handled["g3"].film_id == ids["the-last-waltz"]
    assert handled["g4"].film_id == own["Some Obscure Tour Film"].id
    assert await films_db.server_films(db, OTHER_GUILD) == []


async def test_without_import_nothing_enters_the_club_but_the_diary_is_posted(
    db: Database, clock: FixedClock, ids: dict[str, int]
) -> None:
    await linked(db, clock, import_entries=False)
    feed = ScriptedFeed(ok(), ok(entry("g1", "The Last Waltz", 1978), entry("g2", "Unknown Here", 1999)))
    await check(db, clock, feed)
    outcome = await check(db, clock, feed)
    assert (outcome.new, outcome.imported) == (2, 0)
    assert await reviews_db.member_reviews(db, GUILD, ALICE) == []
    assert await films_db.server_films(db, GUILD) == []
    sent = {p.title: p.film_id for p in await posts(db)}
    assert sent == {"The Last Waltz": ids["the-last-waltz"], "Unknown Here": None}


async def test_without_diary_or_a_diary_channel_nothing_is_posted(
    db: Database, clock: FixedClock, ids: dict[str, int]
) -> None:
    await linked(db, clock, diary=False, user=ALICE)
    timers = TimerService(db, clock)
    await follow.link_account(db, clock, timers, GUILD, BOB, "bob", diary=True)
    await config.set_channel(db, clock, timers, GUILD, MOD, config.ChannelKind.DIARY, None)
    for user in (ALICE, BOB):
        feed = ScriptedFeed(ok(), ok(entry("g1", "The Last Waltz", 1978)))
        await check(db, clock, feed, user)
        assert (await check(db, clock, feed, user)).new == 1
        assert await posts(db, user) == []


async def test_a_post_given_back_is_sent_by_the_next_taker(
    db: Database, clock: FixedClock, ids: dict[str, int]
) -> None:
    await linked(db, clock)
    await check(db, clock, ScriptedFeed(ok()))
    await check(db, clock, ScriptedFeed(ok(entry("g1", "The Last Waltz", 1978))))
    [pending] = await follow.pending_posts(db, GUILD, ALICE)
    assert await follow.take_post(db, pending) is not None
    assert await follow.take_post(db, pending) is None  # a second taker gets nothing
    await follow.give_back(db, pending)  # Discord refused it: queued again
    assert [p.guid for p in await posts(db)] == ["g1"]


async def test_not_modified_keeps_everything_and_reads_again_in_an_interval(db: Database, clock: FixedClock) -> None:
    await linked(db, clock)
    feed = ScriptedFeed(ok(etag='"v1"'), FeedResult(FeedStatus.NOT_MODIFIED))
    await check(db, clock, feed)
    outcome = await check(db, clock, feed)
    assert outcome.status is FeedStatus.NOT_MODIFIED
    assert outcome.next_at is not None
    assert INTERVAL * 0.9 <= outcome.next_at - clock.now() <= INTERVAL * 1.1
    link = await store.get_link(db, GUILD, ALICE)
    assert link is not None
    assert (link.etag, link.last_checked) == ('"v1"', to_db(clock.now()))


async def test_a_failing_feed_backs_off_and_its_member_is_told_once(db: Database, clock: FixedClock) -> None:
    await linked(db, clock)
    feed = ScriptedFeed(FeedResult(FeedStatus.FAILED, reason="Letterboxd answered 503"))
    outcomes = [await check(db, clock, feed) for _ in range(5)]
    waits = [o.next_at - clock.now() for o in outcomes if o.next_at is not None]
    assert [o.tell_failing for o in outcomes] == [False, False, True, False, False]
    assert all(INTERVAL * 2**n * 0.9 <= wait <= INTERVAL * 2**n * 1.1 for n, wait in enumerate(waits, 1))
    link = await store.get_link(db, GUILD, ALICE)
    assert link is not None
    assert (link.failures, link.last_error) == (5, "Letterboxd answered 503")

    recovered = await check(db, clock, ScriptedFeed(ok()))
    assert recovered.status is FeedStatus.OK
    link = await store.get_link(db, GUILD, ALICE)
    assert link is not None
    assert (link.failures, link.last_error, link.told_failing) == (0, None, False)


def test_backoff_is_capped_at_a_day_and_honours_retry_after() -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    assert follow.next_check(now, INTERVAL, 20) - now <= follow.MAX_BACKOFF * 1.1
    assert follow.next_check(now, INTERVAL, 1, retry_after=7200) - now >= timedelta(hours=2)


async def test_a_missing_member_is_an_error_in_words(db: Database, clock: FixedClock) -> None:
    await linked(db, clock)
    outcome = await check(db, clock, ScriptedFeed(FeedResult(FeedStatus.NOT_FOUND)))
    assert outcome.reason is not None
    assert "no Letterboxd member" in outcome.reason


async def test_relinking_starts_over(db: Database, clock: FixedClock, ids: dict[str, int]) -> None:
    await linked(db, clock)
    await check(db, clock, ScriptedFeed(ok(entry("g1", "The Last Waltz", 1978))))
    assert await store.count_entries(db, GUILD, ALICE) == 1
    await follow.link_account(db, clock, TimerService(db, clock), GUILD, ALICE, "someone_else")
    assert await store.count_entries(db, GUILD, ALICE) == 0
    link = await store.get_link(db, GUILD, ALICE)
    assert link is not None
    assert (link.etag, link.primed) == (None, False)


async def test_a_check_after_unlinking_reads_nothing(db: Database, clock: FixedClock) -> None:
    feed = ScriptedFeed(ok())
    assert (await check(db, clock, feed)).status is None
    assert feed.reads == []


async def test_rearm_arms_only_links_without_a_pending_check(db: Database, clock: FixedClock) -> None:
    timers = TimerService(db, clock)
    await follow.link_account(db, clock, timers, GUILD, ALICE, "alice")
    await follow.link_account(db, clock, timers, GUILD, BOB, "bob")
    await timers.cancel(follow.TIMER_KIND, follow.timer_key(GUILD, BOB))
    assert await follow.rearm(db, clock, timers, INTERVAL, ShardSet(1, (0,))) == 1
    assert await follow.rearm(db, clock, timers, INTERVAL, ShardSet(1, (0,))) == 0


async def test_a_member_who_left_is_unlinked_their_queued_post_dropped_their_imports_kept(
    db: Database, clock: FixedClock, ids: dict[str, int]
) -> None:
    timers = TimerService(db, clock)
    await linked(db, clock)
    await linked(db, clock, user=BOB)
    old = entry("letterboxd-watch-1", "The Last Waltz", 1978, rating=3.5)
    new = entry("letterboxd-review-2", "Stop Making Sense", 1984, tmdb_id=24128, rating=5.0)
    feed = ScriptedFeed(ok(old), ok(new, old, etag='"v2"'))
    await check(db, clock, feed)
    await check(db, clock, feed)
    assert len(await follow.pending_posts(db, GUILD, ALICE)) == 1
    assert await follow.linked_members(db, GUILD) == [ALICE, BOB]

    removed = await follow.member_left(db, timers, GUILD, ALICE)
    assert removed is not None
    assert removed.username == "alice_b"
    assert await follow.linked_members(db, GUILD) == [BOB]
    assert await follow.pending_posts(db, GUILD, ALICE) == []  # nothing left to post for her
    assert await timers.pending(follow.TIMER_KIND, follow.timer_key(GUILD, ALICE)) is None
    assert await timers.pending(follow.TIMER_KIND, follow.timer_key(GUILD, BOB)) is not None
    for slug in ("the-last-waltz", "stop-making-sense"):  # imported reviews stay, as any unlink leaves them
        assert await review_of(db, ids[slug]) is not None
    assert await follow.member_left(db, timers, GUILD, ALICE) is None  # told twice: nothing more to do
    assert (await check(db, clock, feed)).status is None  # a check already under way reads nothing


# -- import turned on later --------------------------------------------------------------------------------------------


async def test_turning_import_on_imports_what_was_handled_without_it_and_posts_nothing_again(
    db: Database, clock: FixedClock, ids: dict[str, int]
) -> None:
    """Entries handled while import was off (the feed's past, a new one posted to the diary, one edited then) are
    imported as they now read at the next check after import is turned on, and nothing is posted again."""
    await linked(db, clock, import_entries=False)
    past = entry("g-past", "The Last Waltz", 1978, rating=3.0, review="Old times.")
    edited = entry("g-edit", "Woodstock", 1970, tmdb_id=900, rating=2.0, review="Muddy.")
    new = entry("g-new", "Stop Making Sense", 1984, tmdb_id=24128, rating=5.0, review="Once in a lifetime.")
    now_reads = replace(edited, rating=4.0, review="Muddy, and glorious.")
    feed = ScriptedFeed(ok(edited, past), ok(new, now_reads, past, etag='"v2"'))
    await check(db, clock, feed)
    second = await check(db, clock, feed)
    assert (second.new, second.edited, second.imported) == (1, 1, 0)
    assert [p.guid for p in await posts(db)] == ["g-new"]  # the diary had the new one
    assert await reviews_db.member_reviews(db, GUILD, ALICE) == []
    assert await store.count_not_imported(db, GUILD, ALICE) == 3

    done = await follow.link_account(db, clock, TimerService(db, clock), GUILD, ALICE, "alice_b", import_entries=True)
    turned = done.link
    assert done.catching_up
    assert (turned.import_entries, turned.diary, turned.etag, turned.last_modified) == (True, True, None, None)

    third = await check(db, clock, feed)
    assert feed.reads[-1][1:] == (None, None)  # not conditional: an unchanged feed would answer 304
    assert (third.new, third.edited, third.imported, third.caught_up) == (0, 0, 3, 3)
    assert await posts(db) == []  # nothing posted again
    found = {
        slug: (r.rating, r.body, r.source)
        for slug in ("the-last-waltz", "woodstock", "stop-making-sense")
        if (r := await review_of(db, ids[slug])) is not None
    }
    assert found == {
        "the-last-waltz": (6, "Old times.", "letterboxd"),
        "woodstock": (8, "Muddy, and glorious.", "letterboxd"),  # as it reads now
        "stop-making-sense": (10, "Once in a lifetime.", "letterboxd"),
    }
    assert await store.count_not_imported(db, GUILD, ALICE) == 0
    handled = await store.handled(db, GUILD, ALICE)
    assert {guid: (h.imported, h.revision) for guid, h in handled.items()} == {
        "g-past": (True, 0),
        "g-edit": (True, 1),  # the edit is still one revision
        "g-new": (True, 0),
    }

    fourth = await check(db, clock, feed)
    assert (fourth.new, fourth.edited, fourth.imported, fourth.caught_up) == (0, 0, 0, 0)  # caught up once
    assert feed.reads[-1][1] == '"v2"'  # conditional again
    link = await store.get_link(db, GUILD, ALICE)
    assert link is not None
    assert link.entries_imported == 3


async def test_catching_up_keeps_reviews_written_on_discord(
    db: Database, clock: FixedClock, ids: dict[str, int]
) -> None:
    await linked(db, clock, import_entries=False)
    feed = ScriptedFeed(ok(entry("g1", "The Last Waltz", 1978, rating=5.0, review="Feed.")))
    await check(db, clock, feed)
    await reviews.rate(db, clock, guild_id=GUILD, user_id=ALICE, film_id=ids["the-last-waltz"], stars=2, body="Mine.")
    await follow.link_account(db, clock, TimerService(db, clock), GUILD, ALICE, "alice_b", import_entries=True)
    outcome = await check(db, clock, feed)
    assert outcome.caught_up == 1
    kept = await review_of(db, ids["the-last-waltz"])
    assert kept is not None
    assert (kept.rating, kept.body, kept.source) == (4, "Mine.", "discord")


async def test_import_on_again_or_turned_off_reads_conditionally(db: Database, clock: FixedClock) -> None:
    """Only turning import on drops the validators: asking again with it on, or turning it off, keeps them."""
    await linked(db, clock, import_entries=True)
    await check(db, clock, ScriptedFeed(ok(entry("g1", "The Last Waltz", 1978))))
    timers = TimerService(db, clock)
    for import_entries in (True, None, False):
        done = await follow.link_account(db, clock, timers, GUILD, ALICE, "alice_b", import_entries=import_entries)
        assert done.link.etag == '"v1"' and not done.catching_up
    assert await store.count_not_imported(db, GUILD, ALICE) == 0


class TurnsImportOnWhileRead(ScriptedFeed):
    """The member turns import on while the check reads their feed (after the check read their link)."""

    def __init__(self, db: Database, clock: FixedClock, *answers: FeedResult) -> None:
        super().__init__(*answers)
        self.db, self.clock, self.turn = db, clock, True

    async def read(self, username: str, *, etag: str | None = None, last_modified: str | None = None) -> FeedResult:
        if self.turn:
            self.turn = False
            timers = TimerService(self.db, self.clock)
            await follow.link_account(self.db, self.clock, timers, GUILD, ALICE, username, import_entries=True)
        return await super().read(username, etag=etag, last_modified=last_modified)


async def test_import_turned_on_during_a_check_is_caught_up_by_the_next(
    db: Database, clock: FixedClock, ids: dict[str, int]
) -> None:
    await linked(db, clock, import_entries=False)
    await check(db, clock, ScriptedFeed(ok()))
    feed = TurnsImportOnWhileRead(db, clock, ok(entry("g1", "The Last Waltz", 1978, rating=4.5), etag='"v2"'))
    during = await check(db, clock, feed)
    assert (during.new, during.imported) == (1, 0)  # the check began with import off
    link = await store.get_link(db, GUILD, ALICE)
    assert link is not None
    assert (link.import_entries, link.etag, link.last_modified) == (True, None, None)  # the next read is whole

    after = await check(db, clock, feed)
    assert feed.reads[-1][1:] == (None, None)
    assert after.caught_up == 1
    review = await review_of(db, ids["the-last-waltz"])
    assert review is not None
    assert review.rating == 9


async def test_the_migration_takes_entries_of_importing_links_as_imported(empty_db_target: str | Path) -> None:
    """Entries handled before each entry recorded whether it was imported: those of links importing now were
    imported; the others wait for import to be turned on (found by name: the lead renumbers migrations at merge)."""
    async with await open_database(empty_db_target) as db:
        every = bundled_migrations(db.dialect.name)
        ours = next(m for m in every if m.name.endswith("_letterboxd_entry_imports.sql"))
        await db.migrate([m for m in every if m.number < ours.number])
        async with db.transaction() as tx:
            for user, importing in ((ALICE, 1), (BOB, 0)):
                await tx.execute(
                    "INSERT INTO letterboxd_links (guild_id, user_id, username, import_entries, linked_at)"
                    " VALUES (?, ?, ?, ?, 'x')",
                    (GUILD, user, f"member{user}", importing),
                )
                await tx.execute(
                    "INSERT INTO letterboxd_entries (guild_id, user_id, guid, fingerprint, seen_at)"
                    " VALUES (?, ?, 'g1', 'f', 'x')",
                    (GUILD, user),
                )
        await db.migrate()
        assert {user: h["g1"].imported for user in (ALICE, BOB) if (h := await store.handled(db, GUILD, user))} == {
            ALICE: True,
            BOB: False,
        }
        assert [await store.count_not_imported(db, GUILD, user) for user in (ALICE, BOB)] == [0, 1]
