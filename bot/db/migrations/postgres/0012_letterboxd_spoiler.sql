-- 0012: a backup (/letterboxd export what:Everything) carries each review's spoiler flag, so restoring it keeps
-- hidden text hidden; the flag travels with the text it belongs to (letterboxd_films.body).
ALTER TABLE letterboxd_films ADD COLUMN body_spoiler BIGINT NOT NULL DEFAULT 0 CHECK (body_spoiler IN (0, 1));
