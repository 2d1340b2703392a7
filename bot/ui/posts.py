"""Finding a post the bot made before a crash, so that a retry adopts it instead of posting it a second time.

A feature that posts on its own (weekly picks, polls) records the message id only after Discord has taken the
message; a kill in between leaves a post the database does not know of. Each such post carries a marker in its
embed footer that names what it is the post of; before posting again, the retry looks for the bot's own message
with that marker among the channel's latest messages (what Discord's nonce would only dedupe for a few minutes).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import discord

log = logging.getLogger(__name__)

#: How far back in the channel to look for a post made just before a crash.
RECONCILE_DEPTH = 50


def carries_marker(message: discord.Message, marker: str) -> bool:
    """Whether one of the message's embeds has ``marker`` in its footer."""
    return any(marker in (embed.footer.text or "") for embed in message.embeds)


async def find_own_post(
    channel: discord.abc.GuildChannel | discord.Thread | None,
    me: discord.abc.User | None,
    marker: str,
    *,
    depth: int = RECONCILE_DEPTH,
) -> discord.Message | None:
    """The bot's own message carrying ``marker`` among the channel's latest ``depth`` messages, newest first.

    ``None`` when there is none, or when the bot cannot read the channel's history (then nothing can be found and the
    caller posts: a post that may repeat is better than one that never appears).
    """
    if me is None or channel is None or not isinstance(channel, discord.abc.Messageable):
        return None
    permissions = channel.permissions_for(channel.guild.me)
    if not (permissions.view_channel and permissions.read_message_history):
        return None
    async for message in channel.history(limit=depth):
        if message.author.id == me.id and carries_marker(message, marker):
            return message
    return None


async def find_own_event(
    guild: discord.Guild, me: discord.abc.User | None, is_ours: Callable[[discord.ScheduledEvent], bool]
) -> discord.ScheduledEvent | None:
    """The scheduled event the bot created before a crash kept it from recording it: its own event for which
    ``is_ours`` holds (the description's marker line), the same adoption as :func:`find_own_post` for events.

    ``None`` when there is none, or when Discord does not list the server's events to the bot (then the caller
    creates one: an event that may repeat is better than none). A Discord hiccup (5xx) is raised: the timer retries.
    """
    if me is None:
        return None
    try:
        events = await guild.fetch_scheduled_events(with_counts=False)
    except discord.HTTPException as exc:
        if exc.status >= 500:
            raise
        log.warning("could not list the scheduled events of server %s: %s", guild.id, exc)
        return None
    return next((event for event in events if event.creator_id == me.id and is_ours(event)), None)


async def fetch_event(guild: discord.Guild, event_id: int | None) -> discord.ScheduledEvent | None:
    """A scheduled event as Discord has it now; None when there is none recorded or it was deleted."""
    if event_id is None:
        return None
    try:
        return await guild.fetch_scheduled_event(event_id)
    except discord.NotFound:
        return None
