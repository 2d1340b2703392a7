-- 0008: a week's claim records whether it opens a watch-party poll, so the poll is opened exactly once across
-- crashes and retries (and never for a week that was posted without one); one poll belongs to at most one week.
ALTER TABLE picks_posts ADD COLUMN poll_wanted BIGINT NOT NULL DEFAULT 0 CHECK (poll_wanted IN (0, 1));
CREATE UNIQUE INDEX picks_posts_by_poll ON picks_posts (poll_id) WHERE poll_id IS NOT NULL;
