"""/config and /setup through the loopback Discord: moderators only, validation that names the problem, history.

One bot process serves the whole module (the tests only read and write configuration), so they share its state: each
test sets what it relies on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio

from .fake_discord import ChannelType, FakeChannel, FakeDiscord, Perm
from .harness import BotProcess, DiscordDriver, Reply, default_bot_kind

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


@dataclass
class Club:
    fake: FakeDiscord
    discord: DiscordDriver
    bot: BotProcess
    locked: FakeChannel  # the bot's role is denied Send Messages here
    no_embeds: FakeChannel  # ... and Embed Links here


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def club(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Club]:
    if default_bot_kind() != "real":
        pytest.skip("configuration needs the real bot")
    async with FakeDiscord() as fake:
        bot_role = fake.world.bot_role.id
        locked = await fake.add_text_channel(
            "locked", overwrites=[{"id": bot_role, "type": 0, "allow": 0, "deny": Perm.SEND_MESSAGES}]
        )
        no_embeds = await fake.add_text_channel(
            "no-embeds", overwrites=[{"id": bot_role, "type": 0, "allow": 0, "deny": Perm.EMBED_LINKS}]
        )
        workdir = tmp_path_factory.mktemp("config-bot")
        bot = BotProcess(fake, workdir, kind="real", db_path=workdir / "club.db")
        try:
            await bot.start()
            yield Club(fake, DiscordDriver(fake), bot, locked, no_embeds)
        finally:
            await bot.aclose()
        assert not fake.unknown_requests, f"the bot called unknown routes: {fake.unknown_requests}"


def shown(reply: Reply) -> str:
    """What the member sees on the message a component updated (response type 7)."""
    assert reply.message is not None, reply
    return reply.message.text


@pytest.fixture(autouse=True)
def _show_bot_output(request: pytest.FixtureRequest, club: Club) -> None:
    request.node._e2e_bots = [club.bot]  # the conftest hook shows its output under a failed test


async def test_members_cannot_configure_and_are_told_why(club: Club) -> None:
    world = club.fake.world
    for path, options in [
        ("config show", {}),
        ("config channel", {"kind": "picks", "channel": world.general}),
        ("config timezone", {"tz": "Europe/Paris"}),
        ("config picks", {"day": "Monday", "time": "09:00"}),
        ("config screenings", {"off": True}),
        ("config reset", {}),
        ("config unset", {"setting": "Timezone"}),
        ("config history", {}),
        ("setup", {}),
        ("picks preview", {}),
        ("picks now", {}),
    ]:
        reply = await club.discord.invoke(path, as_member=world.alice, **options)
        assert reply.ephemeral, path
        assert "Only moderators can do that: it needs the Manage Server permission" in reply.text, path
    # Nothing was written: the moderator sees no change from Alice in the history.
    history = await club.discord.invoke("config history", as_member=world.moderator)
    assert f"<@{world.alice.id}>" not in history.text


async def test_group_is_hidden_from_members_in_the_client(club: Club) -> None:
    synced = {command["name"]: command for command in club.fake.synced_commands(club.fake.guild)}
    assert int(synced["config"]["default_member_permissions"]) == Perm.MANAGE_GUILD
    assert int(synced["setup"]["default_member_permissions"]) == Perm.MANAGE_GUILD
    assert synced["picks"].get("default_member_permissions") is None  # /picks history is for everyone


async def test_a_channel_the_bot_cannot_post_in_is_refused_with_the_reason(club: Club) -> None:
    world = club.fake.world
    ok = await club.discord.invoke("config channel", as_member=world.moderator, kind="picks", channel=world.picks)
    assert ok.ephemeral
    assert f"<#{world.picks.id}>" in ok.text

    refused = await club.discord.invoke("config channel", as_member=world.moderator, kind="picks", channel=club.locked)
    assert refused.ephemeral
    assert "I can't post in #locked: I'm missing the Send Messages permission there." in refused.text

    embeds = await club.discord.invoke(
        "config channel", as_member=world.moderator, kind="polls", channel=club.no_embeds
    )
    assert "I can't post in #no-embeds: I'm missing the Embed Links permission there." in embeds.text

    current = await club.discord.invoke("config show", as_member=world.moderator)
    assert f"Weekly picks: <#{world.picks.id}>" in current.text
    assert f"<#{club.locked.id}>" not in current.text


async def test_timezones_are_autocompleted_and_typos_get_a_suggestion(club: Club) -> None:
    world = club.fake.world
    choices = await club.discord.autocomplete("/config timezone", "tz", "new yo", member=world.moderator)
    assert choices[0]["value"] == "America/New_York"
    assert choices[0]["name"].startswith("America/New_York (now ")

    typo = await club.discord.invoke("config timezone", as_member=world.moderator, tz="Europe/Londn")
    assert typo.ephemeral
    assert "'Europe/Londn' is not a timezone I know. Did you mean Europe/London" in typo.text

    saved = await club.discord.invoke("config timezone", as_member=world.moderator, tz="europe/london")
    assert "Timezone:" in saved.text and "→ Europe/London" in saved.text


async def test_picks_schedule_is_saved_and_the_next_post_announced(club: Club) -> None:
    world = club.fake.world
    await club.discord.invoke("config channel", as_member=world.moderator, kind="picks", channel=world.picks)
    everything = await club.discord.autocomplete("/config picks", "themes", "", member=world.moderator)
    assert everything[0] == {"name": "All themes, in turn", "value": "all"}
    choices = await club.discord.autocomplete("/config picks", "themes", "conc", member=world.moderator)
    theme = choices[0]["value"]
    assert theme != "all" and "(" in choices[0]["name"]
    more = await club.discord.autocomplete("/config picks", "themes", f"{theme},", member=world.moderator)
    assert all(choice["value"].startswith(f"{theme},") for choice in more)

    reply = await club.discord.invoke(
        "config picks", as_member=world.moderator, day="Friday", time="20:00", count=4, themes=more[0]["value"]
    )
    assert reply.ephemeral
    text = reply.text
    assert "Picks day:" in text and "→ Friday" in text
    assert "Fridays at 20:00" in text
    assert "Next post: <t:" in text

    bad = await club.discord.invoke("config picks", as_member=world.moderator, time="8pm")
    assert "'8pm' is not a time: use 24-hour HH:MM, for example 20:00." in bad.text
    unknown = await club.discord.invoke("config picks", as_member=world.moderator, themes="krautrok")
    assert "No theme named 'krautrok'." in unknown.text


async def test_picks_themes_offer_and_take_the_servers_collections(club: Club) -> None:
    world = club.fake.world
    mod = world.moderator
    await club.discord.invoke("config channel", as_member=mod, kind="picks", channel=world.picks)
    await club.discord.invoke("collection create", as_member=mod, name="Saturday Concerts")
    for film in ("the-last-waltz", "gimme-shelter", "stop-making-sense"):
        await club.discord.invoke("collection add", as_member=mod, collection="Saturday Concerts", film=film)

    offered = await club.discord.autocomplete("/config picks", "themes", "saturday", member=mod)
    key = offered[0]["value"]
    assert offered[0] == {"name": "Saturday Concerts (server collection · 3 films)", "value": key}
    more = await club.discord.autocomplete("/config picks", "themes", f"{key},conc", member=mod)
    assert more and all(choice["value"].startswith(f"{key},") for choice in more)
    saved = await club.discord.invoke(
        "config picks", as_member=mod, day="Friday", time="20:00", themes=more[0]["value"]
    )
    assert "films a week from Saturday Concerts, " in saved.text
    typed = await club.discord.invoke("config picks", as_member=mod, themes="saturday concerts")
    assert "Picks themes: Saturday Concerts, " in typed.text and " → Saturday Concerts\n" in typed.text
    assert "films a week from Saturday Concerts\n" in typed.text

    # Deleting the collection is allowed; the rotation skips it, and /config show says so.
    await club.discord.invoke("collection delete", as_member=mod, collection=key)
    shown = await club.discord.invoke("config show", as_member=mod)
    assert f"from {key} (a deleted collection, skipped)" in shown.text


async def test_every_change_is_in_the_history(club: Club) -> None:
    world = club.fake.world
    await club.discord.invoke("config role", as_member=world.moderator, kind="voter", role=world.member_role)
    reply = await club.discord.invoke("config history", as_member=world.moderator)
    assert reply.ephemeral
    assert reply.embed["title"] == "Configuration history"
    first_line = reply.embed["description"].splitlines()[0]
    assert f"<@{world.moderator.id}>" in first_line
    assert f"Voter role: not set → <@&{world.member_role.id}>" in first_line
    assert reply.message is not None and reply.message.would_ping() == ([], [], False)  # mentions never ping


async def test_a_configured_moderator_role_may_configure(club: Club) -> None:
    world = club.fake.world
    await club.discord.invoke("config role", as_member=world.moderator, kind="moderator", role=world.member_role)
    allowed = await club.discord.invoke("config show", as_member=world.alice)
    assert allowed.embed["title"] == "Club configuration"
    await club.discord.invoke("config role", as_member=world.moderator, kind="moderator")  # unset
    refused = await club.discord.invoke("config show", as_member=world.alice)
    assert "Only moderators" in refused.text


async def test_setup_walks_through_channels_timezone_and_schedule(club: Club) -> None:
    world = club.fake.world
    panel = await club.discord.invoke("setup", as_member=world.moderator)
    assert panel.ephemeral
    assert panel.embed["title"] == "Set-up · step 1 of 3 · Channels"

    refused = await panel.select("Weekly picks channel", [club.locked])
    assert "missing the Send Messages permission" in refused.text

    saved = await panel.select("Polls channel", [world.polls])
    assert saved.response_type == 7
    assert f"Polls: <#{world.polls.id}>" in shown(saved)

    step2 = await panel.click("Next: timezone")
    assert step2.embed["title"] == "Set-up · step 2 of 3 · Timezone"
    zone = await step2.select("The club's timezone", ["America/Chicago"])
    assert "**America/Chicago**" in shown(zone)

    step3 = await zone.click("Next: weekly picks")
    assert step3.embed["title"] == "Set-up · step 3 of 3 · Weekly picks"
    await step3.select("Day of the week", ["Sunday"])
    await step3.select("Time of day", ["18:00"])
    counted = await step3.select("Films each week", ["5"])
    assert "Sundays at 18:00 (America/Chicago)" in shown(counted)
    assert "5 films a week" in shown(counted)

    other = await step3.click("Finish", member=world.bob, wait="callback")
    assert "This panel belongs to someone else" in other.text  # an ephemeral reply, not an update

    done = await step3.click("Finish")
    assert done.embed["title"] == "Set-up complete"
    assert done.components == []
    history = await club.discord.invoke("config history", as_member=world.moderator)
    assert "Picks time:" in history.text and "→ 18:00" in history.text


async def test_reset_asks_first_then_restores_defaults(club: Club) -> None:
    world = club.fake.world
    await club.discord.invoke("config timezone", as_member=world.moderator, tz="Asia/Tokyo")
    ask = await club.discord.invoke("config reset", as_member=world.moderator)
    assert ask.embed["title"] == "Reset the configuration?"
    cancelled = await ask.click("Cancel")
    assert cancelled.embed["title"] == "Nothing was reset"

    ask = await club.discord.invoke("config reset", as_member=world.moderator)
    done = await ask.click("Reset everything")
    assert done.embed["title"] == "Configuration reset"
    assert "Timezone: Asia/Tokyo → UTC" in shown(done)
    after = await club.discord.invoke("config show", as_member=world.moderator)
    assert "Weekly picks: not set" in after.text
    assert "Not scheduled" in after.text


async def test_the_screening_night_is_set_shown_recorded_and_switched_off(club: Club) -> None:
    world = club.fake.world
    moderator = world.moderator
    first = await club.discord.invoke("config screenings", as_member=moderator, day="Friday")
    assert first.ephemeral
    assert "A screening night needs a day, a time and a voice or stage channel: give all three." in first.text

    hidden = await club.fake.add_text_channel(
        "backroom",
        kind=ChannelType.VOICE,
        overwrites=[{"id": world.bot_role.id, "type": 0, "allow": 0, "deny": Perm.VIEW_CHANNEL}],
    )
    unseen = await club.discord.invoke(
        "config screenings", as_member=moderator, day="Friday", time="20:30", channel=hidden
    )
    assert unseen.ephemeral
    assert "I can't use #backroom for screenings: I'm missing the View Channel and Connect permissions" in unseen.text
    locked = await club.fake.add_text_channel(
        "locked-room",
        kind=ChannelType.VOICE,
        overwrites=[{"id": world.bot_role.id, "type": 0, "allow": 0, "deny": Perm.CONNECT}],
    )
    shut = await club.discord.invoke(
        "config screenings", as_member=moderator, day="Friday", time="20:30", channel=locked
    )
    assert shut.ephemeral and "missing the Connect permission there" in shut.text
    scheduled = await club.discord.invoke(
        "screening schedule", as_member=moderator, film="alien", when="2d", channel=locked
    )
    assert scheduled.ephemeral and "I can't use #locked-room for screenings" in scheduled.text
    polled = await club.discord.invoke(
        "poll create",
        as_member=moderator,
        title="Friday",
        deadline="1d",
        film1="alien",
        film2="aliens",
        screening="2d",
        screening_channel=locked,
    )
    assert polled.ephemeral and "missing the Connect permission there" in polled.text
    assert not [e for e in club.fake.scheduled_events.values() if e.get("channel_id") == str(locked.id)]
    bad = await club.discord.invoke(
        "config screenings", as_member=moderator, day="Friday", time="8:30pm", channel=world.voice
    )
    assert "'8:30pm' is not a time: use 24-hour HH:MM, for example 20:00." in bad.text

    saved = await club.discord.invoke(
        "config screenings", as_member=moderator, day="Friday", time="20:30", channel=world.voice
    )
    assert saved.ephemeral
    assert "Screening night day: not set → Friday" in saved.text
    assert f"Screening night channel: not set → <#{world.voice.id}>" in saved.text
    shown_now = await club.discord.invoke("config show", as_member=moderator)
    assert "Fridays at 20:30" in shown_now.text and f"in <#{world.voice.id}>" in shown_now.text
    history = await club.discord.invoke("config history", as_member=moderator)
    assert "Screening night time: not set → 20:30" in history.text

    off = await club.discord.invoke("config screenings", as_member=moderator, off=True)
    assert "Screening night day: Friday → not set" in off.text
    after = await club.discord.invoke("config show", as_member=moderator)
    assert "Screening night" in after.text and "none (`/config screenings" in after.text


async def test_the_screening_options_are_set_checked_and_shown(club: Club) -> None:
    world = club.fake.world
    moderator = world.moderator
    shown = await club.discord.invoke("config show", as_member=moderator)
    # The bot-wide defaults (THREAD_ARCHIVE_DAYS=3, ATTENDANCE_SHARE=50) until the server sets its own.
    assert "Discussion thread: opens at the start, archived after 3 days" in shown.text
    assert "Attendance: 50 % of the film in the channel" in shown.text
    for options, message in [
        ({"thread_after": 241}, "The thread's delay can be at most 4 hours."),
        ({"archive_days": 31}, "A discussion thread can stay open from 1 to 30 days."),
        ({"attendance_share": 5}, "The attendance share can be from 10 to 100 % of the film."),
    ]:
        bad = await club.discord.invoke("config screenings", as_member=moderator, **options)
        assert bad.ephemeral and message in bad.text, options
    saved = await club.discord.invoke(
        "config screenings", as_member=moderator, thread_after=30, archive_days=7, attendance_share=75
    )
    assert saved.ephemeral
    assert "Discussion thread opens (minutes after the start): 0 → 30" in saved.text
    assert "Attendance share (% of the film): not set → 75" in saved.text
    shown = await club.discord.invoke("config show", as_member=moderator)
    assert "Discussion thread: opens 30 min after the start, archived after 7 days" in shown.text
    assert "Attendance: 75 % of the film in the channel" in shown.text
    refused = await club.discord.invoke("config screenings", as_member=world.alice, thread_after=0)
    assert refused.ephemeral and "Only moderators" in refused.text


async def test_one_setting_goes_back_to_its_default_shown_and_recorded(club: Club) -> None:
    world = club.fake.world
    moderator = world.moderator
    await club.discord.invoke("config screenings", as_member=moderator, archive_days=7, attendance_share=75)
    await club.discord.invoke("config role", as_member=moderator, kind="voter", role=world.member_role)
    synced = {command["name"]: command for command in club.fake.synced_commands(club.fake.guild)}
    (unset,) = [option for option in synced["config"]["options"] if option["name"] == "unset"]
    offered = [choice["name"] for choice in unset["options"][0]["choices"]]
    assert len(offered) == 20 and {"Attendance share (% of the film)", "Voter role", "Timezone"} <= set(offered)
    assert "Discussion thread opens (minutes after the start)" in offered
    assert not [name for name in offered if name.startswith(("Web page", "Screening night"))]

    share = await club.discord.invoke("config unset", as_member=moderator, setting="Attendance share (% of the film)")
    assert share.ephemeral and share.embed["title"] == "Back to the default"
    # The bot-wide ATTENDANCE_SHARE of the e2e bot is 50.
    assert "Attendance share (% of the film): back to the default: 50 (this bot's default)." in share.text
    assert "It was 75." in share.text
    again = await club.discord.invoke("config unset", as_member=moderator, setting="Attendance share (% of the film)")
    assert again.embed["title"] == "Nothing changed"
    assert "Attendance share (% of the film) is already at its default: 50 (this bot's default)." in again.text

    voters = await club.discord.invoke("config unset", as_member=moderator, setting="Voter role")
    assert "Voter role: back to the default: not set (everyone may vote)." in voters.text
    assert f"It was <@&{world.member_role.id}>." in voters.text
    assert voters.message is not None and voters.message.would_ping() == ([], [], False)

    shown = await club.discord.invoke("config show", as_member=moderator)
    assert "Attendance: 50 % of the film in the channel" in shown.text
    assert "archived after 7 days" in shown.text  # the other option is kept
    assert "Voters: everyone" in shown.text
    history = await club.discord.invoke("config history", as_member=moderator)
    first, second = history.embed["description"].splitlines()[:2]
    assert f"<@{moderator.id}>" in first and f"Voter role: <@&{world.member_role.id}> → not set" in first
    assert "Attendance share (% of the film): 75 → not set" in second

    refused = await club.discord.invoke(
        "config unset", as_member=world.alice, setting="Discussion thread archived after (days)"
    )
    assert refused.ephemeral and "Only moderators" in refused.text
    still = await club.discord.invoke("config show", as_member=moderator)
    assert "archived after 7 days" in still.text


async def test_unsetting_the_picks_channel_stops_the_weekly_picks(club: Club) -> None:
    world = club.fake.world
    moderator = world.moderator
    await club.discord.invoke("config channel", as_member=moderator, kind="picks", channel=world.picks)
    await club.discord.invoke("config picks", as_member=moderator, day="Friday", time="20:00", enabled=True)
    scheduled = await club.discord.invoke("config show", as_member=moderator)
    assert "Next post: <t:" in scheduled.text

    gone = await club.discord.invoke("config unset", as_member=moderator, setting="Picks channel")
    assert "Picks channel: back to the default: not set (weekly picks are not posted)." in gone.text
    assert "Not scheduled yet: needs a picks channel" in gone.text  # the schedule, re-planned, shown again
    after = await club.discord.invoke("config show", as_member=moderator)
    assert "Weekly picks: not set" in after.text and "Next post" not in after.text
