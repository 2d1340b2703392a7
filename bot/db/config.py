"""SQL for the configuration change history."""

from __future__ import annotations

INSERT_CHANGE = """
INSERT INTO config_history (guild_id, user_id, changed_at, setting, old_value, new_value)
VALUES (:guild_id, :user_id, :changed_at, :setting, :old_value, :new_value)
"""
LATEST_CHANGES = """
SELECT id, user_id, changed_at, setting, old_value, new_value FROM config_history
WHERE guild_id = ? ORDER BY id DESC LIMIT ?
"""
