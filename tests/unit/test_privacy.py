"""A member's data (bot/core/privacy.py) on both backends, in a club that used every feature (test_db_copy's
``fill_club``): what /privacy show counts, what the export holds, and that deleting a member's data removes theirs
and nothing else, in every classified table: other members' and other servers' rows stay, closed polls' results
stand, open polls lose the ballot."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core import hosts, polls, privacy, reviews, screenings, web_pages
from bot.core.club_page import club_page
from bot.core.errors import NotFoundError
from bot.core.recommend import Recommender
from bot.core.stats import club_stats
from bot.core.timers import TimerService
from bot.db import ownership
from bot.db import polls as polls_db
from bot.db import privacy as store
from bot.db.database import Database
from tests.clocks import StepClock
from tests.tmdb_double import TmdbDouble
from tests.unit.test_db_copy import ALICE, BOB, CHANNEL, GUILD, MAYA, OTHER_GUILD, VOICE, fill_club

CAROL = 13


async def table_counts(db: Database) -> dict[str, int]:
    return {o.table: int(await db.fetchval(f"SELECT count(*) FROM {o.table}")) for o in ownership.OWNED}


async def member_rows(db: Database, user_id: int) -> dict[tuple[int, str, str], int]:
    """Every (server, table, column) count of a member's rows, every role."""
    found: dict[tuple[int, str, str], int] = {}
    for guild_id in (GUILD, OTHER_GUILD):
        for (table, column), n in (await store.counts(db, guild_id, user_id)).items():
            found[(guild_id, table, column)] = n
    return found


@pytest.fixture
async def club(db: Database, tmp_path: Path, tmdb_double: TmdbDouble) -> dict[str, int]:
    """fill_club, plus an open poll where Alice and Carol voted; returns the polls' ids."""
    await fill_club(db, tmp_path / "catalog", tmdb_double)
    clock = StepClock()
    ids = [int(r[0]) for r in await db.fetchall("SELECT id FROM films WHERE guild_id IS NULL ORDER BY id")]
    open_poll = await polls.create_poll(
        db,
        clock,
        TimerService(db, clock),
        guild_id=GUILD,
        channel_id=CHANNEL,
        creator_id=MAYA,
        title="Next week",
        film_ids=ids[:2],
        closes_at=clock.now() + timedelta(days=3),
    )
    for user in (ALICE, CAROL):
        await polls.vote(db, clock, poll_id=open_poll.id, guild_id=GUILD, user_id=user, role_ids=(), film_id=ids[0])
    closed = await db.fetchval(
        "SELECT id FROM polls WHERE guild_id = CAST(? AS BIGINT) AND status = 'closed'", (GUILD,)
    )
    return {"open": open_poll.id, "closed": int(closed)}


async def test_show_counts_each_kind_in_that_server_only(db: Database, club: dict[str, int]) -> None:
    data = await privacy.member_data(db, GUILD, ALICE)
    shown = {kind.label: kind.count for kind in data.kinds}
    assert shown["ratings and reviews"] == 1 and data.written_reviews == 1
    assert shown["public review posts"] == 1
    assert shown["films on your watchlist"] == 1
    assert shown["poll ballots"] == 2  # the closed poll and the open one
    assert shown["nominations"] == 1
    assert shown["screenings attended"] == 1
    assert shown["place on the host rota"] == 1
    assert shown["/tonight groups naming you"] == 1
    assert data.records >= 1  # the host swap she offered: the server's record, kept
    assert data.page.public
    other = await privacy.member_data(db, OTHER_GUILD, ALICE)
    assert {kind.label: kind.count for kind in other.kinds} == {"ratings and reviews": 1}
    assert not other.page.public
    assert (await privacy.member_data(db, GUILD, 999)).empty
    assert await privacy.servers_with_data(db, ALICE) == sorted([GUILD, OTHER_GUILD])


async def test_delete_takes_the_members_rows_and_nothing_else(db: Database, club: dict[str, int]) -> None:
    before_tables = await table_counts(db)
    alice_before, bob_before, carol_before = [await member_rows(db, u) for u in (ALICE, BOB, CAROL)]
    closed = await polls.get_poll(db, club["closed"])
    assert closed is not None and closed.result is not None
    closed_ballots = sorted(await polls_db.cast_ballots(db, club["closed"]))
    film_totals = await reviews.film_ratings(db, GUILD)
    stats_before = await club_stats(db, GUILD)
    assert ALICE in {m.user_id for m in stats_before.most_active}
    page = await web_pages.web_page(db, GUILD)
    assert "Très bien 🎬" in {card.body for card in (await club_page(db, StepClock(), page)).reviews}

    group_id = await Recommender(db).remember_group(GUILD, {ALICE: "Alice", BOB: "Bob"})  # fill_club's group

    [erased] = await privacy.delete(db, StepClock(), [GUILD], ALICE)

    assert erased.open_polls == (club["open"],) and erased.anonymised == 1
    assert erased.review_posts == ((CHANNEL, 9),)
    # Alice's own data and ballots in that server are gone; what she did for the server (ACTOR records) stays.
    alice_after = await member_rows(db, ALICE)
    roles = {(o.table, c): r for o in ownership.OWNED for c, r in o.members.items()}
    assert {
        k: n for k, n in alice_after.items() if k[0] == GUILD and roles.get(k[1:]) is not ownership.Role.ACTOR
    } == {}
    assert {k: n for k, n in alice_after.items() if k[0] == GUILD} == {
        k: n for k, n in alice_before.items() if k[0] == GUILD and roles.get(k[1:]) is ownership.Role.ACTOR
    }
    # Her other server, and the other members, untouched.
    assert {k: n for k, n in alice_after.items() if k[0] == OTHER_GUILD} == {
        k: n for k, n in alice_before.items() if k[0] == OTHER_GUILD
    }
    # The /tonight group remembered for Alice and Bob stays Bob's, without her (its page buttons keep working).
    assert erased.taken_out == {"tonight_groups": 1} and "tonight_groups" not in erased.deleted
    assert await Recommender(db).group(GUILD, group_id) == {BOB: "Bob"}
    assert await member_rows(db, BOB) == bob_before
    assert await member_rows(db, CAROL) == carol_before
    # Row counts per table: exactly Alice's rows left (the anonymised ballot stays, her review's totals follow it).
    gone = {
        table: n
        for (guild, table, column), n in alice_before.items()
        if guild == GUILD and roles.get((table, column)) is not ownership.Role.ACTOR
    }
    gone["ballots"] -= 1  # the closed poll's, kept anonymously
    gone["tonight_groups"] -= 1  # Bob's group, kept without her
    gone.pop("review_film_totals", None)
    after_tables = await table_counts(db)
    changed = {t: before_tables[t] - after_tables[t] for t in before_tables if before_tables[t] != after_tables[t]}
    expected = {t: n for t, n in gone.items() if n}
    expected["review_film_totals"] = 0  # Bob's review of the same film keeps the film's totals row
    assert changed == {t: n for t, n in expected.items() if n}
    # The closed poll: same result, same ballots' choices, no ballot under Alice's id.
    still = await polls.get_poll(db, club["closed"])
    assert still is not None and still.result == closed.result
    assert sorted(await polls_db.cast_ballots(db, club["closed"])) == closed_ballots
    assert await polls.ballot_count(db, club["closed"]) == len(closed_ballots)
    # The open poll lost her ballot, kept Carol's.
    assert await polls.ballot_of(db, club["open"], ALICE) == ()
    assert await polls.ballot_of(db, club["open"], CAROL) != ()
    # The club's ratings no longer count hers.
    after_totals = await reviews.film_ratings(db, GUILD)
    assert sum(s.count for s in after_totals.values()) == sum(s.count for s in film_totals.values()) - 1
    assert (await privacy.member_data(db, GUILD, ALICE)).kinds == ()
    # Stats and the public club page stop showing her.
    stats_after = await club_stats(db, GUILD)
    assert stats_after.reviewers == stats_before.reviewers - 1
    assert ALICE not in {m.user_id for m in stats_after.most_active}
    assert "Très bien 🎬" not in {card.body for card in (await club_page(db, StepClock(), page)).reviews}


async def test_delete_takes_the_member_out_of_tonight_groups_and_drops_only_those_left_empty_or_twice(
    db: Database,
) -> None:
    recommender = Recommender(db)
    names = {ALICE: "Alice", BOB: "Bob", CAROL: "Carøl 🎬"}

    async def remember(*members: int, guild: int = GUILD) -> int:
        return await recommender.remember_group(guild, {m: names[m] for m in members})

    with_bob, alone, three, bob_carol = [
        await remember(*g) for g in ((BOB, ALICE), (ALICE,), (ALICE, BOB, CAROL), (BOB, CAROL))
    ]
    elsewhere = await remember(ALICE, BOB, guild=OTHER_GUILD)

    [erased] = await privacy.delete(db, StepClock(), [GUILD], ALICE)

    assert erased.taken_out == {"tonight_groups": 1}  # Bob's group, same id: its buttons keep working
    assert erased.deleted == {"tonight_groups": 2}  # hers alone, and the three's: now Bob and Carol's own group
    assert await recommender.group(GUILD, with_bob) == {BOB: "Bob"}
    assert await recommender.group(GUILD, bob_carol) == {BOB: "Bob", CAROL: "Carøl 🎬"}
    for gone in (alone, three):
        with pytest.raises(NotFoundError, match="no longer known"):
            await recommender.group(GUILD, gone)
    assert await remember(BOB) == with_bob  # asking again for Bob alone finds the row he was left in
    assert await recommender.group(OTHER_GUILD, elsewhere) == {ALICE: "Alice", BOB: "Bob"}  # another server: kept
    assert (await privacy.member_data(db, GUILD, ALICE)).empty


async def test_delete_everywhere_and_again(db: Database, club: dict[str, int]) -> None:
    guilds = await privacy.servers_with_data(db, ALICE)
    erased = await privacy.delete(db, StepClock(), guilds, ALICE)
    assert [e.guild_id for e in erased] == guilds
    assert await privacy.servers_with_data(db, ALICE) == []
    nothing = store.Erased(GUILD, {}, (), 0, ())
    assert await privacy.delete(db, StepClock(), [GUILD], ALICE) == [nothing]  # nothing left to do


async def test_a_host_who_deletes_their_data_leaves_the_rota_and_their_turns_pass_on(
    db: Database, club: dict[str, int]
) -> None:
    clock = StepClock()
    clock.moment = clock.now() + timedelta(days=30)  # after fill_club's screening
    timers = TimerService(db, clock)
    film_id = int(await db.fetchval("SELECT min(id) FROM films WHERE guild_id IS NULL"))
    planned = [
        await screenings.plan_screening(
            db,
            clock,
            timers,
            guild_id=GUILD,
            film_id=film_id,
            starts_at=clock.now() + timedelta(days=days),
            announce_channel_id=CHANNEL,
            channel_id=VOICE,
        )
        for days in (3, 10)
    ]
    hosts_before = {s.id: s.host_id for s in planned}
    assert set(hosts_before.values()) == {ALICE, BOB}
    [erased] = await privacy.delete(db, clock, [GUILD], ALICE)
    alices = [sid for sid, host in hosts_before.items() if host == ALICE]
    assert erased.rehosted == tuple(alices)
    after = {sid: (await screenings.require_screening(db, sid)).host_id for sid in hosts_before}
    assert after == dict.fromkeys(hosts_before, BOB)  # Bob, the one volunteer left, takes her turn
    assert ALICE not in await hosts.volunteer_ids(db, GUILD)


async def test_export_holds_the_members_rows_only(db: Database, club: dict[str, int]) -> None:
    clock = StepClock()
    document = json.loads(await privacy.export(db, clock, [GUILD, OTHER_GUILD], ALICE))
    assert document["member_id"] == str(ALICE) and document["format"] == 1
    first, second = document["servers"]
    assert first["server_id"] == str(GUILD) and first["club_page_public"] and first["club_page_shows_member_names"]
    [review] = first["data"]["reviews"]
    assert review["body"] == "Très bien 🎬" and review["rating"] == 9 and review["film"].startswith("Nuit 1")
    assert review["guild_id"] == str(GUILD)  # beyond 2^53: text, so JavaScript reads it exactly
    assert {b["user_id"] for b in first["data"]["ballots"]} == {ALICE}
    assert first["data"]["tonight_groups"] == [{"members": [[ALICE, "Alice"], [BOB, "Bob"]]}]
    assert first["server_records_naming_you"] >= 1
    assert set(second["data"]) == {"reviews", "review_member_totals"}
    text = json.dumps(document)
    assert "||x||" not in text  # Bob's review
    assert privacy.export_name(ALICE, clock.now()).endswith(".json")
