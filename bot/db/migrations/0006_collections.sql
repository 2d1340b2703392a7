-- 0006: servers' own collections of films. (Placeholder: the recommendations work fills this in.)
SELECT 1;
