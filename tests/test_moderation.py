"""The moderation service end to end, below the platforms: real SQLite, a real local web server
serving generated images, the real fetcher and process pool."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from PIL import ImageOps

from bot.app import App
from bot.core.actions import Escalation
from bot.core.context import MediaRef, ScanContext
from bot.media.banking import add_files
from bot.media.fetch import SafeFetcher
from bot.media.pool import HashPool
from bot.moderation import Moderator
from tests.images import encoded, picture


@pytest.fixture
async def moderator(app: App) -> AsyncIterator[Moderator]:
    fetch = msgspec.structs.replace(app.settings.fetch, allow_private_addresses=True)
    media = msgspec.structs.replace(app.settings.media, workers=1)
    async with SafeFetcher(fetch) as fetcher, HashPool(media) as pool:
        yield Moderator(app, fetcher=fetcher, pool=pool)


def message(
    text: str = "", *, mid: str = "1", media: tuple[MediaRef, ...] = (), author: str = "discord:7"
) -> ScanContext:
    return ScanContext(
        platform="discord",
        community="discord:111",
        channel_id="333",
        message_id=mid,
        author_id=author,
        author_name="troll",
        text=text,
        media=media,
    )


async def test_listed_link_opens_a_case_once(moderator: Moderator) -> None:
    """A listed link gives a delete plan and one case; the same message replayed is not new."""
    handled = await moderator.handle(message("look: clothoff[.]io"))
    assert handled.plan.delete and handled.plan.escalation is Escalation.TIMEOUT
    assert handled.case is not None and handled.case.tier == "block" and handled.first_time
    assert handled.case.findings[0]["matched"] == "clothoff.io"
    again = await moderator.handle(message("look: clothoff[.]io"))
    assert not again.first_time and again.case is not None and again.case.id == handled.case.id
    assert [e.action for e in moderator.app.audit.recent(5)].count("case.open") == 1


async def test_clean_message_records_nothing(moderator: Moderator) -> None:
    """Ordinary chat gives an empty plan and no case."""
    handled = await moderator.handle(message("gg everyone"))
    assert not handled.plan.alert and handled.case is None


async def test_repeat_offender_is_banned(moderator: Moderator) -> None:
    """The second blocked message of the same author escalates to a ban."""
    await moderator.handle(message("clothoff.io", mid="1"))
    second = await moderator.handle(message("clothoff.io", mid="2"))
    assert second.plan.escalation is Escalation.BAN


async def test_known_image_and_edited_copy_are_blocked(
    moderator: Moderator, media_server: tuple[str, dict[str, bytes]], tmp_path: Path
) -> None:
    """An attachment whose hash is in a bank is blocked; so is a mirrored, resized JPEG copy."""
    base, files = media_server
    original = picture(1)
    path = tmp_path / "vault.png"
    original.save(path)
    app = moderator.app
    add_files(
        app.banks, app.audit, [path], bank="vault", tier=None, actor="test", settings=app.settings
    )
    app.reload()  # rebuilt from storage, as at start-up
    files["copy.jpg"] = encoded(ImageOps.mirror(original).resize((320, 240)), "JPEG")
    files["other.png"] = encoded(picture(2))
    handled = await moderator.handle(
        message(media=(MediaRef(f"{base}/copy.jpg", "attachment", "copy.jpg"),))
    )
    assert handled.plan.delete
    finding = handled.outcome.verdict.findings[0]
    assert finding.source == "vault" and finding.distance is not None and finding.distance <= 31
    assert handled.case is not None and handled.case.hashes[0]["md5"]
    clean = await moderator.handle(
        message(mid="9", media=(MediaRef(f"{base}/other.png", "attachment"),))
    )
    assert not clean.plan.alert


async def test_linked_image_is_fetched(
    moderator: Moderator, media_server: tuple[str, dict[str, bytes]], tmp_path: Path
) -> None:
    """A link in chat that points at an image file is downloaded and matched like an upload."""
    base, files = media_server
    path = tmp_path / "v.png"
    picture(3).save(path)
    app = moderator.app
    add_files(
        app.banks, app.audit, [path], bank="vault", tier=None, actor="test", settings=app.settings
    )
    app.reload()
    files["x.png"] = path.read_bytes()
    handled = await moderator.handle(message(f"lol {base}/x.png"))
    assert handled.plan.delete


async def test_unscannable_media_follows_the_community_policy(
    moderator: Moderator, media_server: tuple[str, dict[str, bytes]]
) -> None:
    """A broken file is let through by default, and held when the community fails closed."""
    base, files = media_server
    files["broken.jpg"] = encoded(picture(4), "JPEG")[:2000]
    ref = (MediaRef(f"{base}/broken.jpg", "attachment"),)
    assert not (await moderator.handle(message(media=ref))).plan.alert
    moderator.app.communities.set("discord:111", "unscannable", "hold", updated_by="test")
    held = await moderator.handle(message(mid="2", media=ref))
    assert held.plan.hide_preview and held.case is not None and held.case.tier == "unscannable"
    assert "truncated" in held.plan.reason


async def test_dry_run_community(moderator: Moderator) -> None:
    """In a dry-run community the case says what would have been done."""
    moderator.app.communities.set("discord:111", "dry_run", "true", updated_by="test")
    handled = await moderator.handle(message("clothoff.io"))
    assert handled.plan.dry_run and handled.case is not None and handled.case.dry_run
    assert handled.case.action.startswith("dry run")


async def test_refused_download_is_unscannable_not_an_error(moderator: Moderator) -> None:
    """A link to a server that does not exist gives a reason, and the scan goes on."""
    handled = await moderator.handle(
        message("clothoff.io", media=(MediaRef("http://127.0.0.1:9/none.png", "attachment"),))
    )
    assert handled.plan.delete
    assert handled.outcome.media[0].reason


async def test_held_media_is_sealed_in_the_vault(
    moderator: Moderator, media_server: tuple[str, dict[str, bytes]], tmp_path: Path
) -> None:
    """Media held for review goes to the encrypted vault; blocked media keeps hashes only."""
    from bot.review.vault import EvidenceVault

    app = moderator.app
    moderator.vault = EvidenceVault(app.db, b"k" * 32, app.settings)
    base, files = media_server
    files["broken.jpg"] = encoded(picture(4), "JPEG")[:2000]
    app.communities.set("discord:111", "unscannable", "hold", updated_by="test")
    held = await moderator.handle(message(media=(MediaRef(f"{base}/broken.jpg", "attachment"),)))
    assert held.case is not None
    stored = moderator.vault.for_case(held.case.id)
    assert len(stored) == 1 and stored[0].reason.startswith("held unscannable")
    blocked = await moderator.handle(message("clothoff.io", mid="2"))
    assert blocked.case is not None and moderator.vault.for_case(blocked.case.id) == []


async def test_community_can_switch_off_lookalikes_and_keywords(moderator: Moderator) -> None:
    """A community that turns look-alikes off is not held for them; blocks still apply."""
    assert (await moderator.handle(message("cl0thoff.io", mid="1"))).plan.hide_preview
    moderator.app.communities.set("discord:111", "lookalikes", "off", updated_by="test")
    moderator.app.communities.set("discord:111", "keywords", "off", updated_by="test")
    assert not (await moderator.handle(message("cl0thoff.io", mid="2"))).plan.alert
    assert not (await moderator.handle(message("try crushai", mid="3"))).plan.alert
    assert (await moderator.handle(message("clothoff.io", mid="4"))).plan.delete


async def test_one_channel_can_fail_closed(
    moderator: Moderator, media_server: tuple[str, dict[str, bytes]]
) -> None:
    """hold_channels holds unscannable media in those channels only."""
    base, files = media_server
    files["broken.jpg"] = encoded(picture(5), "JPEG")[:2000]
    ref = (MediaRef(f"{base}/broken.jpg", "attachment"),)
    moderator.app.communities.set("discord:111", "hold_channels", "333, 444", updated_by="test")
    assert (await moderator.handle(message(media=ref))).plan.hide_preview  # channel 333
    elsewhere = ScanContext(
        platform="discord", community="discord:111", channel_id="999", message_id="2",
        author_id="discord:7", author_name="t", media=ref,
    )  # fmt: skip
    assert not (await moderator.handle(elsewhere)).plan.alert


def test_links_to_image_hosts_are_media() -> None:
    """Links to picture hosts without a file extension are still fetched as pictures."""
    from bot.moderation import linked_media

    assert [r.url for r in linked_media("see https://imgur.com/AbC12x9")] == [
        "https://i.imgur.com/AbC12x9.jpg"
    ]
    assert linked_media("album https://imgur.com/a/AbC12 and https://example.com/page") == []
    assert len(linked_media("https://pbs.twimg.com/media/Fx1?format=jpg")) == 1


async def test_member_report_opens_a_case_and_seals_the_media(
    moderator: Moderator, media_server: tuple[str, dict[str, bytes]]
) -> None:
    """A report of a message nothing matched is still a review case, with its media sealed."""
    from bot.review.vault import EvidenceVault

    moderator.vault = EvidenceVault(moderator.app.db, b"k" * 32, moderator.app.settings)
    base, files = media_server
    files["new.png"] = encoded(picture(6))
    ctx = message("look at this", media=(MediaRef(f"{base}/new.png", "attachment"),))
    reported = await moderator.report(ctx, reporter="discord:9")
    assert reported.case is not None and reported.case.tier == "review" and reported.first_time
    stored = moderator.vault.for_case(reported.case.id)
    assert [e.reason for e in stored] == ["reported by discord:9"]
    again = await moderator.report(ctx, reporter="discord:10")
    assert not again.first_time and len(moderator.vault.for_case(reported.case.id)) == 1
    assert [e.action for e in moderator.app.audit.recent(10)].count("case.report") == 1
