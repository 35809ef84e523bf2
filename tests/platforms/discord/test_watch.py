"""Each watched surface end to end: links, disguised links, images, edits, forwards, review, dry run."""

from __future__ import annotations

import json
import re
from typing import Any

from PIL import ImageOps

from bot.media.banking import add_files
from bot.sandbox.discord import Default
from bot.storage.cases import CaseRepo
from tests.images import encoded, picture
from tests.platforms.discord.conftest import Harness

D = Default
SUPPRESS_EMBEDS = 1 << 2


def assert_no_media(alert: dict[str, Any], *urls: str) -> None:
    """An alert never carries the media: no files, no image/thumbnail/video, no media URL."""
    assert not alert.get("attachments")
    for embed in alert["embeds"]:
        assert not {"image", "thumbnail", "video"} & set(embed)
    text = json.dumps(alert)
    assert "/attachments/" not in text
    for url in urls:
        assert url not in text


def custom_ids(alert: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in alert.get("components", []) for c in row["components"]]


async def test_listed_link_is_deleted_and_alerted(harness: Harness) -> None:
    """A listed domain: the message is deleted with an audit reason, then an alert with buttons."""
    async with harness.run():
        message = await harness.sandbox.send_message(
            D.GENERAL, D.MEMBER, "free pics at https://clothoff.io/gallery"
        )
        delete = await harness.deleted(D.GENERAL, message["id"])
        alert = await harness.alert()
    assert delete.status == 204
    assert delete.reason is not None and delete.reason.startswith("Shield case 1:")
    assert harness.sandbox.message(D.GENERAL, int(message["id"])) is None
    embed = alert["embeds"][0]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert f"<@{D.MEMBER}>" in fields["Who"]
    assert f"<#{D.GENERAL}>" in fields["Where"] and "discord.com/channels" in fields["Where"]
    assert "clothoff.io" in fields["What matched"] and "deepfake-sites" in fields["What matched"]
    assert "message deleted" in fields["What was done"]
    assert "timed out" in fields["What was done"]  # the first-offence policy
    assert custom_ids(alert) == [
        "shield:case:1:ban",
        "shield:case:1:timeout",
        "shield:case:1:dismiss",
    ]
    assert_no_media(alert)
    timeout = harness.sandbox.find_requests("PATCH", f"/guilds/{D.GUILD}/members/{D.MEMBER}")
    assert timeout and timeout[0].json["communication_disabled_until"]
    case = CaseRepo(harness.app.db).get(1)
    assert case is not None and case.tier == "block" and case.alert_message_id == alert["id"]


async def test_obfuscated_link_is_deleted(harness: Harness) -> None:
    """Defanged, zero-width and full-width tricks do not get a listed site through."""
    async with harness.run():
        texts = ["get it at clothoff[.]io", "hxxps://cloth\u200boff.io/x", "ｃｌｏｔｈｏｆｆ．ｉｏ"]
        for text in texts:
            message = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, text)
            await harness.deleted(D.GENERAL, message["id"])
            await harness.alert()
        clean = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, "see https://twitch.tv/x")
        await harness.sandbox.wait_for_request("PUT", f"/guilds/{D.GUILD}/bans/{D.MEMBER}")
    assert harness.untouched(D.GENERAL, clean)


async def test_known_image_and_edited_copies_are_deleted(harness: Harness) -> None:
    """A banked picture is deleted; so are a resized and a mirrored copy, by PDQ distance."""
    original = picture(7)
    path = harness.tmp_path / "vault.png"
    path.write_bytes(encoded(original))
    app = harness.app
    add_files(
        app.banks, app.audit, [path], bank="vault", tier=None, actor="test", settings=app.settings
    )
    copies = {
        "same.png": encoded(original),
        "small.jpg": encoded(original.resize((320, 240)), "JPEG"),
        "mirror.png": encoded(ImageOps.mirror(original)),
    }
    async with harness.run():
        for name, data in copies.items():
            kind = "image/jpeg" if name.endswith(".jpg") else "image/png"
            message = await harness.sandbox.send_message(
                D.GENERAL, D.MEMBER, "look", attachments=[(name, data, kind)]
            )
            await harness.deleted(D.GENERAL, message["id"], timeout=60)
            alert = await harness.alert()
            matched = {f["name"]: f["value"] for f in alert["embeds"][0]["fields"]}["What matched"]
            assert "bank `vault`" in matched and "distance" in matched
            assert_no_media(alert, message["attachments"][0]["url"])
    unrelated = CaseRepo(app.db).recent()
    assert len(unrelated) == 3


async def test_unrelated_image_is_left_alone(harness: Harness) -> None:
    """A different picture passes: no delete, no case."""
    path = harness.tmp_path / "vault.png"
    path.write_bytes(encoded(picture(7)))
    app = harness.app
    add_files(
        app.banks, app.audit, [path], bank="vault", tier=None, actor="test", settings=app.settings
    )
    async with harness.run():
        message = await harness.sandbox.send_message(
            D.GENERAL, D.MEMBER, "", attachments=[("cat.png", encoded(picture(99)), "image/png")]
        )
        # A listed link after it: once that is handled, the picture has been too.
        marker = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, "clothoff.io")
        await harness.deleted(D.GENERAL, marker["id"], timeout=60)
    assert harness.untouched(D.GENERAL, message)
    assert [c.message_id for c in CaseRepo(app.db).recent()] == [marker["id"]]


async def test_forwarded_message_is_scanned(harness: Harness) -> None:
    """A forward carries the original in message_snapshots: its link is caught."""
    async with harness.run():
        message = await harness.sandbox.send_message(
            D.GENERAL,
            D.MEMBER,
            message_snapshots=[{"content": "mirror: https://mrdeepfakes.com/video/1"}],
        )
        await harness.deleted(D.GENERAL, message["id"])
        alert = await harness.alert()
    assert "mrdeepfakes.com" in json.dumps(alert["embeds"])


async def test_edit_that_adds_a_link_is_rescanned(harness: Harness) -> None:
    """A clean message edited to carry a listed link is deleted on the edit."""
    async with harness.run():
        message = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, "hello all")
        await harness.sandbox.edit_message(
            D.GENERAL, int(message["id"]), content="hello all, now see undress.app"
        )
        await harness.deleted(D.GENERAL, message["id"])
        await harness.alert()


async def test_threads_forum_posts_and_voice_chat_are_watched(harness: Harness) -> None:
    """Threads, forum posts, voice-channel chat and announcement channels are scanned too."""
    async with harness.run():
        for channel in (D.THREAD, D.FORUM_POST, D.VOICE, D.NEWS):
            message = await harness.sandbox.send_message(channel, D.MEMBER, "clothoff.io")
            await harness.deleted(channel, message["id"])


async def test_review_tier_hides_the_preview_and_alerts(harness: Harness) -> None:
    """A brand keyword is held for review: embeds suppressed, nothing deleted, an alert."""
    async with harness.run():
        message = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, "anyone tried crushai?")
        path = f"/channels/{D.GENERAL}/messages/{message['id']}"
        patch = await harness.sandbox.wait_for_request("PATCH", path)
        alert = await harness.alert()
    assert patch.json["flags"] & SUPPRESS_EMBEDS
    assert not harness.sandbox.find_requests("DELETE", path)
    assert "review" in alert["embeds"][0]["title"].lower()
    assert "preview hidden" in json.dumps(alert["embeds"])


async def test_dry_run_alerts_but_changes_nothing(make_harness: Any) -> None:
    """A server in dry run: an alert saying what would have been done, and no request that acts."""
    harness: Harness = await make_harness(dry_run=True)
    async with harness.run():
        message = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, "clothoff.io")
        alert = await harness.alert()
    assert alert["embeds"][0]["title"].startswith("[DRY RUN]")
    assert "would have" in json.dumps(alert["embeds"])
    acting = re.compile(r"/channels/\d+/messages/\d+|/guilds/\d+/(members|bans)/\d+")
    assert not [r for r in harness.sandbox.find_requests(path=acting) if r.method != "GET"]
    assert harness.sandbox.message(D.GENERAL, int(message["id"])) is not None


async def test_embed_image_is_scanned(harness: Harness) -> None:
    """A link preview's picture (fetched through the media proxy URL) is matched like an upload."""
    image = encoded(picture(21))
    path = harness.tmp_path / "vault.png"
    path.write_bytes(image)
    app = harness.app
    add_files(
        app.banks, app.audit, [path], bank="vault", tier=None, actor="test", settings=app.settings
    )
    url = harness.sandbox.add_file("preview.png", image, "image/png")
    embed = {
        "type": "image",
        "url": "https://example.org/p.png",
        "image": {"url": url, "proxy_url": url},
    }
    async with harness.run():
        message = await harness.sandbox.send_message(
            D.GENERAL, D.MEMBER, "https://example.org/p.png", embeds=[embed]
        )
        await harness.deleted(D.GENERAL, message["id"], timeout=60)
        alert = await harness.alert()
    assert "embed image" in json.dumps(alert["embeds"])
    assert_no_media(alert, url)


async def test_moderators_are_alerted_not_actioned(harness: Harness) -> None:
    """A moderator's message with a listed link: an alert, never an automatic delete or timeout."""
    async with harness.run():
        message = await harness.sandbox.send_message(
            D.GENERAL, D.MOD, "is clothoff.io on the list?"
        )
        alert = await harness.alert()
    assert harness.untouched(D.GENERAL, message)
    assert not harness.sandbox.find_requests("PATCH", f"/guilds/{D.GUILD}/members/{D.MOD}")
    assert "nothing done" in json.dumps(alert["embeds"])


async def test_author_is_told_when_the_server_asks(harness: Harness) -> None:
    """notify_author: the author gets a DM saying why, without the link."""
    harness.app.communities.set(f"discord:{D.GUILD}", "notify_author", "true", updated_by="test")
    async with harness.run():
        message = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, "clothoff.io/x")
        await harness.deleted(D.GENERAL, message["id"])
        opened = await harness.sandbox.wait_for_request("POST", "/users/@me/channels")
        dm_id = opened.response["id"]
        told = await harness.sandbox.wait_for_request("POST", f"/channels/{dm_id}/messages")
        await harness.alert()
    assert "removed by Shield" in told.json["content"]
    assert "clothoff" not in told.json["content"]
