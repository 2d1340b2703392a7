"""/privacy: what the bot keeps about a member (show), all of it as a JSON file only they receive (export), and deleting
it after a confirmation (delete). In a server it is that server's data; in a direct message to the bot, every
server's at once. The core (bot/core/privacy.py) finds the data through the ownership registry; this cog renders,
asks for the confirmation, then takes down the deleted reviews' public posts and redraws open polls' counts."""

from __future__ import annotations

import io
import logging
import re
from typing import TYPE_CHECKING, Any, Self, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import polls, privacy
from bot.core.errors import UserError
from bot.core.privacy import Erased
from bot.core.reviews import ReviewPost
from bot.ui.embeds import add_field, club_embed, literal
from bot.ui.hosts import refresh_host_lines
from bot.ui.reviews import take_down_posts
from bot.ui.views import AnswersMember

if TYPE_CHECKING:
    from bot.client import FilmClubBot
    from cogs.polls import Polls

log = logging.getLogger(__name__)

Interaction = discord.Interaction["FilmClubBot"]

# scope: a server's id, or 0 for every server (asked from a direct message).
DELETE_PATTERN = r"filmclub:privacy:(?P<answer>delete|cancel):(?P<user_id>[0-9]+):(?P<scope>[0-9]+)"
NOTHING = "The bot keeps nothing about you here."


def _where_shown(data: privacy.MemberData) -> str:
    lines = ["Your reviews and ratings count in `/club stats`, `/reviews`, `/profile` and recommendations."]
    if data.page.public:
        shown = "under your name" if data.page.show_members else 'as "a member", without your name'
        lines.append(f"This server's club web page is public: your reviews appear there {shown}.")
    else:
        lines.append("This server's club web page is not public.")
    return "\n".join(lines)


#: The kind of data that the count of written reviews goes with.
REVIEWS = ("reviews", "user_id")


def _kinds(data: privacy.MemberData) -> str:
    lines = []
    for kind in data.kinds:
        extra = f" ({data.written_reviews:,} with text)" if kind.label == privacy.KINDS[REVIEWS] else ""
        lines.append(f"• {kind.count:,} {kind.label}{extra}")
    if data.records:
        lines.append(
            f"• {data.records:,} server records naming you (a poll you opened, a decision you made as a moderator): "
            "kept, they are the server's"
        )
    return "\n".join(lines)


def _server_name(bot: FilmClubBot, guild_id: int) -> str:
    guild = bot.get_guild(guild_id)
    return literal(guild.name) if guild is not None else f"a server the bot has left (id {guild_id})"


class DeleteButton(AnswersMember, discord.ui.DynamicItem[discord.ui.Button[Any]], template=DELETE_PATTERN):
    """ "Delete my data" or "Cancel" under /privacy delete's question; only the member who asked can answer."""

    def __init__(self, answer: str, user_id: int, scope: int) -> None:
        delete = answer == "delete"
        super().__init__(
            discord.ui.Button(
                label="Delete my data" if delete else "Cancel",
                style=discord.ButtonStyle.danger if delete else discord.ButtonStyle.secondary,
                custom_id=f"filmclub:privacy:{answer}:{user_id}:{scope}",
            )
        )
        self.answer_given, self.user_id, self.scope = answer, user_id, scope

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(match["answer"], int(match["user_id"]), int(match["scope"]))

    async def answer(self, interaction: discord.Interaction[Any]) -> None:
        bot: FilmClubBot = interaction.client
        if interaction.user.id != self.user_id:
            raise UserError("This question is for the member who asked.")
        if self.answer_given == "cancel":
            await interaction.response.edit_message(content="Nothing was deleted.", embed=None, view=None)
            return
        await interaction.response.defer()
        scope = [self.scope] if self.scope else await privacy.servers_with_data(bot.db, self.user_id)
        erased = await privacy.delete(bot.db, bot.clock, scope, self.user_id)
        log.info("deleted member %s's data in %d server(s) at their request", self.user_id, len(erased))
        notes = await _after_delete(bot, erased)
        rows = sum(sum(e.deleted.values()) + sum(e.taken_out.values()) for e in erased)
        kept = sum(e.anonymised for e in erased)
        text = f"Done: {rows:,} records about you deleted" + (f" in {len(erased)} servers" if not self.scope else "")
        if kept:
            text += f"; {kept:,} ballots in closed polls kept without your name, so their results stand"
        text += "."
        if notes:
            text += " " + " ".join(notes)
        await interaction.edit_original_response(
            content=text, embed=None, view=None, allowed_mentions=discord.AllowedMentions.none()
        )


async def _after_delete(bot: FilmClubBot, erased: list[Erased]) -> list[str]:
    """Take down the deleted reviews' public posts and redraw the counts of the open polls that lost a ballot."""
    notes: list[str] = []
    board = cast("Polls | None", bot.get_cog("Polls"))
    for each in erased:
        if each.review_posts:
            posts = [ReviewPost(channel, message) for channel, message in each.review_posts]
            notes.append((await take_down_posts(bot, each.guild_id, posts)).sentence())
        if each.rehosted:
            await refresh_host_lines(bot, list(each.rehosted))
        for poll_id in each.open_polls:
            poll = await polls.get_poll(bot.db, poll_id)
            if board is not None and poll is not None:
                board.board.counts_changed(poll)
    return notes


def delete_view(user_id: int, scope: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(DeleteButton("delete", user_id, scope))
    view.add_item(DeleteButton("cancel", user_id, scope))
    view.stop()  # answered by the registered DynamicItem
    return view


class Privacy(commands.Cog):
    """Privacy"""

    group = app_commands.Group(
        name="privacy",
        description="What the bot keeps about you: see it, export it, delete it.",
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=False),
    )

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot

    async def _scope(self, interaction: Interaction) -> list[int]:
        if interaction.guild_id is not None:
            return [interaction.guild_id]
        return await privacy.servers_with_data(self.bot.db, interaction.user.id)

    @group.command(name="show", description="What the bot stores about you (in a DM: in every server).")
    async def show(self, interaction: Interaction) -> None:
        user_id = interaction.user.id
        embed = club_embed("What the bot keeps about you")
        shown = 0
        for guild_id in await self._scope(interaction):
            data = await privacy.member_data(self.bot.db, guild_id, user_id)
            if data.empty and not data.records:
                continue
            shown += 1
            name = "This server" if interaction.guild_id else _server_name(self.bot, guild_id)
            add_field(embed, name, _kinds(data) + "\n" + _where_shown(data))
        if not shown:
            embed.description = NOTHING if interaction.guild_id else "The bot keeps nothing about you in any server."
        else:
            embed.description = (
                "Kept while the bot is in the server, to run the club. `/privacy export` sends you all of it; "
                "`/privacy delete` deletes it."
            )
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    @group.command(name="export", description="All the bot stores about you, as a JSON file only you receive.")
    async def export(self, interaction: Interaction) -> None:
        scope = await self._scope(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        document = await privacy.export(self.bot.db, self.bot.clock, scope, interaction.user.id)
        name = privacy.export_name(interaction.user.id, self.bot.clock.now())
        where = "this server" if interaction.guild_id else f"{len(scope)} server{'s' if len(scope) != 1 else ''}"
        await interaction.followup.send(
            f"Everything the bot keeps about you in {where}, as JSON.",
            file=discord.File(io.BytesIO(document), filename=name),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @group.command(name="delete", description="Delete what the bot stores about you (in a DM: in every server).")
    async def delete(self, interaction: Interaction) -> None:
        scope = await self._scope(interaction)
        user_id = interaction.user.id
        held = [await privacy.member_data(self.bot.db, guild_id, user_id) for guild_id in scope]
        if all(data.empty for data in held):
            await interaction.response.send_message(NOTHING, ephemeral=True)
            return
        where = "in this server" if interaction.guild_id else f"in {len(scope)} server{'s' if len(scope) != 1 else ''}"
        question = (
            f"Delete your data {where}? Your reviews and ratings (and their public posts), watchlist, seen films, "
            "Letterboxd imports, nominations, attendance and place on the host rota go. Your ballots are withdrawn "
            "from open polls; in closed polls they stay without your name, so results do not change. "
            "This cannot be undone: `/privacy export` first if you want a copy."
        )
        await interaction.response.send_message(
            question,
            view=delete_view(user_id, interaction.guild_id or 0),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )


async def setup(bot: FilmClubBot) -> None:
    bot.add_dynamic_items(DeleteButton)
    await bot.add_cog(Privacy(bot))
