"""Hashing speed: one 1 MP JPEG from bytes to every hash, and a 30-second 720p clip.

The baseline for images is a naive PDQ pipeline run beside ours: decode at full size, convert,
PDQ on the whole image (hashing.md measured about 30 ms). Ours decodes at reduced size
(`Image.draft`), hashes a 320x320 working copy, and computes the 8 dihedral PDQ variants,
pHash, MD5 and SHA-256.
"""

from __future__ import annotations

import io
import statistics
import time
from fractions import Fraction

import av
import numpy as np
import pdqhash
from PIL import Image

from benchmarks._table import print_table
from bot.media.hashing import hash_media
from bot.settings import MediaSettings

SEED = 7


def photo(width: int = 1152, height: int = 864, seed: int = SEED) -> bytes:
    """A photo-like 1 MP JPEG: smooth shapes plus grain, so the decoder does real work."""
    rng = np.random.default_rng(seed)
    base = rng.random((height // 16, width // 16, 3)) * 255
    image = Image.fromarray(base.astype("uint8")).resize((width, height), Image.BICUBIC)
    grain = rng.normal(0, 12, (height, width, 3))
    pixels = np.clip(np.asarray(image, dtype=np.float64) + grain, 0, 255).astype("uint8")
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90)
    return out.getvalue()


def clip(seconds: int = 30, fps: int = 30, size: tuple[int, int] = (1280, 720)) -> bytes:
    """An H.264 MP4 of moving shapes, encoded here (no fixture files)."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "28"}
        stream.time_base = Fraction(1, fps)
        rng = np.random.default_rng(SEED)
        background = (rng.random((size[1] // 40, size[0] // 40, 3)) * 255).astype("uint8")
        frame_base = np.asarray(Image.fromarray(background).resize(size, Image.BILINEAR))
        for i in range(seconds * fps):
            pixels = np.roll(frame_base, i * 4, axis=1)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def naive_pdq(data: bytes) -> str:
    """Full-size decode and PDQ of the whole image: the baseline."""
    with Image.open(io.BytesIO(data)) as image:
        pixels = np.asarray(image.convert("RGB"))
    bits, _quality = pdqhash.compute(pixels)
    return "".join(str(int(b)) for b in bits)


def _median_ms(fn, data: bytes, runs: int) -> float:  # type: ignore[no-untyped-def]
    fn(data)  # warm-up
    samples = []
    for _ in range(runs):
        start = time.process_time()
        fn(data)
        samples.append((time.process_time() - start) * 1000)
    return statistics.median(samples)


def main(quick: bool = False) -> None:
    settings = MediaSettings()
    jpeg = photo()
    runs = 15 if quick else 40
    ours = _median_ms(lambda d: hash_media(d, settings), jpeg, runs)
    naive = _median_ms(naive_pdq, jpeg, runs)
    rows = [
        (
            "1 MP JPEG, bytes to all hashes (CPU ms, median)",
            f"{ours:.1f} ms",
            f"{naive:.1f} ms",
            f"{ours / naive:.2f}",
            "< 8 ms",
        ),
    ]
    seconds = 5 if quick else 30
    video = clip(seconds)
    start = time.perf_counter()
    result = hash_media(video, settings)
    took = time.perf_counter() - start
    label = f"{seconds} s 720p H.264 clip, {len(result.frames)} frames hashed"
    rows.append((label, f"{took:.2f} s", "", "", "< 2 s for 30 s" if not quick else ""))
    print_table(
        "Media: hashing (baseline: full-size decode + PDQ of the whole image)",
        rows,
        ("figure", "Shield", "baseline", "ratio", "target"),
    )


if __name__ == "__main__":
    main()
