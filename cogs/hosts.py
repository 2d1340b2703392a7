"""/host: the optional host rota. Members volunteer (/host join), each screening planned while the rota has volunteers
gets the next host in turn, hosts offer each other their turns (/host swap, answered with Accept/Decline buttons that
keep working across restarts), and moderators take a volunteer off (/host remove). A volunteer who leaves the server
drops out (cogs/members.py hears of leavers for every feature: at once when Discord tells the bot, and at start-up in
any case)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Self

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import hosts, screenings
from bot.core.films import get_film
from bot.ui.checks import ensure_moderator, guild_id_of
from bot.ui.embeds import add_field, chunk_lines, club_embed, truncate
from bot.ui.hosts import refresh_host_lines
from bot.ui.replies import send_ephemeral
from bot.ui.views import AnswersMember

if TYPE_CHECKING:
    from bot.client import FilmClubBot

log = logging.getLogger(__name__)

Interaction = discord.Interaction["FilmClubBot"]

SWAP_PATTERN = r"filmclub:host-swap:(?P<swap_id>[0-9]+):(?P<answer>accepted|declined)"


class SwapButton(AnswersMember, discord.ui.DynamicItem[discord.ui.Button[Any]], template=SWAP_PATTERN):
    """Accept or Decline under a host's swap offer; the offer lives in the database, so a restart loses nothing."""

    def __init__(self, swap_id: int, answer: hosts.Answer) -> None:
        accept = answer is hosts.Answer.ACCEPT
        super().__init__(
            discord.ui.Button(
                label="Accept" if accept else "Decline",
                style=discord.ButtonStyle.success if accept else discord.ButtonStyle.secondary,
                custom_id=f"filmclub:host-swap:{swap_id}:{answer.value}",
            )
        )
        self.swap_id = swap_id
        self.answer_given = answer

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(int(match["swap_id"]), hosts.Answer(match["answer"]))

    async def answer(self, interaction: discord.Interaction[Any]) -> None:
        bot: FilmClubBot = interaction.client
        changed = await hosts.answer_swap(bot.db, bot.clock, self.swap_id, interaction.user.id, self.answer_given)
        verdict = "✅ Swap accepted" if self.answer_given is hosts.Answer.ACCEPT else "Swap declined"
        await interaction.response.edit_message(
            content=f"{interaction.message.content if interaction.message else ''}\n**{verdict}.**",
            view=None,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        await refresh_host_lines(bot, changed)


def swap_view(swap_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(SwapButton(swap_id, hosts.Answer.ACCEPT))
    view.add_item(SwapButton(swap_id, hosts.Answer.DECLINE))
    view.stop()  # answered by the registered DynamicItem
    return view


class Hosts(commands.Cog):
    """Hosts"""

    host = app_commands.Group(
        name="host", description="The host rota: who hosts the club's screenings.", guild_only=True
    )

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.leavers.register("host rota", self._volunteers, self._left)

    async def _volunteers(self, guild_id: int) -> list[int]:
        return await hosts.volunteer_ids(self.bot.db, guild_id)

    async def _left(self, guild_id: int, user_id: int) -> bool:
        """A volunteer left the server (cogs/members.py hears of it): off the rota."""
        if await self._drop(guild_id, user_id) is None:
            return False
        log.info("guild %s: host %s left the server; off the rota", guild_id, user_id)
        return True

    async def _label(self, screening_id: int) -> str:
        screening = await screenings.get_screening(self.bot.db, screening_id)
        film = await get_film(self.bot.db, screening.film_id) if screening is not None else None
        if screening is None or film is None:
            return f"screening #{screening_id}"
        return f"**{truncate(film.label, 80)}** {discord.utils.format_dt(screening.starts_at, 'f')}"

    async def _drop(self, guild_id: int, user_id: int) -> list[int] | None:
        changed = await hosts.drop_volunteer(self.bot.db, self.bot.clock, guild_id, user_id)
        if changed:
            await refresh_host_lines(self.bot, changed)
        return changed

    @host.command(name="join", description="Volunteer to host screenings: you get a turn in the rota.")
    async def host_join(self, interaction: Interaction) -> None:
        place = await hosts.join(self.bot.db, self.bot.clock, guild_id_of(interaction), interaction.user.id)
        await send_ephemeral(
            interaction, f"🎙️ You're on the host rota, #{place} in turn. Screenings planned from now on take turns."
        )

    @host.command(name="leave", description="Leave the host rota (your screenings still to come get other hosts).")
    async def host_leave(self, interaction: Interaction) -> None:
        if await self._drop(guild_id_of(interaction), interaction.user.id) is None:
            await send_ephemeral(interaction, "You are not on the host rota.")
            return
        await send_ephemeral(interaction, "You've left the host rota. Thanks for hosting!")

    @host.command(name="list", description="The volunteers in turn order, and who hosts the next screenings.")
    async def host_list(self, interaction: Interaction) -> None:
        rota = await hosts.rota(self.bot.db, self.bot.clock, guild_id_of(interaction))
        if not rota.volunteers:
            await send_ephemeral(interaction, "Nobody is on the host rota yet. `/host join` to volunteer.")
            return
        embed = club_embed("Host rota", "Screenings take hosts in this order; whoever hosted least recently is next.")
        order = [f"{n}. <@{user_id}>" for n, user_id in enumerate(rota.volunteers, 1)]
        for number, chunk in enumerate(chunk_lines(order, 1000)):
            add_field(embed, "In turn" if number == 0 else "In turn (continued)", chunk)
        upcoming = [f"{await self._label(sid)} · <@{host_id}>" for sid, host_id in rota.upcoming]
        add_field(embed, "Next screenings", "\n".join(upcoming) if upcoming else "None planned yet.")
        offers = [f"<@{o.from_user}> → <@{o.to_user}>: {await self._label(o.screening_id)}" for o in rota.offers]
        if offers:
            add_field(embed, "Swap offers waiting for an answer", "\n".join(offers))
        await interaction.response.send_message(embed=embed, allowed_mentions=discord.AllowedMentions.none())

    @host.command(
        name="swap", description="Offer your next hosting turn to another volunteer (they accept or decline)."
    )
    @app_commands.describe(member="Another volunteer on the host rota")
    async def host_swap(self, interaction: Interaction, member: discord.Member) -> None:
        offer = await hosts.offer_swap(
            self.bot.db, self.bot.clock, guild_id_of(interaction), interaction.user.id, member.id
        )
        turn = await self._label(offer.screening_id)
        await interaction.response.send_message(
            f"<@{member.id}>, <@{offer.from_user}> offers you their turn hosting {turn}"
            " (you give them your next turn, if you have one).",
            view=swap_view(offer.id),
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=[member]),
        )

    @host.command(name="remove", description="Moderators: take a volunteer off the host rota.")
    @app_commands.describe(member="The volunteer to take off the rota")
    async def host_remove(self, interaction: Interaction, member: discord.Member) -> None:
        await ensure_moderator(interaction)
        if await self._drop(guild_id_of(interaction), member.id) is None:
            await send_ephemeral(interaction, "That member is not on the host rota.")
            return
        await send_ephemeral(interaction, f"Took <@{member.id}> off the host rota.")


async def setup(bot: FilmClubBot) -> None:
    await bot.add_cog(Hosts(bot))
    bot.add_dynamic_items(SwapButton)
