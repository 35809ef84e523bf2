"""Links to images in chat: fetched through the safe fetcher, hashed, matched against banks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from PIL import Image, ImageOps

from bot.app import App
from bot.media.banking import add_files
from bot.media.fetch import SafeFetcher
from bot.media.pool import HashPool
from bot.sandbox.twitch import text_fragment
from bot.settings import load_settings
from tests.images import encoded, picture
from tests.platforms.twitch.conftest import DELETE, Start

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
async def media() -> AsyncIterator[tuple[SafeFetcher, HashPool]]:
    """The safe fetcher (private addresses allowed, as `[fetch] allow_private_addresses`) and
    one hashing worker, built once like `shield run` does."""
    settings = load_settings(env={})
    fetch = msgspec.structs.replace(settings.fetch, allow_private_addresses=True)
    workers = msgspec.structs.replace(settings.media, workers=1)
    async with SafeFetcher(fetch) as fetcher, HashPool(workers) as pool:
        yield fetcher, pool


def bank(tmp_path: Path, image: Image.Image) -> object:
    """A set-up step: put `image` in a bank before the client starts."""
    path = tmp_path / "vault.png"
    image.save(path)

    def add(app: App) -> None:
        add_files(app.banks, app.audit, [path], bank="vault", tier=None, actor="test",
                  settings=app.settings)  # fmt: skip
        app.reload()

    return add


async def test_link_to_a_banked_image_is_deleted(
    start: Start,
    media_server: tuple[str, dict[str, bytes]],
    media: tuple[SafeFetcher, HashPool],
    tmp_path: Path,
) -> None:
    """A chat link to an edited copy of a banked image: deleted; an unrelated image is not."""
    base, served = media_server
    original = picture(1)
    served["copy.jpg"] = encoded(ImageOps.mirror(original).resize((320, 240)), "JPEG")
    served["other.png"] = encoded(picture(2))
    fetcher, pool = media
    shield = await start(fetcher=fetcher, pool=pool, before=bank(tmp_path, original))
    other = await shield.twitch.chat_message(text=f"my cat {base}/other.png")
    sent = await shield.twitch.chat_message(text=f"lol {base}/copy.jpg")
    delete = await shield.twitch.wait_for_request(*DELETE, timeout=60)
    assert delete.query["message_id"] == sent.message_id
    case = next(c for c in shield.cases if c.message_id == sent.message_id)
    assert case.tier == "block" and case.hashes and case.hashes[0]["source"] == "link"
    assert other.message_id not in [c.message_id for c in shield.cases]


async def test_gif_fragment_is_hashed(
    start: Start,
    media_server: tuple[str, dict[str, bytes]],
    media: tuple[SafeFetcher, HashPool],
    tmp_path: Path,
) -> None:
    """A GIF posted through Twitch's picker arrives as a fragment with a URL: it is hashed too."""
    base, served = media_server
    original = picture(3)
    served["anim.gif"] = encoded(original, "GIF")
    fetcher, pool = media
    shield = await start(fetcher=fetcher, pool=pool, before=bank(tmp_path, original))
    gif = {"type": "gif", "text": "party", "cheermote": None, "emote": None, "mention": None,
           "gif": {"url": f"{base}/anim.gif"}}  # fmt: skip
    sent = await shield.twitch.chat_message(fragments=[text_fragment("look "), gif])
    delete = await shield.twitch.wait_for_request(*DELETE, timeout=60)
    assert delete.query["message_id"] == sent.message_id
