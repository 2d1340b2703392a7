"""Storage: SQLite or PostgreSQL behind one interface (database.py), the dialects' differences, queries per feature."""
