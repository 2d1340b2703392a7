"""What a poll looks like in Discord: the poll message, the result with its explained tie-breaks, the chart, and a
member's ballot. Pure functions from the core's values to embeds and text; no state, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import discord
from discord.utils import TimestampStyle

from bot.core.details import FilmDetails
from bot.core.films import Film
from bot.core.polls import Poll, Status, Style, result_chart
from bot.core.score import PRIOR_REVIEWS, PRIOR_STARS
from bot.core.tally import MAX_RANKS, TIE_BREAK_RULE, Method, Tally, Tie
from bot.ui.charts import bar_chart
from bot.ui.embeds import DESCRIPTION_LIMIT, add_field, chunk_lines, club_embed
from bot.ui.films import add_attribution, film_entry, linked_label, links_for, links_line, uses_details
from bot.ui.reviews import average

METHOD_HINT = {
    Method.PLURALITY: "Vote for one film: click it. Click another to change your vote.",
    Method.APPROVAL: "Vote for every film you'd happily watch: click to add it, click again to take it back.",
    Method.RANKED: f"Rank up to {MAX_RANKS} films in order of preference with **Rank your choices**. "
    "Counted by instant runoff: the last-placed film drops out and its votes move to their next choice.",
}


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def message_link(guild_id: int, channel_id: int, message_id: int | None) -> str:
    if message_id is None:
        return f"https://discord.com/channels/{guild_id}/{channel_id}"
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def ts(moment: datetime, style: TimestampStyle = "f") -> str:
    """A Discord timestamp: every member reads it in their own timezone."""
    return discord.utils.format_dt(moment, style)


def film_label(films: dict[int, Film], film_id: int) -> str:
    film = films.get(film_id)
    return film.label if film is not None else f"film #{film_id}"


def candidate_lines(
    poll: Poll, films: dict[int, Film], counts: dict[int, int] | None, details: Mapping[int, FilmDetails], room: int
) -> list[str]:
    """One line per candidate: its position, its name linked to Letterboxd with its IMDb and TMDB links, length
    and live count. Shorter forms (name linked only, then plain) when 25 films with every link would not fit in
    ``room`` characters: no candidate may be cut off the poll message."""
    rich: list[str] = []
    linked: list[str] = []
    plain: list[str] = []
    for candidate in poll.candidates:
        film = films.get(candidate.film_id)
        count = f" — {plural(counts.get(candidate.film_id, 0), 'vote')}" if counts is not None else ""
        head = f"`{candidate.position:>2}` "
        if film is None:
            label = f"**{film_label(films, candidate.film_id)}**"
            rich.append(head + label + count)
            linked.append(head + label + count)
            plain.append(head + label + count)
            continue
        found = details.get(film.id)
        rich.append(head + film_entry(film, found, extra=film.length) + count)
        linked.append(f"{head}{linked_label(film, found)} · {film.length}{count}")
        plain.append(f"{head}**{film.label}** · {film.length}{count}")
    for lines in (rich, linked):
        if sum(len(line) + 1 for line in lines) <= room:
            return lines
    return plain


def poll_embed(
    poll: Poll, films: dict[int, Film], live: Tally | None, details: Mapping[int, FilmDetails] | None = None
) -> discord.Embed:
    """The poll message: what to do, until when, the films with their links (with counts when they are shown
    live). ``details``: what the film-details provider knows of the films, by film id (its links, attribution)."""
    lines = [METHOD_HINT[poll.method] if poll.style is Style.BUTTONS else "Vote in the poll below."]
    if poll.status is Status.OPEN:
        lines.append(f"Closes {ts(poll.closes_at, 'F')} ({ts(poll.closes_at, 'R')}).")
    elif poll.status is Status.CLOSED:
        lines.append(f"**Closed** {ts(poll.closed_at or poll.closes_at, 'R')}; the result is below.")
    else:
        lines.append("**Cancelled**: this poll takes no more votes and has no result.")
    if poll.voter_role_id is not None:
        lines.append(f"Only members with the <@&{poll.voter_role_id}> role can vote.")
    details = details or {}
    lines.append("")
    room = DESCRIPTION_LIMIT - sum(len(line) + 1 for line in lines)
    lines += candidate_lines(poll, films, live.first.votes if live is not None else None, details, room)
    embed = club_embed(f"🎬 {poll.title}", "\n".join(lines))
    if poll.show_counts:
        shown = "counts shown live"
        if live is not None:
            what = "first choices" if poll.method is Method.RANKED else "votes"
            shown = f"{plural(live.ballots, 'ballot')} · {what} shown live"
    else:
        shown = "counts hidden until the close"
    embed.set_footer(text=f"{poll.marker}{poll.method.label} · {shown}")
    if uses_details(details.get(candidate.film_id) for candidate in poll.candidates):
        add_attribution(embed)
    return embed


#: How a tie announcement says what the club rating is: a short form of :data:`bot.core.score.RANKING_NOTE`.
CLUB_RATING_NOTE = f"ranked as if every film also had {plural(PRIOR_REVIEWS, 'review')} of {PRIOR_STARS:g}★"


def _rating_facts(tie: Tie, films: dict[int, Film]) -> str:
    """What members can check for each tied film: its plain average and number of reviews, never the club rating
    itself ("A 4.5★ from 10 reviews, B 5.0★ from 1 review; ranked as if …"). A tie stored by an earlier release has
    no review counts (its averages decided it): it reads as it was announced then ("A 4.5★, B unrated")."""
    reviews = dict(tie.reviews)
    parts = []
    for film, stars in tie.ratings:
        name = film_label(films, film).split(" (")[0]
        if not reviews:
            parts.append(f"{name} {'unrated' if stars is None else average(stars)}")
        elif stars is None or not reviews.get(film):
            parts.append(f"{name} no reviews")
        else:
            parts.append(f"{name} {average(stars)} from {plural(reviews[film], 'review')}")
    return ", ".join(parts) + (f"; {CLUB_RATING_NOTE}" if reviews else "")


def describe_tie(tie: Tie, films: dict[int, Film], *, poll_id: int) -> str:
    """ "A and B tied; broken by higher club rating (A 4.5★ from 10 reviews, B 5.0★ from 1 review; ranked as if
    …)." — every step that decided it, named."""
    names = [film_label(films, film) for film in tie.tied]
    tied = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
    details = []
    for rule, name in zip(tie.rules, tie.rule_names, strict=True):
        if rule.value == "rating":
            details.append(f"{name} ({_rating_facts(tie, films)})")
        elif rule.value == "nomination":
            when = dict(tie.nominated_at)
            dates = ", ".join(
                f"{film_label(films, film).split(' (')[0]} {when.get(film, '')[:10]}"
                for film in tie.tied
                if film in when
            )
            details.append(f"{name} ({dates})")
        else:
            details.append(f"{name} (#{poll_id})")
    verb = "for last place" if tie.eliminating else "for first place"
    outcome = "goes out" if tie.eliminating else "wins"
    return f"{tied} tied {verb}; broken by {', then '.join(details)}: **{film_label(films, tie.chosen)}** {outcome}."


def result_embed(
    poll: Poll,
    films: dict[int, Film],
    result: Tally,
    *,
    note: str = "",
    winner_details: FilmDetails | None = None,
    poster_url: str | None = None,
) -> discord.Embed:
    """The result: the winner (with its links, and its poster as the thumbnail when ``poster_url`` is given), how
    it won, ties explained, the counts."""
    unit = "approval" if poll.method is Method.APPROVAL else "vote"
    if result.winner is None:
        embed = club_embed(f"📣 {poll.title}: no winner", "No votes were cast, so there is no winner.")
    else:
        winner = film_label(films, result.winner)
        final = result.final.votes.get(result.winner, 0)
        if poll.method is Method.RANKED:
            rounds = len(result.rounds)
            exhausted = result.final.exhausted
            summary = (
                f"**{winner}** wins in round {rounds} with {final} of {plural(result.final.active, 'ballot')} "
                f"still in play" + (f" ({exhausted} exhausted)." if exhausted else ".")
            )
        elif poll.method is Method.APPROVAL:
            summary = f"**{winner}** wins with {plural(final, 'approval')} from {plural(result.ballots, 'voter')}."
        else:
            summary = f"**{winner}** wins with {final} of {plural(result.ballots, 'vote')}."
        if result.source == "discord":
            summary += " Counted by Discord's own poll."
        lines = [summary]
        winning_film = films.get(result.winner)
        links = links_line(links_for(winning_film, winner_details)) if winning_film is not None else ""
        if links:
            lines.append(links)
        if result.tie is not None:
            lines.append("")
            lines.append("⚖️ " + describe_tie(result.tie, films, poll_id=poll.id))
        embed = club_embed(f"🏆 {poll.title}: {winner}", "\n".join(lines))
        if poster_url:
            embed.set_thumbnail(url=poster_url)
    if poll.method is Method.RANKED:
        for number, round_ in enumerate(result.rounds, start=1):
            ordered = sorted(round_.counts, key=lambda fc: -fc[1])
            parts = [f"{film_label(films, film)} — {count}" for film, count in ordered]
            if round_.exhausted:
                parts.append(f"_exhausted ballots — {round_.exhausted}_")
            if round_.eliminated:
                gone = ", ".join(film_label(films, film) for film in round_.eliminated)
                parts.append(f"➜ out: {gone}")
            if round_.tie is not None:
                parts.append("⚖️ " + describe_tie(round_.tie, films, poll_id=poll.id))
            for block_index, block in enumerate(chunk_lines(parts)):
                add_field(embed, f"Round {number}" + (" (more)" if block_index else ""), block)
    else:
        ordered = sorted(result.first.counts, key=lambda fc: -fc[1])
        total = sum(count for _film, count in ordered) or 1
        parts = [
            f"{'🏆 ' if film == result.winner else ''}{film_label(films, film)} — {plural(count, unit)} "
            f"({round(count * 100 / total)}%)"
            for film, count in ordered
        ]
        for block_index, block in enumerate(chunk_lines(parts)):
            add_field(embed, "Counts" + (" (more)" if block_index else ""), block)
    if note:
        add_field(embed, "Screening", note)
    embed.set_footer(text=f"Poll #{poll.id} · {poll.method.label} · ties: {TIE_BREAK_RULE}")
    if result.winner is not None and winner_details is not None:
        add_attribution(embed)
    return embed


def chart_png(poll: Poll, films: dict[int, Film], result: Tally) -> bytes:
    """Votes (first choices for ranked choice) per film, the winner in gold."""
    chart = result_chart(poll, films, result)
    return bar_chart(chart.title, chart.labels, chart.values, highlight=chart.highlight)


def ballot_lines(poll: Poll, films: dict[int, Film], choices: tuple[int, ...]) -> str:
    if not choices:
        return "_You have not voted in this poll._"
    if poll.method is Method.RANKED:
        return "\n".join(f"{rank}. {film_label(films, film)}" for rank, film in enumerate(choices, start=1))
    return "\n".join(f"• {film_label(films, film)}" for film in choices)


def ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")
