"""The host rota on a real database (both backends): turn order, a fair rotation kept across screenings, swaps
(accepted, declined, refused), and volunteers who leave the rota or the server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core import hosts, screenings
from bot.core.catalog import load_catalog
from bot.core.errors import UserError
from bot.core.films import active_films
from bot.core.timers import TimerService
from bot.db import hosts as hosts_db
from bot.db.database import Database
from tests.catalog_builder import starter_catalog
from tests.clocks import FixedClock

GUILD = 1000
OTHER_GUILD = 1001
ANNOUNCE = 2000
VOICE = 2100
ALICE, BOB, CAROL, DAN = 11, 12, 13, 14
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
async def film_id(db: Database, tmp_path: Path) -> int:
    await load_catalog(db, starter_catalog(tmp_path / "catalog"))
    return next(f.id for f in await active_films(db) if f.slug == "the-last-waltz")


async def plan(db: Database, clock: FixedClock, timers: TimerService, film_id: int, day: int) -> screenings.Screening:
    return await screenings.plan_screening(
        db,
        clock,
        timers,
        guild_id=GUILD,
        film_id=film_id,
        starts_at=START + timedelta(days=day),
        announce_channel_id=ANNOUNCE,
        channel_id=VOICE,
    )


async def hosts_of(db: Database, ids: list[int]) -> list[int | None]:
    return [(await screenings.require_screening(db, sid)).host_id for sid in ids]


async def test_without_volunteers_screenings_have_no_host(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    assert (await plan(db, clock, timers, film_id, 1)).host_id is None
    assert (await hosts.rota(db, clock, GUILD)).volunteers == []


async def test_screenings_take_hosts_in_turn_and_newcomers_join_at_the_back(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    assert await hosts.join(db, clock, GUILD, ALICE) == 1
    assert await hosts.join(db, clock, GUILD, BOB) == 2
    first = [(await plan(db, clock, timers, film_id, day)).id for day in (1, 2, 3)]
    assert await hosts_of(db, first) == [ALICE, BOB, ALICE]
    assert await hosts.volunteer_ids(db, GUILD) == [BOB, ALICE]  # Bob hosted least recently
    assert await hosts.join(db, clock, GUILD, CAROL) == 3  # behind everyone, though she never hosted
    later = [(await plan(db, clock, timers, film_id, day)).id for day in (4, 5, 6, 7)]
    assert await hosts_of(db, later) == [BOB, ALICE, CAROL, BOB]
    rota = await hosts.rota(db, clock, GUILD)
    assert rota.upcoming[:3] == [(first[0], ALICE), (first[1], BOB), (first[2], ALICE)]
    assert await hosts.volunteer_ids(db, OTHER_GUILD) == []  # one server's rota is its own


async def test_joining_twice_is_refused(db: Database, clock: FixedClock) -> None:
    await hosts.join(db, clock, GUILD, ALICE)
    with pytest.raises(UserError, match="already on the host rota"):
        await hosts.join(db, clock, GUILD, ALICE)
    assert await hosts.volunteer_ids(db, GUILD) == [ALICE]


async def test_an_accepted_swap_exchanges_both_screenings_hosts(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    for member in (ALICE, BOB):
        await hosts.join(db, clock, GUILD, member)
    ids = [(await plan(db, clock, timers, film_id, day)).id for day in (1, 2)]
    offer = await hosts.offer_swap(db, clock, GUILD, ALICE, BOB)
    assert (offer.screening_id, offer.to_user) == (ids[0], BOB)
    changed = await hosts.answer_swap(db, clock, offer.id, BOB, hosts.Answer.ACCEPT)
    assert sorted(changed) == sorted(ids)
    assert await hosts_of(db, ids) == [BOB, ALICE]
    with pytest.raises(UserError, match="already been answered"):
        await hosts.answer_swap(db, clock, offer.id, BOB, hosts.Answer.ACCEPT)


async def test_a_swap_with_a_volunteer_without_a_turn_changes_their_places_in_the_rotation(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    for member in (ALICE, BOB, CAROL):
        await hosts.join(db, clock, GUILD, member)
    mine = (await plan(db, clock, timers, film_id, 1)).id  # Alice's; Bob is next, then Carol
    offer = await hosts.offer_swap(db, clock, GUILD, ALICE, CAROL)
    assert await hosts.answer_swap(db, clock, offer.id, CAROL, hosts.Answer.ACCEPT) == [mine]
    assert await hosts_of(db, [mine]) == [CAROL]
    assert await hosts.volunteer_ids(db, GUILD) == [BOB, ALICE, CAROL]  # Alice takes Carol's place in turn
    assert (await plan(db, clock, timers, film_id, 2)).host_id == BOB


async def test_a_declined_swap_changes_nothing_and_only_the_member_offered_answers(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    for member in (ALICE, BOB, CAROL):
        await hosts.join(db, clock, GUILD, member)
    ids = [(await plan(db, clock, timers, film_id, day)).id for day in (1, 2)]
    offer = await hosts.offer_swap(db, clock, GUILD, ALICE, BOB)
    with pytest.raises(UserError, match="for another member"):
        await hosts.answer_swap(db, clock, offer.id, CAROL, hosts.Answer.ACCEPT)
    assert await hosts.answer_swap(db, clock, offer.id, BOB, hosts.Answer.DECLINE) == []
    assert await hosts_of(db, ids) == [ALICE, BOB]


@pytest.mark.parametrize(
    ("from_user", "to_user", "message"),
    [
        (ALICE, ALICE, "with yourself"),
        (ALICE, DAN, "not on the host rota: you can only swap"),
        (DAN, ALICE, "You are not on the host rota"),
        (CAROL, ALICE, "no upcoming screening to host"),
    ],
)
async def test_bad_swaps_are_refused(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int, from_user: int, to_user: int, message: str
) -> None:
    for member in (ALICE, BOB, CAROL):
        await hosts.join(db, clock, GUILD, member)
    await plan(db, clock, timers, film_id, 1)  # Alice hosts; Carol has no turn
    with pytest.raises(UserError, match=message):
        await hosts.offer_swap(db, clock, GUILD, from_user, to_user)


async def test_a_swap_for_a_screening_that_was_cancelled_no_longer_applies(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    for member in (ALICE, BOB):
        await hosts.join(db, clock, GUILD, member)
    screening = await plan(db, clock, timers, film_id, 1)
    offer = await hosts.offer_swap(db, clock, GUILD, ALICE, BOB)
    await screenings.cancel_screening(db, timers, screening.id)
    with pytest.raises(UserError, match="no longer applies"):
        await hosts.answer_swap(db, clock, offer.id, BOB, hosts.Answer.ACCEPT)


async def test_a_volunteer_who_leaves_hands_their_turns_to_the_next_in_turn(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    for member in (ALICE, BOB, CAROL):
        await hosts.join(db, clock, GUILD, member)
    ids = [(await plan(db, clock, timers, film_id, day)).id for day in (1, 2, 3, 4)]
    assert await hosts_of(db, ids) == [ALICE, BOB, CAROL, ALICE]
    clock.moment = START + timedelta(days=1, hours=1)  # the first screening is under way: it stays Alice's
    changed = await hosts.drop_volunteer(db, clock, GUILD, ALICE)
    assert changed == [ids[3]]
    assert await hosts_of(db, ids) == [ALICE, BOB, CAROL, BOB]
    assert await hosts.volunteer_ids(db, GUILD) == [CAROL, BOB]
    assert await hosts.drop_volunteer(db, clock, GUILD, ALICE) is None  # not a volunteer any more


async def test_the_last_volunteer_leaving_leaves_screenings_without_a_host(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    await hosts.join(db, clock, GUILD, ALICE)
    screening = await plan(db, clock, timers, film_id, 1)
    assert await hosts.drop_volunteer(db, clock, GUILD, ALICE) == [screening.id]
    assert await hosts_of(db, [screening.id]) == [None]


def test_the_host_line_sits_above_the_marker_and_replaces_the_old_one() -> None:
    marker = screenings.event_marker(7)
    text = screenings.with_host_line(f"About the film.\n\n{marker}", "Alice")
    assert text == f"About the film.\nHosted by Alice\n\n{marker}"
    again = screenings.with_host_line(text, "Bob")
    assert again == f"About the film.\nHosted by Bob\n\n{marker}"
    assert screenings.with_host_line(again, None) == f"About the film.\n\n{marker}"
    long = screenings.with_host_line("x" * 2000 + f"\n\n{marker}", "Carol")
    assert len(long) <= screenings.EVENT_DESCRIPTION_LIMIT and long.endswith(f"Hosted by Carol\n\n{marker}")


async def test_screenings_planned_at_once_take_different_turns(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    for member in (ALICE, BOB, CAROL):
        await hosts.join(db, clock, GUILD, member)
    planned = await asyncio.gather(*(plan(db, clock, timers, film_id, day) for day in (1, 2, 3)))
    assert sorted(s.host_id or 0 for s in planned) == [ALICE, BOB, CAROL]


async def test_a_screening_called_off_before_it_began_gives_its_host_their_turn_back(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    for member in (ALICE, BOB, CAROL):
        await hosts.join(db, clock, GUILD, member)
    ids = [(await plan(db, clock, timers, film_id, day)).id for day in (1, 2)]
    assert await hosts_of(db, ids) == [ALICE, BOB]
    assert await hosts.volunteer_ids(db, GUILD) == [CAROL, ALICE, BOB]

    assert await screenings.cancel_screening(db, timers, ids[1])
    assert await hosts.volunteer_ids(db, GUILD) == [BOB, CAROL, ALICE]  # Bob hosts next, as if he had not had a turn
    assert not await screenings.cancel_screening(db, timers, ids[1])  # cancelled twice: nothing given back twice
    assert await hosts.volunteer_ids(db, GUILD) == [BOB, CAROL, ALICE]
    third = await plan(db, clock, timers, film_id, 3)
    assert third.host_id == BOB
    assert await hosts.volunteer_ids(db, GUILD) == [CAROL, ALICE, BOB]


async def test_a_screening_called_off_once_it_began_gives_nothing_back(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    unhosted = await plan(db, clock, timers, film_id, 1)  # planned before anyone volunteered
    for member in (ALICE, BOB, CAROL):
        await hosts.join(db, clock, GUILD, member)
    ids = [(await plan(db, clock, timers, film_id, day)).id for day in (2, 3)]
    assert await screenings.cancel_screening(db, timers, unhosted.id)
    clock.moment = START + timedelta(days=2, hours=1)  # Alice's screening is under way: she has had her turn
    assert await screenings.cancel_screening(db, timers, ids[0])
    assert await hosts.volunteer_ids(db, GUILD) == [CAROL, ALICE, BOB]


async def test_a_screening_that_fails_to_be_set_up_gives_its_host_their_turn_back(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    for member in (ALICE, BOB, CAROL):
        await hosts.join(db, clock, GUILD, member)
    ids = [(await plan(db, clock, timers, film_id, day)).id for day in (1, 2)]
    assert await hosts.volunteer_ids(db, GUILD) == [CAROL, ALICE, BOB]

    await screenings.abandon(db, timers, ids[1])  # Discord refused Bob's event
    assert (await screenings.require_screening(db, ids[1])).status is screenings.ScreeningStatus.FAILED
    assert await hosts.volunteer_ids(db, GUILD) == [BOB, CAROL, ALICE]
    await screenings.abandon(db, timers, ids[1])  # failed twice: nothing given back twice
    await screenings.mark_failed(db, clock, ids[0])  # its film is gone: Alice's turn back too, ahead of Bob
    assert await hosts.volunteer_ids(db, GUILD) == [ALICE, BOB, CAROL]
    assert await hosts_of(db, [(await plan(db, clock, timers, film_id, day)).id for day in (3, 4)]) == [ALICE, BOB]


async def swap_status(db: Database, swap_id: int) -> str:
    found = await hosts_db.swap(db, swap_id)
    assert found is not None  # the row stays, as history
    return found.status


@pytest.mark.parametrize("ending", ["cancelled", "failed", "started"])
async def test_an_open_offer_is_void_once_its_screening_began_or_was_called_off(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int, ending: str
) -> None:
    for member in (ALICE, BOB):
        await hosts.join(db, clock, GUILD, member)
    screening = await plan(db, clock, timers, film_id, 1)
    other = await plan(db, clock, timers, film_id, 2)  # Bob's: his offer of it stays open
    offer = await hosts.offer_swap(db, clock, GUILD, ALICE, BOB)
    kept = await hosts.offer_swap(db, clock, GUILD, BOB, ALICE)
    assert [o.id for o in (await hosts.rota(db, clock, GUILD)).offers] == [offer.id, kept.id]
    if ending == "cancelled":
        assert await screenings.cancel_screening(db, timers, screening.id)
    elif ending == "failed":
        await screenings.abandon(db, timers, screening.id)
    else:
        await screenings.attach_event(db, clock, timers, screening.id, 555)
        clock.moment = START + timedelta(days=1, minutes=1)
        assert await screenings.mark_started(db, clock, screening.id)
    assert await swap_status(db, offer.id) == "void"
    assert await swap_status(db, kept.id) == "offered" and kept.screening_id == other.id
    assert [o.id for o in (await hosts.rota(db, clock, GUILD)).offers] == [kept.id]
    clock.moment = START + timedelta(days=2, minutes=1)  # Bob's screening began without the bot hearing of it
    assert (await hosts.rota(db, clock, GUILD)).offers == []
    with pytest.raises(UserError, match="no longer applies"):
        await hosts.answer_swap(db, clock, offer.id, BOB, hosts.Answer.ACCEPT)
    with pytest.raises(UserError, match="no longer applies"):
        await hosts.answer_swap(db, clock, offer.id, BOB, hosts.Answer.DECLINE)
    assert await hosts_of(db, [screening.id]) == [ALICE]


async def test_a_newer_offer_of_the_same_turn_voids_the_older_one(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    for member in (ALICE, BOB, CAROL):
        await hosts.join(db, clock, GUILD, member)
    mine = (await plan(db, clock, timers, film_id, 1)).id
    first = await hosts.offer_swap(db, clock, GUILD, ALICE, BOB)
    second = await hosts.offer_swap(db, clock, GUILD, ALICE, CAROL)
    assert await swap_status(db, first.id) == "void"
    with pytest.raises(UserError, match="no longer applies"):
        await hosts.answer_swap(db, clock, first.id, BOB, hosts.Answer.ACCEPT)
    assert await hosts.answer_swap(db, clock, second.id, CAROL, hosts.Answer.ACCEPT) == [mine]
    assert await swap_status(db, second.id) == "accepted"


async def test_an_accepted_swap_or_a_volunteer_leaving_voids_the_offers_it_makes_stale(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    for member in (ALICE, BOB, CAROL):
        await hosts.join(db, clock, GUILD, member)
    ids = [(await plan(db, clock, timers, film_id, day)).id for day in (1, 2, 3)]
    assert await hosts_of(db, ids) == [ALICE, BOB, CAROL]
    alices = await hosts.offer_swap(db, clock, GUILD, ALICE, BOB)
    bobs = await hosts.offer_swap(db, clock, GUILD, BOB, CAROL)  # of the turn Alice's swap gives away
    assert sorted(await hosts.answer_swap(db, clock, alices.id, BOB, hosts.Answer.ACCEPT)) == ids[:2]
    assert await swap_status(db, bobs.id) == "void"  # that turn is Alice's now
    carols = await hosts.offer_swap(db, clock, GUILD, CAROL, ALICE)
    assert await hosts.drop_volunteer(db, clock, GUILD, ALICE) is not None
    assert await swap_status(db, carols.id) == "void"  # offered to a member no longer on the rota
    assert (await hosts.rota(db, clock, GUILD)).offers == []
