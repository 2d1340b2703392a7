"""/nominate and /nominations: members propose films for the club (any film: the catalog's, the server's own, or a new
one), moderators approve, reject or ban them, and polls take the approved ones (``/poll create source:nominations``).

/nominate looks the title up among the films members can already name (exact, then "did you mean" buttons); a film
it does not know is looked up with the film-details provider when one is configured (a menu of up to five of its
answers), else entered in a form (title, year, director). The rules, and writing a new film together with its
nomination, are bot.core.nominations'; this cog parses, asks and renders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import nominations, server_films
from bot.core.details import DetailsAnswer, DetailsUnavailable, FilmCandidate, FilmDetails, FilmDetailsService
from bot.core.errors import UserError
from bot.core.films import Film, get_film
from bot.core.guilds import GuildSettings, get_settings
from bot.core.nominations import Action, Nominated, Nomination, Status
from bot.core.search import IndexEntry
from bot.core.server_films import ServerFilmEntry
from bot.core.text import fold
from bot.ui.autocomplete import SERVER_FILM_MARK, film_choices
from bot.ui.checks import guild_id_of, member_facts
from bot.ui.embeds import add_field, chunk_lines, club_embed, truncate
from bot.ui.films import add_attribution, film_card, film_entry
from bot.ui.forms import submitted_fields
from bot.ui.paging import PageButton, page_footer, page_view
from bot.ui.replies import report_error, send_ephemeral
from bot.ui.views import ClubView

if TYPE_CHECKING:
    from bot.client import FilmClubBot

Interaction = discord.Interaction["FilmClubBot"]

#: How long the provider may take to answer a search or a film's details (Discord's follow-ups allow 15 minutes,
#: but a member waits).
PROVIDER_BUDGET = 4.0
#: Ephemeral choices (did you mean, the provider's answers) work this long; then the member runs /nominate again.
CHOICE_TIMEOUT = 600.0
CANDIDATES_SHOWN = 5

SHOW_CHOICES = [
    app_commands.Choice(name="All (newest first)", value="all"),
    app_commands.Choice(name="Open: pending and approved", value="open"),
    *(app_commands.Choice(name=status.value.title(), value=status.value) for status in Status),
]
STATUS_TEXT = {
    Status.PENDING: "⏳ pending",
    Status.APPROVED: "✅ approved",
    Status.REJECTED: "✖ rejected",
    Status.BANNED: "⛔ banned",
    Status.CHOSEN: "🎬 chosen",
}


def provider_of(bot: FilmClubBot) -> FilmDetailsService | None:
    """The bot's film-details service when a provider is configured, else None (members then enter films in a form)."""
    return bot.details if bot.details.enabled else None


# -- rendering ------------------------------------------------------------------------------------------------------


def status_text(status: str) -> str:
    try:
        return STATUS_TEXT[Status(status)]
    except ValueError:
        return status


def nominated_embed(
    bot: FilmClubBot, made: Nominated, settings: GuildSettings, answer: DetailsAnswer | None, *, note: str = ""
) -> discord.Embed:
    """What the member who nominated reads: what became of the nomination, then the film's card (poster, links)."""
    film = made.film
    lines = []
    if made.duplicate:
        lines.append(f"That film is already in {server_films.describe_duplicate(film)}, so that is the one nominated.")
    elif made.created_film:
        lines.append("It is now one of this server's films: members can review it, add it to watchlists, vote on it.")
    if made.nomination.status == Status.PENDING:
        lines.append("It waits for a moderator's approval before it can go on a poll.")
    else:
        lines.append("It can go on the next poll (`/poll create source:nominations`).")
    if made.reopened:
        lines.append("It had been nominated before; this nomination is yours now.")
    if note:
        lines.append(note)
    details = answer.details if answer is not None else None
    embed = film_card(film, answer, poster_url=bot.details.poster_url(details), note="\n".join(lines))
    embed.title = truncate(f"Nominated: {film.label}", 256)
    limit = settings.nominations_limit
    footer = f"Nomination #{made.nomination.id} · members may have {limit} open at a time"
    embed.set_footer(text=" · ".join([footer, embed.footer.text]) if embed.footer.text else footer)
    return embed


async def known_details(bot: FilmClubBot, film: Film) -> DetailsAnswer | None:
    """What the cache knows of a film (no network: the answer must not wait), or None."""
    if film.tmdb_id is None:
        return None
    found = await bot.details.cached([film.tmdb_id])
    return DetailsAnswer(found[film.tmdb_id]) if film.tmdb_id in found else None


def nomination_line(entry: Nomination, films: dict[int, Film], details: dict[int, FilmDetails]) -> str:
    """ "`#12` **[Alien (1979)](…)** · IMDb · TMDB · ✅ approved · by @Alice · 2 days ago" """
    film = films.get(entry.film_id)
    when = discord.utils.format_dt(entry.created_at, "R")
    about = f"{status_text(entry.status)} · by <@{entry.member_id}> · {when}"
    if film is None:
        return f"`#{entry.id}` Film #{entry.film_id} · {about}"
    mark = SERVER_FILM_MARK.removeprefix(" · ") if film.is_server_film else ""
    known = details.get(film.tmdb_id) if film.tmdb_id is not None else None
    return f"`#{entry.id}` {film_entry(film, known, extra=mark)} · {about}"


def list_embed(page: nominations.NominationPage, shown: str, details: dict[int, FilmDetails]) -> discord.Embed:
    heading = "Nominations" if shown == "all" else f"Nominations · {shown}"
    if not page.entries:
        return club_embed(heading, "None yet. Members propose films with `/nominate`.")
    lines = [nomination_line(entry, page.films, details) for entry in page.entries]
    embed = club_embed(heading, chunk_lines(lines, 4000)[0])
    embed.set_footer(text=page_footer(page.page, page.pages, f"{page.count} nomination{'s' * (page.count != 1)}"))
    if details:
        add_attribution(embed)
    return embed


async def render_list(interaction: Interaction, shown: str, page_number: int) -> tuple[discord.Embed, Any]:
    bot = interaction.client
    page = await nominations.list_page(bot.db, guild_id_of(interaction), shown, page_number)
    tmdb_ids = [film.tmdb_id for film in page.films.values() if film.tmdb_id is not None]
    details = await bot.details.cached(tmdb_ids) if tmdb_ids else {}
    view = page_view(lambda p, label, off: NominationsPage(shown, p, label, off), page.page, page.pages)
    return list_embed(page, shown, details), view


class NominationsPage(PageButton, prefix="filmclub:nominations", key=r"[a-z]+"):
    """Previous/Next on /nominations list (the key is what the list shows: all, open or a status)."""

    async def answer(self, interaction: Interaction) -> None:
        embed, view = await render_list(interaction, self.key, self.page)
        await interaction.response.edit_message(embed=embed, view=view)


# -- nominating -----------------------------------------------------------------------------------------------------


async def _settings_and_facts(interaction: Interaction) -> tuple[GuildSettings, bool, set[int]]:
    settings = await get_settings(interaction.client.db, guild_id_of(interaction))
    manage_guild, role_ids = member_facts(interaction)
    return settings, manage_guild, role_ids


async def nominate_known(interaction: Interaction, film_id: int) -> None:
    """Nominate a film members can already name, and say so."""
    bot = interaction.client
    settings, manage_guild, role_ids = await _settings_and_facts(interaction)
    made = await nominations.nominate(
        bot.db, bot.clock, settings, film_id, interaction.user.id, manage_guild=manage_guild, role_ids=role_ids
    )
    answer = await known_details(bot, made.film)
    await send_ephemeral(interaction, embed=nominated_embed(bot, made, settings, answer))


async def nominate_entry(
    interaction: Interaction, entry: ServerFilmEntry, *, answer: DetailsAnswer | None = None, note: str = ""
) -> None:
    """Nominate a film described by the member or the provider (a new server film unless it is known)."""
    bot = interaction.client
    settings, manage_guild, role_ids = await _settings_and_facts(interaction)
    made = await nominations.nominate_new(
        bot.db,
        bot.clock,
        bot.titles,
        settings,
        entry,
        interaction.user.id,
        manage_guild=manage_guild,
        role_ids=role_ids,
    )
    shown = answer.details if answer is not None else None
    if answer is None or (shown is not None and shown.tmdb_id != made.film.tmdb_id):
        answer = await known_details(bot, made.film)  # the film nominated may be another (a duplicate)
    await send_ephemeral(interaction, embed=nominated_embed(bot, made, settings, answer, note=note))


async def new_film(interaction: Interaction, title: str, year: int | None) -> None:
    """A film members cannot name yet: the provider's answers to choose from, or the form."""
    settings = await get_settings(interaction.client.db, guild_id_of(interaction))
    await nominations.require_room(interaction.client.db, settings, interaction.user.id)
    provider = provider_of(interaction.client)
    if provider is None:
        await interaction.response.send_modal(nominate_form(title, year))
        return
    await interaction.response.defer(ephemeral=True, thinking=True)
    try:
        found = await provider.search(title, year, within=PROVIDER_BUDGET)
    except DetailsUnavailable:
        text = "I couldn't look the film up with TMDB just now. Enter it yourself instead:"
        await _followup(interaction, text, EnterItView(interaction.user.id, title, year))
        return
    if not found:
        text = f"TMDB knows no film called {truncate(title, 80)!r}{f' from {year}' if year else ''}. Enter it yourself:"
        await _followup(interaction, text, EnterItView(interaction.user.id, title, year))
        return
    text = "Which film do you mean? (From TMDB; not listed? Enter it yourself.)"
    await _followup(interaction, text, CandidatesView(interaction.user.id, title, year, found[:CANDIDATES_SHOWN]))


async def _followup(interaction: Interaction, text: str, view: discord.ui.View) -> None:
    await interaction.followup.send(text, view=view, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())


class OwnedChoices(ClubView):
    """An ephemeral set of choices only the member who ran /nominate uses."""

    def __init__(self, owner_id: int, title: str, year: int | None) -> None:
        super().__init__(timeout=CHOICE_TIMEOUT)
        self.owner_id, self.title, self.year = owner_id, title, year

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.owner_id:
            await send_ephemeral(interaction, "These choices belong to someone else; run `/nominate` yourself.")
            return False
        return True


class EnterItButton(discord.ui.Button["OwnedChoices"]):
    def __init__(self, label: str = "Enter it myself", row: int | None = None) -> None:
        super().__init__(label=label, style=discord.ButtonStyle.secondary, row=row)

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]  # our client type
        view = self.view
        if view is None:
            return
        await interaction.response.send_modal(nominate_form(view.title, view.year))


class EnterItView(OwnedChoices):
    def __init__(self, owner_id: int, title: str, year: int | None) -> None:
        super().__init__(owner_id, title, year)
        self.add_item(EnterItButton())


class SuggestionButton(discord.ui.Button["OwnedChoices"]):
    def __init__(self, entry: IndexEntry) -> None:
        mark = SERVER_FILM_MARK if entry.is_server_film else ""
        super().__init__(label=truncate(f"Nominate {entry.label}{mark}", 80), style=discord.ButtonStyle.primary)
        self.film_id = entry.film_id

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]  # our client type
        if self.view is not None:
            self.view.stop()
        await nominate_known(interaction, self.film_id)


class AnotherFilmButton(discord.ui.Button["OwnedChoices"]):
    def __init__(self) -> None:
        super().__init__(label="No, another film", style=discord.ButtonStyle.secondary)

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]  # our client type
        view = self.view
        if view is None:
            return
        view.stop()
        await new_film(interaction, view.title, view.year)


class SuggestionsView(OwnedChoices):
    def __init__(self, owner_id: int, title: str, year: int | None, suggestions: tuple[IndexEntry, ...]) -> None:
        super().__init__(owner_id, title, year)
        for entry in suggestions:
            self.add_item(SuggestionButton(entry))
        self.add_item(AnotherFilmButton())


class CandidateSelect(discord.ui.Select["CandidatesView"]):
    def __init__(self, candidates: list[FilmCandidate]) -> None:
        options = [
            discord.SelectOption(
                label=truncate(candidate.label, 100),
                value=str(candidate.tmdb_id),
                description=truncate(candidate.overview, 100) if candidate.overview else None,
            )
            for candidate in candidates
        ]
        super().__init__(placeholder="Choose the film", options=options, row=0)
        self.candidates = {candidate.tmdb_id: candidate for candidate in candidates}

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]  # our client type
        value = self.values[0] if self.values else ""
        candidate = self.candidates.get(int(value)) if value.isdigit() else None
        if candidate is None:
            raise UserError("That film is not one of the choices; run `/nominate` again.")
        if self.view is not None:
            self.view.stop()
        await nominate_candidate(interaction, candidate)


class CandidatesView(OwnedChoices):
    def __init__(self, owner_id: int, title: str, year: int | None, candidates: list[FilmCandidate]) -> None:
        super().__init__(owner_id, title, year)
        self.add_item(CandidateSelect(candidates))
        self.add_item(EnterItButton("Not listed: enter it myself", row=1))


async def nominate_candidate(interaction: Interaction, candidate: FilmCandidate) -> None:
    """The member chose one of the provider's answers: its details (when they come in time) make the server film."""
    provider = provider_of(interaction.client)
    await interaction.response.defer(ephemeral=True, thinking=True)
    answer = DetailsAnswer(None, unavailable=True)
    if provider is not None:
        try:
            answer = await provider.details(candidate.tmdb_id, within=PROVIDER_BUDGET)
        except DetailsUnavailable:
            answer = DetailsAnswer(None, unavailable=True)
    if answer.details is not None:
        entry = server_films.from_details(answer.details)
    else:
        entry = server_films.from_candidate(candidate)
    if entry.year is None:
        text = f"TMDB doesn't say when {truncate(candidate.title, 80)!r} came out. Enter it yourself, with its year:"
        await _followup(interaction, text, EnterItView(interaction.user.id, candidate.title, None))
        return
    await nominate_entry(interaction, entry, answer=answer)


TITLE_FIELD = "nominate:title"
YEAR_FIELD = "nominate:year"
DIRECTOR_FIELD = "nominate:director"


FORM_ID = "filmclub:nominate-form"


def nominate_form(title: str, year: int | None) -> discord.ui.Modal:
    """The film a member enters themselves: title, year, optional director. Only sent, never kept: the submission is
    answered from its custom id by :meth:`Nominations.on_interaction`, a restart in between included."""
    modal = discord.ui.Modal(title="Nominate a film", custom_id=FORM_ID)
    modal.add_item(
        discord.ui.TextInput(
            label="Title", custom_id=TITLE_FIELD, max_length=server_films.TITLE_LIMIT, default=title[:200] or None
        )
    )
    modal.add_item(
        discord.ui.TextInput(
            label="Year",
            custom_id=YEAR_FIELD,
            max_length=4,
            placeholder="1979",
            default=str(year) if year is not None else None,
        )
    )
    modal.add_item(
        discord.ui.TextInput(
            label="Director (optional)",
            custom_id=DIRECTOR_FIELD,
            required=False,
            max_length=server_films.DIRECTOR_LIMIT,
        )
    )
    modal.stop()
    return modal


def read_form(data: Any) -> ServerFilmEntry:
    """The film entered in the form, as typed (validated by the core); the year must be a number."""
    fields = submitted_fields(data)
    typed = fields.get(YEAR_FIELD, "").strip()
    if not (typed.isascii() and typed.isdigit()):
        raise UserError(f"The year must be a number, such as 1979; {truncate(typed, 20)!r} is not.")
    director = fields.get(DIRECTOR_FIELD, "").strip()
    return ServerFilmEntry(fields.get(TITLE_FIELD, ""), int(typed), (director,) if director else ())


# -- autocomplete ---------------------------------------------------------------------------------------------------


async def nomination_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[int]]:
    """The server's nominations whose film or number matches what was typed, newest first."""
    if interaction.guild_id is None:
        return []
    page = await nominations.list_page(interaction.client.db, interaction.guild_id, "all", 0, size=200)
    typed = fold(current.strip().lstrip("#"))
    choices = []
    for entry in page.entries:
        film = page.films.get(entry.film_id)
        label = film.label if film else f"Film #{entry.film_id}"
        if typed and typed not in fold(label) and not str(entry.id).startswith(typed):
            continue
        name = f"#{entry.id} {truncate(label, 70)} · {entry.status}"
        choices.append(app_commands.Choice(name=name, value=entry.id))
        if len(choices) == 25:
            break
    return choices


# -- the cog ----------------------------------------------------------------------------------------------------------


class Nominations(commands.Cog):
    """Nominations"""

    group = app_commands.Group(
        name="nominations", description="The films members proposed, and moderating them.", guild_only=True
    )

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_interaction(self, interaction: Interaction) -> None:
        """The nominate form's submissions."""
        if interaction.type is not discord.InteractionType.modal_submit or not interaction.data:
            return
        if interaction.data.get("custom_id") != FORM_ID:
            return
        try:
            await nominate_entry(interaction, read_form(interaction.data))
        except Exception as exc:
            await report_error(interaction, exc)

    @app_commands.command(name="nominate", description="Propose a film for the club to watch: any film.")
    @app_commands.describe(title="The film's title (pick from the list, or type any film)", year="The year it came out")
    @app_commands.autocomplete(title=film_choices)
    @app_commands.guild_only()
    async def nominate(self, interaction: Interaction, title: str, year: int | None = None) -> None:
        settings, manage_guild, role_ids = await _settings_and_facts(interaction)
        nominations.require_nominator(settings, manage_guild=manage_guild, role_ids=role_ids)
        cleaned = nominations.check_title(title, year, self.bot.clock)
        titles = await self.bot.titles_for(interaction.guild_id)
        found = nominations.find_existing(titles, cleaned, year)
        if found.film_id is not None:
            await nominate_known(interaction, found.film_id)
        elif found.suggestions:
            view = SuggestionsView(interaction.user.id, cleaned, year, found.suggestions)
            await interaction.response.send_message(
                f"Did you mean one of these? If not, choose “No, another film” to nominate {truncate(cleaned, 80)!r}.",
                view=view,
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        else:
            await new_film(interaction, cleaned, year)

    @group.command(name="list", description="The club's nominations, newest first: who nominated, and their status.")
    @app_commands.describe(show="Which nominations (all by default)")
    @app_commands.choices(show=SHOW_CHOICES)
    async def list_nominations(self, interaction: Interaction, show: str = "all") -> None:
        nominations.statuses_for(show)  # refuses a value that is not a choice
        embed, view = await render_list(interaction, show, 0)
        if view is None:
            await interaction.response.send_message(embed=embed, allowed_mentions=discord.AllowedMentions.none())
        else:
            await interaction.response.send_message(
                embed=embed, view=view, allowed_mentions=discord.AllowedMentions.none()
            )

    async def _decide(self, interaction: Interaction, nomination: int, action: Action) -> None:
        settings, manage_guild, role_ids = await _settings_and_facts(interaction)
        decided = await nominations.decide(
            self.bot.db,
            self.bot.clock,
            settings,
            nomination,
            action,
            interaction.user.id,
            manage_guild=manage_guild,
            role_ids=role_ids,
        )
        film = await get_film(self.bot.db, decided.film_id)
        label = film.label if film else f"Film #{decided.film_id}"
        after = {
            Action.APPROVE: "It can go on a poll now (`/poll create source:nominations`).",
            Action.REJECT: "It can be nominated again later.",
            Action.BAN: "It cannot be nominated again unless a moderator approves or rejects it.",
        }[action]
        embed = club_embed(f"Nomination #{decided.id} {decided.status}", f"**{label}** · by <@{decided.member_id}>")
        add_field(embed, "What now", after)
        await send_ephemeral(interaction, embed=embed)

    @group.command(name="approve", description="Moderators: approve a nomination (it can go on a poll).")
    @app_commands.describe(nomination="The nomination (its number, or pick from the list)")
    @app_commands.autocomplete(nomination=nomination_choices)
    async def approve(self, interaction: Interaction, nomination: int) -> None:
        await self._decide(interaction, nomination, Action.APPROVE)

    @group.command(name="reject", description="Moderators: reject a nomination (it may be nominated again).")
    @app_commands.describe(nomination="The nomination (its number, or pick from the list)")
    @app_commands.autocomplete(nomination=nomination_choices)
    async def reject(self, interaction: Interaction, nomination: int) -> None:
        await self._decide(interaction, nomination, Action.REJECT)

    @group.command(name="ban", description="Moderators: ban a nominated film (it cannot be nominated again).")
    @app_commands.describe(nomination="The nomination (its number, or pick from the list)")
    @app_commands.autocomplete(nomination=nomination_choices)
    async def ban(self, interaction: Interaction, nomination: int) -> None:
        await self._decide(interaction, nomination, Action.BAN)

    @group.command(name="withdraw", description="Withdraw your nomination (moderators: anyone's).")
    @app_commands.describe(nomination="The nomination (its number, or pick from the list)")
    @app_commands.autocomplete(nomination=nomination_choices)
    async def withdraw(self, interaction: Interaction, nomination: int) -> None:
        settings, manage_guild, role_ids = await _settings_and_facts(interaction)
        gone = await nominations.withdraw(
            self.bot.db, settings, nomination, interaction.user.id, manage_guild=manage_guild, role_ids=role_ids
        )
        film = await get_film(self.bot.db, gone.film_id)
        label = film.label if film else f"Film #{gone.film_id}"
        await send_ephemeral(interaction, f"Withdrew nomination #{gone.id}: **{label}**.")


async def setup(bot: FilmClubBot) -> None:
    await bot.add_cog(Nominations(bot))
    bot.add_dynamic_items(NominationsPage)
