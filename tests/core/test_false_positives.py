"""Ordinary chat stays untouched: a bot that deletes normal messages gets removed from servers."""

from __future__ import annotations

import pytest

from bot.core.scanner import LinkScanner

ORDINARY_CHAT = [
    "gg that clutch was insane",
    "I need to undress the turkey before dinner lol",
    "she said she'd undress after the gym, not on stream obviously",
    "the dot com bubble was wild",
    "my mom's nude lipstick shade is sold out",
    "deep fake news is a real problem, stay safe everyone",
    "crushing it today! AI is wild though",
    "I have a crush. AI won't help with that",
    "clothing off the rack is cheaper",
    "cloth off the table please",
    "version 1.2.3 is out, patch notes at the usual place",
    "score was 3.5 to 2.1",
    "see you at 10:30. bring snacks",
    "what time? 8.30pm EST",
    "ok. me too",
    "lol.. that was close...",
    "e.g. the boss fight, i.e. the hard part",
    "my file is called notes.txt and another is report.pdf",
    "mr. deepfakes documentary on netflix was good",
    "nudity warning on that horror movie",
    "I'm unclothing the truth here: the game is rigged",
    "feeling crushed, ai opponents too strong",
    "undressed salad is healthier",
    "the nudibranch is my favourite sea slug",
    "¯\\_(ツ)_/¯",
    "ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ",
    "こんにちは。よろしくお願いします。",
    "Привет всем, как дела?",
    "emoji time 👍🏽👨‍👩‍👧‍👦 and ❤️",
    "email me: streamer@gmail.com",
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "https://cdn.discordapp.com/attachments/123/456/clip.mp4",
    "https://media.discordapp.net/attachments/1/2/image.png?width=400",
    "https://discord.com/channels/111/222/333",
    "https://www.twitch.tv/videos/123456",
    "https://clips.twitch.tv/FunnyClipName",
    "my github is github.com/streamer/overlay",
    "the site is clothes-off-sale.com for the summer sale",
    "visit clothoffice.com for desks",
    "https://off-white.com/cloth",
    "https://en.wikipedia.org/wiki/Deepfake_pornography",
    "crushair.com has cheap flights",
    "nudifyer.com is not a thing",
    "deepnudes are illegal in many places",  # discussion of the word, not the brand
    "https://t.me/deepfakechannel_news",  # a different channel than the listed one
    "https://imgur.com/a/goodalbum",
    "undress.apple.com",  # not the listed undress.app
    "pornpen.ai.example",  # unknown TLD, not the listed domain
]


@pytest.mark.parametrize("message", ORDINARY_CHAT)
def test_ordinary_chat_is_allowed(scanner: LinkScanner, message: str) -> None:
    """A message that names no listed site gives verdict allow with no findings."""
    result = scanner.scan(message)
    assert result.verdict == "allow", result.to_dict()
    assert result.findings == ()


@pytest.mark.parametrize(
    "host",
    [
        "cdn.discordapp.com",
        "media.discordapp.net",
        "discord.gg",
        "static-cdn.jtvnw.net",
        "iogames.com",
        "clothoffice.io",
        "iclothoff.io.net",
        "undress.application.dev",
        "mrdeepfakes.community",
        "xn--80ak6aa92e.com",  # a Cyrillic domain that looks like nothing listed
    ],
)
def test_legitimate_hosts_sharing_a_substring(scanner: LinkScanner, host: str) -> None:
    """Hosts that merely contain part of a listed name are not matched: labels are compared whole."""
    assert scanner.scan(f"https://{host}/x").findings == ()


def test_lookalike_of_an_allowed_domain_is_not_reported(scanner: LinkScanner) -> None:
    """Look-alikes are looked for only among block and review lists, never the allow-list."""
    assert scanner.scan("disc0rd.com").findings == ()


def test_brand_inside_another_domain_is_held_not_deleted(scanner: LinkScanner) -> None:
    """`clothoff.io.example.org` is not the listed domain, but names the brand: review only."""
    result = scanner.scan("mirror list: clothoff.io.example.org")
    assert result.verdict == "review"
    assert {f.signal for f in result.findings} == {"keyword"}
