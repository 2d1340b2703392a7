-- 0027: Letterboxd, live (issue 16): members link their Letterboxd account per server, the bot follows its public
-- RSS feed (conditional requests, backoff), handles each diary entry once by its guid, posts it to the diary channel
-- and imports it, each by the member's opt-in.

CREATE TABLE letterboxd_links (
    guild_id         BIGINT NOT NULL,
    user_id          BIGINT NOT NULL,
    username         TEXT NOT NULL,
    diary            BIGINT NOT NULL DEFAULT 0 CHECK (diary IN (0, 1)),
    import_entries   BIGINT NOT NULL DEFAULT 0 CHECK (import_entries IN (0, 1)),
    linked_at        TEXT NOT NULL,
    -- The feed's validators for the next conditional request (ETag / Last-Modified), as the server sent them.
    etag             TEXT,
    last_modified    TEXT,
    last_checked     TEXT,
    -- Consecutive failed checks (the next check waits longer), the last failure in words, and whether the member was
    -- told their feed keeps failing (once per run of failures).
    failures         BIGINT NOT NULL DEFAULT 0,
    last_error       TEXT,
    told_failing     BIGINT NOT NULL DEFAULT 0 CHECK (told_failing IN (0, 1)),
    entries_imported BIGINT NOT NULL DEFAULT 0,
    -- Whether a check has succeeded: the first one takes what the feed already holds without posting it to the diary.
    primed           BIGINT NOT NULL DEFAULT 0 CHECK (primed IN (0, 1)),
    PRIMARY KEY (guild_id, user_id)
);

-- Every diary entry handled, by its guid: handled exactly once; an edit (same guid, new content) is told apart by
-- its fingerprint and counted in revision.
CREATE TABLE letterboxd_entries (
    guild_id     BIGINT NOT NULL,
    user_id      BIGINT NOT NULL,
    guid         TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    revision     BIGINT NOT NULL DEFAULT 0,
    film_id      BIGINT,
    -- The diary post still to send (JSON text), taken (set NULL) by the one process that sends it.
    pending_post TEXT,
    seen_at      TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id, guid)
);

ALTER TABLE guild_settings ADD COLUMN diary_channel_id BIGINT;
