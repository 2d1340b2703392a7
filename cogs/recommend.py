"""/recommend, /similar, /surprise, /forme, /tonight and /film: finding something to watch.

The ranking lives in bot.core.recommend; this cog parses options, calls it and renders the result. Every button and
select on a result is a ``DynamicItem`` whose custom id carries what it needs (``filmclub:rec:...``; every ranked
list pages with Previous/Next, /tonight's group stored under an id), so they keep working after a restart; the
"Start a watch-party poll" button uses the polls feature's id (bot.ui.handoff.poll_from_films_id) and is answered
there.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import watch
from bot.core.catalog import KINDS
from bot.core.details import DetailsAnswer
from bot.core.errors import UserError
from bot.core.films import Film, Theme, film_for_guild
from bot.core.recommend import (
    MAX_COUNT,
    MAX_RUNTIME,
    FilmFacts,
    Filters,
    Pick,
    PickList,
    Recommender,
    recommender_for,
    stars_text,
    theme_key,
)
from bot.ui.autocomplete import (
    CHOICES_LIMIT,
    film_choices,
    theme_or_collection_choices,
)
from bot.ui.checks import guild_id_of
from bot.ui.embeds import add_field, club_embed, truncate
from bot.ui.films import add_film_details, answer_budget
from bot.ui.handoff import poll_from_films_id
from bot.ui.paging import NEXT, PREVIOUS, ButtonFactory, PageButton
from bot.ui.replies import send_ephemeral
from bot.ui.views import AnswersMember

if TYPE_CHECKING:
    from bot.client import FilmClubBot

log = logging.getLogger(__name__)

Interaction = discord.Interaction["FilmClubBot"]

KIND_CHOICES: list[app_commands.Choice[str]] = [app_commands.Choice(name=kind, value=kind) for kind in KINDS]
BLURB_LIMIT = 200
BLURB_LIMIT_LONG_LIST = 120
WATCHERS_SHOWN = 15


# -- rendering -----------------------------------------------------------------------------------------------------


def picks_embed(result: PickList) -> discord.Embed:
    embed = club_embed(result.heading, result.note)
    first = result.page * result.per_page
    blurb = BLURB_LIMIT if len(result.picks) <= 5 else BLURB_LIMIT_LONG_LIST  # ten picks stay under 6,000 characters
    for number, pick in enumerate(result.picks, start=first + 1):
        add_field(embed, f"{number}. {pick.film.label}", f"*{pick.reason}*\n{truncate(pick.film.blurb, blurb)}")
    last = first + len(result.picks)
    shown = f"Picks {first + 1}–{last} of {result.total}" if last > first + 1 else f"Pick {last} of {result.total}"
    embed.set_footer(text=shown)
    return embed


def picks_view(result: PickList, pager: ButtonFactory | None = None) -> discord.ui.View:
    """Previous/Next (when the ranking spans pages), start a poll with the shown films, and add one of them to your
    watchlist."""
    view = discord.ui.View(timeout=None)
    pages = -(-result.total // result.per_page)
    if pager is not None and pages > 1:
        view.add_item(pager(max(result.page - 1, 0), PREVIOUS, result.page <= 0))
        view.add_item(pager(min(result.page + 1, pages - 1), NEXT, result.page >= pages - 1))
    if len(result.picks) >= 2:
        try:
            handoff = poll_from_films_id(result.film_ids)
        except ValueError:  # ids too long for one custom id (only with a six-figure catalog): no poll button
            log.warning("no poll hand-off for films %s: the custom id would be too long", result.film_ids)
        else:
            view.add_item(
                discord.ui.Button(
                    label="Start a watch-party poll with these",
                    style=discord.ButtonStyle.primary,
                    custom_id=handoff,
                    row=0,
                )
            )
    view.add_item(WatchlistSelect(result.picks))
    view.stop()  # answered by the registered DynamicItem templates (and the polls feature), not by this instance
    return view


#: The first line of a server film's card: it is this server's own, not one of the curated catalog's.
SERVER_FILM_NOTE = "*One of this server's own films: not in the curated catalog, and seen only in this server.*"


def film_description(film: Film, overview: str | None = None) -> str:
    """A film's blurb (or, without one, the provider's ``overview``); a server film's says first that it is the
    server's own."""
    text = film.blurb or overview or ""
    if not film.is_server_film:
        return text
    return "\n\n".join(part for part in (SERVER_FILM_NOTE, text) if part)


def film_embed(
    facts: FilmFacts,
    answer: DetailsAnswer | None = None,
    *,
    poster_url: str | None = None,
    watch_region: str | None = None,
) -> discord.Embed:
    """The /film card: the catalog's entry and the club's view of it, then what the film-details provider knows
    (``answer``; None without a provider): poster, links, genres, where to watch, or why they are missing."""
    film = facts.film
    details = answer.details if answer is not None else None
    embed = club_embed(film.label, film_description(film, details.overview if details is not None else None))
    if film.alt_titles:
        add_field(embed, "Also known as", ", ".join(film.alt_titles))
    directors = film.directors or (details.directors if details is not None else ())
    add_field(embed, "Directed by", ", ".join(directors) or "—", inline=True)
    runtime = details.runtime if details is not None and not film.runtime else None
    add_field(embed, "Runtime", f"{runtime} min" if runtime else film.length, inline=True)
    add_field(embed, "Kind", film.kind, inline=True)
    if film.featuring:
        add_field(embed, "Featuring", ", ".join(film.featuring))
    themes = list(facts.theme_titles) + [f"{title} (server collection)" for title in facts.collections]
    if themes or not film.is_server_film:  # a server film has no curated themes: no empty field saying so
        add_field(embed, "Themes", ", ".join(themes) or "—")
    if facts.average is None:
        rating = "Not rated by the club yet."
    else:
        count = facts.reviews
        rating = f"{stars_text(facts.average)} from {count} review{'s' if count != 1 else ''}"
    if facts.club_watched:
        rating += " · the club has watched it"
    add_field(embed, "The club's rating", rating, inline=True)
    watchers = [f"<@{user_id}>" for user_id in facts.watchlisted_by[:WATCHERS_SHOWN]]
    extra = len(facts.watchlisted_by) - WATCHERS_SHOWN
    if extra > 0:
        watchers.append(f"and {extra} more")
    add_field(embed, "On the watchlist of", ", ".join(watchers) if watchers else "Nobody yet.", inline=True)
    if film.prompts or not film.is_server_film:
        add_field(embed, "For the discussion", "\n".join(f"• {prompt}" for prompt in film.prompts))
    return add_film_details(embed, film, answer, poster_url=poster_url, watch_region=watch_region)


def film_view(film: Film) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(FilmWatchlistButton(film.id))
    view.add_item(FilmSimilarButton(film.id))
    view.stop()
    return view


def surprise_embed(pick: Pick) -> discord.Embed:
    film = pick.film
    embed = club_embed(f"Surprise: {film.label}", film_description(film))
    add_field(embed, "Why", pick.reason)
    if film.prompts or not film.is_server_film:
        add_field(embed, "For the discussion", "\n".join(f"• {prompt}" for prompt in film.prompts))
    return embed


def surprise_view(theme: Theme | None, film: Film) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(SurpriseAgainButton(theme_key(theme) if theme else "", film.id))
    view.add_item(FilmWatchlistButton(film.id))
    view.stop()
    return view


async def recommend_page(
    interaction: Interaction, theme: Theme, filters: Filters, count: int, page: int
) -> tuple[discord.Embed, discord.ui.View]:
    result = await recommender_for(interaction.client.db).recommend(
        guild_id_of(interaction), theme, filters, count=count, page=page
    )
    return picks_embed(result), picks_view(
        result, pager=lambda to, label, off: RecommendPageButton(theme, filters, count, to, label, off)
    )


async def similar_page(
    interaction: Interaction, film: Film, count: int, page: int
) -> tuple[discord.Embed, discord.ui.View]:
    result = await recommender_for(interaction.client.db).similar(
        guild_id_of(interaction), film, count=count, page=page
    )
    key = f"{film.id}-{count}"
    return picks_embed(result), picks_view(result, pager=lambda to, label, off: SimilarPage(key, to, label, off))


async def tonight_page(
    interaction: Interaction, group: int | Mapping[int, str], filters: Filters, count: int, page: int
) -> tuple[discord.Embed, discord.ui.View]:
    """A page of /tonight for a stored group (a button's id) or a new one, stored only once it has a second page."""
    engine = recommender_for(interaction.client.db)
    guild_id = guild_id_of(interaction)
    members = await engine.group(guild_id, group) if isinstance(group, int) else group
    result = await engine.tonight(
        guild_id, members, count=count, max_runtime=filters.max_runtime, kind=filters.kind, page=page
    )
    if not result.has_more and page == 0:
        return picks_embed(result), picks_view(result)
    group_id = group if isinstance(group, int) else await engine.remember_group(guild_id, members)
    key = TonightPage.key_for(group_id, filters, count)
    return picks_embed(result), picks_view(result, pager=lambda to, label, off: TonightPage(key, to, label, off))


async def forme_page(
    interaction: Interaction, user_id: int, name: str, theme: Theme | None, kind: str | None, count: int, page: int
) -> tuple[discord.Embed, discord.ui.View]:
    engine = recommender_for(interaction.client.db)
    result = await engine.for_member(guild_id_of(interaction), user_id, count=count, page=page, theme=theme, kind=kind)
    key = theme_key(theme) if theme else ""
    return picks_embed(result).set_author(name=f"Picks for {name}"), picks_view(
        result, pager=lambda to, label, off: ForMePageButton(user_id, key, count, to, kind, label, off)
    )


async def decade_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[int]]:
    """The decades that have films, in the theme or collection already chosen if there is one, with their counts."""
    guild_id = interaction.guild_id
    if guild_id is None:
        return []
    engine = recommender_for(interaction.client.db)
    theme: Theme | None = None
    typed = getattr(interaction.namespace, "theme", None)
    if typed:
        try:
            theme = await engine.resolve_theme(guild_id, str(typed))
        except UserError:
            theme = None  # not a theme (yet): offer the whole catalog's decades
    prefix = str(current or "").strip().lower().removesuffix("s")
    return [
        app_commands.Choice(name=f"{decade}s ({count} film{'' if count == 1 else 's'})", value=decade)
        for decade, count in await engine.decades(guild_id, theme)
        if str(decade).startswith(prefix)
    ][:CHOICES_LIMIT]


# -- persistent components ---------------------------------------------------------------------------------------


class WatchlistSelect(AnswersMember, discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"filmclub:rec:watch"):
    """ "Add one to my watchlist": a select of the films shown; whoever chooses adds it to their own list."""

    def __init__(self, picks: tuple[Pick, ...] = ()) -> None:
        options = [
            discord.SelectOption(
                label=truncate(pick.film.label, 100),
                value=str(pick.film.id),
                description=truncate(pick.reason, 100),
            )
            for pick in picks
        ]
        super().__init__(
            discord.ui.Select(
                custom_id="filmclub:rec:watch",
                placeholder="Add one to my watchlist",
                options=options or [discord.SelectOption(label="—", value="0")],
                row=1,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls()

    async def answer(self, interaction: Interaction) -> None:
        values = self.item.values  # refreshed from the interaction by discord.py before this callback
        film_id = int(values[0]) if values and values[0].isdigit() else 0
        await add_to_watchlist(interaction, film_id)


async def add_to_watchlist(interaction: Interaction, film_id: int) -> None:
    """Add a film to the clicking member's watchlist and tell only them."""
    db = interaction.client.db
    film = await film_for_guild(db, interaction.guild_id, film_id)
    if film is None:
        await send_ephemeral(interaction, "That film is no longer in the catalog.")
        return
    guild_id = guild_id_of(interaction)
    added = await watch.add_to_watchlist(db, interaction.client.clock, guild_id, interaction.user.id, film.id)
    if added:
        await send_ephemeral(interaction, f"Added **{film.label}** to your watchlist.")
    else:
        await send_ephemeral(interaction, f"**{film.label}** is already on your watchlist.")


class RecommendPageButton(
    AnswersMember,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"filmclub:rec:more:(?P<theme>[^:]+):(?P<decade>\d*):(?P<runtime>\d*):(?P<kind>\d*):(?P<count>\d+)"
    r":(?P<watched>[01]):(?P<page>\d+)",
):
    """Previous/Next under /recommend: another page of the same ranking, shown in place of this one (the custom id
    is the one the former "More picks" button had, so those buttons still work)."""

    def __init__(
        self,
        theme: Theme | str,
        filters: Filters,
        count: int,
        page: int,
        label: str = NEXT,
        disabled: bool = False,
    ) -> None:
        key = theme if isinstance(theme, str) else theme_key(theme)
        kind = "" if filters.kind is None else str(KINDS.index(filters.kind))
        custom_id = ":".join(
            [
                "filmclub:rec:more",
                key,
                "" if filters.decade is None else str(filters.decade),
                "" if filters.max_runtime is None else str(filters.max_runtime),
                kind,
                str(count),
                "1" if filters.include_watched else "0",
                str(page),
            ]
        )
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.secondary, custom_id=custom_id, disabled=disabled, row=0
            )
        )
        self.key, self.filters, self.count, self.page = key, filters, count, page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        kind = int(match["kind"]) if match["kind"] else None
        filters = Filters(
            decade=int(match["decade"]) if match["decade"] else None,
            max_runtime=int(match["runtime"]) if match["runtime"] else None,
            kind=KINDS[kind] if kind is not None and kind < len(KINDS) else None,
            include_watched=match["watched"] == "1",
        )
        return cls(match["theme"], filters, min(int(match["count"]), MAX_COUNT), int(match["page"]))

    async def answer(self, interaction: Interaction) -> None:
        theme = await recommender_for(interaction.client.db).theme_from_key(guild_id_of(interaction), self.key)
        embed, view = await recommend_page(interaction, theme, self.filters, self.count, self.page)
        await interaction.response.edit_message(embed=embed, view=view)


class ForMePageButton(
    AnswersMember,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"filmclub:forme:more:(?P<user>\d+):(?P<theme>[^:]*):(?P<count>\d+):(?P<page>\d+)(?::(?P<kind>\d+))?",
):
    """Previous/Next under /forme: another page of that member's picks (the custom id is the former "More picks"
    button's; the kind, by its index in KINDS, comes last and only when one was asked for, so buttons made before it
    existed still match)."""

    def __init__(
        self,
        user_id: int,
        key: str,
        count: int,
        page: int,
        kind: str | None = None,
        label: str = NEXT,
        disabled: bool = False,
    ) -> None:
        suffix = "" if kind is None else f":{KINDS.index(kind)}"
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"filmclub:forme:more:{user_id}:{key}:{count}:{page}{suffix}",
                disabled=disabled,
                row=0,
            )
        )
        self.user_id, self.key, self.count, self.page, self.kind = user_id, key, count, page, kind

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        index = int(match["kind"]) if match["kind"] else None
        kind = KINDS[index] if index is not None and index < len(KINDS) else None
        return cls(int(match["user"]), match["theme"], min(int(match["count"]), MAX_COUNT), int(match["page"]), kind)

    async def answer(self, interaction: Interaction) -> None:
        guild_id = guild_id_of(interaction)
        theme = await recommender_for(interaction.client.db).theme_from_key(guild_id, self.key) if self.key else None
        name = "a member"
        message = interaction.message
        if message and message.embeds and message.embeds[0].author.name:
            name = message.embeds[0].author.name.removeprefix("Picks for ")
        embed, view = await forme_page(interaction, self.user_id, name, theme, self.kind, self.count, self.page)
        await interaction.response.edit_message(embed=embed, view=view)


class SimilarPage(PageButton, prefix="filmclub:similar", key=r"\d+-\d+"):
    """Previous/Next under /similar: the key is ``<film id>-<count>``."""

    async def answer(self, interaction: Interaction) -> None:
        film_id, count = (int(part) for part in self.key.split("-"))
        film = await film_for_guild(interaction.client.db, interaction.guild_id, film_id)
        if film is None:
            await send_ephemeral(interaction, "That film is no longer in the catalog.")
            return
        embed, view = await similar_page(interaction, film, min(count, MAX_COUNT), self.page)
        await interaction.response.edit_message(embed=embed, view=view)


class TonightPage(PageButton, prefix="filmclub:tonight", key=r"\d+-\d*-\d*-\d+"):
    """Previous/Next under /tonight: the key is ``<group id>-<max runtime>-<kind index>-<count>`` (the group is
    stored: ten member ids would not fit in a custom id)."""

    @staticmethod
    def key_for(group_id: int, filters: Filters, count: int) -> str:
        runtime = "" if filters.max_runtime is None else str(filters.max_runtime)
        kind = "" if filters.kind is None else str(KINDS.index(filters.kind))
        return f"{group_id}-{runtime}-{kind}-{count}"

    async def answer(self, interaction: Interaction) -> None:
        group, runtime, kind, count = self.key.split("-")
        kind_index = int(kind) if kind else None
        filters = Filters(
            max_runtime=int(runtime) if runtime else None,
            kind=KINDS[kind_index] if kind_index is not None and kind_index < len(KINDS) else None,
        )
        embed, view = await tonight_page(interaction, int(group), filters, min(int(count), MAX_COUNT), self.page)
        await interaction.response.edit_message(embed=embed, view=view)


class FilmWatchlistButton(
    AnswersMember, discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"filmclub:film:watch:(?P<film>\d+)"
):
    def __init__(self, film_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Add to my watchlist",
                style=discord.ButtonStyle.secondary,
                emoji="📌",
                custom_id=f"filmclub:film:watch:{film_id}",
            )
        )
        self.film_id = film_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(int(match["film"]))

    async def answer(self, interaction: Interaction) -> None:
        await add_to_watchlist(interaction, self.film_id)


class FilmSimilarButton(
    AnswersMember, discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"filmclub:film:similar:(?P<film>\d+)"
):
    """ "Similar films" under /film: the /similar answer, shown only to the member who asked."""

    def __init__(self, film_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Similar films", style=discord.ButtonStyle.secondary, custom_id=f"filmclub:film:similar:{film_id}"
            )
        )
        self.film_id = film_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(int(match["film"]))

    async def answer(self, interaction: Interaction) -> None:
        film = await film_for_guild(interaction.client.db, interaction.guild_id, self.film_id)
        if film is None:
            await send_ephemeral(interaction, "That film is no longer in the catalog.")
            return
        embed, view = await similar_page(interaction, film, 5, 0)
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)


class SurpriseAgainButton(
    AnswersMember,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"filmclub:surprise:(?P<theme>[^:]*):(?P<film>\d+)",
):
    """ "Another one": draw again (never the film just shown, unless it is the only one left)."""

    def __init__(self, key: str, film_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Another one",
                style=discord.ButtonStyle.primary,
                emoji="🎲",
                custom_id=f"filmclub:surprise:{key}:{film_id}",
            )
        )
        self.key, self.film_id = key, film_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(match["theme"], int(match["film"]))

    async def answer(self, interaction: Interaction) -> None:
        engine = recommender_for(interaction.client.db)
        guild_id = guild_id_of(interaction)
        theme = await engine.theme_from_key(guild_id, self.key) if self.key else None
        pick = await engine.surprise(guild_id, theme, exclude=self.film_id)
        await interaction.response.edit_message(embed=surprise_embed(pick), view=surprise_view(theme, pick.film))


# -- the cog -------------------------------------------------------------------------------------------------------


class Recommendations(commands.Cog):
    """Finding something to watch"""

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot
        self._warming: asyncio.Task[None] | None = None

    @property
    def engine(self) -> Recommender:
        return recommender_for(self.bot.db)

    async def cog_load(self) -> None:
        try:
            engine = self.engine
        except RuntimeError:  # loaded without a database (tests that only inspect the command tree)
            return
        self._warming = self.bot.spawn(self._warm(engine), name="filmclub-recommend-warm")

    async def cog_unload(self) -> None:
        if self._warming is not None:
            self._warming.cancel()

    async def _warm(self, engine: Recommender) -> None:
        """Build the catalog snapshot at start-up, so the first /recommend does not pay for it."""
        try:
            await engine.warm()
        except Exception:
            log.warning("could not prepare the recommendation snapshot ahead of time", exc_info=True)

    @app_commands.command(name="recommend", description="The best films in a theme for the club, each with why.")
    @app_commands.guild_only()
    @app_commands.describe(
        theme="A theme or server collection (pick from the list as you type)",
        decade="Only films from this decade (the list shows the decades that have films)",
        max_runtime="Only films at most this long, in minutes",
        kind="Only this kind of film",
        count="How many picks to show (1-10, default 5)",
        include_watched="Also show films the club has already watched (default: no)",
    )
    @app_commands.autocomplete(theme=theme_or_collection_choices)
    @app_commands.autocomplete(decade=decade_choices)
    @app_commands.choices(kind=KIND_CHOICES)
    async def recommend(
        self,
        interaction: Interaction,
        theme: str,
        decade: int | None = None,
        max_runtime: app_commands.Range[int, 1, MAX_RUNTIME] | None = None,
        kind: str | None = None,
        count: app_commands.Range[int, 1, MAX_COUNT] = 5,
        include_watched: bool = False,
    ) -> None:
        guild_id = guild_id_of(interaction)
        chosen = await self.engine.resolve_theme(guild_id, theme)
        filters = Filters(decade=decade, max_runtime=max_runtime, kind=kind, include_watched=include_watched)
        embed, view = await recommend_page(interaction, chosen, filters, count, 0)
        await interaction.response.send_message(embed=embed, view=view)

    @app_commands.command(name="film", description="A film's details, the club's rating, who wants to see it.")
    @app_commands.guild_only()
    @app_commands.describe(title="The film (pick from the list as you type)")
    @app_commands.autocomplete(title=film_choices)
    async def film(self, interaction: Interaction, title: str) -> None:
        guild_id = guild_id_of(interaction)
        chosen = await self.bot.resolve_film(interaction.guild_id, title)
        details = self.bot.details
        if not details.enabled:
            facts, answer = await self.engine.film_facts(guild_id, chosen), None
        else:
            # What the provider knows, fetched while the club's facts are read, within what is left of Discord's
            # three seconds: a slow or failing provider makes the card say so, never miss the deadline.
            within = answer_budget(interaction.created_at, discord.utils.utcnow())
            facts, answer = await asyncio.gather(
                self.engine.film_facts(guild_id, chosen), details.for_film(chosen, within=within)
            )
        poster = details.poster_url(answer.details) if answer is not None and answer.details is not None else None
        embed = film_embed(facts, answer, poster_url=poster, watch_region=self.bot.settings.watch_region)
        await interaction.response.send_message(embed=embed, view=film_view(chosen))

    @app_commands.command(name="similar", description="Films that share themes, people and era with a film.")
    @app_commands.guild_only()
    @app_commands.describe(title="The film to start from", count="How many picks to show (1-10, default 5)")
    @app_commands.autocomplete(title=film_choices)
    async def similar(
        self, interaction: Interaction, title: str, count: app_commands.Range[int, 1, MAX_COUNT] = 5
    ) -> None:
        chosen = await self.bot.resolve_film(interaction.guild_id, title)
        embed, view = await similar_page(interaction, chosen, count, 0)
        await interaction.response.send_message(embed=embed, view=view)

    @app_commands.command(name="surprise", description="One film the club hasn't watched, at random.")
    @app_commands.guild_only()
    @app_commands.describe(theme="Draw from this theme or collection only")
    @app_commands.autocomplete(theme=theme_or_collection_choices)
    async def surprise(self, interaction: Interaction, theme: str | None = None) -> None:
        guild_id = guild_id_of(interaction)
        chosen = await self.engine.resolve_theme(guild_id, theme) if theme else None
        pick = await self.engine.surprise(guild_id, chosen)
        await interaction.response.send_message(embed=surprise_embed(pick), view=surprise_view(chosen, pick.film))

    @app_commands.command(name="forme", description="Picks for you from your own ratings, each with why.")
    @app_commands.guild_only()
    @app_commands.describe(
        count="How many picks to show (1-10, default 5)",
        theme="Only from this theme or collection",
        kind="Only this kind of film (series come after films unless you ask for them)",
    )
    @app_commands.autocomplete(theme=theme_or_collection_choices)
    @app_commands.choices(kind=KIND_CHOICES)
    async def forme(
        self,
        interaction: Interaction,
        count: app_commands.Range[int, 1, MAX_COUNT] = 5,
        theme: str | None = None,
        kind: str | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        chosen = await self.engine.resolve_theme(guild_id, theme) if theme else None
        if await self.engine.needs_fit(guild_id):
            await interaction.response.defer(thinking=True)
        embed, view = await forme_page(
            interaction, interaction.user.id, interaction.user.display_name, chosen, kind, count, 0
        )
        await send_public(interaction, embed, view)

    @app_commands.command(name="tonight", description="Films none of tonight's group has seen, best for everyone.")
    @app_commands.guild_only()
    @app_commands.describe(
        member1="Someone watching with you (you are always included)",
        member2="Someone else watching",
        member3="Someone else watching",
        member4="Someone else watching",
        member5="Someone else watching",
        channel="Everyone in this voice channel (instead of naming people)",
        max_runtime="Only films at most this long, in minutes",
        kind="Only this kind of film",
        count="How many picks to show (1-10, default 5)",
    )
    @app_commands.choices(kind=KIND_CHOICES)
    async def tonight(
        self,
        interaction: Interaction,
        member1: discord.Member | None = None,
        member2: discord.Member | None = None,
        member3: discord.Member | None = None,
        member4: discord.Member | None = None,
        member5: discord.Member | None = None,
        channel: discord.VoiceChannel | discord.StageChannel | None = None,
        max_runtime: app_commands.Range[int, 1, MAX_RUNTIME] | None = None,
        kind: str | None = None,
        count: app_commands.Range[int, 1, MAX_COUNT] = 5,
    ) -> None:
        guild_id = guild_id_of(interaction)
        group = self._group(interaction, [member1, member2, member3, member4, member5], channel)
        filters = Filters(max_runtime=max_runtime, kind=kind)
        if await self.engine.needs_fit(guild_id):
            await interaction.response.defer(thinking=True)
        embed, view = await tonight_page(interaction, group, filters, count, 0)
        await send_public(interaction, embed, view)

    def _group(
        self,
        interaction: Interaction,
        named: list[discord.Member | None],
        channel: discord.VoiceChannel | discord.StageChannel | None,
    ) -> dict[int, str]:
        """user id -> display name of who is watching: everyone in the voice channel (given, or the one the member
        asking sits in) plus the named members; without a channel, the named members and the member asking."""
        people = {m.id: m.display_name for m in named if m is not None and not m.bot}
        user = interaction.user
        if channel is None and not people and isinstance(user, discord.Member) and user.voice:
            channel = user.voice.channel  # a voice or stage channel
        if channel is None:
            if not people:
                raise UserError("Name who is watching with you (member1 … member5), or pick a voice channel.")
            return {user.id: user.display_name, **people}
        guild = interaction.guild
        voice = guild.get_channel(channel.id) if guild is not None else None
        states = voice.voice_states if isinstance(voice, discord.VoiceChannel | discord.StageChannel) else {}
        group: dict[int, str] = {}
        for user_id in states:
            member = guild.get_member(user_id) if guild is not None else None
            if member is None or not member.bot:
                group[user_id] = member.display_name if member else f"member {user_id}"
        if not group and not people:
            raise UserError(f"Nobody is in {channel.name} right now. Name who is watching instead.")
        return {**group, **people}


async def send_public(interaction: Interaction, embed: discord.Embed, view: discord.ui.View) -> None:
    """The answer everyone in the channel sees, as the first response or after a "thinking" deferral."""
    if interaction.response.is_done():
        await interaction.followup.send(embed=embed, view=view)
    else:
        await interaction.response.send_message(embed=embed, view=view)


async def setup(bot: FilmClubBot) -> None:
    await bot.add_cog(Recommendations(bot))
    bot.add_dynamic_items(
        WatchlistSelect,
        RecommendPageButton,
        ForMePageButton,
        SimilarPage,
        TonightPage,
        FilmWatchlistButton,
        FilmSimilarButton,
        SurpriseAgainButton,
    )
