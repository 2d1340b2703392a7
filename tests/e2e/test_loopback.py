"""The bot against the loopback Discord: login, command sync, answers, restarts, faults and gateway RESUME."""

from __future__ import annotations

import re
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.catalog_builder import film, theme, to_toml, write_catalog

from .conftest import LaunchBot
from .fake_discord import FakeChannel, FakeDiscord, FakeMember
from .harness import BotKind, BotProcess, DiscordDriver

pytestmark = pytest.mark.e2e

CALLBACK = "POST /interactions/{interaction_id}/{token}/callback"


@pytest.fixture
def probe(bot_kind: BotKind) -> str:
    """A command every bot answers at once: /help on the real bot, /ping on the minimal one."""
    return "/help" if bot_kind == "real" else "/ping"


def callback_requests(fake: FakeDiscord, token: str) -> list[tuple[int, float]]:
    return [(r.status, r.at) for r in fake.requests if r.route == "/interactions/{}/{}/callback" and token in r.path]


async def test_bot_logs_in_and_syncs_its_command_tree(
    fake_discord: FakeDiscord, bot: BotProcess, bot_kind: BotKind
) -> None:
    routes = [f"{r.method} {r.path}" for r in fake_discord.requests]
    assert "GET /users/@me" in routes
    guild_syncs = [s for s in fake_discord.sync_log if s.scope == fake_discord.guild.id]
    assert guild_syncs, f"no guild command sync; requests: {routes}"
    expected = {"help", "about"} if bot_kind == "real" else {"ping"}
    assert expected <= fake_discord.command_names()
    for command in fake_discord.synced_commands(fake_discord.guild):
        assert command["description"], command["name"]

    gateway = fake_discord.gateway
    assert gateway.identify_count == 1
    assert gateway.compressions[-1] in ("zlib-stream", "zstd-stream")
    assert gateway.connections[-1].heartbeats >= 1
    assert gateway.current is not None and gateway.current.identify["token"] == fake_discord.token
    assert bot.ready_times and bot.ready_times[-1] < 30


async def test_help_answers_with_an_embed(
    discord: DiscordDriver, bot_kind: BotKind, alice: FakeMember, general: FakeChannel
) -> None:
    if bot_kind != "real":
        pytest.skip("/help belongs to the real bot")
    reply = await discord.command("/help", member=alice, channel=general)
    assert reply.response_type == 4
    assert reply.embeds, reply
    assert "/help" in reply.text
    assert "/about" in reply.text
    assert reply.latency is not None and reply.latency < 3.0


async def test_wrong_token_ends_with_a_clear_message_and_non_zero_exit(
    fake_discord: FakeDiscord, launch_bot: LaunchBot
) -> None:
    bot = await launch_bot(token="not-" + fake_discord.token, wait_ready=False)
    code = await bot.wait_exit(timeout=30)
    assert code != 0
    output = bot.output_since_launch()
    assert "Traceback" not in output, output
    last = [line for line in output.splitlines() if line.strip() and not line.startswith("-----")][-1]
    assert "token" in last.lower(), last
    assert any(r.path == "/users/@me" and r.status == 401 for r in fake_discord.requests)
    assert fake_discord.gateway.identify_count == 0


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers: the TCP handshake completes in the listen backlog."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        ("closed", r"cannot connect to 127\.0\.0\.1:\d+ \(connection refused\)"),
        ("unresolvable", r"the host name nonexistent\.invalid does not resolve"),
        ("silent", r"no answer within 0\.5 s \(DISCORD_TIMEOUT\)"),
    ],
)
async def test_an_unreachable_discord_at_start_up_is_one_line_and_exit_code_3(
    launch_bot: LaunchBot, silent_port: int, bot_kind: BotKind, where: str, reason: str
) -> None:
    if bot_kind != "real":
        pytest.skip("the start-up contract of the real bot")
    host = {"closed": f"127.0.0.1:{closed_port()}", "unresolvable": "nonexistent.invalid", "silent": ""}[where]
    host = host or f"127.0.0.1:{silent_port}"
    api = f"http://{host}/api/v10"
    env = {"DISCORD_API_BASE_URL": api, "DISCORD_TIMEOUT": "0.5", "LOG_LEVEL": "WARNING"}
    bot = await launch_bot(env=env, wait_ready=False)
    code = await bot.wait_exit(timeout=30)
    output = [line for line in bot.output_since_launch().splitlines() if line and not line.startswith("-----")]
    assert code == 3, output  # bot/exit_codes.py: EXIT_UNREACHABLE, documented in the README
    assert len(output) == 1, output
    assert output[0].startswith(f"filmclub: could not reach Discord at {api}: "), output
    assert re.search(reason, output[0]), output


async def test_start_up_logs_no_warning_about_voice_libraries(bot: BotProcess, bot_kind: BotKind) -> None:
    if bot_kind != "real":
        pytest.skip("the minimal bot keeps discord.py's defaults")
    output = bot.output_since_launch()
    assert "voice will NOT be supported" not in output, output
    assert not [line for line in output.splitlines() if " WARNING  discord.client:" in line], output


async def test_restart_keeps_the_database(
    discord: DiscordDriver, bot: BotProcess, fake_discord: FakeDiscord, probe: str
) -> None:
    assert await bot.stop() == 0
    assert bot.db_path.is_file()
    with sqlite3.connect(f"file:{bot.db_path}?mode=ro", uri=True) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables, "the database has no tables after a clean stop"
    size = bot.db_path.stat().st_size

    await bot.start()
    assert bot.db_path.stat().st_size >= size
    assert (await discord.command(probe)).response_type == 4

    await bot.restart(hard=True)  # kill -9, then the same database again
    assert (await discord.command(probe)).response_type == 4
    assert fake_discord.gateway.identify_count == 3
    assert bot.exit_codes[:2] == [0, -9]


async def test_rate_limited_interaction_callback_is_retried(
    discord: DiscordDriver, fake_discord: FakeDiscord, probe: str
) -> None:
    fault = discord.inject(CALLBACK, status=429, retry_after=0.3)
    reply = await discord.command(probe)
    assert reply.response_type == 4
    assert fault.exhausted and len(fault.hits) == 1
    attempts = callback_requests(fake_discord, reply.record.token)
    assert [status for status, _ in attempts] == [429, 200]
    assert attempts[1][1] - attempts[0][1] >= 0.3 - 0.01  # it honoured retry_after


async def test_server_error_is_retried_then_logged_and_the_bot_keeps_serving(
    discord: DiscordDriver, bot: BotProcess, fake_discord: FakeDiscord, probe: str
) -> None:
    # One 500: discord.py retries after a second and the member still gets the answer.
    fault = discord.inject(CALLBACK, status=500)
    reply = await discord.command(probe)
    assert reply.response_type == 4 and fault.exhausted
    assert [s for s, _ in callback_requests(fake_discord, reply.record.token)] == [500, 200]

    # Two 500s push the retry past Discord's 3-second deadline: the interaction is gone (404 10062), the member
    # sees nothing, and the bot must log the failure rather than die.
    fault = discord.inject(CALLBACK, status=500, times=2)
    lost = await discord.command(probe, wait="none")
    await discord.wait_until(lambda: lost.record in fake_discord.late_callbacks, timeout=10, what="the late callback")
    # The real bot says what was too slow in one line; discord.py's default (the minimal bot) logs an error.
    await bot.wait_for_log(r"WARNING .*/help answered too late" if probe == "/help" else r"\bERROR\b", timeout=10)
    assert lost.response_type is None

    # ...and keeps serving.
    assert (await discord.command(probe)).response_type == 4
    assert bot.running


async def test_an_interaction_discord_gave_up_on_is_one_warning_line_naming_what_was_slow(
    discord: DiscordDriver, bot: BotProcess, fake_discord: FakeDiscord, bot_kind: BotKind, alice: FakeMember
) -> None:
    if bot_kind != "real":
        pytest.skip("the warning belongs to the real bot")
    listing = await discord.command("/theme list", member=alice)
    next_page = next(b for row in listing.components for b in row["components"] if b.get("label") == "Next ▶")
    form = await discord.command("/review add", member=alice, options={"film": "the-last-waltz", "rating": 4.5})
    assert form.response_type == 9, form.text

    # From here every first answer reaches Discord after its deadline: it answers 404 "Unknown interaction" (10062).
    fake_discord.interaction_deadline = 0.0
    late = {
        "/help": await discord.command("/help", member=alice, wait="none"),
        f"component {next_page['custom_id']}": await listing.click("Next ▶", member=alice, wait="none"),
        f"form {form.modal['custom_id']}": await discord.submit_modal(
            form, {"review:rating": "9", "review:body": "", "review:spoiler": "no"}, member=alice, wait="none"
        ),
    }
    for source, reply in late.items():
        line = await bot.wait_for_log(rf"{re.escape(source)} answered too late", timeout=10)
        assert " WARNING " in line and "10062" in line, line
        assert [attempt.status for attempt in reply.record.attempts] == [404], "it must not try to answer again"

    typing = fake_discord.command_interaction(
        "/film", {"title": "waltz"}, member=alice, channel=fake_discord.world.general, focused="title"
    )
    await fake_discord.dispatch_interaction(typing)
    line = await bot.wait_for_log(r"autocomplete for /film answered too late", timeout=10)
    assert " WARNING " in line and "10062" in line, line

    fake_discord.interaction_deadline = 3.0
    assert (await discord.command("/help", member=alice)).response_type == 4  # it keeps serving
    assert all(len(reply.record.attempts) == 1 for reply in late.values())
    output = bot.output_since_launch()
    assert "Traceback" not in output, output
    assert " ERROR " not in output, output


async def test_gateway_resume_replays_missed_dispatches(
    discord: DiscordDriver, fake_discord: FakeDiscord, probe: str
) -> None:
    gateway = fake_discord.gateway
    session = gateway.current
    assert session is not None
    await discord.drop_gateway(code=4000)
    assert not gateway.connected
    # Dispatched while the bot is disconnected: Discord keeps it for the session and replays it on RESUME.
    reply = await discord.command(probe)
    assert reply.response_type == 4
    await discord.wait_resumed()
    assert gateway.current is session
    assert gateway.identify_count == 1
    assert "INTERACTION_CREATE" in {event for _, event in session.replayed}, session.replayed
    assert gateway.connections[-1].path == "/gateway-resume"  # it used READY's resume_gateway_url
    assert (await discord.command(probe)).response_type == 4


async def test_an_invalid_catalog_stops_the_start_and_says_why(
    fake_discord: FakeDiscord, launch_bot: LaunchBot, tmp_path: Path
) -> None:
    folder = write_catalog(
        tmp_path / "broken-catalog",
        {"films.toml": to_toml([theme("live-on-stage")], [film("the-last-waltz", year="1978", themes=["nope"])])},
    )
    bot = await launch_bot(catalog=folder, wait_ready=False)
    code = await bot.wait_exit(timeout=30)
    output = bot.output_since_launch()
    assert code == 1
    assert "films.toml: film 'the-last-waltz': field 'year': Input should be a valid integer" in output
    assert "not starting" in output
    assert "Traceback" not in output
    assert fake_discord.gateway.identify_count == 0
