"""SQL for per-server settings."""

from __future__ import annotations

GET_SETTINGS = """
SELECT guild_id, picks_channel_id, polls_channel_id, announcements_channel_id, moderator_role_id, voter_role_id,
       timezone
FROM guild_settings WHERE guild_id = ?
"""
