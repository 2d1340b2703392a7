"""One extension per feature; each module ends in ``setup(bot)``."""
