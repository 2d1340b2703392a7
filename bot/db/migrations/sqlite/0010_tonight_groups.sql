-- 0010: the groups /tonight was asked for, so its Previous/Next buttons page through the same group after a restart
-- (ten member ids do not fit in a button's 100-character custom id; the button carries this row's id instead).

-- `members` is a JSON list of [user id, display name] pairs in the order they were named; one row per distinct group
-- and names in a server, so asking again for the same people reuses it.
CREATE TABLE tonight_groups (
    id       INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    members  TEXT NOT NULL,
    UNIQUE (guild_id, members)
);
