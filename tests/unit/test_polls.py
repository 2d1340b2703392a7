"""Polls on a real database: creating (and refusing bad input), voting, changing votes, concurrency, closing with
a tie-break from club ratings and nominations, cancelling, and re-arming timers."""

from __future__ import annotations

import ast
import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.client import discover_extensions
from bot.core import candidates, collections, polls
from bot.core.catalog import load_catalog
from bot.core.clock import to_db
from bot.core.errors import NotFoundError, PermissionDenied, UserError
from bot.core.films import active_films
from bot.core.polls import Method, Status, Style
from bot.core.reviews import rate
from bot.core.search import ClubTitles, TitleIndex
from bot.core.shards import ShardSet
from bot.core.tally import Tie, TieRule
from bot.core.tasks import BackgroundTasks
from bot.core.timers import PermanentFailure, Timer, TimerOutcome, TimerService
from bot.core.watch import add_to_watchlist
from bot.db import polls as sql_polls
from bot.db.database import Database
from cogs.polls._render import describe_tie, poll_embed
from tests.catalog_builder import film, theme, to_toml, write_catalog
from tests.clocks import FixedClock, StepClock
from tests.conftest import REPO

GUILD = 1000
CHANNEL = 2000
MOD = 3000
ROLE = 4000
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
async def films(db: Database, tmp_path: Path) -> list[int]:
    """30 films in one theme: enough to test the 25-candidate limit."""
    catalog = write_catalog(
        tmp_path / "catalog",
        {
            "catalog.toml": to_toml(
                themes=[theme("live-on-stage")],
                films=[film(f"film-{i:02d}", title=f"Film {i:02d}", year=1960 + i) for i in range(30)],
            )
        },
    )
    await load_catalog(db, catalog)
    return [f.id for f in await active_films(db)]


async def make_poll(
    db: Database,
    clock: FixedClock,
    timers: TimerService,
    film_ids: list[int],
    *,
    method: Method = Method.PLURALITY,
    **kw: object,
) -> polls.Poll:
    return await polls.create_poll(
        db,
        clock,
        timers,
        guild_id=GUILD,
        channel_id=CHANNEL,
        creator_id=MOD,
        title="Friday's screening",
        film_ids=film_ids,
        method=method,
        closes_at=clock.now() + timedelta(days=2),
        **kw,  # type: ignore[arg-type]
    )


async def count(db: Database, table: str) -> int:
    return int(await db.fetchval(f"SELECT count(*) FROM {table}"))


# -- creating -------------------------------------------------------------------------------------------------------


async def test_create_stores_the_poll_its_candidates_and_its_timers(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    poll = await make_poll(db, clock, timers, films[:3], method=Method.RANKED)
    assert poll.status is Status.OPEN
    assert poll.film_ids == films[:3]
    assert [c.position for c in poll.candidates] == [1, 2, 3]
    assert poll.method is Method.RANKED
    assert poll.closes_at == START + timedelta(days=2)
    close = await timers.pending(polls.CLOSE_TIMER, str(poll.id))
    assert close is not None and close.due_at == poll.closes_at and close.payload == {"poll_id": poll.id}
    publish = await timers.pending(polls.PUBLISH_TIMER, str(poll.id))
    assert publish is not None and publish.due_at == START
    assert await polls.attach_message(db, poll.id, 555)
    assert not await polls.attach_message(db, poll.id, 556)  # posted twice: the second message is refused
    assert (await polls.poll_by_message(db, 555)) is not None


@pytest.mark.parametrize(
    ("pick", "message"),
    [
        (lambda f: f[:1], "at least 2 films"),
        (lambda f: [f[0], f[1], f[0]], "twice"),
        (lambda f: f[:26], "at most 25 films"),
        (lambda f: [f[0], 99999], "not in the catalog"),
        (lambda f: [f[0], 2**70], "not in the catalog"),  # beyond SQLite's 64 bits: refused before any query
    ],
)
async def test_bad_candidates_are_refused_and_nothing_is_written(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int], pick: object, message: str
) -> None:
    with pytest.raises(UserError, match=message):
        await make_poll(db, clock, timers, pick(films))  # type: ignore[operator]
    assert await count(db, "polls") == 0
    assert await count(db, "poll_candidates") == 0
    assert await count(db, "timers") == 0


async def test_deadlines_in_the_past_or_too_far_are_refused(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    for closes_at, message in [
        (START - timedelta(minutes=1), "in the past"),
        (START, "in the past"),
        (START + timedelta(seconds=2), "too close"),
        (START + timedelta(weeks=13), "at most 12 weeks"),
    ]:
        with pytest.raises(UserError, match=message):
            await polls.create_poll(
                db,
                clock,
                timers,
                guild_id=GUILD,
                channel_id=CHANNEL,
                creator_id=MOD,
                title="x",
                film_ids=films[:2],
                closes_at=closes_at,
            )
    assert await count(db, "polls") == 0


async def test_the_three_second_minimum_is_checked_against_the_reading_it_was_read_from(
    db: Database, timers: TimerService, films: list[int]
) -> None:
    clock = StepClock(START, step=timedelta(milliseconds=1))  # every reading later, as on a real machine
    now = clock.now()
    closes_at = polls.read_deadline("3s", now, "Europe/Paris")
    assert closes_at == now + polls.MIN_DURATION
    poll = await polls.create_poll(
        db,
        clock,
        timers,
        guild_id=GUILD,
        channel_id=CHANNEL,
        creator_id=MOD,
        title="Blink",
        film_ids=films[:2],
        closes_at=closes_at,
        now=now,
    )
    assert poll.created_at == now and poll.closes_at == closes_at
    with pytest.raises(UserError, match="too close"):
        polls.read_deadline("2s", clock.now(), "UTC")
    with pytest.raises(UserError, match="at most 4 weeks 4 days ahead"):
        polls.read_deadline("5w", clock.now(), "UTC", style=Style.NATIVE)


async def test_native_polls_have_discords_limits(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    with pytest.raises(UserError, match="at most 10 films"):
        await make_poll(db, clock, timers, films[:11], style=Style.NATIVE)
    with pytest.raises(UserError, match="ranked choice"):
        await make_poll(db, clock, timers, films[:3], method=Method.RANKED, style=Style.NATIVE)
    with pytest.raises(UserError, match="limited to a role"):
        await make_poll(db, clock, timers, films[:3], style=Style.NATIVE, voter_role_id=ROLE)
    poll = await make_poll(db, clock, timers, films[:10], style=Style.NATIVE, method=Method.APPROVAL)
    assert poll.style is Style.NATIVE
    assert polls.native_answer("x" * 80) == "x" * 54 + "…"
    assert polls.native_duration_hours(START, START + timedelta(minutes=90)) == 2
    assert polls.native_duration_hours(START, START + timedelta(seconds=30)) == 1


async def test_a_retired_film_cannot_be_a_candidate(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    await db.execute("UPDATE films SET retired = 1 WHERE id = ?", (films[1],))
    with pytest.raises(NotFoundError):
        await make_poll(db, clock, timers, films[:3])


# -- voting ---------------------------------------------------------------------------------------------------------


async def vote(
    db: Database, clock: FixedClock, poll: polls.Poll, user: int, film_id: int, roles: set[int] | None = None
):  # type: ignore[no-untyped-def]
    return await polls.vote(
        db, clock, poll_id=poll.id, guild_id=GUILD, user_id=user, role_ids=roles or set(), film_id=film_id
    )


async def test_a_plurality_vote_is_one_ballot_that_a_second_click_changes(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    poll = await make_poll(db, clock, timers, films[:3])
    receipt = await vote(db, clock, poll, 1, films[0])
    assert receipt.choices == (films[0],)
    await vote(db, clock, poll, 1, films[2])
    assert await polls.ballot_of(db, poll.id, 1) == (films[2],)
    row = await db.fetchone("SELECT count(*), max(changes) FROM ballots WHERE poll_id = ?", (poll.id,))
    assert tuple(row) == (1, 1)  # type: ignore[arg-type]


async def test_votes_that_break_a_rule_are_refused_with_the_reason(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    poll = await make_poll(db, clock, timers, films[:3], voter_role_id=ROLE)
    with pytest.raises(PermissionDenied, match=f"<@&{ROLE}>"):
        await vote(db, clock, poll, 1, films[0])
    with pytest.raises(UserError, match="not on this poll"):
        await vote(db, clock, poll, 1, films[5], roles={ROLE})
    with pytest.raises(NotFoundError):
        await polls.vote(db, clock, poll_id=poll.id, guild_id=GUILD + 1, user_id=1, role_ids={ROLE}, film_id=films[0])
    await vote(db, clock, poll, 1, films[0], roles={ROLE})
    clock.moment = poll.closes_at  # the deadline passed, even if the close timer has not run yet
    with pytest.raises(UserError, match="closed"):
        await vote(db, clock, poll, 2, films[0], roles={ROLE})
    assert await count(db, "ballots") == 1


async def test_concurrent_clicks_keep_exactly_one_ballot_per_member(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    poll = await make_poll(db, clock, timers, films[:3])
    clicks = [vote(db, clock, poll, user, films[user % 3]) for user in range(200)]
    clicks += [vote(db, clock, poll, 7, films[i % 3]) for i in range(30)]  # one member hammering
    await asyncio.gather(*clicks)
    assert await count(db, "ballots") == 200
    closed = await polls.close_poll(db, clock, poll.id)
    assert closed.result is not None and closed.result.ballots == 200


async def test_the_ballot_box_writes_a_burst_in_batches_and_keeps_every_rule(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    poll = await make_poll(db, clock, timers, films[:3])
    guarded = await make_poll(db, clock, timers, films[:3], voter_role_id=ROLE)
    box = polls.BallotBox(db, clock, spawn=BackgroundTasks("test").spawn)

    async def click(target: polls.Poll, user: int, film_id: int, roles: set[int] | None = None) -> object:
        try:
            return await box.vote(poll=target, guild_id=GUILD, user_id=user, role_ids=roles or set(), film_id=film_id)
        except UserError as exc:
            return exc

    clicks = [click(poll, user, films[user % 3]) for user in range(300)]
    clicks += [click(poll, 5, films[2]), click(poll, 6, films[9]), click(guarded, 1, films[0])]
    clicks += [click(guarded, 2, films[1], {ROLE})]
    outcomes = await asyncio.gather(*clicks)
    assert all(isinstance(o, polls.VoteReceipt) for o in outcomes[:300])
    assert isinstance(outcomes[300], polls.VoteReceipt)  # user 5 changed their vote within the same burst
    assert isinstance(outcomes[301], UserError) and "not on this poll" in outcomes[301].message
    assert isinstance(outcomes[302], PermissionDenied)
    assert isinstance(outcomes[303], polls.VoteReceipt)
    assert await polls.ballot_count(db, poll.id) == 300
    assert await polls.ballot_of(db, poll.id, 5) == (films[2],)
    assert await polls.ballot_of(db, poll.id, 6) == (films[0],)
    assert await polls.ballot_count(db, guarded.id) == 1
    approval = await make_poll(db, clock, timers, films[:3], method=Method.APPROVAL)
    toggled = await box.vote(poll=approval, guild_id=GUILD, user_id=1, role_ids=set(), film_id=films[1])
    assert toggled.note == "added"


async def test_closing_the_ballot_boxs_owner_cancels_its_writer_and_the_votes_it_never_answered(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    # At shut-down the bot cancels the tasks it keeps, then closes the database: the writer must be one of them, and
    # a vote waiting for it must end (cancelled, unanswered) rather than wait forever.
    poll = await make_poll(db, clock, timers, films[:3])
    owner = BackgroundTasks("test")
    box = polls.BallotBox(db, clock, spawn=owner.spawn)
    voting = asyncio.create_task(box.vote(poll=poll, guild_id=GUILD, user_id=1, role_ids=set(), film_id=films[0]))
    await asyncio.sleep(0)  # the vote is queued and the writer started
    assert len(owner) == 1
    await owner.close()
    with pytest.raises(asyncio.CancelledError):
        await voting
    assert len(owner) == 0


async def test_approval_clicks_toggle_films_in_the_ballot(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    poll = await make_poll(db, clock, timers, films[:4], method=Method.APPROVAL)
    await vote(db, clock, poll, 1, films[2])
    receipt = await vote(db, clock, poll, 1, films[0])
    assert receipt.choices == (films[0], films[2]) and receipt.note == "added"
    receipt = await vote(db, clock, poll, 1, films[2])
    assert receipt.choices == (films[0],) and receipt.note == "removed"
    receipt = await vote(db, clock, poll, 1, films[0])
    assert receipt.choices == ()
    assert await count(db, "ballots") == 0  # an empty ballot is no ballot
    chosen = await polls.set_choices(
        db, clock, poll_id=poll.id, guild_id=GUILD, user_id=2, role_ids=set(), film_ids=[films[3], films[1]]
    )
    assert chosen.choices == (films[1], films[3])


async def test_a_ranked_ballot_is_built_changed_and_capped_at_five(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    poll = await make_poll(db, clock, timers, films[:7], method=Method.RANKED)
    kw = {"poll_id": poll.id, "guild_id": GUILD, "user_id": 1, "role_ids": set()}
    with pytest.raises(UserError, match="Rank your choices"):
        await vote(db, clock, poll, 1, films[0])
    for film_id in (films[3], films[1], films[0]):
        await polls.rank_add(db, clock, film_id=film_id, **kw)  # type: ignore[arg-type]
    again = await polls.rank_add(db, clock, film_id=films[1], **kw)  # type: ignore[arg-type]
    assert again.note == "That film is already on your ballot."
    assert await polls.ballot_of(db, poll.id, 1) == (films[3], films[1], films[0])
    undone = await polls.rank_undo(db, clock, **kw)  # type: ignore[arg-type]
    assert undone.choices == (films[3], films[1])
    for film_id in films[4:7]:
        await polls.rank_add(db, clock, film_id=film_id, **kw)  # type: ignore[arg-type]
    full = await polls.rank_add(db, clock, film_id=films[2], **kw)  # type: ignore[arg-type]
    assert full.note == "Your ballot already ranks 5 films."
    assert len(await polls.ballot_of(db, poll.id, 1)) == 5
    assert await polls.withdraw(db, clock, **kw)  # type: ignore[arg-type]
    assert await polls.ballot_of(db, poll.id, 1) == ()


# -- closing --------------------------------------------------------------------------------------------------------


async def test_close_counts_every_vote_before_it_and_refuses_votes_after(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    poll = await make_poll(db, clock, timers, films[:3])
    for user, pick in enumerate([0, 1, 1, 2, 1]):
        await vote(db, clock, poll, user, films[pick])
    closed = await polls.close_poll(db, clock, poll.id, closed_by=MOD)
    assert closed.status is Status.CLOSED
    assert closed.closed_by == MOD
    assert closed.winner_film_id == films[1]
    assert closed.result is not None and closed.result.first.votes == {films[0]: 1, films[1]: 3, films[2]: 1}
    with pytest.raises(UserError, match="closed"):
        await vote(db, clock, poll, 9, films[0])
    again = await polls.close_poll(db, clock, poll.id)
    assert again.result == closed.result  # idempotent: a timer that runs twice changes nothing
    stored = json.loads(await db.fetchval("SELECT result FROM polls WHERE id = ?", (poll.id,)))
    assert stored["winner"] == films[1]


async def test_a_tie_is_broken_by_club_rating_then_nomination(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    a, b, c = films[:3]
    # b was on a watchlist before the poll: nominated earlier than c.
    await add_to_watchlist(db, FixedClock(START - timedelta(days=30)), GUILD, 50, b)
    await rate(db, clock, guild_id=GUILD, user_id=60, film_id=a, stars=2.0)
    await rate(db, clock, guild_id=GUILD, user_id=60, film_id=b, stars=4.0)
    await rate(db, clock, guild_id=GUILD, user_id=60, film_id=c, stars=4.0)
    poll = await make_poll(db, clock, timers, [a, b, c])
    assert {cand.film_id: cand.nominated_at for cand in poll.candidates}[b] == to_db(START - timedelta(days=30))
    for user, pick in enumerate([a, b, c]):
        await vote(db, clock, poll, user, pick)
    closed = await polls.close_poll(db, clock, poll.id)
    result = closed.result
    assert result is not None and result.tie is not None
    assert result.winner == b
    assert result.tie.tied == (a, b, c)
    assert result.tie.rules == (TieRule.RATING, TieRule.NOMINATION)


async def test_a_tie_goes_to_ten_good_reviews_over_one_perfect_one_and_says_so(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    """The tie-break ranks by the one club rating: ten 4.5★ reviews beat a single 5★ review. The announcement shows
    what members can check (each film's plain average and number of reviews) and names the ranking."""
    many, once = films[:2]
    for user in range(100, 110):
        await rate(db, clock, guild_id=GUILD, user_id=user, film_id=many, stars=4.5)
    await rate(db, clock, guild_id=GUILD, user_id=200, film_id=once, stars=5.0)
    poll = await make_poll(db, clock, timers, [once, many])
    await vote(db, clock, poll, 1, once)
    await vote(db, clock, poll, 2, many)
    closed = await polls.close_poll(db, clock, poll.id)
    result = closed.result
    assert result is not None and result.tie is not None
    assert result.winner == many
    assert result.tie.rules == (TieRule.RATING,)
    shown = {f.id: f for f in await active_films(db)}
    text = describe_tie(result.tie, shown, poll_id=poll.id)
    assert "Film 01 (1961) and Film 00 (1960) tied for first place" in text
    assert "higher club rating (Film 01 5.0★ from 1 review, Film 00 4.5★ from 10 reviews;" in text
    assert "ranked as if every film also had 3 reviews of 3★" in text
    assert text.endswith("**Film 00 (1960)** wins.")


async def test_a_tie_stored_by_the_previous_release_still_renders(films: list[int], db: Database) -> None:
    """A result stored before ties kept review counts (plain averages only) is shown as it was announced."""
    a, b = films[:2]
    stored = {"tied": [a, b], "chosen": b, "rules": ["rating"], "eliminating": False, "ratings": [[a, 3.0], [b, None]]}
    shown = {f.id: f for f in await active_films(db)}
    text = describe_tie(Tie.from_json(json.loads(json.dumps(stored))), shown, poll_id=4)
    assert text == (
        "Film 00 (1960) and Film 01 (1961) tied for first place; broken by higher club rating "
        "(Film 00 3.0★, Film 01 unrated): **Film 01 (1961)** wins."
    )


async def test_a_native_poll_closes_with_discords_counts(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    poll = await make_poll(db, clock, timers, films[:3], style=Style.NATIVE)
    with pytest.raises(UserError, match="Discord's own poll"):
        await vote(db, clock, poll, 1, films[0])
    closed = await polls.close_poll(db, clock, poll.id, native_counts={films[2]: 4, films[0]: 1}, native_voters=5)
    assert closed.result is not None and closed.result.source == "discord"
    assert closed.winner_film_id == films[2]


async def test_cancel_stops_the_poll_and_its_timer(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    poll = await make_poll(db, clock, timers, films[:3])
    await vote(db, clock, poll, 1, films[0])
    cancelled = await polls.cancel_poll(db, clock, timers, poll.id, cancelled_by=MOD)
    assert cancelled.status is Status.CANCELLED and cancelled.result is None
    assert await timers.pending(polls.CLOSE_TIMER, str(poll.id)) is None
    assert await timers.pending(polls.PUBLISH_TIMER, str(poll.id)) is None
    with pytest.raises(UserError, match="cancelled"):
        await vote(db, clock, poll, 2, films[0])
    with pytest.raises(UserError, match="already cancelled"):
        await polls.cancel_poll(db, clock, timers, poll.id, cancelled_by=MOD)
    assert (await polls.close_poll(db, clock, poll.id)).status is Status.CANCELLED


async def test_a_poll_discord_refused_to_post_is_cancelled_but_a_posted_one_is_kept(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    unposted = await make_poll(db, clock, timers, films[:2])
    discarded = await polls.discard_unposted(db, clock, timers, unposted.id)
    assert discarded is not None and discarded.status is Status.CANCELLED and discarded.closed_by is None
    for kind in (polls.CLOSE_TIMER, polls.PUBLISH_TIMER):
        assert await timers.pending(kind, str(unposted.id)) is None
    assert await polls.discard_unposted(db, clock, timers, unposted.id) is None  # nothing left to undo
    posted = await make_poll(db, clock, timers, films[:2])
    assert await polls.attach_message(db, posted.id, 777)
    assert await polls.discard_unposted(db, clock, timers, posted.id) is None
    assert (await polls.guild_poll(db, GUILD, posted.id)).status is Status.OPEN


async def test_a_polls_post_carries_a_marker_that_names_it_and_no_other_poll(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    # After a crash, the publish timer adopts the bot's own post whose footer has the poll's marker: poll 1's must
    # never be found in poll 12's post (nor the other way round), or a poll would adopt another's message.
    made = [await make_poll(db, clock, timers, films[:2]) for _ in range(12)]
    footers = {poll.id: poll_embed(poll, {}, None).footer.text or "" for poll in made}
    for poll in made:
        assert footers[poll.id].startswith(poll.marker)
        assert [other for other, footer in footers.items() if poll.marker in footer] == [poll.id]


async def test_only_the_creator_or_a_moderator_manages_a_poll(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    poll = await make_poll(db, clock, timers, films[:2])
    polls.require_manager(poll, user_id=MOD, is_moderator=False)
    polls.require_manager(poll, user_id=1, is_moderator=True)
    with pytest.raises(PermissionDenied):
        polls.require_manager(poll, user_id=1, is_moderator=False)


async def test_lists_of_polls_come_in_order_each_with_its_own_candidates(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    later = await polls.create_poll(
        db,
        clock,
        timers,
        guild_id=GUILD,
        channel_id=CHANNEL,
        creator_id=MOD,
        title="Later",
        film_ids=[films[4], films[1], films[7]],
        closes_at=clock.now() + timedelta(days=5),
    )
    sooner = await make_poll(db, clock, timers, [films[2], films[0]])
    closed = await make_poll(db, clock, timers, films[10:14])
    await polls.close_poll(db, clock, closed.id)
    cancelled = await make_poll(db, clock, timers, films[20:22])
    await polls.cancel_poll(db, clock, timers, cancelled.id, cancelled_by=MOD)
    other_shard = GUILD + (1 << 22)  # shard 1 of 2 (GUILD is on shard 0)
    elsewhere = await polls.create_poll(
        db,
        clock,
        timers,
        guild_id=other_shard,
        channel_id=CHANNEL,
        creator_id=MOD,
        title="Elsewhere",
        film_ids=films[5:8],
        closes_at=clock.now() + timedelta(days=1),
    )
    assert await polls.attach_message(db, later.id, 555)
    assert await polls.attach_message(db, elsewhere.id, 556)

    open_here = await polls.open_polls(db, GUILD)
    assert [(p.id, p.film_ids) for p in open_here] == [
        (sooner.id, [films[2], films[0]]),
        (later.id, [films[4], films[1], films[7]]),
    ]
    recent = await polls.recent_polls(db, GUILD, limit=3)
    assert [p.id for p in recent] == [sooner.id, later.id, cancelled.id]  # open first, then the latest ended
    assert recent[2].film_ids == films[20:22] and recent[2].status is Status.CANCELLED
    assert [(p.id, p.film_ids) for p in await polls.posted_open_polls(db, ShardSet.every())] == [
        (later.id, [films[4], films[1], films[7]]),
        (elsewhere.id, films[5:8]),
    ]
    assert [p.id for p in await polls.posted_open_polls(db, ShardSet(2, (0,)))] == [later.id]
    assert [p.id for p in await polls.posted_open_polls(db, ShardSet(2, (1,)))] == [elsewhere.id]
    by_message = await polls.poll_by_message(db, 556)
    assert by_message is not None and by_message.guild_id == other_shard and by_message.film_ids == films[5:8]


async def test_missing_timers_are_re_armed_at_start_up(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    poll = await make_poll(db, clock, timers, films[:2])
    await db.execute("DELETE FROM timers")  # as if the bot died between storing the poll and arming its timers
    assert await polls.rearm_open_polls(db, clock, timers, ShardSet(2, (1,))) == 0  # the poll's server is on shard 0
    assert await polls.rearm_open_polls(db, clock, timers, ShardSet.every()) == 2
    assert await polls.rearm_open_polls(db, clock, timers, ShardSet.every()) == 0
    pending = await timers.pending(polls.CLOSE_TIMER, str(poll.id))
    assert pending is not None and pending.due_at == poll.closes_at


async def test_a_timer_that_failed_for_good_is_not_re_armed_at_start_up(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    # A timer that ended as failed (retrying could not help) stays ended: re-arming it at every start-up would give
    # it fresh attempts after each restart, forever.
    poll = await make_poll(db, clock, timers, films[:2])

    async def cannot_succeed(_timer: Timer) -> None:
        raise PermanentFailure("Discord refuses this for good")

    timers.register(polls.CLOSE_TIMER, cannot_succeed)
    timers.register(polls.PUBLISH_TIMER, cannot_succeed)
    clock.advance(timedelta(days=3))
    assert await timers.run_due() == 2
    assert await polls.rearm_open_polls(db, clock, timers, ShardSet.every()) == 0
    for kind in (polls.CLOSE_TIMER, polls.PUBLISH_TIMER):
        assert await timers.pending(kind, str(poll.id)) is None
        latest = await timers.latest(kind, str(poll.id))
        assert latest is not None and latest.outcome is TimerOutcome.FAILED


# -- candidates from the club ---------------------------------------------------------------------------------------


async def test_candidates_from_a_theme_and_from_the_watchlists(
    db: Database, clock: FixedClock, films: list[int]
) -> None:
    chosen = await candidates.theme_candidates(db, GUILD, "live-on-stage", 5, seed="x")
    assert len(chosen) == 5 and set(chosen) <= set(films)
    assert chosen == await candidates.theme_candidates(db, GUILD, "live-on-stage", 5, seed="x")
    with pytest.raises(UserError, match="watchlists"):
        await candidates.watchlist_candidates(db, GUILD)
    for user in range(3):
        await add_to_watchlist(db, clock, GUILD, user, films[7])
    await add_to_watchlist(db, clock, GUILD, 1, films[3])
    await add_to_watchlist(db, clock, GUILD, 2, films[4])
    assert (await candidates.watchlist_candidates(db, GUILD, 2))[0] == films[7]


async def test_candidates_from_a_server_collection_by_name_or_slug(
    db: Database, clock: FixedClock, films: list[int]
) -> None:
    noir = await collections.create_collection(db, clock, guild_id=GUILD, user_id=MOD, name="Friday Noir")
    for film_id in (films[9], films[2], films[5]):
        await collections.add_film(db, clock, collection=noir, film_id=film_id, user_id=MOD)
    index = ClubTitles(TitleIndex([]))
    for text in ("Friday Noir", noir.theme_slug):
        chosen = await candidates.resolve_candidates(db, index, GUILD, named=[], theme=text, count=3)
        assert chosen == [films[9], films[2], films[5]]  # the collection's own order
    with pytest.raises(NotFoundError, match="No theme named"):
        await candidates.resolve_candidates(db, index, GUILD + 1, named=[], theme="Friday Noir")  # another server's


async def test_ids_and_counts_out_of_range_are_refused_before_any_query(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    poll = await make_poll(db, clock, timers, films[:2])
    assert await polls.get_poll(db, 2**70) is None
    with pytest.raises(NotFoundError, match=r"There is no poll #1180591620717411303…"):
        await polls.guild_poll(db, GUILD, 2**70)
    with pytest.raises(UserError, match="not on this poll's ballot"):
        await polls.set_choices(db, clock, poll_id=poll.id, guild_id=GUILD, user_id=1, role_ids=(), film_ids=[2**70])
    with pytest.raises(NotFoundError, match="no longer exists"):
        await polls.rank_add(db, clock, poll_id=-1, guild_id=GUILD, user_id=1, role_ids=(), film_id=films[0])
    for bad in (0, 1, 26, 10**30):
        with pytest.raises(UserError, match="between 2 and 25"):
            await candidates.resolve_candidates(db, TitleIndex([]), GUILD, named=[], source="watchlist", count=bad)


async def test_candidates_from_this_weeks_picks(db: Database) -> None:
    # Before the first weekly post there is nothing to vote on (bot.core.picks.latest_picks returns []).
    with pytest.raises(UserError, match="no weekly picks"):
        await candidates.picks_candidates(db, GUILD)


async def test_a_batch_of_votes_counts_exactly_the_votes_it_wrote(
    db: Database, clock: FixedClock, timers: TimerService, films: list[int]
) -> None:
    # The count covers inserted and replaced ballots alike, a member's second vote within the batch included.
    poll = await make_poll(db, clock, timers, films[:2])
    votes = [sql_polls.PluralityVote(poll.id, GUILD, user, films[user % 2], ()) for user in range(5)]
    votes.append(sql_polls.PluralityVote(poll.id, GUILD, 0, films[1], ()))  # a change within the batch
    votes.append(sql_polls.PluralityVote(poll.id, GUILD, 9, films[5], ()))  # not a candidate: not written
    guarded = await make_poll(db, clock, timers, films[:2], voter_role_id=ROLE)
    votes.append(sql_polls.PluralityVote(guarded.id, GUILD, 1, films[0], (ROLE - 1, ROLE)))
    votes.append(sql_polls.PluralityVote(guarded.id, GUILD, 2, films[0], (ROLE + 1,)))  # without the role: not written
    assert await sql_polls.vote_plurality_many(db, votes, to_db(clock.now())) == 7
    assert await polls.ballot_of(db, poll.id, 0) == (films[1],)
    assert await polls.ballot_count(db, poll.id) == 5
    assert await polls.ballot_of(db, guarded.id, 1) == (films[0],)
    assert await polls.ballot_count(db, guarded.id) == 1


def test_the_polls_package_is_loaded_as_the_cogs_polls_extension() -> None:
    # cogs/polls/ is a package; the bot discovers packages as well as modules, under the same extension name.
    assert "cogs.polls" in discover_extensions()


def _imports(nodes: list[ast.stmt] | list[ast.AST]) -> set[str]:
    """The modules these nodes import, and any "bot...." module name spelled out (as importlib would take it)."""
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("bot."):
            found.add(node.value)
    return found


def test_picks_use_polls_and_polls_never_use_picks() -> None:
    # The weekly picks open their watch-party poll through bot.core.polls, a plain top-level import; polls know
    # nothing of picks (this week's picks become candidates in bot.core.candidates), and neither pretends the other
    # is optional behind importlib or an ImportError handler.
    polls_tree = ast.parse((REPO / "bot" / "core" / "polls.py").read_text(encoding="utf-8"))
    picks_tree = ast.parse((REPO / "bot" / "core" / "picks.py").read_text(encoding="utf-8"))
    assert not {name for name in _imports(list(ast.walk(polls_tree))) if "picks" in name or name == "importlib"}
    assert "bot.core.polls" in _imports(picks_tree.body)
    for tree in (polls_tree, picks_tree):
        handlers = [node for node in ast.walk(tree) if isinstance(node, ast.ExceptHandler)]
        assert not [h for h in handlers if isinstance(h.type, ast.Name) and h.type.id == "ImportError"]
