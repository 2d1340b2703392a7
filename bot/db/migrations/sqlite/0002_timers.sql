-- 0002: persisted timers (poll deadlines, weekly picks, screening reminders), re-armed at every start-up.

CREATE TABLE timers (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,                  -- which handler runs it, e.g. 'poll.close'
    key        TEXT NOT NULL,                  -- what it is about, e.g. the poll id; one pending timer per kind+key
    due_at     TEXT NOT NULL,                  -- UTC, ISO-8601 (bot.core.clock.to_db)
    payload    TEXT NOT NULL DEFAULT '{}',     -- JSON handed to the handler
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    done_at    TEXT,                           -- set once the handler succeeded (or the timer was cancelled)
    outcome    TEXT CHECK (outcome IN ('done', 'cancelled', 'failed'))
);
CREATE UNIQUE INDEX timers_pending_key ON timers (kind, key) WHERE done_at IS NULL;
CREATE INDEX timers_pending_due ON timers (due_at) WHERE done_at IS NULL;
