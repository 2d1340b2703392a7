"""Clients of outside services (TMDb): HTTP lives here, and nowhere else in the bot.

The core never imports this package: it talks to a service through a Protocol of its own (``bot.core.details``'s
``DetailsSource``), and the bot (``bot/client.py``) or the command line hands it the client. Every client takes its
base URL from a setting, so the tests point it at a loopback double (``tests/tmdb_double.py``).
"""
