-- 0004: watch-party polls (candidates, one ballot per member per poll, kept results) and screenings.

-- A poll. Its close is a persisted timer ('polls.close', key = id); `result` keeps the tally (JSON) once closed so
-- that the announcement can be rendered again, identically, after a crash.
CREATE TABLE polls (
    id                INTEGER PRIMARY KEY,
    guild_id          INTEGER NOT NULL,
    channel_id        INTEGER NOT NULL,            -- where the poll is (to be) posted
    message_id        INTEGER,                     -- set once posted
    creator_id        INTEGER NOT NULL,
    title             TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    method            TEXT NOT NULL CHECK (method IN ('plurality', 'approval', 'ranked')),
    style             TEXT NOT NULL DEFAULT 'buttons' CHECK (style IN ('buttons', 'native')),
    show_counts       INTEGER NOT NULL DEFAULT 1 CHECK (show_counts IN (0, 1)),
    voter_role_id     INTEGER,                     -- only members with this role may vote; NULL: everyone
    status            TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'cancelled')),
    created_at        TEXT NOT NULL,
    closes_at         TEXT NOT NULL,
    closed_at         TEXT,
    closed_by         INTEGER,                     -- NULL: closed by its deadline
    winner_film_id    INTEGER REFERENCES films (id),
    result            TEXT,                        -- JSON tally, see bot.core.tally
    result_message_id INTEGER,
    -- The screening to schedule for the winner when the poll closes (all optional).
    screening_at         TEXT,
    screening_channel_id INTEGER,
    screening_location   TEXT,
    remind_minutes       INTEGER NOT NULL DEFAULT 60 CHECK (remind_minutes >= 0),
    CHECK (closes_at > created_at),
    CHECK ((status = 'open') = (closed_at IS NULL))
);
CREATE INDEX polls_open_by_guild ON polls (guild_id, closes_at) WHERE status = 'open';
CREATE UNIQUE INDEX polls_by_message ON polls (message_id) WHERE message_id IS NOT NULL;

-- The films on the ballot, in the order shown. `nominated_at` feeds the "earlier nomination" tie-break: the first
-- time a member of the server put the film on their watchlist, else when the poll was created.
CREATE TABLE poll_candidates (
    poll_id      INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL CHECK (position BETWEEN 1 AND 25),
    film_id      INTEGER NOT NULL REFERENCES films (id),
    nominated_at TEXT NOT NULL,
    PRIMARY KEY (poll_id, position),
    UNIQUE (poll_id, film_id)
) WITHOUT ROWID;

-- Exactly one ballot per member per poll: the primary key is the rule, so concurrent clicks can only replace it.
-- `choices` is a JSON array of film ids: one (plurality), a set (approval) or an order of preference (ranked, <= 5).
CREATE TABLE ballots (
    poll_id    INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    choices    TEXT NOT NULL CHECK (json_valid(choices) AND json_array_length(choices) BETWEEN 1 AND 25),
    cast_at    TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    changes    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (poll_id, user_id)
) WITHOUT ROWID;

-- A screening: a Discord scheduled event for a film, its reminder and its "rate it" prompt (persisted timers
-- 'screenings.event', 'screenings.remind', 'screenings.after', key = id).
CREATE TABLE screenings (
    id                  INTEGER PRIMARY KEY,
    guild_id            INTEGER NOT NULL,
    film_id             INTEGER NOT NULL REFERENCES films (id),
    poll_id             INTEGER UNIQUE REFERENCES polls (id),   -- the poll it came from, if any (one per poll)
    created_by          INTEGER,
    channel_id          INTEGER,             -- voice or stage channel; NULL for an external location
    location            TEXT,                -- external location; NULL for a channel
    announce_channel_id INTEGER NOT NULL,    -- where the announcement, reminder and rate-it prompt go
    starts_at           TEXT NOT NULL,
    ends_at             TEXT NOT NULL,
    remind_minutes      INTEGER NOT NULL CHECK (remind_minutes >= 0),
    event_id            INTEGER UNIQUE,      -- the Discord scheduled event, once created
    status              TEXT NOT NULL DEFAULT 'planned'
                        CHECK (status IN ('planned', 'scheduled', 'done', 'cancelled', 'failed')),
    reminded_at         TEXT,
    completed_at        TEXT,
    created_at          TEXT NOT NULL,
    CHECK (ends_at > starts_at),
    CHECK ((channel_id IS NULL) <> (location IS NULL))
);
CREATE INDEX screenings_by_guild ON screenings (guild_id, starts_at);
