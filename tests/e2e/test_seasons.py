"""/season through the loopback Discord: a moderator programmes a season and everyone sees its page; members cannot
create or end one; bad input (a season longer than a year, a start in the past, notes too long, an unknown theme)
is answered ephemerally and writes nothing.

One bot serves the module; the tests run in order and the last ends the season the earlier ones made.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from bot.core.schedule import WEEKDAYS

from .fake_discord import FakeMember
from .fake_discord.store import StoredMessage
from .harness import DiscordDriver, ModuleBot, Reply, default_bot_kind, module_bot

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

THEME = "live-on-stage"


class Club(ModuleBot):
    def counts(self) -> tuple[int, int]:
        """(seasons, season films): what a refused command must leave unchanged."""
        return (
            int(self.query("SELECT count(*) FROM seasons")[0][0]),
            int(self.query("SELECT count(*) FROM season_films")[0][0]),
        )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def club(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Club]:
    if default_bot_kind() != "real":
        pytest.skip("seasons need the real bot")
    async with module_bot(tmp_path_factory.mktemp("seasons-e2e")) as (fake, bot):
        yield Club(fake, DiscordDriver(fake), bot)


@pytest.fixture(autouse=True)
def _show_bot_output(request: pytest.FixtureRequest, club: Club) -> None:
    request.node._e2e_bots = [club.bot]


async def run(ctx: Club, path: str, who: FakeMember, /, **options: Any) -> Reply:
    return await ctx.discord.command(f"/{path}", member=who, options=options)


async def test_no_season_yet(club: Club) -> None:
    reply = await run(club, "season show", club.fake.world.alice)
    assert reply.ephemeral and "No season is running or programmed" in reply.text
    ended = await run(club, "season end", club.fake.world.moderator)
    assert ended.ephemeral and "nothing to end" in ended.text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"weeks": 60}, "longer than a year"),
        ({"weeks": 0}, "1 to 52 weeks"),
        ({"start": "2020-01-01 20:00"}, "in the past"),
        ({"start": "in 400 days"}, "too far ahead"),
        ({"start": "whenever"}, "couldn't read"),
        ({"notes": "x" * 501}, "programme notes"),
        ({"theme": "no such theme at all"}, "theme"),
    ],
)
async def test_bad_input_is_refused_ephemerally_and_nothing_is_written(
    club: Club, options: dict[str, Any], message: str
) -> None:
    values: dict[str, Any] = {"theme": THEME, "weeks": 4, "start": "3d"}
    values.update(options)
    reply = await run(club, "season create", club.fake.world.moderator, **values)
    assert reply.ephemeral and message in reply.text, reply.text
    assert club.counts() == (0, 0)


async def test_members_cannot_create_or_end(club: Club) -> None:
    reply = await run(club, "season create", club.fake.world.alice, theme=THEME, weeks=4, start="3d")
    assert reply.ephemeral and "Only moderators can do that" in reply.text
    assert club.counts() == (0, 0)


async def test_a_moderator_programmes_a_season_and_members_see_it(club: Club) -> None:
    world = club.fake.world
    made = await run(
        club, "season create", world.moderator, theme=THEME, weeks=4, start="3d", notes="Loud ones first @everyone"
    )
    assert not made.ephemeral, made.text
    assert made.embed["title"] == "Season · Live on Stage"
    assert "Starts soon · 4 weeks" in made.text and "Running order: a fixed film each week." in made.text
    assert made.message is not None and made.message.would_ping() == ([], [], False)
    assert club.counts() == (1, 4)
    first = int(club.query("SELECT film_id FROM season_films WHERE week = 1")[0][0])
    title = str(club.query("SELECT title FROM films WHERE id = ?", (first,))[0][0])

    shown = await run(club, "season show", world.bob)
    assert not shown.ephemeral
    assert "Week 1 ·" in shown.text and "Week 4 ·" in shown.text and title in shown.text
    assert "Loud ones first" in shown.text

    again = await run(club, "season create", world.moderator, theme=THEME, weeks=2, start="2w", mode="poll")
    assert again.ephemeral and "already has a season" in again.text
    assert club.counts() == (1, 4)

    refused = await run(club, "season end", world.carol)
    assert refused.ephemeral and "Only moderators can do that" in refused.text
    ended = await run(club, "season end", world.moderator)
    assert ended.ephemeral and "Ended the season **Live on Stage**" in ended.text
    after = await run(club, "season show", world.alice)
    assert after.ephemeral and "No season is running" in after.text

    # A poll season needs somewhere to post its polls.
    refused = await run(club, "season create", world.moderator, theme=THEME, weeks=52, start="1w", mode="poll")
    assert refused.ephemeral and "needs a channel for its polls" in refused.text
    assert club.counts() == (1, 4)
    await run(club, "config channel", world.moderator, kind="polls", channel=world.polls)
    poll = await run(club, "season create", world.moderator, theme=THEME, weeks=52, start="1w", mode="poll")
    assert not poll.ephemeral and "a poll each week among the theme's films" in poll.text
    assert "Week 1 ·" in poll.text and "a poll opens" in poll.text  # in four days: three before week 1 starts
    assert club.counts() == (2, 4)
    assert club.query("SELECT count(*) FROM polls") == [(0,)]


def buttons(message: StoredMessage) -> list[str]:
    return [item["label"] for row in message.components for item in row["components"] if item.get("label")]


async def test_a_poll_season_opens_its_weeks_poll_and_shows_the_winner_across_a_restart(club: Club) -> None:
    """Week 1's poll opens by itself (its timer) in #polls among the theme's films; members vote with its buttons, a
    moderator ends it, and the season page names the winner as the week's film. After a restart (kill -9) the week
    still has exactly one poll, and week 2's timer is armed once."""
    world = club.fake.world
    await run(club, "season end", world.moderator)
    made = await run(club, "season create", world.moderator, theme=THEME, weeks=2, start="2h", mode="poll")
    assert not made.ephemeral, made.text
    message = await club.discord.wait_for_message(
        world.polls, lambda m: "week 1 of 2" in json.dumps(m.embeds), timeout=15
    )
    labels = buttons(message)
    assert len(labels) >= 2 and all(label[0].isdigit() for label in labels[:2]), labels
    poll_id = int(club.query("SELECT poll_id FROM season_polls")[0][0])
    for member in (world.alice, world.bob):
        await club.discord.click(message, labels[1], member=member)
    winner = labels[1].split(". ", 1)[1]
    shown = await run(club, "season show", world.carol)
    assert f"poll #{poll_id} open" in shown.text, shown.text

    ended = await run(club, "poll end", world.moderator, poll=poll_id)
    assert "is closed" in ended.text, ended.text
    await club.discord.wait_for_message(world.polls, lambda m: m.id > message.id and bool(m.attachments))
    shown = await run(club, "season show", world.carol)
    assert f"{winner} (won poll #{poll_id})" in shown.text, shown.text
    assert "Next" in shown.text and "Week 2 ·" in shown.text

    await club.bot.restart(hard=True)
    again = await run(club, "season show", world.alice)
    assert f"{winner} (won poll #{poll_id})" in again.text
    assert club.query("SELECT count(*) FROM polls WHERE title LIKE '%week 1 of 2'") == [(1,)]
    pending = club.query("SELECT key FROM timers WHERE kind = 'seasons.poll' AND done_at IS NULL ORDER BY key")
    assert [key for (key,) in pending] == [f"{club.query('SELECT max(id) FROM seasons')[0][0]}:2"]


async def test_an_open_week_poll_moves_with_its_night_moved_in_discord(club: Club) -> None:
    """With a regular night in week 1, that week's poll closes two hours before it; a moderator moves the night's
    event in Discord an hour later, and the open poll's deadline follows: stored, and shown on its message."""
    world = club.fake.world
    await run(club, "season end", world.moderator)
    night = (datetime.now(UTC) + timedelta(hours=26)).replace(second=0, microsecond=0)
    configured = await run(
        club,
        "config screenings",
        world.moderator,
        day=WEEKDAYS[night.weekday()],
        time=f"{night:%H:%M}",
        channel=world.voice,
    )
    assert "Screening night" in configured.text, configured.text
    await club.discord.wait_until(
        lambda: any(e for e in club.fake.scheduled_events.values() if _starts(e) == night),
        timeout=30,
        what="the night's event",
    )
    event_id = next(int(i) for i, e in club.fake.scheduled_events.items() if _starts(e) == night)
    made = await run(club, "season create", world.moderator, theme=THEME, weeks=1, start="2h", mode="poll")
    assert not made.ephemeral, made.text
    message = await club.discord.wait_for_message(
        world.polls, lambda m: "week 1 of 1" in json.dumps(m.embeds), timeout=15
    )
    first_close = night - timedelta(hours=2)
    assert f"<t:{int(first_close.timestamp())}:F>" in json.dumps(message.embeds)

    moved_to = night + timedelta(hours=1)
    await club.fake.edit_event_as_moderator(
        event_id,
        scheduled_start_time=moved_to.isoformat(),
        scheduled_end_time=(moved_to + timedelta(hours=3)).isoformat(),
    )
    new_close = moved_to - timedelta(hours=2)
    await club.discord.wait_until(
        lambda: f"<t:{int(new_close.timestamp())}:F>" in json.dumps(club.fake.messages[message.id].embeds),
        timeout=30,
        what="the poll's message to show its new deadline",
    )
    ((closes_at,),) = club.query(
        "SELECT p.closes_at FROM polls p JOIN season_polls sp ON sp.poll_id = p.id WHERE p.title LIKE '%week 1 of 1'"
    )
    assert datetime.strptime(closes_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) == new_close
    await run(club, "season end", world.moderator)
    await run(club, "config screenings", world.moderator, off=True)


def _starts(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(event["scheduled_start_time"]).replace("Z", "+00:00"))
