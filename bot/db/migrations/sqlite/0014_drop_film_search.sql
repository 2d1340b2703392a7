-- The full-text index of the catalog was written at every load and read by nothing: title search is typo-tolerant
-- matching in Python (bot/core/search.py), which FTS cannot do. Dropped on both backends; loads get cheaper.
DROP TABLE film_search;
