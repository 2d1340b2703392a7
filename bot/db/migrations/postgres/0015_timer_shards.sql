-- 0015: a timer belongs to the shard of its server and is claimed before it runs, so that with several processes
-- sharing one database each timer runs in the one process that runs its server's shard, once. (No timers predate
-- this migration on PostgreSQL: the SQLite side fills guild_id in for older timers, and `filmclub db copy` copies it.)
ALTER TABLE timers ADD COLUMN guild_id BIGINT;    -- its server; NULL for a timer of no server (run by shard 0)
ALTER TABLE timers ADD COLUMN claimed_by TEXT;    -- the process instance that took it to run (bot.core.timers)
ALTER TABLE timers ADD COLUMN claimed_at TEXT;
-- Claims take the earliest due timers in (due_at, id) order: with thousands due at once (a bot back after an
-- outage), an index on due_at alone leaves every claim to sort them all.
DROP INDEX timers_pending_due;
CREATE INDEX timers_pending_due ON timers (due_at, id) WHERE done_at IS NULL;
