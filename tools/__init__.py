"""Maintenance tools run from a checkout (not shipped with the bot): ``python tools/<name>.py``."""
