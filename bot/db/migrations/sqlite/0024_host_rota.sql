-- 0023: the host rota. Members volunteer to host screenings; each screening planned while the rota has volunteers
-- gets the volunteer whose turn it is (who hosted least recently, or joined earliest), stored with it.

CREATE TABLE host_volunteers (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    joined_at  TEXT NOT NULL,
    -- The rotation: numbered in the server; joining or taking a turn takes the next number (the lowest hosts next).
    turn       INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

ALTER TABLE screenings ADD COLUMN host_id INTEGER;
CREATE INDEX screenings_by_host ON screenings (guild_id, host_id) WHERE host_id IS NOT NULL;

-- A host's offer of their upcoming screening to another volunteer (Accept/Decline buttons name the offer's id).
CREATE TABLE host_swaps (
    id            INTEGER PRIMARY KEY,
    guild_id      INTEGER NOT NULL,
    screening_id  INTEGER NOT NULL REFERENCES screenings (id),
    from_user     INTEGER NOT NULL,
    to_user       INTEGER NOT NULL,
    status        TEXT NOT NULL DEFAULT 'offered' CHECK (status IN ('offered', 'accepted', 'declined', 'void')),
    created_at    TEXT NOT NULL
);
