-- 0031: a Letterboxd feed's entries handled while the member's import was off are imported once they turn it on:
-- each handled entry records whether its newest content went into the club (entries of links importing now are
-- taken as imported).

ALTER TABLE letterboxd_entries ADD COLUMN imported INTEGER NOT NULL DEFAULT 0 CHECK (imported IN (0, 1));

UPDATE letterboxd_entries SET imported = 1
WHERE EXISTS (
    SELECT 1 FROM letterboxd_links AS l
    WHERE l.guild_id = letterboxd_entries.guild_id AND l.user_id = letterboxd_entries.user_id AND l.import_entries = 1
);
