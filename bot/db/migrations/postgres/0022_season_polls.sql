-- 0022: seasons, finished: the database keeps a server to one current season, and a poll season's weekly polls.

-- The server's id while the season is current (running or still to come), NULL once it is over or ended. Unique, so
-- two seasons can never both be current in one server, however many processes try at once. A season that simply ran
-- its course is cleared when the next one is made (bot.db.seasons.insert_season).
ALTER TABLE seasons ADD COLUMN current_guild_id BIGINT;
UPDATE seasons SET current_guild_id = guild_id
WHERE ended_at IS NULL
  AND id = (SELECT max(s.id) FROM seasons AS s WHERE s.guild_id = seasons.guild_id AND s.ended_at IS NULL);
CREATE UNIQUE INDEX seasons_one_current ON seasons (current_guild_id);

-- Each week of a poll season, once the bot has handled it: the poll it opened, or why it opened none (exactly once:
-- the row is written in the transaction that stores the poll).
CREATE TABLE season_polls (
    season_id    BIGINT NOT NULL REFERENCES seasons (id) ON DELETE CASCADE,
    week         BIGINT NOT NULL CHECK (week BETWEEN 1 AND 52),
    poll_id      BIGINT REFERENCES polls (id),
    skipped      TEXT,               -- why the week has no poll (too late, no channel, too few films left)
    handled_at   TEXT NOT NULL,
    PRIMARY KEY (season_id, week),
    CHECK ((poll_id IS NULL) <> (skipped IS NULL))
);
