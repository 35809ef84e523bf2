"""Links to images in chat: fetched through the safe fetcher, hashed, matched against banks."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import numpy as np
import pytest
from aiohttp import web
from PIL import Image, ImageOps

from bot.app import App
from bot.media.banking import add_files
from bot.media.fetch import SafeFetcher
from bot.media.pool import HashPool
from bot.sandbox.twitch import text_fragment
from bot.settings import load_settings
from tests.platforms.twitch.conftest import DELETE, Start

pytestmark = pytest.mark.timeout(180)


def picture(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    small = (rng.random((30, 40, 3)) * 255).astype("uint8")
    return Image.fromarray(small).resize((640, 480), Image.BICUBIC)


def encoded(image: Image.Image, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


@pytest.fixture
async def files() -> AsyncIterator[tuple[str, dict[str, bytes]]]:
    """A local image host on 127.0.0.1 serving whatever a test puts in."""
    served: dict[str, bytes] = {}

    async def serve(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in served:
            raise web.HTTPNotFound()
        return web.Response(body=served[name], content_type="application/octet-stream")

    app = web.Application()
    app.router.add_get("/i/{name}", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/i", served
    await runner.cleanup()


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
    files: tuple[str, dict[str, bytes]],
    media: tuple[SafeFetcher, HashPool],
    tmp_path: Path,
) -> None:
    """A chat link to an edited copy of a banked image: deleted; an unrelated image is not."""
    base, served = files
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
    files: tuple[str, dict[str, bytes]],
    media: tuple[SafeFetcher, HashPool],
    tmp_path: Path,
) -> None:
    """A GIF posted through Twitch's picker arrives as a fragment with a URL: it is hashed too."""
    base, served = files
    original = picture(3)
    served["anim.gif"] = encoded(original, "GIF")
    fetcher, pool = media
    shield = await start(fetcher=fetcher, pool=pool, before=bank(tmp_path, original))
    gif = {"type": "gif", "text": "party", "cheermote": None, "emote": None, "mention": None,
           "gif": {"url": f"{base}/anim.gif"}}  # fmt: skip
    sent = await shield.twitch.chat_message(fragments=[text_fragment("look "), gif])
    delete = await shield.twitch.wait_for_request(*DELETE, timeout=60)
    assert delete.query["message_id"] == sent.message_id
