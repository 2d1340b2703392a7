"""SQLite storage: one aiosqlite connection, explicit transactions, numbered migrations, named SQL per feature."""
