"""The season page as Discord shows it (cogs/seasons.py): each mode's weeks in words, member text shown as written,
and a year-long season that stays inside Discord's embed limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core import seasons
from bot.ui.embeds import FIELDS_LIMIT, TOTAL_LIMIT
from cogs.seasons import season_embed, week_text
from tests.server_films import film_record

START = datetime(2026, 3, 6, 19, tzinfo=UTC)


def season(
    mode: seasons.Mode, weeks: int, *, title: str = "Live on Stage", films: tuple[int, ...] = ()
) -> seasons.Season:
    return seasons.Season(
        id=1,
        guild_id=7,
        theme_slug="live",
        theme_title=title,
        mode=mode,
        weeks=weeks,
        starts_at=START,
        ends_at=START + seasons.WEEK * weeks,
        notes="**Loud** ones first @everyone",
        created_by=1,
        ended_at=None,
        film_ids=films,
    )


def test_each_poll_week_says_what_it_had() -> None:
    made = season(seasons.Mode.POLL, 5)
    films = {3: film_record(id=3, title="Gimme *Shelter*", year=1970)}
    entries = (
        seasons.WeekEntry(1, made.week_starts(1), film_id=3, poll_id=11, poll_status="closed"),
        seasons.WeekEntry(2, made.week_starts(2), poll_id=12, poll_status="open", poll_closes_at=made.week_starts(2)),
        seasons.WeekEntry(3, made.week_starts(3), skipped="too late to open a poll for it (the bot was down)"),
        seasons.WeekEntry(4, made.week_starts(4), poll_id=14, poll_status="cancelled"),
        seasons.WeekEntry(5, made.week_starts(5), poll_opens_at=made.week_starts(5) - seasons.POLL_SPAN),
    )
    page = seasons.SeasonPage(made, seasons.progress(made, made.week_starts(2)), films, entries, entries[2])
    texts = [week_text(page, entry) for entry in entries]
    assert texts[0] == r"Gimme \*Shelter\* (1970) (won poll #11)"
    assert texts[1].startswith("poll #12 open, closes <t:")
    assert texts[2] == "no poll: too late to open a poll for it (the bot was down)"
    assert texts[3] == "poll #14 was cancelled"
    assert texts[4].startswith("a poll opens <t:")
    embed = season_embed(page)
    assert embed.title == "Season · Live on Stage"
    fields = {field.name: field.value or "" for field in embed.fields}
    assert fields["Programme notes"] == "\\*\\*Loud\\*\\* ones first @\u200beveryone"  # no ping
    assert fields["Next"].startswith("Week 3 · ")
    assert "▶ Week 2 · " in fields["Weeks"]


def test_a_year_of_picks_stays_inside_discords_limits() -> None:
    made = season(seasons.Mode.PICKS, 52, title="[Club](https://example.com) *favourites*")
    films = {n: film_record(id=n, title="A Very Long Title " * 6, year=2000) for n in range(1, 4)}
    entries = tuple(seasons.WeekEntry(week, made.week_starts(week), picks=(1, 2, 3)) for week in range(1, 53))
    page = seasons.SeasonPage(made, seasons.progress(made, made.week_starts(52)), films, entries, None)
    embed = season_embed(page)
    assert len(embed) <= TOTAL_LIMIT and len(embed.fields) <= FIELDS_LIMIT
    assert embed.title == r"Season · \[Club\](https://example.com) \*favourites\*"
    assert "Week 1 · " in (embed.fields[1].value or "") and embed.footer.text == "filmclub seasons"


def test_a_fixed_week_names_its_film_and_a_picks_week_before_its_post_says_how() -> None:
    fixed = season(seasons.Mode.FIXED, 2, films=(3, 4))
    films = {3: film_record(id=3, title="Monterey Pop", year=1968)}
    page = seasons.SeasonPage(fixed, seasons.progress(fixed, START - timedelta(days=1)), films)
    assert week_text(page, seasons.WeekEntry(1, START, film_id=3)) == "Monterey Pop (1968)"
    picks = season(seasons.Mode.PICKS, 2)
    page = seasons.SeasonPage(picks, seasons.progress(picks, START), {})
    assert week_text(page, seasons.WeekEntry(2, START)) == "the weekly picks on the theme"
