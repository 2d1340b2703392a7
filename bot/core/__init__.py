"""The film-club domain as plain async Python. Nothing here imports discord (tests/test_architecture.py checks)."""
