"""Hashes of one media file: PDQ (with its 8 dihedral variants), pHash, MD5 and SHA-256.

`hash_media` is synchronous CPU work meant for a worker process (bot/media/pool.py). Bank images
and query images go through exactly this pipeline (decode at reduced size, then a fixed working
size), because PDQ implementations and resizers drift by several bits. It never raises: a file
it cannot scan gives `MediaHashes(unscannable=True, reason=...)`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Final

import av
import imagehash
import numpy as np
import pdqhash
from PIL import Image

from bot.core.sniff import sniff
from bot.media.decode import Frame, MediaInfo, UnscannableError, decode
from bot.settings import MediaSettings

log = logging.getLogger(__name__)

# PDQ and pHash see every picture squashed to this square (both ignore aspect ratio anyway).
# 320 = 5 x 64 gives PDQ's Jarosz filter an odd window (3) and centred decimation, so a flipped
# or rotated copy hashes exactly to one of the dihedral variants; 256 and 512 drift 10-40 bits.
WORKING_SIZE: Final = 320  # px
# pdqhash.compute_dihedral's 8 hashes, named for the copy each one finds: dihedral[1] is the hash
# of the query turned 90 degrees anticlockwise, so it matches a copy that was turned clockwise.
DIHEDRAL_NAMES: Final = (
    "original",
    "rotated 90° clockwise",
    "rotated 180°",
    "rotated 90° anticlockwise",
    "flipped upside down",
    "mirrored",
    "transposed",
    "anti-transposed",
)

# Border trimming: a line belongs to a border when nearly all its pixels match the edge colour.
TRIM_TOLERANCE: Final = 24  # levels of 255 per channel; absorbs JPEG noise near the border
TRIM_LINE_SHARE: Final = 0.98  # share of a line's pixels that must match the border colour
TRIM_DRIFT: Final = 4  # levels of 255: a line whose mean drifts further is a gradient
TRIM_SCAN_SIZE: Final = 160  # px: borders are searched on a reduction about this big
TRIM_EDGE_LINES: Final = 5  # scan lines past the border searched for the edge (JPEG blurs it)
TRIM_EDGE_SHARE: Final = 0.05  # share of such a line that must clearly differ from the border
TRIM_EDGE_CONTRAST: Final = 12  # levels of 255: "clearly differ", well beyond a gradient's drift
TRIM_MIN_SHARE: Final = 0.02  # of the width or height: smaller trims are JPEG edge noise
TRIM_KEEP_SHARE: Final = 0.2  # of each side: trimming more leaves a sliver, not a picture
TRIM_MIN_SIDE: Final = 16  # px: a trimmed picture smaller than this is not worth hashing


@dataclass(frozen=True, slots=True)
class FrameHash:
    """The hashes of one picture: a still image, one frame, or its border-trimmed version."""

    pdq: str  # 64 lowercase hex digits
    pdq_quality: int  # 0-100; below matching.pdq_min_quality the hash is too flat to trust
    phash: str  # 16 lowercase hex digits (imagehash.phash, hash_size=8)
    dihedral: tuple[str, ...]  # the 8 PDQ hashes in DIHEDRAL_NAMES order; dihedral[0] == pdq
    variant: str = "raw"  # "raw", or "trimmed" when a uniform border was cut off first
    index: int = 0  # frame number in the file
    timestamp: float | None = None  # seconds from the start, for video and animations


@dataclass(frozen=True, slots=True)
class MediaHashes:
    """Everything Shield keeps about a media file: hashes and facts, never the pixels."""

    kind: str | None  # jpeg, png, gif, webp, avif, heic, mp4, mov, webm; None if not allowed
    md5: str
    sha256: str
    size: int  # bytes
    frames: tuple[FrameHash, ...] = ()
    unscannable: bool = False
    reason: str | None = None  # why it could not be scanned, for a moderator
    width: int | None = None  # px, as stored
    height: int | None = None
    frame_count: int | None = None  # frames in the file (before sampling)
    duration: float | None = None  # seconds, for video and animations
    notes: tuple[str, ...] = field(default=())  # e.g. "sampled the first 400 of 9000 frames"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only (lists, not tuples), for logs, the CLI and storage."""
        out = asdict(self)
        out["frames"] = [{**f, "dihedral": list(f["dihedral"])} for f in out["frames"]]
        out["notes"] = list(self.notes)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaHashes:
        """The inverse of to_dict."""
        frames = tuple(
            FrameHash(**{**f, "dihedral": tuple(f["dihedral"])}) for f in data.get("frames", ())
        )
        return cls(**{**data, "frames": frames, "notes": tuple(data.get("notes", ()))})

    def pdq_queries(self, min_quality: int) -> set[str]:
        """Every PDQ hash worth looking up: all dihedral variants of frames of enough quality."""
        return {h for f in self.frames if f.pdq_quality >= min_quality for h in f.dihedral}


def hash_media(data: bytes, settings: MediaSettings) -> MediaHashes:
    """Decode and hash `data` under the caps in `settings`; never raises, never keeps pixels."""
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    sha256 = hashlib.sha256(data).hexdigest()
    frames: list[FrameHash] = []

    def on_frame(frame: Frame) -> None:
        frames.extend(hash_frame(frame))

    kind: str | None = None
    try:
        with warnings.catch_warnings():
            # Local to this call: other warnings from hostile files are noise; bombs are errors.
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            kind, info = decode(data, settings, on_frame)
    except Exception as exc:  # a hostile file may break any decoder in any way: report, not raise
        if not isinstance(exc, _EXPECTED):
            log.warning("unexpected error while decoding media", exc_info=exc)  # maybe our bug
        return MediaHashes(
            kind=sniff(data),
            md5=md5,
            sha256=sha256,
            size=len(data),
            unscannable=True,
            reason=explain(exc),
        )
    return MediaHashes(
        kind=kind,
        md5=md5,
        sha256=sha256,
        size=len(data),
        frames=tuple(frames),
        width=info.width,
        height=info.height,
        frame_count=info.frame_count,
        duration=info.duration,
        notes=_notes(info, frames),
    )


def hash_frame(frame: Frame) -> list[FrameHash]:
    """Hashes of the frame, plus of its border-trimmed copy when it has a uniform border."""
    raw = hash_picture(frame.image, variant="raw", index=frame.index, timestamp=frame.timestamp)
    box = trim_box(frame.image)
    if box is None:
        return [raw]
    trimmed = frame.image.crop(box)
    return [raw, hash_picture(trimmed, "trimmed", frame.index, frame.timestamp)]


def hash_picture(
    image: Image.Image, variant: str = "raw", index: int = 0, timestamp: float | None = None
) -> FrameHash:
    """PDQ (8 dihedral variants) and pHash of an RGB image, resized to the working size first."""
    working = to_working_size(image)
    hashes, quality = pdqhash.compute_dihedral(np.asarray(working))
    dihedral = tuple(pdq_hex(h) for h in hashes)
    return FrameHash(
        pdq=dihedral[0],
        pdq_quality=int(quality),
        phash=str(imagehash.phash(working)),
        dihedral=dihedral,
        variant=variant,
        index=index,
        timestamp=timestamp,
    )


def to_working_size(image: Image.Image) -> Image.Image:
    """The image resized to WORKING_SIZE x WORKING_SIZE, the one geometry every hash sees."""
    size = (WORKING_SIZE, WORKING_SIZE)
    if image.size == size:
        return image
    # BOX averages when shrinking (fast, no aliasing); BILINEAR when a small image grows.
    shrinking = image.width * image.height > WORKING_SIZE * WORKING_SIZE
    return image.resize(size, Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR)


def pdq_hex(bits: np.ndarray) -> str:
    """pdqhash's bit vector (most significant bit first) as the standard 64-digit hex string."""
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def trim_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    """The box inside a uniform border (letterbox, pillarbox, frame), or None if there is none."""
    # Search a small integer reduction: fast, JPEG noise averaged away, about 1% precision.
    factor = max(1, max(image.size) // TRIM_SCAN_SIZE)
    thumb = image.reduce(factor) if factor > 1 else image
    rows = np.asarray(thumb, dtype=np.int16)
    columns = np.ascontiguousarray(rows.transpose(1, 0, 2))  # reductions run faster contiguous
    height, width = rows.shape[:2]
    top, bottom = _border_lines(rows), _border_lines(rows[::-1])
    left, right = _border_lines(columns), _border_lines(columns[::-1])
    kept_w, kept_h = width - left - right, height - top - bottom
    if left + right < TRIM_MIN_SHARE * width and top + bottom < TRIM_MIN_SHARE * height:
        return None
    if kept_w < TRIM_KEEP_SHARE * width or kept_h < TRIM_KEEP_SHARE * height:
        return None
    box = (
        left * factor,
        top * factor,
        min(image.width, (width - right) * factor),
        min(image.height, (height - bottom) * factor),
    )
    return box if min(box[2] - box[0], box[3] - box[1]) >= TRIM_MIN_SIDE else None


def _border_lines(pixels: np.ndarray) -> int:
    """How many leading rows of `pixels` (rows x columns x RGB) are a flat border: 0 if none."""
    colour = np.median(pixels[0], axis=0).astype(np.int16)
    if not _is_border(pixels[:1], colour)[0]:
        return 0  # the common case, a photo to the edge: one line examined
    limit = int(pixels.shape[0] * (1 - TRIM_KEEP_SHARE))
    count, step = 1, 8  # borders are usually thin: look a few lines in, then twice as far
    while True:
        if count >= limit:
            return 0  # flat far into the picture: a plain background, not a border
        border = _is_border(pixels[count : min(limit, count + step)], colour)
        if not border.all():
            count += int(np.argmin(border))
            break
        count, step = count + len(border), step * 2
    # A border ends at an edge; a gentle gradient drifts out of tolerance without one.
    after = np.abs(pixels[count : count + TRIM_EDGE_LINES] - colour).max(axis=2)
    return count if (after > TRIM_EDGE_CONTRAST).mean(axis=1).max() >= TRIM_EDGE_SHARE else 0


def _is_border(lines: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """For each line: are nearly all its pixels, and its mean, the border colour?"""
    close = np.abs(lines - colour).max(axis=2) <= TRIM_TOLERANCE
    drift = np.abs(lines.mean(axis=1) - colour).max(axis=1)
    border: np.ndarray = (close.mean(axis=1) >= TRIM_LINE_SHARE) & (drift <= TRIM_DRIFT)
    return border


_PIXELS: Final = re.compile(r"\((\d+) pixels\)")
# What decoders raise on bad input; anything else is logged in case it is a bug of ours.
_EXPECTED: Final = (
    UnscannableError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
    av.FFmpegError,
    MemoryError,
    EOFError,
    IndexError,  # Pillow's GIF reader on a truncated file
    OSError,
    RuntimeError,  # libavif
    SyntaxError,
    ValueError,
)


def explain(exc: BaseException) -> str:
    """A moderator-readable reason for a decoding failure."""
    if isinstance(exc, UnscannableError):
        return str(exc)
    if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
        found = _PIXELS.search(str(exc))
        return f"decompression bomb: {found.group(1)} pixels" if found else "decompression bomb"
    if isinstance(exc, av.FFmpegError):
        return f"video could not be decoded ({exc.strerror or type(exc).__name__})"
    if isinstance(exc, MemoryError):
        return "too large to decode in memory"
    message = str(exc).lower()
    if "truncated" in message or isinstance(exc, EOFError | IndexError):
        return "truncated image"
    if isinstance(exc, OSError | RuntimeError | SyntaxError | ValueError):
        return f"corrupt image ({str(exc)[:120] or type(exc).__name__})"
    return f"could not decode ({type(exc).__name__})"


def _notes(info: MediaInfo, frames: list[FrameHash]) -> tuple[str, ...]:
    """Caveats a moderator should see next to a clean result."""
    notes = [info.note] if info.note else []
    sampled = len({f.index for f in frames})
    if info.frame_count > sampled:
        notes.append(f"hashed {sampled} of {info.frame_count} frames")
    return tuple(notes)


__all__ = [
    "DIHEDRAL_NAMES",
    "WORKING_SIZE",
    "FrameHash",
    "MediaHashes",
    "hash_frame",
    "hash_media",
    "hash_picture",
    "pdq_hex",
    "to_working_size",
    "trim_box",
]
