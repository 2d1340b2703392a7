"""/review, /reviews and /profile through the loopback Discord, and the "Review" hand-off button other features post.

One bot process (the shipped catalog) serves the whole module; the tests build on each other's reviews in order,
and each uses its own films where it can.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio

from .fake_discord import FakeDiscord, FakeMember, FakeUser, StoredMessage, Upload
from .harness import DiscordDriver, ModuleBot, Reply, default_bot_kind, module_bot

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

RATING, BODY, SPOILER = "review:rating", "review:body", "review:spoiler"


@dataclass
class Club(ModuleBot):
    extra: list[FakeMember] = field(default_factory=list)  # more members than the default world, for a 2nd page


EXTRA_MEMBERS = ("dan", "erin")


def add_members(fake: FakeDiscord) -> None:
    """More members than the default world has, for a second page of reviews."""
    guild = fake.world.guild
    member_role = guild.role("Member")
    extra = [
        FakeMember(
            user=FakeUser(id=fake.ids.next(), username=name, global_name=name.title()),
            guild_id=guild.id,
            roles=[member_role],
        )
        for name in EXTRA_MEMBERS
    ]
    guild.members[-1:-1] = extra  # before the bot's own member


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def club(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Club]:
    if default_bot_kind() != "real":
        pytest.skip("reviews need the real bot")
    async with module_bot(tmp_path_factory.mktemp("reviews-e2e"), add_members) as (fake, bot):
        yield Club(fake, DiscordDriver(fake), bot, fake.world.guild.members[-1 - len(EXTRA_MEMBERS) : -1])


@pytest.fixture(autouse=True)
def _show_bot_output(request: pytest.FixtureRequest, club: Club) -> None:
    request.node._e2e_bots = [club.bot]


def modal_field(reply: Reply, custom_id: str) -> dict[str, Any]:
    for top in reply.modal["components"]:
        inner = top.get("component") or top["components"][0]
        if inner.get("custom_id") == custom_id:
            return dict(inner)
    raise AssertionError(f"no field {custom_id} in {reply.modal}")


def defaults(select: dict[str, Any]) -> list[str]:
    return [option["value"] for option in select["options"] if option.get("default")]


async def run(ctx: Club, path: str, who: FakeMember, /, **options: Any) -> Reply:
    """``/path`` as ``who``; every keyword is an option (``member=`` too)."""
    return await ctx.discord.command(f"/{path}", member=who, options=options)


async def review(
    club: Club, member: FakeMember, film: str, stars: float, text: str = "", spoiler: bool = False
) -> Reply:
    form = await run(club, "review add", member, film=film, rating=stars, spoiler=spoiler)
    assert form.response_type == 9, form.text
    return await form.submit_modal(
        {RATING: str(int(stars * 2)), BODY: text, SPOILER: "yes" if spoiler else "no"}, member=member
    )


async def test_a_review_is_a_form_then_a_public_post_that_pings_nobody(club: Club) -> None:
    world = club.fake.world
    form = await run(club, "review add", world.alice, film="the-last-waltz", rating=4.5)
    assert form.response_type == 9
    assert form.modal["title"] == "Review: The Last Waltz"
    assert defaults(modal_field(form, RATING)) == ["9"]
    assert defaults(modal_field(form, SPOILER)) == ["no"]
    assert modal_field(form, BODY)["max_length"] == 2000

    text = f"Robbie's farewell. @everyone @here <@&{world.moderator_role.id}> <@{world.bob.id}> should see it."
    done = await form.submit_modal({RATING: "9", BODY: text, SPOILER: "no"}, member=world.alice)
    assert done.response_type == 4
    assert not done.ephemeral
    assert done.embed["title"] == "★★★★½ The Last Waltz (1978)"
    assert done.embed["author"]["name"] == "Alice"
    assert "Robbie's farewell." in done.embed["description"]
    assert "@\u200beveryone" in done.embed["description"]
    assert done.message is not None
    assert done.message.would_ping() == ([], [], False)
    assert "edited" not in done.embed["footer"]["text"]


async def test_reviewing_again_replaces_the_review_shows_it_was_edited_and_hides_spoilers(club: Club) -> None:
    world = club.fake.world
    form = await run(club, "review add", world.alice, film="the-last-waltz", rating=2, spoiler=True)
    assert modal_field(form, BODY)["value"].startswith("Robbie's farewell.")  # pre-filled with the review
    assert defaults(modal_field(form, RATING)) == ["4"]
    assert defaults(modal_field(form, SPOILER)) == ["yes"]
    done = await form.submit_modal(
        {RATING: "4", BODY: "The last song is a || trick: Dylan leaves.", SPOILER: "yes"}, member=world.alice
    )
    assert done.embed["title"] == "★★ The Last Waltz (1978)"
    assert done.embed["description"] == "||The last song is a \\|\\| trick: Dylan leaves.||"
    assert "edited" in done.embed["footer"]["text"]
    assert "contains spoilers" in done.embed["footer"]["text"]
    rows = club.query(
        "SELECT rating, edited FROM reviews WHERE user_id = ? AND film_id = ?",
        (world.alice.id, club.film_id("the-last-waltz")),
    )
    assert rows == [(4, 1)]  # one review, replaced


async def test_bad_ratings_and_unknown_films_are_refused_and_nothing_is_written(club: Club) -> None:
    world = club.fake.world
    before = club.query("SELECT count(*) FROM reviews")
    half = await run(club, "review add", world.bob, film="the-last-waltz", rating=3.3)
    assert half.response_type == 4 and half.ephemeral
    assert "Ratings go from 0.5 to 5 stars in half steps" in half.text
    unknown = await run(club, "review add", world.bob, film="Zzyzx Road Movie", rating=3)
    assert unknown.ephemeral
    assert "No film called 'Zzyzx Road Movie' in the catalog or this server's films." in unknown.text
    choices = await club.discord.autocomplete("/review add", "film", "last walt", member=world.bob)
    assert choices[0]["value"] == "the-last-waltz"
    assert club.query("SELECT count(*) FROM reviews") == before


async def test_a_films_reviews_come_in_pages_with_average_histogram_and_spoilers(club: Club) -> None:
    world = club.fake.world
    reviewers = [world.owner, world.moderator, world.alice, world.bob, world.carol, *club.extra]
    stars = [5, 4.5, 4, 4, 3.5, 2.5, 5]
    for member, given in zip(reviewers, stars, strict=True):
        secret = member is world.bob
        text = "David Byrne's big suit is the whole point." if secret else f"{member.display_name} liked it."
        await review(club, member, "stop-making-sense", given, text, spoiler=secret)

    listing = await run(club, "reviews", world.carol, film="stop-making-sense")
    assert listing.response_type == 4 and not listing.ephemeral
    embed = listing.embed
    assert embed["title"] == "Reviews · Stop Making Sense (1984)"
    assert embed["description"] == "**4.1★** average from **7** reviews."
    assert embed["footer"]["text"] == "Page 1 of 2 · newest first"
    assert len(embed["fields"]) == 5
    assert embed["image"]["url"].endswith("ratings.png")
    assert listing.files["ratings.png"].startswith(b"\x89PNG")
    assert listing.button_labels() == ["◀ Previous", "Next ▶"]
    spoiled = [f["value"] for f in embed["fields"] if f"<@{world.bob.id}>" in f["value"]]
    assert spoiled and "||David Byrne's big suit is the whole point.||" in spoiled[0]

    second = await listing.click("Next ▶", member=world.carol)
    assert second.response_type == 7
    assert second.message is not None
    shown = second.message.embeds[0]
    assert shown["footer"]["text"] == "Page 2 of 2 · newest first"
    assert len(shown["fields"]) == 2
    assert f"<@{world.owner.id}>" in shown["fields"][-1]["value"]  # the oldest review is last
    assert "ratings.png" in {a.filename for a in second.message.attachments}
    back = await listing.click("◀ Previous", member=world.alice)
    assert back.message is not None
    assert back.message.embeds[0]["footer"]["text"] == "Page 1 of 2 · newest first"

    nobody = await run(club, "reviews", world.carol, film="monterey-pop")
    assert "No one has reviewed this film yet" in nobody.text
    assert not nobody.files


async def test_a_members_reviews_one_review_in_full_and_a_profile(club: Club) -> None:
    world = club.fake.world
    mine = await run(club, "reviews", world.alice, member=world.alice)
    assert mine.embed["title"] == "Reviews by Alice"
    assert mine.embed["description"] == "**2** reviews, **3.0★** on average."
    names = [field["name"] for field in mine.embed["fields"]]
    assert names == ["Stop Making Sense (1984) — ★★★★", "The Last Waltz (1978) — ★★ · edited"]
    assert not mine.button_labels()  # one page

    own = await run(club, "reviews", world.bob)
    assert own.embed["title"] == "Reviews by Bob"

    one = await run(club, "reviews", world.carol, film="the-last-waltz", member=world.alice)
    assert one.embed["title"] == "★★ The Last Waltz (1978)"
    assert one.embed["description"] == "||The last song is a \\|\\| trick: Dylan leaves.||"
    missing = await run(club, "reviews", world.carol, film="the-last-waltz", member=world.carol)
    assert missing.ephemeral and "Carol has not reviewed The Last Waltz (1978)." in missing.text

    await run(club, "watchlist add", world.alice, film="monterey-pop")
    profile = await run(club, "profile", world.bob, member=world.alice)
    assert profile.embed["title"] == "Alice · profile"
    fields = {field["name"]: field["value"] for field in profile.embed["fields"]}
    assert fields["Reviews"] == "2"
    assert fields["Average given"] == "3.0★"
    assert fields["Watchlist"] == "1 film"
    assert fields["Seen"] == "2 films"
    assert fields["Recent reviews"].splitlines()[0].startswith("★★★★ Stop Making Sense (1984)")
    assert "film" in fields["Favourite themes"]
    me = await run(club, "profile", club.extra[1])
    assert me.embed["title"] == "Erin · profile"


async def test_a_members_reviews_come_in_pages(club: Club) -> None:
    world = club.fake.world
    ratings = "Date,Name,Year,Letterboxd URI,Rating\n" + "".join(
        f"2025-01-0{day},{title},{year},u,{stars}\n"
        for day, (title, year, stars) in enumerate(
            [
                ("Monterey Pop", 1968, 4),
                ("Gimme Shelter", 1970, 4.5),
                ("Woodstock", 1970, 3),
                ("Dont Look Back", 1967, 4),
                ("Wattstax", 1973, 3.5),
                ("The Last Waltz", 1978, 5),
            ],
            start=1,
        )
    )
    imported = await run(club, "letterboxd import", world.carol, file=Upload("ratings.csv", ratings.encode()))
    assert "6 films** matched the catalog" in imported.text, imported.text
    first = await run(club, "reviews", world.carol)
    assert first.embed["footer"]["text"] == "Page 1 of 2 · newest first"
    names = [field["name"] for field in first.embed["fields"]]
    assert names[0] == "Stop Making Sense (1984) — ★★★½"  # written here today; the imports are dated 2025
    assert names[1] == "The Last Waltz (1978) — ★★★★★ · from Letterboxd"
    second = await first.click("Next ▶")
    assert second.message is not None
    assert second.message.embeds[0]["title"] == "Reviews by Carol"
    assert second.message.embeds[0]["footer"]["text"] == "Page 2 of 2 · newest first"


async def test_deleting_your_review_and_moderators_removing_anyones(club: Club) -> None:
    world = club.fake.world
    waltz = club.film_id("the-last-waltz")
    refused = await run(club, "review delete", world.bob, film="the-last-waltz", member=world.alice)
    assert refused.ephemeral and "Only moderators can remove someone else's review." in refused.text
    assert club.query("SELECT count(*) FROM reviews WHERE user_id = ? AND film_id = ?", (world.alice.id, waltz)) == [
        (1,)
    ]

    removed = await run(
        club,
        "review delete",
        world.moderator,
        film="the-last-waltz",
        reason="Spoiler in the wrong place @everyone",
        member=world.alice,
    )
    assert removed.ephemeral
    assert f"Removed <@{world.alice.id}>'s review of **The Last Waltz (1978)**." in removed.text
    assert removed.message is not None and removed.message.would_ping() == ([], [], False)
    assert club.query(
        "SELECT user_id, film_id, rating, removed_by, reason FROM review_removals WHERE film_id = ?", (waltz,)
    ) == [(world.alice.id, waltz, 4, world.moderator.id, "Spoiler in the wrong place @everyone")]

    own = await run(club, "review delete", world.bob, film="stop-making-sense")
    assert own.ephemeral and "Deleted your review of **Stop Making Sense (1984)**." in own.text
    again = await run(club, "review delete", world.bob, film="stop-making-sense")
    assert "You have no review of that film." in again.text
    assert len(club.query("SELECT * FROM review_removals")) == 1  # deleting your own is not a removal


async def test_deleting_a_review_takes_its_public_posts_down(club: Club) -> None:
    world = club.fake.world
    dan, erin = club.extra
    first = await review(club, dan, "monterey-pop", 1, "Otis is overrated. Buy my mixtape @everyone")
    second = await review(club, dan, "monterey-pop", 1.5, "Still overrated, and here is why...")
    posts = [first.message, second.message]
    assert all(post is not None and post in club.fake.channel_messages(world.general) for post in posts)

    removed = await run(club, "review delete", world.moderator, film="monterey-pop", member=dan, reason="Spam")
    assert removed.ephemeral
    assert f"Removed <@{dan.id}>'s review of **Monterey Pop (1968)**. Its 2 public posts were deleted." in removed.text
    shown = club.fake.channel_messages(world.general)
    assert not any(post in shown for post in posts)
    assert not any("overrated" in message.text for message in shown)

    own = await review(club, erin, "woodstock", 3, "Too long, too muddy.")
    deleted = await run(club, "review delete", erin, film="woodstock")
    assert "Deleted your review of **Woodstock (1970)**. Its public post was deleted." in deleted.text
    assert own.message not in club.fake.channel_messages(world.general)
    films = (club.film_id("monterey-pop"), club.film_id("woodstock"))
    assert club.query("SELECT count(*) FROM review_posts WHERE film_id IN (?, ?)", films) == [(0,)]


async def test_a_review_shown_again_in_full_comes_down_with_the_review(club: Club) -> None:
    world = club.fake.world
    erin = club.extra[1]
    await review(club, erin, "wattstax", 2, "Too much talking between the songs.")
    shown = await run(club, "reviews", world.carol, film="wattstax", member=erin)
    assert shown.message is not None and "Too much talking" in shown.message.embeds[0]["description"]

    deleted = await run(club, "review delete", erin, film="wattstax")
    assert "Deleted your review of **Wattstax (1973)**. Its 2 public posts were deleted." in deleted.text
    assert not any("Too much talking" in str(m.embeds) for m in club.fake.channel_messages(world.general))


async def test_the_review_hand_off_button_opens_the_form_even_across_a_restart(club: Club) -> None:
    world = club.fake.world
    film_id = club.film_id("dont-look-back")
    prompt = StoredMessage(
        id=club.fake.ids.next(),
        channel_id=world.general.id,
        guild_id=world.guild.id,
        author=club.fake.bot_user,
        content="How was Dont Look Back? Rate it.",
        components=[
            {
                "type": 1,
                "components": [{"type": 2, "style": 1, "label": "Review", "custom_id": f"filmclub:review:{film_id}"}],
            }
        ],
    )
    club.fake.messages[prompt.id] = prompt
    form = await club.discord.click(prompt, "Review", member=world.bob)
    assert form.response_type == 9
    assert form.modal["title"] == "Review: Dont Look Back"
    assert defaults(modal_field(form, RATING)) == []  # no rating chosen for the member

    opened = await club.discord.click(prompt, "Review", member=club.extra[0])
    listing = await run(club, "reviews", world.alice, film="stop-making-sense")
    await club.bot.restart()

    done = await form.submit_modal({RATING: "8", BODY: "Dylan vs. the press.", SPOILER: "no"}, member=world.bob)
    assert done.embed["title"] == "★★★★ Dont Look Back (1967)"
    late = await opened.submit_modal({RATING: "1", SPOILER: "no"}, member=club.extra[0])
    assert late.embed["title"] == "½ Dont Look Back (1967)"
    assert club.query("SELECT count(*) FROM reviews WHERE film_id = ?", (film_id,)) == [(3,)]  # with Carol's import

    paged = await listing.click("Next ▶", member=world.alice)
    assert paged.response_type == 7
    assert paged.message is not None and paged.message.embeds[0]["footer"]["text"] == "Page 2 of 2 · newest first"

    again = await club.discord.click(prompt, "Review", member=world.bob)
    assert modal_field(again, BODY)["value"] == "Dylan vs. the press."
    assert defaults(modal_field(again, RATING)) == ["8"]
