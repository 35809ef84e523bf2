"""The hashing pool: work happens in other processes, and crashes and hangs cost one item only."""

from __future__ import annotations

import asyncio
import io
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from bot.media.hashing import hash_media
from bot.media.pool import HashPool, crash_worker, stall_worker
from bot.settings import MediaSettings


def picture(seed: int) -> bytes:
    """A small JPEG with a few seeded shapes."""
    image = Image.new("RGB", (320, 240), (seed * 40 % 256, 90, 160))
    draw = ImageDraw.Draw(image)
    for n in range(6):
        x, y = (seed * 53 + n * 71) % 280, (seed * 31 + n * 47) % 200
        draw.ellipse([x, y, x + 60, y + 50], fill=((n * 90) % 256, (seed * 70) % 256, n * 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


SETTINGS = MediaSettings(workers=2, hash_timeout_seconds=2.0)


@pytest.fixture
async def pool() -> AsyncIterator[HashPool]:
    async with HashPool(SETTINGS) as running:
        await running.start()
        yield running


async def test_hashing_happens_in_another_process(pool: HashPool) -> None:
    """Workers are separate processes, and give the same result as hashing in-process."""
    assert os.getpid() not in await asyncio.gather(*(pool.run(os.getpid) for _ in range(4)))
    data = picture(1)
    assert await pool.hash(data) == hash_media(data, SETTINGS)


async def test_crashed_worker_is_replaced_and_the_item_unscannable(pool: HashPool) -> None:
    """A worker that dies mid-item yields 'the decoder crashed'; the next item succeeds."""
    before = pool.pids()
    result = await pool.hash(picture(2), task=crash_worker)
    assert result.unscannable and result.reason == "the decoder crashed"
    assert result.md5 and result.sha256  # exact hashes are still known
    after = await pool.hash(picture(3))
    assert not after.unscannable and after.frames
    assert set(pool.pids()).isdisjoint(before)


async def test_timeout_is_unscannable_and_the_pool_recovers(pool: HashPool) -> None:
    """An item that hangs is cut off at hash_timeout_seconds; the next item succeeds."""
    started = time.monotonic()
    result = await pool.hash(picture(4), task=stall_worker)
    assert time.monotonic() - started < SETTINGS.hash_timeout_seconds + 2
    assert result.unscannable and result.reason == "took longer than 2 s"
    assert not (await pool.hash(picture(5))).unscannable


async def test_event_loop_keeps_running_while_hashing(pool: HashPool) -> None:
    """While a worker is stuck, the event loop still serves other work."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    await pool.hash(picture(6), task=stall_worker)
    ticking.cancel()
    assert ticks >= 15  # 2 s of stall at one tick per 50 ms: about 40 if never blocked


async def test_innocent_items_survive_a_crash_beside_them(pool: HashPool) -> None:
    """Items sharing the pool with a crashing one are retried on the new pool and succeed."""
    good = [picture(n) for n in range(7, 11)]
    results = await asyncio.gather(
        pool.hash(good[0]),
        pool.hash(good[1]),
        pool.hash(b"ignored", task=crash_worker),
        pool.hash(good[2]),
        pool.hash(good[3]),
    )
    assert [r.unscannable for r in results] == [False, False, True, False, False]
    assert results[2].reason == "the decoder crashed"


async def test_hostile_file_is_unscannable_through_the_pool(pool: HashPool) -> None:
    """The worker's Pillow pixel limit follows max_pixels: a bomb is refused, not decoded."""
    image = Image.new("L", (7000, 7000))  # 49 MP, over the 40 MP default
    out = io.BytesIO()
    image.save(out, "PNG")
    result = await pool.hash(out.getvalue())
    assert result.unscannable
    assert result.reason and result.reason.startswith("decompression bomb: 49000000 pixels")


def test_sync_api_for_the_command_line(tmp_path: Path) -> None:
    """hash_sync and hash_file work without an event loop, with the same recovery."""
    path = tmp_path / "picture.jpg"
    path.write_bytes(picture(12))
    with HashPool(MediaSettings(workers=1, hash_timeout_seconds=3.0)) as pool:
        assert not pool.hash_file(path).unscannable
        crashed = pool.hash_sync(picture(13), task=crash_worker)
        assert crashed.unscannable and crashed.reason == "the decoder crashed"
        assert not pool.hash_sync(picture(14)).unscannable
