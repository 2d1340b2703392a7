"""Nominations on both backends: who may nominate, one nomination per film, the per-member limit, approval,
moderation (approve, reject, ban), withdrawing, the list, polls from nominations and the winner marked chosen, and a
new film written with its nomination or not at all."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core import candidates, config, nominations, polls
from bot.core.catalog import load_catalog
from bot.core.errors import PermissionDenied, UserError
from bot.core.films import ServerTitles, build_title_index, get_film
from bot.core.guilds import GuildSettings
from bot.core.nominations import Action, Status
from bot.core.search import TitleIndex
from bot.core.server_films import ServerFilmEntry
from bot.core.timers import TimerService
from bot.db.database import Database, open_database
from tests.catalog_builder import film, theme, to_toml, write_catalog
from tests.clocks import StepClock

GUILD = 1 << 60
ALICE, BOB, MAYA = 11, 12, 13
NOMINATOR_ROLE = 77
MEMBER = {"manage_guild": False, "role_ids": ()}
MODERATOR = {"manage_guild": True, "role_ids": ()}


@pytest.fixture
async def ids(db: Database, tmp_path: Path) -> dict[str, int]:
    films = [film(f"film-{n}", title=f"Film {n}", year=1990 + n, themes=["noir"]) for n in range(1, 7)]
    files = {"themes.toml": to_toml(themes=[theme("noir")]), "films.toml": to_toml(films=films)}
    await load_catalog(db, write_catalog(tmp_path / "catalog", files))
    return {row["slug"]: int(row["id"]) for row in await db.fetchall("SELECT id, slug FROM films")}


@pytest.fixture
async def curated(db: Database, ids: dict[str, int]) -> TitleIndex:
    del ids
    return await build_title_index(db)


SETTINGS = GuildSettings(GUILD)


async def test_one_nomination_per_film_and_the_limit(db: Database, clock: StepClock, ids: dict[str, int]) -> None:
    made = await nominations.nominate(db, clock, SETTINGS, ids["film-1"], ALICE, **MEMBER)
    assert made.nomination.status == Status.APPROVED  # approval is off by default
    with pytest.raises(UserError, match=r"already nominated \(#\d+, by you, approved\)"):
        await nominations.nominate(db, clock, SETTINGS, ids["film-1"], ALICE, **MEMBER)
    with pytest.raises(UserError, match=f"by <@{ALICE}>"):
        await nominations.nominate(db, clock, SETTINGS, ids["film-1"], BOB, **MEMBER)
    await nominations.nominate(db, clock, SETTINGS, ids["film-2"], ALICE, **MEMBER)
    await nominations.nominate(db, clock, SETTINGS, ids["film-3"], ALICE, **MEMBER)
    with pytest.raises(UserError, match="You already have 3 open nominations"):
        await nominations.nominate(db, clock, SETTINGS, ids["film-4"], ALICE, **MEMBER)
    assert await db.fetchval("SELECT count(*) FROM nominations") == 3


async def test_role_approval_and_moderation(db: Database, clock: StepClock, ids: dict[str, int]) -> None:
    settings = replace(SETTINGS, nominations_approval=True, nominator_role_id=NOMINATOR_ROLE)
    with pytest.raises(PermissionDenied, match=f"<@&{NOMINATOR_ROLE}>"):
        await nominations.nominate(db, clock, settings, ids["film-1"], ALICE, **MEMBER)
    made = await nominations.nominate(
        db, clock, settings, ids["film-1"], ALICE, manage_guild=False, role_ids=(NOMINATOR_ROLE,)
    )
    assert made.nomination.status == Status.PENDING
    number = made.nomination.id
    with pytest.raises(PermissionDenied):
        await nominations.decide(db, clock, settings, number, Action.APPROVE, BOB, **MEMBER)
    approved = await nominations.decide(db, clock, settings, number, Action.APPROVE, MAYA, **MODERATOR)
    assert (approved.status, approved.decided_by) == (Status.APPROVED, MAYA)
    with pytest.raises(UserError, match="already approved"):
        await nominations.decide(db, clock, settings, number, Action.APPROVE, MAYA, **MODERATOR)
    await nominations.decide(db, clock, settings, number, Action.REJECT, MAYA, **MODERATOR)
    reopened = await nominations.nominate(db, clock, settings, ids["film-1"], BOB, **MODERATOR)
    assert reopened.reopened and reopened.nomination.id == number and reopened.nomination.member_id == BOB
    await nominations.decide(db, clock, settings, number, Action.BAN, MAYA, **MODERATOR)
    with pytest.raises(UserError, match="banned"):
        await nominations.nominate(db, clock, settings, ids["film-1"], ALICE, **MODERATOR)


async def test_withdraw(db: Database, clock: StepClock, ids: dict[str, int]) -> None:
    made = await nominations.nominate(db, clock, SETTINGS, ids["film-1"], ALICE, **MEMBER)
    with pytest.raises(PermissionDenied):
        await nominations.withdraw(db, SETTINGS, made.nomination.id, BOB, **MEMBER)
    await nominations.withdraw(db, SETTINGS, made.nomination.id, ALICE, **MEMBER)
    with pytest.raises(UserError, match="no nomination"):
        await nominations.withdraw(db, SETTINGS, made.nomination.id, ALICE, **MEMBER)


async def test_new_film_with_its_nomination_or_nothing(
    db: Database, clock: StepClock, ids: dict[str, int], curated: TitleIndex
) -> None:
    entry = ServerFilmEntry("Home Movie", 2001, ("Ann Director",))
    made = await nominations.nominate_new(db, clock, curated, SETTINGS, entry, ALICE, **MEMBER)
    assert made.created_film and made.film.is_server_film and made.film.guild_id == GUILD
    # The same film described again is the one already nominated: refused, and no second film.
    with pytest.raises(UserError, match="already nominated"):
        await nominations.nominate_new(db, clock, curated, SETTINGS, ServerFilmEntry("home movie", 2001), BOB, **MEMBER)
    # A curated film described in the form is nominated as itself.
    curated_again = await nominations.nominate_new(
        db, clock, curated, SETTINGS, ServerFilmEntry("Film 2", 1992), BOB, **MEMBER
    )
    assert curated_again.duplicate and curated_again.film.id == ids["film-2"]
    # Over the limit: the film it would have added is not written either.
    limited = replace(SETTINGS, nominations_limit=1)
    before = await db.fetchval("SELECT count(*) FROM films")
    with pytest.raises(UserError, match="You already have 1 open nomination,"):
        await nominations.nominate_new(db, clock, curated, limited, ServerFilmEntry("Other", 2002), ALICE, **MEMBER)
    with pytest.raises(UserError, match="between 1874"):
        await nominations.nominate_new(db, clock, curated, SETTINGS, ServerFilmEntry("Old", 1500), BOB, **MEMBER)
    assert await db.fetchval("SELECT count(*) FROM films") == before
    titles = await ServerTitles(db).for_guild(curated, GUILD)
    assert nominations.find_existing(titles, "Home Movie", None).film_id == made.film.id
    assert nominations.find_existing(titles, "Film 2 (1992)", None).film_id == ids["film-2"]
    assert [e.film_id for e in nominations.find_existing(titles, "Fim 2", 1992).suggestions] == [ids["film-2"]]
    assert nominations.find_existing(titles, "Something else entirely", None) == nominations.Lookup()


async def test_list_and_polls_from_nominations(
    db: Database, clock: StepClock, ids: dict[str, int], timers: TimerService
) -> None:
    settings = (await config.set_nominations(db, clock, timers, GUILD, MAYA, approval=True)).settings
    assert settings.nominations_approval
    with pytest.raises(UserError, match="not enough approved nominations"):
        await candidates.nomination_candidates(db, GUILD)
    made = [
        await nominations.nominate(db, clock, settings, ids[f"film-{n}"], member, **MEMBER)
        for n, member in ((1, ALICE), (2, BOB), (3, ALICE))
    ]
    page = await nominations.list_page(db, GUILD, None, 0)
    assert [entry.film_id for entry in page.entries] == [ids["film-3"], ids["film-2"], ids["film-1"]]
    assert page.films[ids["film-1"]].title == "Film 1" and (page.page, page.pages, page.count) == (0, 1, 3)
    for nominated in made[:2]:
        await nominations.decide(db, clock, settings, nominated.nomination.id, Action.APPROVE, MAYA, **MODERATOR)
    assert await candidates.nomination_candidates(db, GUILD) == [ids["film-1"], ids["film-2"]]
    film_ids = await candidates.resolve_candidates(
        db, await ServerTitles(db).for_guild(await build_title_index(db), GUILD), GUILD, named=[], source="nominations"
    )
    poll = await polls.create_poll(
        db,
        clock,
        timers,
        guild_id=GUILD,
        channel_id=5,
        creator_id=MAYA,
        title="Next",
        film_ids=film_ids,
        closes_at=clock.now() + timedelta(days=1),
    )
    await polls.vote(db, clock, poll_id=poll.id, guild_id=GUILD, user_id=BOB, role_ids=(), film_id=ids["film-2"])
    await polls.close_poll(db, clock, poll.id)
    chosen = await nominations.get_nomination(db, GUILD, made[1].nomination.id)
    assert chosen.status == Status.CHOSEN
    assert (await nominations.list_page(db, GUILD, "open", 0)).count == 2
    assert await get_film(db, ids["film-2"]) is not None


async def test_config_nominations_is_recorded(db: Database, clock: StepClock, timers: TimerService) -> None:
    result = await config.set_nominations(db, clock, timers, GUILD, MAYA, limit=5, role_id=NOMINATOR_ROLE)
    assert [change.describe() for change in result.changes] == [
        "Open nominations per member: 3 → 5",
        f"Nominator role: not set → <@&{NOMINATOR_ROLE}>",
    ]
    with pytest.raises(UserError, match="1 to 25"):
        await config.set_nominations(db, clock, timers, GUILD, MAYA, limit=26)
    cleared = await config.set_nominations(db, clock, timers, GUILD, MAYA, clear_role=True)
    assert cleared.settings.nominator_role_id is None and cleared.settings.nominations_limit == 5
    assert (await config.history(db, GUILD))[0].change.setting == "nominator_role_id"


async def test_two_members_nominating_one_film_at_once_get_one_nomination(
    db: Database, db_target: str | Path, clock: StepClock, ids: dict[str, int]
) -> None:
    async with await open_database(db_target) as other:
        results = await asyncio.gather(
            nominations.nominate(db, clock, SETTINGS, ids["film-5"], ALICE, **MEMBER),
            nominations.nominate(other, clock, SETTINGS, ids["film-5"], BOB, **MEMBER),
            return_exceptions=True,
        )
    refused = [result for result in results if isinstance(result, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], UserError), results
    assert "nominated" in refused[0].message
    assert await db.fetchval("SELECT count(*) FROM nominations") == 1
