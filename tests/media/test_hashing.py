"""Decoding and hashing: edited copies match, distinct pictures do not, hostile files are refused.

Every picture and video is generated here (seeded gradients and shapes): no binary fixtures.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import statistics
import time
import zlib
from collections.abc import Callable
from fractions import Fraction

import av
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageOps

from bot.core.signals import PdqSignal, PhashSignal
from bot.media.hashing import DIHEDRAL_NAMES, MediaHashes, hash_media, trim_box
from bot.settings import MediaSettings

SETTINGS = MediaSettings()
MATCH = 31  # PDQ distance at or below which two pictures are the same (hashing.md)


def scene(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A photo-like test picture: a coloured gradient under random ellipses, boxes and triangles."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * x / width + np.sin(angle) * y / height
    ramp = (ramp - ramp.min()) / (np.ptp(ramp) + 1e-9)
    start, end = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    image = Image.fromarray((start + (end - start) * ramp[..., None]).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.integers(8, 20)):
        x0, y0 = rng.uniform(-0.1, 1, 2) * size
        w, h = rng.uniform(0.05, 0.5, 2) * size
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = rng.integers(3)
        if shape == 0:
            draw.ellipse([x0, y0, x0 + w, y0 + h], fill=colour)
        elif shape == 1:
            draw.rectangle([x0, y0, x0 + w, y0 + h], fill=colour)
        else:
            draw.polygon([tuple(rng.uniform(0, 1, 2) * size) for _ in range(3)], fill=colour)
    return image


def encode(image: Image.Image, fmt: str = "JPEG", **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def hashed(data: bytes, media: MediaSettings = SETTINGS) -> MediaHashes:
    result = hash_media(data, media)
    assert not result.unscannable, result.reason
    return result


def best_distance(query: MediaHashes, bank: MediaHashes, variants: tuple[str, ...] = ()) -> int:
    """The matcher's rule: any dihedral variant of any query frame against the bank's raw PDQ."""
    return min(
        PdqSignal.distance(q, b.pdq)
        for b in bank.frames
        if b.variant == "raw"
        for f in query.frames
        if not variants or f.variant in variants
        for q in f.dihedral
    )


EDITS: dict[str, Callable[[Image.Image], bytes]] = {
    "jpeg q30": lambda im: encode(im, quality=30),
    "jpeg q60": lambda im: encode(im, quality=60),
    "jpeg q90": lambda im: encode(im, quality=90),
    "webp": lambda im: encode(im, "WEBP", quality=70),
    "half size": lambda im: encode(im.resize((im.width // 2, im.height // 2)), quality=85),
    "double size": lambda im: encode(im.resize((im.width * 2, im.height * 2)), quality=85),
    "mirrored": lambda im: encode(ImageOps.mirror(im), quality=85),
    "flipped": lambda im: encode(ImageOps.flip(im), "PNG"),
    "rotated 90": lambda im: encode(im.transpose(Image.Transpose.ROTATE_90), quality=85),
    "rotated 270": lambda im: encode(im.transpose(Image.Transpose.ROTATE_270), "WEBP"),
}


@pytest.mark.parametrize("edit", EDITS)
def test_edited_copies_match(edit: str) -> None:
    """Re-encoded, resized, mirrored and rotated copies stay within PDQ 31 via dihedral queries."""
    for seed in range(8):
        original = scene(seed, (640, 480) if seed % 2 else (480, 600))
        bank = hashed(encode(original, "PNG"))
        query = hashed(EDITS[edit](original))
        assert best_distance(query, bank) <= MATCH, (edit, seed)


def test_flips_need_the_dihedral_variants() -> None:
    """A plain PDQ lookup misses a mirrored copy; that is why queries carry 8 variants."""
    original = scene(3)
    bank, query = hashed(encode(original, "PNG")), hashed(encode(ImageOps.mirror(original), "PNG"))
    assert PdqSignal.distance(query.frames[0].pdq, bank.frames[0].pdq) > MATCH
    assert best_distance(query, bank) <= 8
    assert query.frames[0].dihedral[DIHEDRAL_NAMES.index("original")] == query.frames[0].pdq


@pytest.mark.parametrize(
    ("name", "transpose"),
    [
        ("rotated 90° clockwise", Image.Transpose.ROTATE_270),
        ("rotated 180°", Image.Transpose.ROTATE_180),
        ("rotated 90° anticlockwise", Image.Transpose.ROTATE_90),
        ("flipped upside down", Image.Transpose.FLIP_TOP_BOTTOM),
        ("mirrored", Image.Transpose.FLIP_LEFT_RIGHT),
        ("transposed", Image.Transpose.TRANSPOSE),
        ("anti-transposed", Image.Transpose.TRANSVERSE),
    ],
)
def test_dihedral_names_say_how_the_copy_was_turned(name: str, transpose: Image.Transpose) -> None:
    """The variant that matches a turned copy is the one named after that turn."""
    original = scene(4)
    bank = hashed(encode(original, "PNG")).frames[0]
    query = hashed(encode(original.transpose(transpose), "PNG")).frames[0]
    distances = [PdqSignal.distance(h, bank.pdq) for h in query.dihedral]
    assert DIHEDRAL_NAMES[distances.index(min(distances))] == name


@pytest.mark.parametrize(
    ("border", "fill"),
    [
        ((0, 80), (0, 0, 0)),  # letterbox bars
        ((120, 0), (0, 0, 0)),  # pillarbox bars
        ((48, 48), (255, 255, 255)),  # white frame
        ((30, 60, 30, 10), (40, 90, 200)),  # uneven coloured border
    ],
)
def test_bordered_copy_matches_through_the_trimmed_variant(
    border: tuple[int, ...], fill: tuple[int, int, int]
) -> None:
    """A uniform border is cut off before hashing; the trimmed picture matches the original."""
    for seed in range(4):
        original = scene(seed + 20)
        bank = hashed(encode(original, "PNG"))
        query = hashed(encode(ImageOps.expand(original, border=border, fill=fill), quality=80))
        assert [f.variant for f in query.frames] == ["raw", "trimmed"]
        assert best_distance(query, bank, ("trimmed",)) <= MATCH, (border, seed)


def test_textured_pictures_are_not_trimmed() -> None:
    """A picture with texture up to its edges gets only the raw variant.

    (A flat band of colour that ends at a sharp edge looks exactly like a border, and is trimmed:
    the extra variant costs a few lookups and the raw hash still matches.)
    """
    rng = np.random.default_rng(0)
    for seed in range(10):
        grain = np.repeat(np.repeat(rng.normal(0, 20, (60, 80, 3)), 8, axis=0), 8, axis=1)
        pixels = np.clip(np.asarray(scene(seed), dtype=np.float32) + grain, 0, 255)
        textured = Image.fromarray(pixels.astype(np.uint8))
        assert [f.variant for f in hashed(encode(textured)).frames] == ["raw"]
    assert trim_box(Image.new("RGB", (100, 100), "white")) is None  # all border: nothing left


def test_distinct_pictures_never_match() -> None:
    """Thousands of pairs of different generated pictures all stay far beyond PDQ 31."""
    banks = [
        hashed(encode(scene(1000 + i, (320, 240)), quality=85)) for i in range(80)
    ]  # 3160 pairs
    closest = min(best_distance(banks[i], banks[j]) for i in range(len(banks)) for j in range(i))
    assert closest > MATCH + 20


def test_hashes_are_canonical_hex() -> None:
    """PDQ, pHash, MD5 and SHA-256 come out as lowercase hex that validates to itself."""
    data = encode(scene(5))
    result = hashed(data)
    frame = result.frames[0]
    assert PdqSignal.validate(frame.pdq) == frame.pdq
    assert PhashSignal.validate(frame.phash) == frame.phash
    assert len(frame.dihedral) == 8
    assert all(PdqSignal.validate(h) == h for h in frame.dihedral)
    assert result.md5 == hashlib.md5(data).hexdigest()
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert frame.pdq_quality >= 50
    assert (result.kind, result.width, result.height, result.size) == ("jpeg", 640, 480, len(data))


def test_same_bytes_same_hashes_and_serialisable() -> None:
    """Hashing is deterministic, and results survive JSON and pickle unchanged."""
    data = encode(scene(6), "WEBP")
    result = hashed(data)
    assert hashed(data) == result
    assert MediaHashes.from_dict(json.loads(json.dumps(result.to_dict()))) == result
    assert pickle.loads(pickle.dumps(result)) == result


def test_exif_rotated_jpeg_hashes_like_the_upright_one() -> None:
    """A camera JPEG stored sideways with Orientation=6 hashes as the picture people see."""
    upright = scene(7)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    sideways = encode(upright.transpose(Image.Transpose.ROTATE_90), quality=90, exif=exif)
    plain = hashed(encode(upright, quality=90)).frames[0]
    rotated = hashed(sideways)
    assert (rotated.width, rotated.height) == (480, 640)  # as stored
    assert PdqSignal.distance(rotated.frames[0].pdq, plain.pdq) <= 8  # no dihedral help needed


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("png rgba", lambda im: encode(im.convert("RGBA"), "PNG")),
        ("png palette", lambda im: encode(im.convert("P", palette=Image.Palette.ADAPTIVE), "PNG")),
        ("png 16-bit grey", lambda im: encode(im.convert("I;16"), "PNG")),
        ("jpeg grey", lambda im: encode(im.convert("L"))),
        ("jpeg cmyk", lambda im: encode(im.convert("CMYK"))),
        ("gif", lambda im: encode(im, "GIF")),
        ("webp lossless", lambda im: encode(im, "WEBP", lossless=True)),
        ("avif", lambda im: encode(im, "AVIF", quality=70)),
    ],
)
def test_allowed_formats_decode_and_match(name: str, make: Callable[[Image.Image], bytes]) -> None:
    """Every allowed still-image format decodes to a hash that matches the original."""
    original = scene(8)
    if "grey" in name or "16-bit" in name:
        original = original.convert("L").convert("RGB")
    bank = hashed(encode(original, "PNG"))
    assert best_distance(hashed(make(original)), bank) <= MATCH


def test_heic_without_pillow_heif_is_unscannable() -> None:
    """HEIC needs the optional pillow-heif package; without it the file is refused, not guessed."""
    try:
        import pillow_heif  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("pillow-heif is installed")
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64)
    result = hash_media(heic, SETTINGS)
    assert result.unscannable and result.kind == "heic"
    assert "pillow-heif" in (result.reason or "")


def test_heic_with_pillow_heif_matches() -> None:
    """With pillow-heif installed, an iPhone-style HEIC decodes and matches the original."""
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()  # for saving the test file; decoding registers its own
    original = scene(9)
    result = hashed(encode(original, "HEIF", quality=80))
    assert result.kind == "heic"
    assert best_distance(result, hashed(encode(original, "PNG"))) <= MATCH


def animation(fmt: str, count: int, size: tuple[int, int] = (96, 72)) -> bytes:
    frames = [scene(i, size) for i in range(count)]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=50, loop=0)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG", "AVIF"])
def test_animation_frames_are_capped_and_timed(fmt: str) -> None:
    """Animated GIF, WebP, APNG and AVIF give up to max_frames frames, spread out, with times."""
    media = MediaSettings(max_frames=5)
    result = hashed(animation(fmt, 20), media)
    raw = [f for f in result.frames if f.variant == "raw"]
    assert [f.index for f in raw] == [0, 5, 10, 14, 19]
    assert [f.timestamp for f in raw] == pytest.approx([0.0, 0.25, 0.5, 0.7, 0.95])
    assert result.frame_count == 20
    assert result.duration == pytest.approx(1.0)
    assert result.notes == ("hashed 5 of 20 frames",)
    assert len({f.pdq for f in raw}) == 5  # each sampled frame is its own picture


def test_gif_with_thousands_of_frames_is_capped_and_fast() -> None:
    """A 5000-frame GIF is walked quickly and only max_frames frames are hashed."""
    frames = [Image.new("P", (32, 32), i % 2) for i in range(5000)]
    for frame in frames:
        frame.putpalette([0, 0, 0, 255, 255, 255])
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=20)
    started = time.perf_counter()
    result = hashed(data)
    assert time.perf_counter() - started < 5
    assert result.frame_count == 5000
    assert len(result.frames) == SETTINGS.max_frames


def test_apng_claiming_more_frames_than_it_has() -> None:
    """An APNG whose acTL chunk claims 1000 frames is hashed from the frames it really has."""
    data = bytearray(animation("PNG", 5))
    at = data.index(b"acTL")
    data[at + 4 : at + 8] = (1000).to_bytes(4, "big")
    data[at + 12 : at + 16] = zlib.crc32(data[at : at + 12]).to_bytes(4, "big")
    result = hashed(bytes(data), MediaSettings(max_frames=4))
    assert result.frames and result.frame_count == 1000
    assert result.notes == ("the file ends at frame 5", "hashed 1 of 1000 frames")


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb's opening)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    idat = zlib.compress(bytes(1 + 3 * min(width, 1000)) * 4)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


JPEG = encode(scene(10), quality=85)
RNG = np.random.default_rng(11)

HOSTILE: dict[str, tuple[bytes, str]] = {
    "png bomb 100000x100000": (
        png_claiming(100_000, 100_000),
        "decompression bomb: 10000000000 pixels",
    ),
    "png over max_pixels": (png_claiming(8000, 8000), "decompression bomb: 64000000 pixels"),
    "truncated jpeg": (JPEG[: len(JPEG) // 2], "truncated image"),
    "pdf": (
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nendobj\n",
        "not an allowed format (looks like PDF)",
    ),
    "html": (
        b"<!DOCTYPE html><html><body>hi</body></html>",
        "not an allowed format (looks like HTML)",
    ),
    "eps": (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "not an allowed format"),
    "eps binary": (b"\xc5\xd0\xd3\xc6" + bytes(60), "not an allowed format"),
    "zero bytes": (b"", "not an allowed format (looks like an empty file)"),
    "random bytes": (RNG.bytes(4096), "not an allowed format"),
    "jpeg magic then noise": (b"\xff\xd8\xff\xe0" + RNG.bytes(4096), ""),
    "png header only": (png_claiming(64, 64)[:33], ""),
    "gif magic then noise": (b"GIF89a" + RNG.bytes(512), ""),
    "webp magic then noise": (b"RIFF\x00\x10\x00\x00WEBPVP8 " + RNG.bytes(512), ""),
    "mp4 magic then noise": (
        b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + RNG.bytes(4096),
        "",
    ),
    "webm magic then noise": (b"\x1a\x45\xdf\xa3\x9fB\x82\x84webm" + RNG.bytes(4096), ""),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_inputs_are_unscannable_with_a_reason(name: str) -> None:
    """Bombs, truncation, wrong magic and noise give a result with a reason, never an exception."""
    data, reason = HOSTILE[name]
    started = time.perf_counter()
    result = hash_media(data, SETTINGS)
    assert time.perf_counter() - started < 5
    assert result.unscannable, name
    assert result.reason and result.reason.startswith(reason), result.reason
    assert result.frames == ()
    assert result.md5 == hashlib.md5(data).hexdigest()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([JPEG[:600], b"\x89PNG\r\n\x1a\n", b"GIF89a", b"\x1a\x45\xdf\xa3"]),
    st.binary(max_size=2048),
)
def test_garbage_after_a_magic_never_raises(prefix: bytes, tail: bytes) -> None:
    """Whatever follows a valid magic, hash_media returns a result."""
    assert isinstance(hash_media(prefix + tail, SETTINGS), MediaHashes)


# --- video ------------------------------------------------------------------------------------


def video(
    fmt: str = "mp4",
    codec: str = "libx264",
    seconds: int = 3,
    fps: int = 10,
    size: tuple[int, int] = (192, 144),
    scenes: list[Image.Image] | None = None,
) -> bytes:
    """A clip that shows a different generated scene each second."""
    pictures = scenes or [scene(500 + s, size) for s in range(seconds)]
    out = io.BytesIO()
    with av.open(out, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for n in range(seconds * fps):
            picture = pictures[n // fps].resize(size)
            frame = av.VideoFrame.from_ndarray(np.asarray(picture), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()


def reencode(data: bytes, fmt: str, codec: str, size: tuple[int, int]) -> bytes:
    """Decode a clip and encode it again, smaller and with another codec."""
    with av.open(io.BytesIO(data), "r") as source:
        pictures = [
            Image.fromarray(frame.to_ndarray(format="rgb24")) for frame in source.decode(video=0)
        ]
    fps = 10
    seconds = len(pictures) // fps
    scenes = [pictures[s * fps] for s in range(seconds)]
    return video(fmt, codec, seconds, fps, size, scenes)


@pytest.mark.parametrize(
    ("fmt", "codec", "kind"), [("mp4", "libx264", "mp4"), ("webm", "libvpx", "webm")]
)
def test_video_frames_are_sampled_with_timestamps(fmt: str, codec: str, kind: str) -> None:
    """A 3 s clip gives one PDQ hash per second, each with its index and time."""
    result = hashed(video(fmt, codec))
    raw = [f for f in result.frames if f.variant == "raw"]
    assert result.kind == kind
    assert [f.timestamp for f in raw] == pytest.approx([0.0, 1.0, 2.0], abs=0.02)
    assert [f.index for f in raw] == [0, 10, 20]
    assert result.duration == pytest.approx(3.0, abs=0.1)
    assert (result.width, result.height) == (192, 144)


def test_reencoded_video_matches_frame_by_frame() -> None:
    """An H.264 MP4 re-encoded to smaller VP8 WebM matches at each sampled second."""
    original = video(seconds=3, size=(320, 240))
    copy = reencode(original, "webm", "libvpx", (240, 180))
    bank = [f for f in hashed(original).frames if f.variant == "raw"]
    query = [f for f in hashed(copy).frames if f.variant == "raw"]
    assert len(bank) == len(query) == 3
    for b, q in zip(bank, query, strict=True):
        assert q.timestamp == pytest.approx(b.timestamp, abs=0.02)
        assert min(PdqSignal.distance(h, b.pdq) for h in q.dihedral) <= MATCH
    # ...and different seconds of the clip are different pictures.
    assert PdqSignal.distance(bank[0].pdq, query[2].pdq) > MATCH


def test_video_sampling_follows_the_settings() -> None:
    """frames_per_second sets the spacing; video_max_frames spreads the samples over the clip."""
    clip = video(seconds=4)
    two_per_second = hashed(clip, MediaSettings(video_frames_per_second=2.0)).frames
    assert [f.timestamp for f in two_per_second if f.variant == "raw"] == pytest.approx(
        [0.5 * i for i in range(8)], abs=0.02
    )
    capped = hashed(clip, MediaSettings(video_max_frames=2)).frames
    assert [f.timestamp for f in capped if f.variant == "raw"] == pytest.approx([0, 2], abs=0.02)


def test_phone_video_rotation_is_applied() -> None:
    """A clip whose track matrix says "turn 90 degrees clockwise" hashes as it is shown."""
    clip = bytearray(video(seconds=1))
    matrix = clip.index(b"tkhd") + 4 + 40  # version 0 tkhd: the 3x3 matrix follows 40 bytes
    values = (0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)  # 16.16 and 2.30 fixed point
    clip[matrix : matrix + 36] = b"".join(v.to_bytes(4, "big", signed=True) for v in values)
    shown = scene(500, (192, 144)).transpose(Image.Transpose.ROTATE_270)
    turned = hashed(bytes(clip)).frames[0]
    assert PdqSignal.distance(turned.pdq, hashed(encode(shown, "PNG")).frames[0].pdq) <= 12


def long_video(fmt: str, codec: str) -> bytes:
    """Four frames whose timestamps span two hours: a small file claiming a huge duration."""
    out = io.BytesIO()
    with av.open(out, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=1)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1)
        for n, pts in enumerate((0, 1800, 3600, 7200)):
            frame = av.VideoFrame.from_ndarray(np.asarray(scene(n, (64, 64))), format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 1)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()


@pytest.mark.parametrize(("fmt", "codec"), [("mp4", "libx264"), ("webm", "libvpx")])
def test_video_claiming_a_huge_duration_is_unscannable(fmt: str, codec: str) -> None:
    """A clip longer than video_max_seconds is refused before any frame is decoded."""
    result = hash_media(long_video(fmt, codec), SETTINGS)
    assert result.unscannable
    assert (result.reason or "").startswith("video longer than 900 s")


def test_video_over_the_pixel_cap_is_unscannable() -> None:
    """Video frame size is checked against max_pixels from the stream header."""
    result = hash_media(video(seconds=1, size=(192, 144)), MediaSettings(max_pixels=10_000))
    assert result.unscannable and (result.reason or "").startswith("decompression bomb: 27648")


def test_truncated_video_is_unscannable_or_partial_but_never_raises() -> None:
    """Cutting a clip short never raises: either the frames before the cut, or a reason."""
    clip = video(seconds=3)
    for cut in (64, len(clip) // 3, len(clip) - 100):
        result = hash_media(clip[:cut], SETTINGS)
        assert result.unscannable == (not result.frames)
        assert not result.unscannable or result.reason


# --- speed ------------------------------------------------------------------------------------


def test_speed_one_megapixel_jpeg(capsys: pytest.CaptureFixture[str]) -> None:
    """Measure (not assert) bytes-to-all-hashes time for a 1 MP JPEG on one core."""
    data = encode(scene(12, (1152, 864)), quality=85)
    hashed(data)  # warm-up
    wall, cpu = [], []
    for _ in range(40):
        started, started_cpu = time.perf_counter(), time.process_time()
        hash_media(data, SETTINGS)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    with capsys.disabled():
        print(
            f"\n1 MP JPEG, bytes to all hashes: {statistics.median(cpu) * 1000:.1f} ms CPU, "
            f"{statistics.median(wall) * 1000:.1f} ms wall (medians of 40)"
        )
