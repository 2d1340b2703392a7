"""Nominating: a known film at once, "did you mean" buttons, the provider's answers or the form for a new one.

The choices are ephemeral views for the member who ran /nominate (they expire); the form is answered from its custom
id by the cog's ``on_interaction``, so one opened before a restart still nominates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.core import nominations, server_films
from bot.core.details import DetailsAnswer, DetailsUnavailable, FilmCandidate, FilmDetailsService
from bot.core.errors import UserError
from bot.core.guilds import GuildSettings, get_settings
from bot.core.search import IndexEntry
from bot.core.server_films import ServerFilmEntry
from bot.ui.autocomplete import SERVER_FILM_MARK
from bot.ui.checks import guild_id_of, member_facts
from bot.ui.embeds import truncate
from bot.ui.forms import submitted_fields
from bot.ui.replies import send_ephemeral
from bot.ui.views import ClubView

from ._render import known_details, nominated_embed

if TYPE_CHECKING:
    from bot.client import FilmClubBot

Interaction = discord.Interaction["FilmClubBot"]

#: How long the provider may take to answer a search or a film's details (Discord's follow-ups allow 15 minutes,
#: but a member waits).
PROVIDER_BUDGET = 4.0
#: Ephemeral choices (did you mean, the provider's answers) work this long; then the member runs /nominate again.
CHOICE_TIMEOUT = 600.0
CANDIDATES_SHOWN = 5


def provider_of(bot: FilmClubBot) -> FilmDetailsService | None:
    """The bot's film-details service when a provider is configured, else None (members then enter films in a form)."""
    return bot.details if bot.details.enabled else None


# -- nominating -----------------------------------------------------------------------------------------------------


async def settings_and_facts(interaction: Interaction) -> tuple[GuildSettings, bool, set[int]]:
    settings = await get_settings(interaction.client.db, guild_id_of(interaction))
    manage_guild, role_ids = member_facts(interaction)
    return settings, manage_guild, role_ids


async def nominate_known(interaction: Interaction, film_id: int) -> None:
    """Nominate a film members can already name, and say so."""
    bot = interaction.client
    settings, manage_guild, role_ids = await settings_and_facts(interaction)
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
    settings, manage_guild, role_ids = await settings_and_facts(interaction)
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
