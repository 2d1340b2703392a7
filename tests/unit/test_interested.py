"""bot.ui.interested: who clicked Interested on an event, remembered briefly. A burst of "I was there" clicks costs one
read of Discord's list; a member the remembered list does not name causes one fresh read (shared by the clicks
waiting for it) before the answer is no; after a minute the list is read again. ``read`` plays Discord's list."""

from __future__ import annotations

import asyncio

from bot.ui.interested import REMEMBER, InterestedMembers

EVENT, OTHER_EVENT = 500, 501
ALICE, BOB, CAROL, DAN = 11, 12, 13, 14


class Seconds:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class DiscordList:
    """Discord's list of an event's interested members, counting how often it is read."""

    def __init__(self, *members: int) -> None:
        self.members = set(members)
        self.reads = 0

    async def read(self) -> frozenset[int]:
        self.reads += 1
        await asyncio.sleep(0.01)  # a round trip: clicks arriving meanwhile wait for it
        return frozenset(self.members)


async def test_a_burst_of_clicks_costs_one_read() -> None:
    discord_list = DiscordList(ALICE, BOB, CAROL)
    remembered = InterestedMembers(clock=Seconds())
    answers = await asyncio.gather(
        *(remembered.check(EVENT, member, discord_list.read) for member in (ALICE, BOB, CAROL, ALICE, BOB))
    )
    assert answers == [True] * 5
    assert discord_list.reads == 1
    assert await remembered.check(EVENT, CAROL, discord_list.read)
    assert discord_list.reads == 1


async def test_a_member_not_remembered_gets_one_fresh_read_before_no() -> None:
    discord_list = DiscordList(ALICE)
    remembered = InterestedMembers(clock=Seconds())
    assert await remembered.check(EVENT, ALICE, discord_list.read)
    assert not await remembered.check(EVENT, DAN, discord_list.read)  # read again, still not there: no
    assert discord_list.reads == 2
    discord_list.members.add(BOB)  # Bob clicks Interested after the last read
    assert await remembered.check(EVENT, BOB, discord_list.read)
    assert discord_list.reads == 3
    assert await remembered.check(EVENT, BOB, discord_list.read)  # remembered now
    assert discord_list.reads == 3


async def test_strangers_clicking_at_once_share_a_fresh_read() -> None:
    discord_list = DiscordList(ALICE)
    remembered = InterestedMembers(clock=Seconds())
    assert await remembered.check(EVENT, ALICE, discord_list.read)
    strangers = await asyncio.gather(*(remembered.check(EVENT, DAN, discord_list.read) for _ in range(5)))
    assert strangers == [False] * 5
    # The first stranger's fresh read, then one more for the four who clicked while it was under way (it may have
    # begun before their clicks reached Discord): not one read each.
    assert discord_list.reads == 3


async def test_a_list_is_trusted_for_a_minute_per_event() -> None:
    clock = Seconds()
    discord_list = DiscordList(ALICE, BOB)
    other = DiscordList(CAROL)
    remembered = InterestedMembers(clock=clock)
    assert await remembered.check(EVENT, ALICE, discord_list.read)
    assert await remembered.check(OTHER_EVENT, CAROL, other.read)  # each event has its own list
    assert not await remembered.check(OTHER_EVENT, ALICE, other.read)
    assert (discord_list.reads, other.reads) == (1, 2)
    clock.now += REMEMBER - 1
    assert await remembered.check(EVENT, BOB, discord_list.read)
    assert discord_list.reads == 1
    discord_list.members.discard(BOB)  # Bob takes his interest back; after a minute the list is read again
    clock.now += 2
    assert not await remembered.check(EVENT, BOB, discord_list.read)
    assert discord_list.reads == 2
