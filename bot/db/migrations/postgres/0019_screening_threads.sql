-- 0019: a screening records its discussion thread (created from the bot's starter post, whose id the thread shares),
-- so a restart never opens a second one, and when the thread was archived; a server may open them in a channel of
-- its own (`/config channel kind:threads`; NULL: the screening's announcement channel).
ALTER TABLE screenings ADD COLUMN thread_id BIGINT;
ALTER TABLE screenings ADD COLUMN thread_archived_at TEXT;
ALTER TABLE guild_settings ADD COLUMN threads_channel_id BIGINT;
