"""The host rota end to end: volunteers join, each screening scheduled through Discord gets the next host, named in
its event's description and pinged (alone) in its discussion thread; a swap offered with /host swap and accepted
with its button, after a restart, edits both events; bad input gets short private answers; a host who left the
server drops out at start-up and their screening's event names the next volunteer; a cancelled screening gives its
host their turn back.

A bot of its own (the tests restart it), with the fixtures of tests/e2e/test_screenings.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from . import test_screenings as screenings_e2e
from .harness import eventually
from .test_screening_threads import newest_screening, seeded_thread
from .test_screenings import Club, schedule

club = screenings_e2e.club
world = screenings_e2e.world

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


def description(club: Club, screening_id: int) -> str:
    ((event_id,),) = club.query("SELECT event_id FROM screenings WHERE id = ?", (screening_id,))
    return str(club.fake.scheduled_events[int(event_id)]["description"])


def host_of(club: Club, screening_id: int) -> int | None:
    ((host_id,),) = club.query("SELECT host_id FROM screenings WHERE id = ?", (screening_id,))
    return None if host_id is None else int(host_id)


async def plan(club: Club, world: Any, when: str) -> int:
    reply = await schedule(club, world.moderator, film="gimme-shelter", when=when, location="The Roxy")
    assert reply.ephemeral, reply.text
    screening_id = newest_screening(club)
    await eventually(
        lambda: club.query("SELECT event_id FROM screenings WHERE id = ?", (screening_id,))[0][0] is not None,
        what="the screening's event",
    )
    return screening_id


async def test_volunteers_host_in_turn_named_in_the_event_and_pinged_alone_in_the_thread(
    club: Club, world: Any
) -> None:
    for member, place in ((world.alice, 1), (world.bob, 2)):
        joined = await club.discord.command("/host join", member=member)
        assert joined.ephemeral and f"#{place} in turn" in joined.text
    twice = await club.discord.command("/host join", member=world.alice)
    assert twice.ephemeral and "already on the host rota" in twice.text

    first = await plan(club, world, "3s")  # Alice's turn; its thread opens in a few seconds
    second = await plan(club, world, "3d")  # Bob's
    assert (host_of(club, first), host_of(club, second)) == (world.alice.id, world.bob.id)
    assert "Hosted by Alice" in description(club, first)
    assert "Hosted by Bob" in description(club, second)
    assert description(club, second).endswith(f"Hosted by Bob\n\nScreening #{second}")

    _thread, seed = await seeded_thread(club, world.general, first)
    assert f"<@{world.alice.id}>" in seed.content
    users, roles, everyone = seed.would_ping()
    assert users == [world.alice.id] and roles == [] and not everyone

    rota = await club.discord.command("/host list", member=world.carol)
    assert rota.text.index(f"1. <@{world.alice.id}>") < rota.text.index(f"2. <@{world.bob.id}>")
    assert f"<@{world.bob.id}>" in rota.text and "Gimme Shelter" in rota.text
    users, roles, everyone = rota.message.would_ping() if rota.message else ([], [], False)
    assert users == [] and not everyone


async def test_bad_swaps_get_short_private_answers(club: Club, world: Any) -> None:
    cases = [
        (world.alice, world.alice, "can't swap with yourself"),
        (world.alice, world.carol, "can only swap with another volunteer"),
        (world.carol, world.alice, "You are not on the host rota"),
    ]
    for member, other, expected in cases:
        reply = await club.discord.command("/host swap", member=member, options={"member": other})
        assert reply.ephemeral and expected in reply.text, reply.text
    await club.discord.command("/host join", member=world.carol)
    idle = await club.discord.command("/host swap", member=world.carol, options={"member": world.alice})
    assert idle.ephemeral and "no upcoming screening to host" in idle.text
    refused = await club.discord.command("/host remove", member=world.alice, options={"member": world.carol})
    assert refused.ephemeral
    removed = await club.discord.command("/host remove", member=world.moderator, options={"member": world.carol})
    assert removed.ephemeral and "Took" in removed.text
    rota = await club.discord.command("/host list", member=world.carol)
    assert f"<@{world.carol.id}>" not in rota.text.split("Next screenings")[0]


async def test_a_swap_accepted_by_button_after_a_restart_edits_both_events(club: Club, world: Any) -> None:
    mine = await plan(club, world, "4d")  # Alice's turn (Bob hosted last)
    assert host_of(club, await plan(club, world, "5d")) == world.bob.id
    # Bob gives Alice his next turn in exchange: the screening in 3 days from the first test.
    ((theirs,),) = club.query(
        "SELECT id FROM screenings WHERE host_id = ? AND started_at IS NULL ORDER BY starts_at LIMIT 1", (world.bob.id,)
    )
    offer = await club.discord.command("/host swap", member=world.alice, options={"member": world.bob})
    assert not offer.ephemeral and offer.message is not None
    users, _roles, everyone = offer.message.would_ping()
    assert users == [world.bob.id] and not everyone

    await club.bot.restart()
    nosy = await club.discord.click(offer.message, "Accept", member=world.carol)
    assert nosy.ephemeral and "for another member" in nosy.text
    await club.discord.click(offer.message, "Accept", member=world.bob)
    await club.discord.wait_until(
        lambda: "Hosted by Bob" in description(club, mine) and "Hosted by Alice" in description(club, theirs),
        what="both events' swapped host lines",
    )
    assert (host_of(club, mine), host_of(club, theirs)) == (world.bob.id, world.alice.id)
    answered = club.fake.messages[offer.message.id]
    assert "Swap accepted" in answered.content and answered.components == []  # no button to press twice


async def test_a_cancelled_screening_gives_its_host_their_turn_back(club: Club, world: Any) -> None:
    names = {world.alice.id: "Alice", world.bob.id: "Bob"}
    called_off = await plan(club, world, "5d")
    host = host_of(club, called_off)
    assert host in names
    other = await plan(club, world, "6d")
    assert host_of(club, other) not in (None, host)  # the host went to the back of the rotation
    cancelled = await club.discord.command(
        "/screening cancel", member=world.moderator, options={"screening": called_off}
    )
    assert cancelled.ephemeral and "is cancelled" in cancelled.text, cancelled.text
    rota = await club.discord.command("/host list", member=world.carol)
    assert f"1. <@{host}>" in rota.text, rota.text  # their turn back: they host next
    again = await plan(club, world, "7d")
    assert host_of(club, again) == host
    assert f"Hosted by {names[host]}" in description(club, again)


async def test_an_offer_whose_screening_was_cancelled_no_longer_applies(club: Club, world: Any) -> None:
    await plan(club, world, "8d")  # every volunteer has a turn to come
    offer = await club.discord.command("/host swap", member=world.alice, options={"member": world.bob})
    assert not offer.ephemeral and offer.message is not None
    ((swap_id, offered),) = club.query("SELECT id, screening_id FROM host_swaps ORDER BY id DESC LIMIT 1")
    waiting = await club.discord.command("/host list", member=world.carol)
    assert "Swap offers waiting for an answer" in waiting.text
    assert f"<@{world.alice.id}> → <@{world.bob.id}>" in waiting.text

    cancelled = await club.discord.command("/screening cancel", member=world.moderator, options={"screening": offered})
    assert cancelled.ephemeral and "is cancelled" in cancelled.text, cancelled.text
    assert club.query("SELECT status FROM host_swaps WHERE id = ?", (swap_id,)) == [("void",)]  # kept, as history
    rota = await club.discord.command("/host list", member=world.carol)
    assert "Swap offers waiting" not in rota.text
    stale = await club.discord.click(offer.message, "Accept", member=world.bob)
    assert stale.ephemeral and "no longer applies" in stale.text, stale.text
    assert host_of(club, offered) == world.alice.id


async def test_a_screening_discord_refused_gives_its_host_their_turn_back(club: Club, world: Any) -> None:
    club.fake.faults.inject("POST /guilds/{guild_id}/scheduled-events", status=400, times=2, message="No")
    reply = await schedule(club, world.moderator, film="gimme-shelter", when="9d", location="The Roxy")
    assert reply.ephemeral and "I couldn't schedule the screening" in reply.text, reply.text
    failed = newest_screening(club)
    assert club.query("SELECT status FROM screenings WHERE id = ?", (failed,)) == [("failed",)]
    host = host_of(club, failed)
    assert host in (world.alice.id, world.bob.id)
    rota = await club.discord.command("/host list", member=world.carol)
    assert f"1. <@{host}>" in rota.text, rota.text  # their turn back: they host next
    assert host_of(club, await plan(club, world, "10d")) == host


async def test_a_host_who_left_the_server_drops_out_at_start_up(club: Club, world: Any) -> None:
    query = "SELECT id FROM screenings WHERE host_id = ? AND started_at IS NULL"
    upcoming = [sid for (sid,) in club.query(query, (world.bob.id,))]
    assert upcoming
    await club.fake.remove_member(world.bob)
    await club.bot.restart()
    await club.bot.wait_for_log(rf"host {world.bob.id} left the server; off the rota", timeout=20)
    for screening_id in upcoming:
        await club.discord.wait_until(
            lambda sid=screening_id: "Hosted by Alice" in description(club, sid), what="the next host's line"
        )
        assert host_of(club, screening_id) == world.alice.id
    rota = await club.discord.command("/host list", member=world.alice)
    assert f"<@{world.bob.id}>" not in rota.text
