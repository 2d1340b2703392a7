"""A discord.py bot that uses every feature the double models, to test the double itself (test_double.py).

/probe echo (every option type), /probe settings set (a subcommand group with choices), /probe search
(autocomplete), /probe panel (buttons, a select, a modal), /probe later (defer + follow-up), /probe file,
/probe poll, /probe event. Same launch contract as the minimal bot.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from pathlib import Path

import discord
from discord import app_commands

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.e2e.minimal_bot import MinimalBot, main

FILMS = ["Alien", "Aliens", "Amélie", "Apocalypse Now", "Arrival", "Brazil", "Casablanca", "Chinatown"]


class ReviewModal(discord.ui.Modal, title="Write a review"):
    film: discord.ui.TextInput[ReviewModal] = discord.ui.TextInput(
        label="Film", custom_id="review:film", max_length=100
    )
    body: discord.ui.TextInput[ReviewModal] = discord.ui.TextInput(
        label="Review", custom_id="review:body", style=discord.TextStyle.paragraph
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"review of {self.film.value}: {self.body.value}", ephemeral=True)


class Panel(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=300)

    @discord.ui.button(label="Update", custom_id="panel:update")
    async def update(self, interaction: discord.Interaction, button: discord.ui.Button[Panel]) -> None:
        button.disabled = True
        await interaction.response.edit_message(content=f"updated by {interaction.user.name}", view=self)

    @discord.ui.button(label="Slow", custom_id="panel:slow")
    async def slow(self, interaction: discord.Interaction, button: discord.ui.Button[Panel]) -> None:
        del button
        await interaction.response.defer()
        await interaction.edit_original_response(content="slow edit done")

    @discord.ui.button(label="Review", custom_id="panel:review")
    async def review(self, interaction: discord.Interaction, button: discord.ui.Button[Panel]) -> None:
        del button
        await interaction.response.send_modal(ReviewModal())

    @discord.ui.select(
        custom_id="panel:genre",
        placeholder="Pick genres",
        min_values=1,
        max_values=2,
        options=[discord.SelectOption(label=g.title(), value=g) for g in ("horror", "comedy", "drama")],
    )
    async def genre(self, interaction: discord.Interaction, select: discord.ui.Select[Panel]) -> None:
        await interaction.response.send_message("genres: " + ",".join(select.values), ephemeral=True)


probe = app_commands.Group(name="probe", description="Exercise the loopback double")
settings = app_commands.Group(name="settings", description="Settings", parent=probe)


@probe.command(name="echo", description="Echo every option type")
async def echo(
    interaction: discord.Interaction,
    text: str,
    count: int,
    ratio: float,
    flag: bool,
    who: discord.Member,
    role: discord.Role,
    where: discord.TextChannel,
    upload: discord.Attachment | None = None,
) -> None:
    data = {
        "text": text,
        "count": count,
        "ratio": ratio,
        "flag": flag,
        "who": who.name,
        "who_is_member": isinstance(who, discord.Member),
        "role": role.name,
        "where": where.name,
        "invoker": interaction.user.name,
        "manage_guild": interaction.permissions.manage_guild,
        "app_send": interaction.app_permissions.send_messages,
        "locale": str(interaction.locale),
        "upload": (await upload.read()).decode() if upload else None,
    }
    await interaction.response.send_message(json.dumps(data), ephemeral=True)


@settings.command(name="set", description="Set a setting")
@app_commands.choices(
    key=[app_commands.Choice(name="Picks channel", value="picks"), app_commands.Choice(name="Polls", value="polls")]
)
async def settings_set(interaction: discord.Interaction, key: app_commands.Choice[str], value: str) -> None:
    await interaction.response.send_message(f"{key.value}={value}")


@probe.command(name="search", description="Search films")
async def search(interaction: discord.Interaction, title: str) -> None:
    await interaction.response.send_message(f"you chose {title}")


@search.autocomplete("title")
async def search_complete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    del interaction
    return [app_commands.Choice(name=f, value=f.lower()) for f in FILMS if f.lower().startswith(current.lower())][:25]


@probe.command(name="panel", description="Buttons, a select and a modal")
async def panel(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("panel", view=Panel())


@probe.command(name="later", description="Defer, then follow up")
async def later(interaction: discord.Interaction, private: bool = False) -> None:
    await interaction.response.defer(thinking=True, ephemeral=private)
    await interaction.followup.send("first")
    await interaction.followup.send("second", ephemeral=True)


@probe.command(name="file", description="Answer with a file")
async def file(interaction: discord.Interaction) -> None:
    embed = discord.Embed(title="chart").set_image(url="attachment://chart.txt")
    chart = discord.File(io.BytesIO(b"data!"), "chart.txt")
    await interaction.response.send_message(file=chart, embed=embed)


@probe.command(name="poll", description="Post a poll in this channel and close it")
async def poll(interaction: discord.Interaction) -> None:
    question = discord.Poll(question="Friday film?", duration=dt.timedelta(hours=1))
    question.add_answer(text="Alien").add_answer(text="Brazil")
    assert interaction.channel is not None and isinstance(interaction.channel, discord.TextChannel)
    message = await interaction.channel.send(poll=question)
    await interaction.response.send_message(f"poll {message.id}", ephemeral=True)
    await message.end_poll()


@probe.command(name="event", description="Schedule a screening and count who is interested")
async def event(interaction: discord.Interaction) -> None:
    assert interaction.guild is not None
    start = discord.utils.utcnow() + dt.timedelta(days=1)
    created = await interaction.guild.create_scheduled_event(
        name="Screening",
        start_time=start,
        end_time=start + dt.timedelta(hours=2),
        entity_type=discord.EntityType.external,
        privacy_level=discord.PrivacyLevel.guild_only,
        location="The cinema",
    )
    await interaction.response.send_message(f"event {created.id}", ephemeral=True)


@probe.command(name="interested", description="List the members interested in the newest event")
async def interested(interaction: discord.Interaction) -> None:
    assert interaction.guild is not None
    events = await interaction.guild.fetch_scheduled_events()
    names = sorted([u.name async for u in events[-1].users()])
    await interaction.response.send_message("interested: " + ",".join(names), ephemeral=True)


class ProbeBot(MinimalBot):
    async def setup_hook(self) -> None:
        self.tree.add_command(probe)
        await super().setup_hook()


if __name__ == "__main__":
    sys.exit(main(ProbeBot))
