"""The clubs' read-only web pages, served by the bot process itself (``WEB_PORT``).

``app.py`` builds the aiohttp application (security headers, rate limit, ETag) and holds the route helper every page
uses to turn an address's slug into a club or a plain 404; ``server.py`` starts and stops it inside the bot;
``pages.py`` has the pages. The data comes from :mod:`bot.core` (``club_page.py``); this package only renders it.
"""
