"""/config and /setup: moderators choose the club's channels, roles, timezone and weekly picks schedule."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import config, nights, picks, schedule, server_data, web_pages
from bot.core.collections import collection_id_of
from bot.core.errors import PermissionDenied, UserError
from bot.core.guilds import GuildSettings, get_settings
from bot.core.recommend import recommender_for
from bot.ui.autocomplete import theme_choice_name
from bot.ui.checks import (
    bot_posting_permissions,
    ensure_moderator,
    ensure_screening_channel,
    guild_id_of,
    member_facts,
)
from bot.ui.embeds import add_field, chunk_lines, club_embed, literal, truncate
from bot.ui.forms import submitted_fields
from bot.ui.replies import report_error, send_ephemeral
from bot.ui.views import ClubView

if TYPE_CHECKING:
    from bot.client import FilmClubBot

Interaction = discord.Interaction["FilmClubBot"]

DAY_CHOICES = [app_commands.Choice(name=name, value=index) for index, name in enumerate(schedule.WEEKDAYS)]
CHANNEL_CHOICES = [app_commands.Choice(name=kind.value, value=kind.value) for kind in config.ChannelKind]
ROLE_CHOICES = [app_commands.Choice(name=kind.value, value=kind.value) for kind in config.RoleKind]
UNSET_CHOICES = [app_commands.Choice(name=config.LABELS[setting], value=setting) for setting in config.UNSETTABLE]
#: The timezones /setup offers in its menu (Discord allows 25 options); /config timezone takes any IANA name.
COMMON_TIMEZONES = (
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Istanbul",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "America/Halifax",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Pacific/Honolulu",
)
SETUP_TIMEOUT = 900.0


# -- shared pieces ------------------------------------------------------------------------------------------------


def require_postable(channel: discord.abc.GuildChannel) -> None:
    """Refuse a channel the bot cannot post embeds in; the message names each missing permission."""
    config.require_postable(channel.name, bot_posting_permissions(channel))


def require_threads(channel: discord.TextChannel) -> None:
    """Refuse a channel where the bot cannot open a screening's discussion thread and post in it."""
    granted = channel.permissions_for(channel.guild.me)
    if not (granted.create_public_threads and granted.send_messages_in_threads):
        raise UserError(
            f"I can't open discussion threads in #{channel.name}: allow Create Public Threads and Send Messages in "
            "Threads for my role there, or pick another channel."
        )


def resolve_channel(interaction: Interaction, channel_id: int) -> discord.abc.GuildChannel:
    channel = interaction.guild.get_channel(channel_id) if interaction.guild else None
    if channel is None:
        raise UserError("I can't see that channel. Check that I have the View Channel permission there.")
    return channel


def discord_time(moment: datetime) -> str:
    """A moment every member reads in their own timezone: "Friday, 13 March 2026 20:00 (in 3 days)"."""
    return f"{discord.utils.format_dt(moment, 'F')} ({discord.utils.format_dt(moment, 'R')})"


async def theme_titles(interaction: Interaction, settings: GuildSettings) -> str:
    """The rotation's themes and collections by name; one gone since is named as gone (the rotation skips it)."""
    if not settings.picks_themes:
        return "all themes, in turn"
    themes = await recommender_for(interaction.client.db).themes(settings.guild_id)
    titles = {theme.slug: theme.title for theme in themes}
    gone = {True: "a deleted collection, skipped", False: "retired, skipped"}
    return ", ".join(
        titles.get(slug, f"{slug} ({gone[collection_id_of(slug) is not None]})") for slug in settings.picks_themes
    )


async def settings_embed(interaction: Interaction, settings: GuildSettings, title: str) -> discord.Embed:
    """The server's whole configuration as /config show and the end of /setup present it."""
    embed = club_embed(title)
    show = config.display
    add_field(
        embed,
        "Channels",
        f"Weekly picks: {show('picks_channel_id', _text(settings.picks_channel_id))}\n"
        f"Polls: {show('polls_channel_id', _text(settings.polls_channel_id))}\n"
        f"Announcements: {show('announcements_channel_id', _text(settings.announcements_channel_id))}\n"
        f"Discussion threads: {show('threads_channel_id', _text(settings.threads_channel_id))}\n"
        f"Letterboxd diary: {show('diary_channel_id', _text(settings.diary_channel_id))}",
    )
    moderators = show("moderator_role_id", _text(settings.moderator_role_id))
    voters = show("voter_role_id", _text(settings.voter_role_id))
    add_field(
        embed,
        "Roles",
        f"Moderators: {moderators} (and anyone with Manage Server)\n"
        f"Voters: {voters if settings.voter_role_id else 'everyone'}",
    )
    local_now = discord.utils.utcnow().astimezone(schedule.zone(settings.timezone))
    add_field(embed, "Timezone", f"{settings.timezone} (it is {local_now:%H:%M} there now)")
    add_field(embed, "Weekly picks", await schedule_summary(interaction, settings))
    add_field(embed, "Nominations", nominations_summary(settings))
    refused = await nights.refused_night(interaction.client.db, interaction.client.clock, settings.guild_id)
    add_field(embed, "Screening night", night_summary(settings) + night_refusal(refused))
    add_field(embed, "Screenings", screening_rules_summary(interaction, settings))
    bot = interaction.client
    add_field(
        embed, "Web page", web_page_summary(await web_pages.web_page(bot.db, settings.guild_id), bot.settings.web_url())
    )
    return embed


def night_summary(settings: GuildSettings) -> str:
    if settings.night_day is None or settings.night_time is None or settings.night_channel_id is None:
        return "none (`/config screenings day: time: channel:` sets one)"
    channel = config.display("night_channel_id", str(settings.night_channel_id))
    return f"{schedule.WEEKDAYS[settings.night_day]}s at {settings.night_time} ({settings.timezone}) in {channel}"


def night_refusal(night: nights.Night | None) -> str:
    """The line under the night when Discord refused its event the last time the bot tried ("" when it did not)."""
    if night is None or night.refused is None:
        return ""
    when = f" ({discord.utils.format_dt(night.refused_at, 'R')})" if night.refused_at is not None else ""
    channel = config.display("night_channel_id", str(night.channel_id))
    return (
        f"\n⚠️ Discord refused the next night's event{when}: {literal(night.refused)} — check the bot's permission to "
        f"manage events in {channel}"
    )


def screening_rules_summary(interaction: Interaction, settings: GuildSettings) -> str:
    """When every screening's thread opens and closes, and who counts as attending (server's or bot-wide values)."""
    bot = interaction.client
    rules = config.screening_rules(
        settings, archive_days=bot.settings.thread_archive_days, attendance_share=bot.settings.attendance_share
    )
    after = rules.thread_after_minutes
    opens = f"{after} min after the start" if after else "at the start"
    days = rules.thread_archive_days
    return (
        f"Discussion thread: opens {opens}, archived after {days} day{'s' if days != 1 else ''}\n"
        f"Attendance: {rules.attendance_share} % of the film in the channel"
    )


def web_page_summary(page: web_pages.WebPage, base_url: str | None) -> str:
    """Whether the page is public, where, and whose names it shows (the address is for moderators' eyes here)."""
    names = "members' names shown" if page.show_members else 'members shown as "a member"'
    if page.slug is None:
        return f"Not public (`/config web public:True` publishes it) · {names}"
    if base_url is None:
        where = "public, but this bot's web server is off (its operator sets WEB_PORT)"
    else:
        where = f"public at {web_pages.page_url(base_url, page.slug)}"
    return f"{where} · {names}\n`/config web rotate:True` gives it a new address; the old one stops working."


def nominations_summary(settings: GuildSettings) -> str:
    who = config.display("nominator_role_id", _text(settings.nominator_role_id))
    return (
        f"Who may nominate: {who if settings.nominator_role_id else 'every member'} (and moderators)\n"
        f"Wait for a moderator's approval: {'on' if settings.nominations_approval else 'off'}\n"
        f"Open nominations per member: {settings.nominations_limit}"
    )


async def schedule_summary(interaction: Interaction, settings: GuildSettings) -> str:
    if settings.picks_day is not None and settings.picks_time is not None:
        when = f"{schedule.WEEKDAYS[settings.picks_day]}s at {settings.picks_time} ({settings.timezone})"
    else:
        when = "no day and time yet"
    lines = [
        f"{'On' if settings.picks_enabled else 'Off'} · {when}",
        f"{settings.picks_count} films a week from {await theme_titles(interaction, settings)}",
        f"Watch-party poll with the picks: {'on' if settings.picks_poll else 'off'}",
    ]
    bot = interaction.client
    slot = await picks.next_post_slot(bot.db, bot.clock, settings)
    if slot is not None:
        lines.append(f"Next post: {discord_time(slot)}")
    elif not settings.picks_enabled:
        lines.append("Not scheduled: switched off (`/config picks enabled:True` switches them on).")
    elif not settings.picks_scheduled:
        needs = []
        if settings.picks_channel_id is None:
            needs.append("a picks channel (`/config channel kind:picks`)")
        if settings.picks_day is None or settings.picks_time is None:
            needs.append("a day and a time (`/config picks`)")
        lines.append(f"Not scheduled yet: needs {' and '.join(needs)}.")
    return "\n".join(lines)


def _text(value: int | None) -> str | None:
    return None if value is None else str(value)


async def after_change(interaction: Interaction, result: config.ConfigResult) -> discord.Embed:
    """Say what changed, and the weekly schedule again when it changed (the core has re-planned it already)."""
    if not result.changes:
        return club_embed("Nothing changed", "That is already the setting.")
    embed = club_embed("Saved", "\n".join(change.describe() for change in result.changes))
    if result.schedule_changed:
        add_field(embed, "Weekly picks", await schedule_summary(interaction, result.settings))
    return embed


async def after_unset(interaction: Interaction, unset: config.UnsetResult) -> discord.Embed:
    """Say what the setting is now it is back to its default (and what it was), and the weekly schedule again when
    it changed."""
    if not unset.result.changes:
        return club_embed("Nothing changed", f"{unset.label} is already at its default: {unset.now}.")
    (change,) = unset.result.changes
    embed = club_embed(
        "Back to the default",
        f"{unset.label}: back to the default: {unset.now}.\nIt was {config.display(change.setting, change.old)}.",
    )
    if unset.result.schedule_changed:
        add_field(embed, "Weekly picks", await schedule_summary(interaction, unset.result.settings))
    return embed


# -- autocomplete -----------------------------------------------------------------------------------------------------


async def timezone_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    del interaction
    now = discord.utils.utcnow()
    return [
        app_commands.Choice(name=f"{name} (now {now.astimezone(schedule.zone(name)):%H:%M})", value=name)
        for name in schedule.search_timezones(current, limit=25)
    ]


async def themes_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Themes and this server's collections for the last comma-separated entry, keeping the ones already typed;
    "all" first when nothing is."""
    *done, typing = current.split(",")
    prefix = ",".join(part.strip() for part in done if part.strip())
    engine = recommender_for(interaction.client.db)
    chosen = set(prefix.split(","))
    found = await engine.search_themes(guild_id_of(interaction), typing, limit=24 + len(chosen))
    themes = [theme for theme in found if theme.slug not in chosen]
    offer_all = not prefix and "all".startswith(typing.strip().casefold())
    choices = [app_commands.Choice(name="All themes, in turn", value="all")] if offer_all else []
    for theme in themes:
        value = f"{prefix},{theme.slug}" if prefix else theme.slug
        if len(value) <= 100:
            name = f"{prefix.replace(',', ', ')}, {theme.title}" if prefix else theme_choice_name(theme)
            choices.append(app_commands.Choice(name=truncate(name, 100), value=value))
    return choices[:25]


# -- the cog ------------------------------------------------------------------------------------------------------


class Config(commands.Cog):
    """Configuration (moderators)"""

    config_group = app_commands.Group(
        name="config",
        description="Moderators: the club's channels, roles, timezone, weekly picks, nominations and screening night.",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot

    @config_group.command(
        name="show", description="Moderators: every setting of this server and the next weekly picks."
    )
    async def show(self, interaction: Interaction) -> None:
        settings = await ensure_moderator(interaction)
        embed = await settings_embed(interaction, settings, "Club configuration")
        await send_ephemeral(interaction, embed=embed)

    @config_group.command(
        name="channel", description="Moderators: where weekly picks, polls, announcements, threads or the diary go."
    )
    @app_commands.describe(kind="Which channel to set", channel="The channel (leave empty to unset it)")
    @app_commands.choices(kind=CHANNEL_CHOICES)
    async def channel(self, interaction: Interaction, kind: str, channel: discord.TextChannel | None = None) -> None:
        await ensure_moderator(interaction)
        channel_kind = _enum(config.ChannelKind, kind)
        if channel is not None:
            require_postable(channel)
            if channel_kind is config.ChannelKind.THREADS:
                require_threads(channel)
        result = await config.set_channel(
            self.bot.db,
            self.bot.clock,
            self.bot.timers,
            guild_id_of(interaction),
            interaction.user.id,
            channel_kind,
            channel.id if channel else None,
        )
        await send_ephemeral(interaction, embed=await after_change(interaction, result))

    @config_group.command(name="role", description="Moderators: the role that moderates the club, or that may vote.")
    @app_commands.describe(kind="Which role to set", role="The role (leave empty to unset it)")
    @app_commands.choices(kind=ROLE_CHOICES)
    async def role(self, interaction: Interaction, kind: str, role: discord.Role | None = None) -> None:
        await ensure_moderator(interaction)
        role_kind = _enum(config.RoleKind, kind)
        if role is not None and role.is_default():
            raise UserError("Pick a role other than @everyone (leave the option empty to unset it).")
        result = await config.set_role(
            self.bot.db,
            self.bot.clock,
            self.bot.timers,
            guild_id_of(interaction),
            interaction.user.id,
            role_kind,
            role.id if role else None,
        )
        await send_ephemeral(interaction, embed=await after_change(interaction, result))

    @config_group.command(name="timezone", description="Moderators: the club's timezone, for the weekly picks time.")
    @app_commands.describe(tz="An IANA timezone name, such as Europe/London or America/New_York")
    @app_commands.autocomplete(tz=timezone_choices)
    async def timezone(self, interaction: Interaction, tz: str) -> None:
        await ensure_moderator(interaction)
        result = await config.set_timezone(
            self.bot.db, self.bot.clock, self.bot.timers, guild_id_of(interaction), interaction.user.id, tz
        )
        await send_ephemeral(interaction, embed=await after_change(interaction, result))

    @config_group.command(name="picks", description="Moderators: when weekly picks are posted, how many, which themes.")
    @app_commands.describe(
        day="The day of the week, in the club's timezone",
        time="24-hour local time, such as 20:00",
        count="How many films each week (2 to 10)",
        themes="Themes to rotate through, separated by commas, or all",
        poll="Also open a watch-party poll among the picks",
        enabled="Switch weekly picks on or off",
    )
    @app_commands.choices(day=DAY_CHOICES)
    @app_commands.autocomplete(themes=themes_choices)
    async def picks_schedule(
        self,
        interaction: Interaction,
        day: int | None = None,
        time: str | None = None,
        count: app_commands.Range[int, config.MIN_PICKS, config.MAX_PICKS] | None = None,
        themes: str | None = None,
        poll: bool | None = None,
        enabled: bool | None = None,
    ) -> None:
        await ensure_moderator(interaction)
        result = await config.set_picks(
            self.bot.db,
            self.bot.clock,
            self.bot.timers,
            guild_id_of(interaction),
            interaction.user.id,
            day=day,
            at=time,
            count=count,
            themes=themes,
            poll=poll,
            enabled=enabled,
        )
        await send_ephemeral(interaction, embed=await after_change(interaction, result))

    @config_group.command(name="screenings", description="Moderators: the club's screening night and its thread.")
    @app_commands.describe(
        day="The day of the week, in the club's timezone",
        time="24-hour local time the screening starts, such as 20:30",
        channel="The voice or stage channel the club watches in",
        off="Switch the regular screening night off",
        thread_after="Minutes after the start the discussion thread opens (0 to 240; 0: at the start)",
        archive_days="Days the discussion thread stays open (1 to 30)",
        attendance_share="Per cent of the film a member must be in the channel to count as attending (10 to 100)",
    )
    @app_commands.choices(day=DAY_CHOICES)
    async def screenings(
        self,
        interaction: Interaction,
        day: int | None = None,
        time: str | None = None,
        channel: discord.VoiceChannel | discord.StageChannel | None = None,
        off: bool = False,
        thread_after: int | None = None,
        archive_days: int | None = None,
        attendance_share: int | None = None,
    ) -> None:
        await ensure_moderator(interaction)
        ensure_screening_channel(channel)
        result = await config.set_night(
            self.bot.db,
            self.bot.clock,
            self.bot.timers,
            guild_id_of(interaction),
            interaction.user.id,
            day=day,
            at=time,
            channel_id=channel.id if channel else None,
            off=off,
            thread_after=thread_after,
            archive_days=archive_days,
            attendance_share=attendance_share,
        )
        await send_ephemeral(interaction, embed=await after_change(interaction, result))

    @config_group.command(name="nominations", description="Moderators: who may nominate films, approval, limits.")
    @app_commands.describe(
        approval="Nominations wait for a moderator's approval before they can go on a poll",
        limit=f"How many open nominations each member may have ({config.MIN_NOMINATIONS_LIMIT} to "
        f"{config.MAX_NOMINATIONS_LIMIT}; 3 by default)",
        role="Only members with this role may nominate (moderators always may)",
        everyone="Let every member nominate again (clears the role)",
    )
    async def nominations(
        self,
        interaction: Interaction,
        approval: bool | None = None,
        limit: app_commands.Range[int, config.MIN_NOMINATIONS_LIMIT, config.MAX_NOMINATIONS_LIMIT] | None = None,
        role: discord.Role | None = None,
        everyone: bool = False,
    ) -> None:
        await ensure_moderator(interaction)
        if role is not None and role.is_default():
            raise UserError("Pick a role other than @everyone, or use `everyone:True` to let every member nominate.")
        if role is not None and everyone:
            raise UserError("Choose a role or everyone, not both.")
        result = await config.set_nominations(
            self.bot.db,
            self.bot.clock,
            self.bot.timers,
            guild_id_of(interaction),
            interaction.user.id,
            approval=approval,
            limit=limit,
            role_id=role.id if role else None,
            clear_role=everyone,
        )
        embed = await after_change(interaction, result)
        if result.changes:
            add_field(embed, "Nominations", nominations_summary(result.settings))
        await send_ephemeral(interaction, embed=embed)

    @config_group.command(name="web", description="Moderators: the club's public web page and its address.")
    @app_commands.describe(
        public="Publish the page (True) or take it down (False)",
        rotate="Give the page a new address; the old one stops working",
        show_members='Show members\' names on the page (otherwise each is "a member")',
    )
    async def web(
        self,
        interaction: Interaction,
        public: bool | None = None,
        rotate: bool = False,
        show_members: bool | None = None,
    ) -> None:
        await ensure_moderator(interaction)
        result = await web_pages.configure(
            self.bot.db,
            self.bot.clock,
            guild_id_of(interaction),
            interaction.user.id,
            public=public,
            rotate=rotate,
            show_members=show_members,
        )
        if result.changes:
            embed = club_embed("Saved", "\n".join(change.describe() for change in result.changes))
        else:
            embed = club_embed("The club's web page")
        add_field(embed, "Web page", web_page_summary(result.page, self.bot.settings.web_url()))
        await send_ephemeral(interaction, embed=embed)

    @config_group.command(name="unset", description="Moderators: put one setting back to its default.")
    @app_commands.describe(setting="The setting to put back to its default")
    @app_commands.choices(setting=UNSET_CHOICES)
    async def unset(self, interaction: Interaction, setting: str) -> None:
        await ensure_moderator(interaction)
        unset = await config.unset(
            self.bot.db,
            self.bot.clock,
            self.bot.timers,
            guild_id_of(interaction),
            interaction.user.id,
            setting,
            archive_days=self.bot.settings.thread_archive_days,
            attendance_share=self.bot.settings.attendance_share,
        )
        await send_ephemeral(interaction, embed=await after_unset(interaction, unset))

    @config_group.command(name="reset", description="Moderators: put every setting back to its default.")
    async def reset(self, interaction: Interaction) -> None:
        await ensure_moderator(interaction)
        embed = club_embed(
            "Reset the configuration?",
            "Channels, roles, timezone and the weekly picks schedule go back to their defaults, and weekly picks "
            "stop until they are set again. The change history is kept. (`/config unset` puts back one setting.)",
        )
        await interaction.response.send_message(embed=embed, view=ResetView(interaction.user.id), ephemeral=True)

    @config_group.command(
        name="purge", description="Manage Server: delete all of this server's data now (asks for its name first)."
    )
    async def purge(self, interaction: Interaction) -> None:
        require_manage_server(interaction)
        await interaction.response.send_modal(purge_form(interaction.guild.name if interaction.guild else ""))

    @commands.Cog.listener()
    async def on_interaction(self, interaction: Interaction) -> None:
        """The purge form's submissions (answered from its custom id, so a form opened before a restart works)."""
        if interaction.type is not discord.InteractionType.modal_submit or not interaction.data:
            return
        if interaction.data.get("custom_id") != PURGE_FORM_ID:
            return
        try:
            await self._purge_submitted(interaction)
        except Exception as exc:
            await report_error(interaction, exc)

    async def _purge_submitted(self, interaction: Interaction) -> None:
        guild_id = guild_id_of(interaction)
        require_manage_server(interaction)
        typed = submitted_fields(interaction.data).get(PURGE_NAME_FIELD, "")
        name = interaction.guild.name if interaction.guild else ""
        server_data.require_same_name(typed, name)  # answered before deferring (the core checks again)
        await interaction.response.defer(ephemeral=True, thinking=True)
        purged = await server_data.purge_now(self.bot.db, guild_id, typed=typed, name=name)
        self.bot.forget_server(guild_id)
        embed = club_embed(
            "All of this server's data was deleted",
            f"{purged.total} record(s) deleted: reviews, ratings, watchlists, polls, screenings, nominations, the "
            "server's own films, the web page and the change history. Every setting is back to its default. "
            "Messages the bot already posted in your channels stay until you delete them.",
        )
        await send_ephemeral(interaction, embed=embed)

    @config_group.command(name="history", description="Moderators: the latest configuration changes, who made them.")
    async def history(self, interaction: Interaction) -> None:
        await ensure_moderator(interaction)
        entries = await config.history(self.bot.db, guild_id_of(interaction))
        if not entries:
            await send_ephemeral(interaction, "No configuration changes yet.")
            return
        lines = [
            f"{discord.utils.format_dt(entry.changed_at, 'f')} · <@{entry.user_id}> · {entry.change.describe()}"
            for entry in entries
        ]
        embed = club_embed("Configuration history", chunk_lines(lines, 4000)[0])
        embed.set_footer(text=f"The latest {len(entries)} changes, newest first.")
        await send_ephemeral(interaction, embed=embed)

    @app_commands.command(name="setup", description="Moderators: a guided set-up of channels, timezone and picks.")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def setup(self, interaction: Interaction) -> None:
        await ensure_moderator(interaction)
        view = ChannelsStep(interaction.user.id)
        embed = await view.render(interaction)
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)


def _enum(kind: type[Any], value: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        options = ", ".join(member.value for member in kind)
        raise UserError(f"Choose one of: {options}.") from None


# -- /config purge ----------------------------------------------------------------------------------------------------

PURGE_FORM_ID = "filmclub:config-purge"
PURGE_NAME_FIELD = "config-purge:name"


def require_manage_server(interaction: Interaction) -> None:
    """Deleting everything takes the Manage Server permission itself (a configured moderator role is not enough)."""
    guild_id_of(interaction)
    manage_guild, _roles = member_facts(interaction)
    if not manage_guild:
        raise PermissionDenied("Only members with the Manage Server permission can delete the server's data.")


def purge_form(guild_name: str) -> discord.ui.Modal:
    """The confirmation: the moderator types the server's name. Only sent, never kept (see ``on_interaction``)."""
    modal = discord.ui.Modal(title="Delete all of this server's data?", custom_id=PURGE_FORM_ID)
    modal.add_item(
        discord.ui.TextInput(
            label="Type the server's name to confirm",
            custom_id=PURGE_NAME_FIELD,
            placeholder=truncate(guild_name, 100) or None,
            max_length=100,
        )
    )
    modal.stop()
    return modal


# -- /config reset confirmation ---------------------------------------------------------------------------------------


class OwnedView(ClubView):
    """An ephemeral panel only the moderator who opened it uses; every action re-checks they are a moderator."""

    def __init__(self, owner_id: int, timeout: float = SETUP_TIMEOUT) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.owner_id:
            await send_ephemeral(interaction, "This panel belongs to someone else; run the command yourself.")
            return False
        await ensure_moderator(interaction)
        return True


class ResetView(OwnedView):
    def __init__(self, owner_id: int) -> None:
        super().__init__(owner_id, timeout=120)

    @discord.ui.button(label="Reset everything", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: Interaction, button: discord.ui.Button[ResetView]) -> None:
        del button
        bot = interaction.client
        result = await config.reset(bot.db, bot.clock, bot.timers, guild_id_of(interaction), interaction.user.id)
        lines = [change.describe() for change in result.changes] or ["Everything was already at its default."]
        embed = club_embed("Configuration reset", chunk_lines(lines, 4000)[0])
        self.stop()
        await interaction.response.edit_message(embed=embed, view=None)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: Interaction, button: discord.ui.Button[ResetView]) -> None:
        del button
        self.stop()
        await interaction.response.edit_message(embed=club_embed("Nothing was reset"), view=None)


# -- /setup -----------------------------------------------------------------------------------------------------------


class SetupStep(OwnedView, metaclass=ABCMeta):
    """One page of /setup. Every choice is saved the moment it is made; the buttons only move between pages."""

    title = ""
    step = 0
    saved: list[str]

    def __init__(self, owner_id: int) -> None:
        super().__init__(owner_id)
        self.saved = []

    @abstractmethod
    async def describe(self, interaction: Interaction, settings: GuildSettings) -> str:
        """What this step sets, and the current values."""

    async def render(self, interaction: Interaction) -> discord.Embed:
        bot = interaction.client
        settings = await get_settings(bot.db, guild_id_of(interaction))
        embed = club_embed(f"Set-up · step {self.step} of 3 · {self.title}", await self.describe(interaction, settings))
        if self.saved:
            add_field(embed, "Saved", "\n".join(self.saved[-6:]))
        embed.set_footer(text="Each choice is saved at once. Everything can be changed later with /config.")
        return embed

    async def save(self, interaction: Interaction, result: config.ConfigResult) -> None:
        self.saved.extend(change.describe() for change in result.changes)
        await interaction.response.edit_message(embed=await self.render(interaction), view=self)

    async def go(self, interaction: Interaction, page: SetupStep) -> None:
        self.stop()
        await interaction.response.edit_message(embed=await page.render(interaction), view=page)


class ChannelsStep(SetupStep):
    title = "Channels"
    step = 1

    async def describe(self, interaction: Interaction, settings: GuildSettings) -> str:
        del interaction
        show = config.display
        return (
            "Where should the club's posts go? I need View Channel, Send Messages and Embed Links there.\n\n"
            f"Weekly picks: {show('picks_channel_id', _text(settings.picks_channel_id))}\n"
            f"Polls: {show('polls_channel_id', _text(settings.polls_channel_id))}\n"
            f"Announcements: {show('announcements_channel_id', _text(settings.announcements_channel_id))}"
        )

    async def _set(self, interaction: Interaction, kind: config.ChannelKind, select: Any) -> None:
        channel = resolve_channel(interaction, select.values[0].id)
        require_postable(channel)
        bot = interaction.client
        result = await config.set_channel(
            bot.db, bot.clock, bot.timers, guild_id_of(interaction), interaction.user.id, kind, channel.id
        )
        await self.save(interaction, result)

    @discord.ui.select(
        cls=discord.ui.ChannelSelect,
        channel_types=[discord.ChannelType.text, discord.ChannelType.news],
        placeholder="Weekly picks channel",
    )
    async def picks_channel(self, interaction: Interaction, select: discord.ui.ChannelSelect[ChannelsStep]) -> None:
        await self._set(interaction, config.ChannelKind.PICKS, select)

    @discord.ui.select(
        cls=discord.ui.ChannelSelect,
        channel_types=[discord.ChannelType.text, discord.ChannelType.news],
        placeholder="Polls channel",
    )
    async def polls_channel(self, interaction: Interaction, select: discord.ui.ChannelSelect[ChannelsStep]) -> None:
        await self._set(interaction, config.ChannelKind.POLLS, select)

    @discord.ui.select(
        cls=discord.ui.ChannelSelect,
        channel_types=[discord.ChannelType.text, discord.ChannelType.news],
        placeholder="Announcements channel",
    )
    async def announcements_channel(
        self, interaction: Interaction, select: discord.ui.ChannelSelect[ChannelsStep]
    ) -> None:
        await self._set(interaction, config.ChannelKind.ANNOUNCEMENTS, select)

    @discord.ui.button(label="Next: timezone", style=discord.ButtonStyle.primary, row=4)
    async def next_step(self, interaction: Interaction, button: discord.ui.Button[ChannelsStep]) -> None:
        del button
        page = TimezoneStep(self.owner_id)
        await page.prepare(interaction)
        await self.go(interaction, page)


class TimezoneStep(SetupStep):
    title = "Timezone"
    step = 2

    async def prepare(self, interaction: Interaction) -> None:
        settings = await get_settings(interaction.client.db, guild_id_of(interaction))
        self.add_item(TimezoneSelect(self, settings.timezone))

    async def describe(self, interaction: Interaction, settings: GuildSettings) -> str:
        del interaction
        local_now = discord.utils.utcnow().astimezone(schedule.zone(settings.timezone))
        return (
            "Which timezone does the club live in? Weekly picks follow its clock, daylight saving included.\n\n"
            f"Now: **{settings.timezone}** (it is {local_now:%H:%M} there). Not in the list? Use "
            "`/config timezone`, which knows every IANA name."
        )

    @discord.ui.button(label="Back", style=discord.ButtonStyle.secondary, row=4)
    async def back(self, interaction: Interaction, button: discord.ui.Button[TimezoneStep]) -> None:
        del button
        await self.go(interaction, ChannelsStep(self.owner_id))

    @discord.ui.button(label="Next: weekly picks", style=discord.ButtonStyle.primary, row=4)
    async def next_step(self, interaction: Interaction, button: discord.ui.Button[TimezoneStep]) -> None:
        del button
        await self.go(interaction, ScheduleStep(self.owner_id))


class TimezoneSelect(discord.ui.Select[TimezoneStep]):
    """The common timezones, the current one first and selected."""

    def __init__(self, step: TimezoneStep, current: str) -> None:
        names = [current, *(name for name in COMMON_TIMEZONES if name != current)][:25]
        options = [discord.SelectOption(label=name, value=name, default=name == current) for name in names]
        super().__init__(placeholder="The club's timezone", options=options, row=0)
        self.step = step

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]  # our client type
        bot = interaction.client
        result = await config.set_timezone(
            bot.db, bot.clock, bot.timers, guild_id_of(interaction), interaction.user.id, self.values[0]
        )
        for option in self.options:
            option.default = option.value == result.settings.timezone
        await self.step.save(interaction, result)


class ScheduleStep(SetupStep):
    title = "Weekly picks"
    step = 3

    async def describe(self, interaction: Interaction, settings: GuildSettings) -> str:
        return (
            "When should the weekly picks be posted, and how many films? (`/config picks` also sets the themes "
            f"and a watch-party poll.)\n\n{await schedule_summary(interaction, settings)}"
        )

    async def _save_picks(self, interaction: Interaction, **values: Any) -> None:
        bot = interaction.client
        result = await config.set_picks(
            bot.db, bot.clock, bot.timers, guild_id_of(interaction), interaction.user.id, **values
        )
        await self.save(interaction, result)

    @discord.ui.select(
        placeholder="Day of the week",
        options=[discord.SelectOption(label=name, value=str(index)) for index, name in enumerate(schedule.WEEKDAYS)],
    )
    async def day(self, interaction: Interaction, select: discord.ui.Select[ScheduleStep]) -> None:
        await self._save_picks(interaction, day=int(select.values[0]))

    @discord.ui.select(
        placeholder="Time of day",
        options=[discord.SelectOption(label=f"{hour:02d}:00", value=f"{hour:02d}:00") for hour in range(24)],
    )
    async def time(self, interaction: Interaction, select: discord.ui.Select[ScheduleStep]) -> None:
        await self._save_picks(interaction, at=select.values[0])

    @discord.ui.select(
        placeholder="Films each week",
        options=[
            discord.SelectOption(label=f"{count} films", value=str(count))
            for count in range(config.MIN_PICKS, config.MAX_PICKS + 1)
        ],
    )
    async def count(self, interaction: Interaction, select: discord.ui.Select[ScheduleStep]) -> None:
        await self._save_picks(interaction, count=int(select.values[0]))

    @discord.ui.button(label="Back", style=discord.ButtonStyle.secondary, row=4)
    async def back(self, interaction: Interaction, button: discord.ui.Button[ScheduleStep]) -> None:
        del button
        page = TimezoneStep(self.owner_id)
        await page.prepare(interaction)
        await self.go(interaction, page)

    @discord.ui.button(label="Finish", style=discord.ButtonStyle.success, row=4)
    async def finish(self, interaction: Interaction, button: discord.ui.Button[ScheduleStep]) -> None:
        del button
        self.stop()
        settings = await get_settings(interaction.client.db, guild_id_of(interaction))
        embed = await settings_embed(interaction, settings, "Set-up complete")
        embed.set_footer(text="Change anything later with /config; /picks preview shows the next picks.")
        await interaction.response.edit_message(embed=embed, view=None)


async def setup(bot: FilmClubBot) -> None:
    await bot.add_cog(Config(bot))
