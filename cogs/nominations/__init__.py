"""/nominate and /nominations: members propose films for the club (any film: the catalog's, the server's own, or a new
one), moderators approve, reject or ban them, and polls take the approved ones (``/poll create source:nominations``).

/nominate looks the title up among the films members can already name (exact, then "did you mean" buttons); a film
it does not know is looked up with the film-details provider when one is configured (a menu of up to five of its
answers), else entered in a form (title, year, director). The rules, and writing a new film together with its
nomination, are bot.core.nominations'; this cog parses, asks and renders.

The package: ``_cog`` (the commands, the list and its paging, the form's submissions), ``_asking`` (nominating: the
choices, the provider's answers, the form) and ``_render`` (the nomination's card, the list's lines).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._cog import Nominations, NominationsPage

if TYPE_CHECKING:
    from bot.client import FilmClubBot

__all__ = ["Nominations", "setup"]


async def setup(bot: FilmClubBot) -> None:
    await bot.add_cog(Nominations(bot))
    bot.add_dynamic_items(NominationsPage)
