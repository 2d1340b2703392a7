"""The host rota: members volunteer to host the club's screenings (``/host join``), and each screening planned while
the rota has volunteers gets the next host in turn, stored with the screening.

Turn order is fair and persisted: the volunteer who hosted least recently goes next (a newcomer joins at the back;
among equals, who joined first). A host may offer their next turn to another volunteer (:func:`offer_swap`); when the
other accepts (:func:`answer_swap`), the offered screening and the other's next one change hosts (or, when the other
has no turn coming, their places in the rotation change). A volunteer who leaves the rota or the server
(:func:`drop_volunteer`) hands their screenings still to come to the next volunteers in turn. A screening called off
before it began, or that failed to be set up, gives its host their turn back (:func:`give_turn_back_in`): they host
next. An offer still open is void once its turn can no longer change hands (:func:`void_swaps_in`: the screening began,
was called off or failed, its host changed, or a newer offer of it was made) or when either member leaves the rota; the
offer's row stays, as the rota's history.

Functions that change screenings' hosts return the ids of those screenings, so the caller can edit their events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.core.clock import Clock, to_db
from bot.core.errors import NotFoundError, UserError
from bot.db import hosts as hosts_db
from bot.db.database import Database, Reader, Transaction
from bot.db.hosts import Swap, Volunteer

__all__ = [
    "Answer",
    "Rota",
    "Swap",
    "Volunteer",
    "answer_swap",
    "assign_host",
    "drop_volunteer",
    "give_turn_back_in",
    "join",
    "offer_swap",
    "rota",
    "void_swaps_in",
    "volunteer_ids",
]

#: How many of the screenings still to come ``/host list`` shows with their hosts (and how many open swap offers).
ROTA_UPCOMING = 10
#: The answer to a click on an offer that is void (or found so when answered).
NO_LONGER_APPLIES = "This swap no longer applies: the screening or the rota has changed since it was offered."


async def volunteer_ids(db: Reader, guild_id: int) -> list[int]:
    """The volunteers in turn order: who hosts the next screening first."""
    return [v.user_id for v in await hosts_db.volunteers(db, guild_id)]


async def join(db: Database, clock: Clock, guild_id: int, user_id: int) -> int:
    """Volunteer to host; returns the member's place in turn (1: hosts next). Joining twice is refused."""
    if not await hosts_db.join(db, guild_id, user_id, to_db(clock.now())):
        raise UserError("You are already on the host rota. (`/host leave` takes you off it.)")
    return (await volunteer_ids(db, guild_id)).index(user_id) + 1


async def drop_volunteer(db: Database, clock: Clock, guild_id: int, user_id: int) -> list[int] | None:
    """Take a volunteer off the rota (they left it, left the server, or a moderator removed them); their screenings
    still to come go to the next volunteers in turn (or to no host when none is left). Returns the ids of those
    screenings, or None if the member was not a volunteer."""
    async with db.transaction() as tx:
        return await drop_volunteer_in(tx, clock, guild_id, user_id)


async def drop_volunteer_in(tx: Transaction, clock: Clock, guild_id: int, user_id: int) -> list[int] | None:
    """:func:`drop_volunteer` in the caller's transaction (a member deleting their data leaves the rota so)."""
    if not await hosts_db.leave(tx, guild_id, user_id):
        return None
    turns = await hosts_db.upcoming_turns(tx, guild_id, user_id, to_db(clock.now()))
    for screening_id in turns:
        await hosts_db.set_host(tx, screening_id, await hosts_db.take_turn(tx, guild_id))
    await hosts_db.void_swaps_of_member(tx, guild_id, user_id)
    await hosts_db.void_swaps_of(tx, turns)
    return turns


async def assign_host(tx: Transaction, guild_id: int, screening_id: int) -> int | None:
    """Give a newly planned screening the volunteer whose turn it is, in the transaction that stores it; None (and no
    host) when the rota is empty."""
    host_id = await hosts_db.take_turn(tx, guild_id)
    if host_id is not None:
        await hosts_db.set_host(tx, screening_id, host_id)
    return host_id


async def give_turn_back_in(tx: Transaction, now: datetime, guild_id: int, host_id: int, screening_id: int) -> bool:
    """A screening is being called off (cancelled, or failed to be set up): if it is one of ``host_id``'s turns
    still to come, they have their place back: first in turn, so they host the next screening planned. Called in the
    cancelling (failing) transaction, before the screening is marked so; whether the host was put first (False: the
    screening had begun, was already off, or its host has left the rota since)."""
    if screening_id not in await hosts_db.upcoming_turns(tx, guild_id, host_id, to_db(now)):
        return False
    return await hosts_db.put_first(tx, guild_id, host_id)


async def void_swaps_in(tx: Database | Transaction, screening_id: int) -> int:
    """The screening's turn can no longer change hands (it began, was called off or failed): its offers still open
    are void (their buttons say the offer no longer applies). In the caller's transaction; how many were open."""
    return await hosts_db.void_swaps_of(tx, [screening_id])


@dataclass(frozen=True)
class Rota:
    """``/host list``: the volunteers in turn order, who hosts the screenings still to come, and the swap offers
    still waiting for an answer."""

    volunteers: list[int]
    upcoming: list[tuple[int, int]]  # (screening id, host id), soonest first
    offers: list[Swap] = field(default_factory=list)  # oldest first


async def rota(db: Reader, clock: Clock, guild_id: int) -> Rota:
    upcoming = await hosts_db.upcoming_hosts(db, guild_id, to_db(clock.now()))
    # An offer is shown while its turn is still the offerer's to give (one whose start passed while the bot was
    # away is void once answered).
    turns = set(upcoming)
    offers = [o for o in await hosts_db.open_swaps(db, guild_id) if (o.screening_id, o.from_user) in turns]
    return Rota(await volunteer_ids(db, guild_id), upcoming[:ROTA_UPCOMING], offers[:ROTA_UPCOMING])


async def offer_swap(db: Database, clock: Clock, guild_id: int, from_user: int, to_user: int) -> Swap:
    """Offer the host's next turn to another volunteer (who answers with Accept or Decline). An earlier offer of the
    same turn still open is void: the newest offer is the one that stands."""
    if from_user == to_user:
        raise UserError("You can't swap with yourself: pick another volunteer.")
    if await hosts_db.volunteer(db, guild_id, from_user) is None:
        raise UserError("You are not on the host rota. (`/host join` to volunteer.)")
    if await hosts_db.volunteer(db, guild_id, to_user) is None:
        raise UserError("That member is not on the host rota: you can only swap with another volunteer.")
    now = to_db(clock.now())
    turns = await hosts_db.upcoming_turns(db, guild_id, from_user, now)
    if not turns:
        raise UserError("You have no upcoming screening to host, so there is no turn to swap.")
    async with db.transaction() as tx:
        await hosts_db.void_swaps_of(tx, turns[:1])
        swap_id = await hosts_db.offer(tx, guild_id, turns[0], from_user, to_user, now)
    return Swap(swap_id, guild_id, turns[0], from_user, to_user, "offered", now)


class Answer(StrEnum):
    ACCEPT = "accepted"
    DECLINE = "declined"


async def answer_swap(db: Database, clock: Clock, swap_id: int, user_id: int, answer: Answer) -> list[int]:
    """The offered volunteer accepts or declines. On accept, the offered screening gets them as host, and their own
    next screening (if any) gets the one who offered; with none, the two change places in the rotation. Returns the
    ids of the screenings whose host changed (other offers of those turns still open are void). Refused: not the member
    offered, an offer already answered, or one that no longer applies (void: the screening began, was called off or
    failed, a newer offer of it was made, or the turn is no longer the offerer's)."""
    offered = await hosts_db.swap(db, swap_id)
    if offered is None:
        raise NotFoundError("That swap offer no longer exists.")
    if user_id != offered.to_user:
        raise UserError("This swap offer is for another member.")
    if offered.status == "void":
        raise UserError(NO_LONGER_APPLIES)
    if offered.status != "offered":
        raise UserError("This swap offer has already been answered.")
    now = to_db(clock.now())
    async with db.transaction() as tx:
        if answer is Answer.DECLINE:
            if not await hosts_db.settle(tx, swap_id, answer.value):
                raise UserError("This swap offer has already been answered.")
            return []
        mine = await hosts_db.upcoming_turns(tx, offered.guild_id, offered.from_user, now)
        giver = await hosts_db.volunteer(tx, offered.guild_id, offered.from_user)
        taker = await hosts_db.volunteer(tx, offered.guild_id, offered.to_user)
        if offered.screening_id not in mine or giver is None or taker is None:
            await hosts_db.settle(tx, swap_id, "void")
            raise UserError(NO_LONGER_APPLIES)
        if not await hosts_db.settle(tx, swap_id, answer.value):
            raise UserError("This swap offer has already been answered.")
        theirs = await hosts_db.upcoming_turns(tx, offered.guild_id, offered.to_user, now)
        await hosts_db.set_host(tx, offered.screening_id, offered.to_user)
        if theirs:
            await hosts_db.set_host(tx, theirs[0], offered.from_user)
            await hosts_db.void_swaps_of(tx, [offered.screening_id, theirs[0]])
            return [offered.screening_id, theirs[0]]
        await hosts_db.void_swaps_of(tx, [offered.screening_id])
        await hosts_db.set_turn(tx, offered.guild_id, offered.from_user, taker.turn)
        await hosts_db.set_turn(tx, offered.guild_id, offered.to_user, giver.turn)
        return [offered.screening_id]
