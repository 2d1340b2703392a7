"""/review, /reviews and /profile: members rate and review films, read each other's reviews, and see a profile.

The review form is a modal whose custom_id carries the film (``filmclub:review-form:<film id>``); its submission is
answered here in ``on_interaction`` rather than by a stored ``Modal`` instance, so a form opened before a restart
still saves. The same form answers other features' "Review" buttons (``bot.ui.handoff.review_film_id``), and the
Previous/Next buttons of review lists are ``DynamicItem`` templates that re-read their page from the database.
"""

from __future__ import annotations

import asyncio
import io
import re
from typing import TYPE_CHECKING, Any, Self

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import reviews
from bot.core.errors import NotFoundError, UserError
from bot.core.films import Film, film_for_guild, get_films
from bot.core.guilds import get_settings, is_moderator
from bot.core.reviews import FilmReviewPage, MemberReviewPage, Review
from bot.core.stats import Profile, member_profile
from bot.ui.autocomplete import film_choices
from bot.ui.checks import guild_id_of, member_facts
from bot.ui.embeds import add_field, club_embed, truncate
from bot.ui.forms import submitted_values
from bot.ui.handoff import REVIEW_FILM_PATTERN
from bot.ui.paging import PageButton, page_footer, page_view
from bot.ui.replies import report_error, send_ephemeral
from bot.ui.reviews import (
    HISTOGRAM_FILE,
    average,
    histogram_png,
    review_text,
    safe_text,
    stars,
    take_down_posts,
)
from bot.ui.views import AnswersMember

if TYPE_CHECKING:
    from bot.client import FilmClubBot

Interaction = discord.Interaction["FilmClubBot"]

FORM_PATTERN = re.compile(r"filmclub:review-form:(?P<film_id>\d+)")
RATING_FIELD = "review:rating"
BODY_FIELD = "review:body"
SPOILER_FIELD = "review:spoiler"
MODAL_TITLE_LIMIT = 45
EXCERPT = 700  # characters of each review in a list; the full text is one /reviews film: member: away


# -- rendering -------------------------------------------------------------------------------------------------------


def _when(review: Review) -> str:
    return discord.utils.format_dt(review.updated_at, "d")


def _marks(review: Review) -> str:
    marks = []
    if review.edited:
        marks.append("edited")
    if review.source == "letterboxd":
        marks.append("from Letterboxd")
    return f" · {', '.join(marks)}" if marks else ""


def film_page_embed(film: Film, page: FilmReviewPage) -> discord.Embed:
    if page.count == 0 or page.average is None:
        return club_embed(f"Reviews · {film.label}", "No one has reviewed this film yet. `/review add` is yours.")
    plural = "review" if page.count == 1 else "reviews"
    embed = club_embed(
        f"Reviews · {film.label}", f"**{average(page.average)}** average from **{page.count}** {plural}."
    )
    for review in page.reviews:
        text = review_text(review.body, review.spoiler, EXCERPT)
        value = f"<@{review.user_id}> · {_when(review)}" + (f"\n{text}" if text else "")
        add_field(embed, f"{stars(review.rating)} ({review.stars:g}){_marks(review)}", value)
    embed.set_image(url=f"attachment://{HISTOGRAM_FILE}")
    embed.set_footer(text=page_footer(page.page, page.pages, "newest first"))
    return embed


def member_page_embed(name: str, page: MemberReviewPage, films: dict[int, Film]) -> discord.Embed:
    title = f"Reviews by {truncate(name, 100)}"
    if page.count == 0 or page.average is None:
        return club_embed(title, "No reviews yet.")
    plural = "review" if page.count == 1 else "reviews"
    embed = club_embed(title, f"**{page.count}** {plural}, **{average(page.average)}** on average.")
    for review in page.reviews:
        film = films.get(review.film_id)
        label = film.label if film else f"Film #{review.film_id}"
        text = review_text(review.body, review.spoiler, EXCERPT)
        value = _when(review) + (f"\n{text}" if text else "")
        add_field(embed, f"{label} — {stars(review.rating)}{_marks(review)}", value)
    embed.set_footer(text=page_footer(page.page, page.pages, "newest first"))
    return embed


def review_embed(author: str, film: Film, review: Review) -> discord.Embed:
    """One review in full."""
    embed = club_embed(f"{stars(review.rating)} {film.label}", review_text(review.body, review.spoiler, 4000) or None)
    embed.set_author(name=truncate(author, 100))
    footer = f"Reviewed {review.updated_at:%Y-%m-%d}{_marks(review)}"
    embed.set_footer(text=footer + (" · contains spoilers" if review.spoiler else ""))
    return embed


def profile_embed(name: str, profile: Profile, films: dict[int, Film]) -> discord.Embed:
    embed = club_embed(f"{truncate(name, 100)} · profile")
    add_field(embed, "Reviews", str(profile.reviews), inline=True)
    add_field(embed, "Average given", average(profile.average) if profile.average is not None else "—", inline=True)
    add_field(embed, "Watchlist", f"{profile.watchlist} film{'s' if profile.watchlist != 1 else ''}", inline=True)
    add_field(embed, "Seen", f"{profile.seen} film{'s' if profile.seen != 1 else ''}", inline=True)
    came = profile.attendance
    add_field(
        embed,
        "Screenings attended",
        f"{came.attended} · current streak {came.streak}" if came.attended else "None yet.",
        inline=True,
    )
    themes = [
        f"**{safe_text(t.title)}** · {t.films} film{'s' if t.films != 1 else ''}, {average(t.average)}"
        for t in profile.favourite_themes
    ]
    add_field(embed, "Favourite themes", "\n".join(themes) or "Review a few films to find out.")
    recent = []
    for review in profile.recent:
        film = films.get(review.film_id)
        recent.append(f"{stars(review.rating)} {film.label if film else review.film_id} · {_when(review)}")
    add_field(embed, "Recent reviews", "\n".join(recent) or "None yet.")
    return embed


async def histogram_file(film: Film, page: FilmReviewPage) -> discord.File:
    """The ratings chart, drawn in a worker thread: tens of milliseconds the event loop should not wait."""
    png = await asyncio.to_thread(histogram_png, f"Ratings · {film.label}", page.histogram)
    return discord.File(io.BytesIO(png), filename=HISTOGRAM_FILE)


def display_name(user: discord.abc.User) -> str:
    return user.display_name


# -- the review form -------------------------------------------------------------------------------------------------


def review_form(film: Film, *, rating: int | None, spoiler: bool, body: str | None) -> discord.ui.Modal:
    """Rating, optional text and a spoiler flag for one film, pre-filled with what the member already chose."""
    modal = discord.ui.Modal(
        title=truncate(f"Review: {film.title}", MODAL_TITLE_LIMIT), custom_id=f"filmclub:review-form:{film.id}"
    )
    modal.add_item(
        discord.ui.Label(
            text="Rating",
            component=discord.ui.Select(
                custom_id=RATING_FIELD,
                placeholder="How many stars?",
                options=[
                    discord.SelectOption(label=f"{stars(half)}  {half / 2:g}", value=str(half), default=half == rating)
                    for half in range(10, 0, -1)
                ],
            ),
        )
    )
    modal.add_item(
        discord.ui.Label(
            text="Review (optional)",
            description=f"Up to {reviews.MAX_REVIEW_LENGTH} characters. Leave empty to just rate it.",
            component=discord.ui.TextInput(
                custom_id=BODY_FIELD,
                style=discord.TextStyle.paragraph,
                required=False,
                max_length=reviews.MAX_REVIEW_LENGTH,
                default=body,
            ),
        )
    )
    modal.add_item(
        discord.ui.Label(
            text="Spoilers?",
            component=discord.ui.Select(
                custom_id=SPOILER_FIELD,
                options=[
                    discord.SelectOption(label="No spoilers", value="no", default=not spoiler),
                    discord.SelectOption(label="Contains spoilers: hide the text", value="yes", default=spoiler),
                ],
            ),
        )
    )
    return modal


async def open_review_form(
    interaction: Interaction, film: Film, *, rating: int | None = None, spoiler: bool = False
) -> None:
    """Show the form, pre-filled with the member's current review if they have one."""
    guild_id = guild_id_of(interaction)
    current = await reviews.get_review(interaction.client.db, guild_id, interaction.user.id, film.id)
    if current is not None:
        rating = rating or current.rating
        spoiler = spoiler or current.spoiler
    modal = review_form(film, rating=rating, spoiler=spoiler, body=current.body if current else None)
    await interaction.response.send_modal(modal)
    modal.stop()  # the submission is answered by Reviews.on_interaction, which also works after a restart


def parse_form(data: dict[str, Any]) -> tuple[float, str | None, bool]:
    """(stars, text, spoiler) from a submitted review form, checked as strictly as a command's options."""
    fields = submitted_values(data)
    chosen = fields.get(RATING_FIELD) or []
    try:
        half = int(chosen[0]) if isinstance(chosen, list) and len(chosen) == 1 else 0
    except ValueError:
        half = 0
    if not 1 <= half <= 10:
        raise UserError("Choose a rating from ½ to 5 stars.")
    body = fields.get(BODY_FIELD)
    spoiler = fields.get(SPOILER_FIELD) == ["yes"]
    return half / 2, body if isinstance(body, str) else None, spoiler


# -- persistent components -------------------------------------------------------------------------------------------


class ReviewFilmButton(AnswersMember, discord.ui.DynamicItem[discord.ui.Button[Any]], template=REVIEW_FILM_PATTERN):
    """Another feature's "Review" button (e.g. after a screening): opens the review form for its film."""

    def __init__(self, film_id: int) -> None:
        super().__init__(discord.ui.Button(label="Review", custom_id=f"filmclub:review:{film_id}"))
        self.film_id = film_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(int(match["film_id"]))

    async def answer(self, interaction: Interaction) -> None:
        film = await film_for_guild(interaction.client.db, interaction.guild_id, self.film_id, active=False)
        if film is None:
            raise NotFoundError("That film is no longer in the catalog.")
        await open_review_form(interaction, film)


class FilmReviewsPage(PageButton, prefix="filmclub:reviews:film"):
    """Previous/Next on a film's reviews (the key is the film id)."""

    async def answer(self, interaction: Interaction) -> None:
        film = await film_for_guild(interaction.client.db, interaction.guild_id, int(self.key), active=False)
        if film is None:
            raise NotFoundError("That film is no longer in the catalog.")
        embed, files, view = await render_film_page(interaction, film, self.page)
        await interaction.response.edit_message(embed=embed, attachments=files, view=view)


class MemberReviewsPage(PageButton, prefix="filmclub:reviews:member"):
    """Previous/Next on a member's reviews (the key is the member's id)."""

    async def answer(self, interaction: Interaction) -> None:
        name = _title_name(interaction.message)
        embed, view = await render_member_page(interaction, int(self.key), name, self.page)
        await interaction.response.edit_message(embed=embed, view=view)


def _title_name(message: discord.Message | None) -> str:
    """The member's name as the list showed it (the bot cannot look members up without the members intent)."""
    if message and message.embeds and message.embeds[0].title:
        return message.embeds[0].title.removeprefix("Reviews by ")
    return "a member"


async def render_film_page(
    interaction: Interaction, film: Film, page_number: int
) -> tuple[discord.Embed, list[discord.File], discord.ui.View | None]:
    page = await reviews.film_reviews(interaction.client.db, guild_id_of(interaction), film.id, page_number)
    files = [await histogram_file(film, page)] if page.count else []
    view = page_view(lambda p, label, off: FilmReviewsPage(film.id, p, label, off), page.page, page.pages)
    return film_page_embed(film, page), files, view


async def render_member_page(
    interaction: Interaction, user_id: int, name: str, page_number: int
) -> tuple[discord.Embed, discord.ui.View | None]:
    page = await reviews.member_reviews(interaction.client.db, guild_id_of(interaction), user_id, page_number)
    films = await get_films(interaction.client.db, [r.film_id for r in page.reviews])
    view = page_view(lambda p, label, off: MemberReviewsPage(user_id, p, label, off), page.page, page.pages)
    return member_page_embed(name, page, films), view


# -- the cog ---------------------------------------------------------------------------------------------------------


class Reviews(commands.Cog):
    """Reviews"""

    review = app_commands.Group(name="review", description="Rate and review films.", guild_only=True)

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot

    @review.command(name="add", description="Rate a film from ½ to 5 stars, with an optional review.")
    @app_commands.describe(
        film="The film (pick from the list as you type)",
        rating="Stars from 0.5 to 5, in half steps (e.g. 3.5)",
        spoiler="Does your review give the plot away? Its text is then hidden as a spoiler.",
    )
    @app_commands.autocomplete(film=film_choices)
    async def review_add(
        self,
        interaction: Interaction,
        film: str,
        rating: app_commands.Range[float, 0.5, 5.0],
        spoiler: bool = False,
    ) -> None:
        guild_id_of(interaction)
        half = reviews.half_stars(rating)
        chosen = await self.bot.resolve_film(interaction.guild_id, film)
        await open_review_form(interaction, chosen, rating=half, spoiler=spoiler)

    @review.command(name="delete", description="Delete your review of a film (moderators: anyone's, with a reason).")
    @app_commands.describe(
        film="The film whose review to delete",
        member="Moderators only: whose review to remove (it is recorded)",
        reason="Moderators only: why it was removed (kept with the record)",
    )
    @app_commands.autocomplete(film=film_choices)
    async def review_delete(
        self,
        interaction: Interaction,
        film: str,
        member: discord.User | None = None,
        reason: app_commands.Range[str, 1, reviews.MAX_REASON_LENGTH] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        chosen = await self.bot.resolve_film(interaction.guild_id, film)
        author = member or interaction.user
        manage_guild, role_ids = member_facts(interaction)
        moderator = is_moderator(
            await get_settings(self.bot.db, guild_id), manage_guild=manage_guild, role_ids=role_ids
        )
        deleted = await reviews.delete_review(
            self.bot.db,
            self.bot.clock,
            guild_id=guild_id,
            film_id=chosen.id,
            author_id=author.id,
            actor_id=interaction.user.id,
            actor_is_moderator=moderator,
            reason=reason,
        )
        posts = ""
        if deleted.posts:
            await interaction.response.defer(ephemeral=True, thinking=True)  # Discord calls may outlast 3 seconds
            posts = " " + (await take_down_posts(self.bot, guild_id, deleted.posts)).sentence()
        elif deleted.review.source == "discord":
            posts = " I have no record of where it was posted; if its post is still up, delete it by hand."
        if author.id == interaction.user.id:
            await send_ephemeral(interaction, f"Deleted your review of **{chosen.label}**.{posts}")
        else:
            note = f" Reason recorded: {safe_text(reason)}" if reason else " The removal is recorded."
            await send_ephemeral(interaction, f"Removed <@{author.id}>'s review of **{chosen.label}**.{posts}{note}")

    @app_commands.command(name="reviews", description="Read the club's reviews of a film, or a member's reviews.")
    @app_commands.describe(film="A film: its reviews, average and ratings chart", member="A member: their reviews")
    @app_commands.autocomplete(film=film_choices)
    @app_commands.guild_only()
    async def reviews_command(
        self, interaction: Interaction, film: str | None = None, member: discord.User | None = None
    ) -> None:
        guild_id = guild_id_of(interaction)
        if film is not None:
            chosen = await self.bot.resolve_film(interaction.guild_id, film)
            if member is not None:
                one = await reviews.get_review(self.bot.db, guild_id, member.id, chosen.id)
                if one is None:
                    raise NotFoundError(f"{safe_text(display_name(member))} has not reviewed {chosen.label}.")
                await self._post_review(interaction, display_name(member), chosen, one)
                return
            embed, files, view = await render_film_page(interaction, chosen, 0)
            if view is None:
                await interaction.response.send_message(embed=embed, files=files)
            else:
                await interaction.response.send_message(embed=embed, files=files, view=view)
            return
        who = member or interaction.user
        embed, view = await render_member_page(interaction, who.id, display_name(who), 0)
        if view is None:
            await interaction.response.send_message(embed=embed)
        else:
            await interaction.response.send_message(embed=embed, view=view)

    @app_commands.command(name="profile", description="A member's reviews, average, favourite themes and watchlist.")
    @app_commands.describe(member="Whose profile (yours if empty)")
    @app_commands.guild_only()
    async def profile(self, interaction: Interaction, member: discord.User | None = None) -> None:
        who = member or interaction.user
        profile = await member_profile(self.bot.db, guild_id_of(interaction), who.id)
        films = await get_films(self.bot.db, [r.film_id for r in profile.recent])
        await interaction.response.send_message(embed=profile_embed(display_name(who), profile, films))

    @commands.Cog.listener()
    async def on_interaction(self, interaction: Interaction) -> None:
        """Review form submissions (from /review add or another feature's "Review" button)."""
        if interaction.type is not discord.InteractionType.modal_submit or not interaction.data:
            return
        match = FORM_PATTERN.fullmatch(str(interaction.data.get("custom_id", "")))
        if match is None:
            return
        try:
            await self._save_form(interaction, int(match["film_id"]))
        except Exception as exc:
            await report_error(interaction, exc)

    async def _save_form(self, interaction: Interaction, film_id: int) -> None:
        guild_id = guild_id_of(interaction)
        film = await film_for_guild(self.bot.db, guild_id, film_id, active=False)
        if film is None:
            raise NotFoundError("That film is no longer in the catalog.")
        stars_given, body, spoiler = parse_form(dict(interaction.data or {}))
        posted = await reviews.post_review(
            self.bot.db,
            self.bot.clock,
            guild_id=guild_id,
            user_id=interaction.user.id,
            film_id=film.id,
            stars=stars_given,
            body=body,
            spoiler=spoiler,
        )
        await self._post_review(interaction, display_name(interaction.user), film, posted.review)
        if posted.unwatchlisted:
            await interaction.followup.send(f"Taken **{film.label}** off your watchlist.", ephemeral=True)

    async def _post_review(self, interaction: Interaction, author: str, film: Film, review: Review) -> None:
        """Show a review in full, publicly, and remember the post so that deleting the review takes it down."""
        sent = await interaction.response.send_message(embed=review_embed(author, film, review))
        if sent.message_id is not None and interaction.channel_id is not None:
            await reviews.record_post(
                self.bot.db,
                guild_id=review.guild_id,
                user_id=review.user_id,
                film_id=review.film_id,
                channel_id=interaction.channel_id,
                message_id=sent.message_id,
            )


async def setup(bot: FilmClubBot) -> None:
    await bot.add_cog(Reviews(bot))
    bot.add_dynamic_items(ReviewFilmButton, FilmReviewsPage, MemberReviewsPage)
