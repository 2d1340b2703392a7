-- 0007: a catalog generation, bumped by every load that changes a row, so a running bot notices a load made by
-- `filmclub catalog load` (another process) and rebuilds its title index and caches.

ALTER TABLE catalog_state ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
