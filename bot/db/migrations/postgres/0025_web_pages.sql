-- 0021: the club's public web page (issue 15): its unguessable address and what it shows.

-- One row per server that ever configured its page. slug is the address's secret part while the page is public and
-- NULL once taken down; rotating replaces it, so an old address is never served again.
CREATE TABLE web_pages (
    guild_id      BIGINT PRIMARY KEY,
    slug          TEXT UNIQUE,
    show_members  BIGINT NOT NULL DEFAULT 0 CHECK (show_members IN (0, 1)),
    updated_at    TEXT NOT NULL
);

-- The club page's "recent reviews": a server's latest reviews without reading them all.
CREATE INDEX reviews_recent ON reviews (guild_id, updated_at);
