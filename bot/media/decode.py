"""Safe decoding of untrusted images and videos into small upright RGB frames, ready to hash.

Runs in worker processes (see bot/media/pool.py). The decoder is chosen from the magic bytes
(`bot.core.sniff`) and Pillow is given a one-format allow-list, so nothing else (EPS, which runs
Ghostscript, or any other plugin) is ever reached. Pixels are capped from the header before
decoding, animations and videos are sampled under frame and time caps, and every refusal is an
`UnscannableError` exception carrying a reason a moderator can read.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import av
import numpy as np
from PIL import Image, ImageOps

from bot.core.sniff import describe, sniff
from bot.settings import MediaSettings

# Pillow format names, one per sniffed kind: Image.open(formats=[...]) tries only that plugin.
PILLOW_FORMATS: Final = {
    "jpeg": "JPEG",
    "png": "PNG",
    "gif": "GIF",
    "webp": "WEBP",
    "avif": "AVIF",
    "heic": "HEIF",  # needs the optional pillow-heif package
}
# FFmpeg demuxer per video kind: forcing it stops FFmpeg probing for other (riskier) demuxers.
VIDEO_DEMUXERS: Final = {"mp4": "mov", "mov": "mov", "webm": "matroska"}
# Video codecs that phones, browsers and screen recorders produce; anything else is refused.
VIDEO_CODECS: Final = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg4"})

ANIMATED_KINDS: Final = frozenset({"gif", "png", "webp", "avif"})
ANIMATION_PIXEL_BUDGET: Final = 400_000_000  # pixels decoded across one animation's frames
VIDEO_DECODED_FRAMES_CAP: Final = 100_000  # frames decoded from one video, sampled or not
TIMESTAMP_SLACK: Final = 0.01  # seconds: a frame this close before a sample time counts for it
WHITE: Final = (255, 255, 255, 255)  # transparent pixels are flattened onto white


class UnscannableError(Exception):
    """The file cannot be scanned; `str(exc)` is the reason, written for a moderator."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded picture: RGB, upright, its longest side reduced to about decode_size."""

    image: Image.Image
    index: int  # frame number in the file (0 for a still image)
    timestamp: float | None  # seconds from the start; None for a still image


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What the file says about itself, reported next to its hashes."""

    width: int  # pixels, as stored (before EXIF orientation)
    height: int
    frame_count: int  # frames in the file (1 for a still image); 0 if a video does not say
    duration: float | None = None  # seconds, for video and animations
    note: str | None = None  # something a moderator should know, e.g. the file ends early


def decode(
    data: bytes, settings: MediaSettings, on_frame: Callable[[Frame], None]
) -> tuple[str, MediaInfo]:
    """Decode `data`, handing each sampled frame to `on_frame`; raises UnscannableError.

    A callback rather than a list keeps memory flat (one frame at a time) and lets the decoder
    close what it opened.
    """
    kind = sniff(data)
    if kind is None:
        looks = describe(data) or "unknown data"
        raise UnscannableError(f"not an allowed format (looks like {looks})")
    if kind in VIDEO_DEMUXERS:
        return kind, decode_video(data, kind, settings, on_frame)
    return kind, decode_image(data, kind, settings, on_frame)


def pixel_check(width: int, height: int, settings: MediaSettings) -> None:
    """Refuse a picture whose header promises more pixels than settings.max_pixels."""
    if width <= 0 or height <= 0:
        raise UnscannableError(f"invalid picture size {width}x{height}")
    if width * height > settings.max_pixels:
        raise UnscannableError(
            f"decompression bomb: {width * height} pixels (limit {settings.max_pixels})"
        )


def reduce_target(width: int, height: int, decode_size: int) -> tuple[int, int]:
    """The size that fits within decode_size x decode_size with the same aspect ratio."""
    scale = min(1.0, decode_size / max(width, height))
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


# --- images ---------------------------------------------------------------------------------


def decode_image(
    data: bytes, kind: str, settings: MediaSettings, on_frame: Callable[[Frame], None]
) -> MediaInfo:
    """Decode a still or animated image under the pixel, frame and budget caps."""
    if kind == "heic":
        _enable_heif()
    with Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[kind]]) as image:
        width, height = image.size
        pixel_check(width, height, settings)
        frame_count = getattr(image, "n_frames", 1) if kind in ANIMATED_KINDS else 1
        if frame_count <= 1:
            if kind == "jpeg":
                image.draft("RGB", reduce_target(width, height, settings.decode_size))
            on_frame(Frame(_prepare(image, settings.decode_size), 0, None))
            return MediaInfo(width, height, 1)
        duration, note = _animation(image, frame_count, settings, on_frame)
        return MediaInfo(width, height, frame_count, duration, note)


def _animation(
    image: Image.Image,
    frame_count: int,
    settings: MediaSettings,
    on_frame: Callable[[Frame], None],
) -> tuple[float, str | None]:
    """Hash up to max_frames frames spread evenly; formats decode frames in order, so walk them.

    The duration in seconds, and a note when the file ends before its last claimed frame.
    """
    window = min(frame_count, max(1, ANIMATION_PIXEL_BUDGET // (image.width * image.height)))
    wanted = set(sample_indices(window, settings.max_frames))
    elapsed_ms = end_ms = 0.0  # GIF and APNG give each frame's duration; WebP and AVIF its start
    for index in range(window):
        try:
            image.seek(index)
        except (EOFError, OSError):  # fewer frames than claimed (APNG's acTL can say anything)
            if not wanted.intersection(range(index)):
                raise
            return round(max(elapsed_ms, end_ms) / 1000, 3), f"the file ends at frame {index}"
        if index in wanted:
            frame = _prepare(image, settings.decode_size)  # loads the frame
            start_ms = float(image.info.get("timestamp", elapsed_ms))
            end_ms = start_ms + float(image.info.get("duration") or 0)
            on_frame(Frame(frame, index, round(start_ms / 1000, 3)))
        elapsed_ms += float(image.info.get("duration") or 0)
    return round(max(elapsed_ms, end_ms) / 1000, 3), None


def sample_indices(count: int, limit: int) -> list[int]:
    """Up to `limit` indices spread evenly over range(count), first and last included."""
    if count <= limit:
        return list(range(count))
    if limit == 1:
        return [0]
    return sorted({round(i * (count - 1) / (limit - 1)) for i in range(limit)})


def _prepare(image: Image.Image, decode_size: int) -> Image.Image:
    """A new RGB image, reduced to about decode_size and turned upright by its EXIF tag."""
    rgb = to_rgb(image)
    target_w, target_h = reduce_target(rgb.width, rgb.height, decode_size)
    factor = min(rgb.width // target_w, rgb.height // target_h)
    if factor >= 2:
        rgb = rgb.reduce(factor)  # integer box reduction: cheap, and like JPEG's draft()
    ImageOps.exif_transpose(rgb, in_place=True)
    return rgb


def to_rgb(image: Image.Image) -> Image.Image:
    """A new RGB copy; transparency is flattened onto white, 16-bit grey scaled to 8 bits."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        values = np.asarray(image, dtype=np.float32)
        scale = 255 / 65535 if values.max(initial=0) > 255 else 1.0
        grey = Image.fromarray(np.clip(values * scale, 0, 255).astype(np.uint8), "L")
        grey.info = dict(image.info)
        return grey.convert("RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, WHITE)
        flat.alpha_composite(rgba)
        rgb = flat.convert("RGB")
        rgb.info = dict(image.info)
        return rgb
    return image.convert("RGB")  # a copy even when already RGB: frames must not alias the file


def _enable_heif() -> None:
    """Register pillow-heif's HEIF plugin (a dependency; refuse HEIC if it is missing)."""
    try:
        from pillow_heif import register_heif_opener
    except ImportError:
        raise UnscannableError("HEIC images need the optional pillow-heif package") from None
    register_heif_opener()


# --- video ----------------------------------------------------------------------------------


def decode_video(
    data: bytes, kind: str, settings: MediaSettings, on_frame: Callable[[Frame], None]
) -> MediaInfo:
    """Sample frames at video_frames_per_second (spread out when over video_max_frames)."""
    with av.open(io.BytesIO(data), mode="r", format=VIDEO_DEMUXERS[kind]) as container:
        if not container.streams.video:
            raise UnscannableError("no video track")
        stream = container.streams.video[0]
        context = stream.codec_context
        if context is None:  # FFmpeg has no decoder for it
            raise UnscannableError("unknown video codec")
        if context.name not in VIDEO_CODECS:
            raise UnscannableError(f"video codec {context.name} is not allowed")
        width, height = context.width, context.height
        pixel_check(width, height, settings)
        duration = _claimed_duration(container, stream)
        limit = settings.video_max_seconds
        if duration is not None and duration > limit:
            raise UnscannableError(f"video longer than {limit:g} s (it says {duration:.0f} s)")
        step = 1 / settings.video_frames_per_second
        if duration is not None:
            step = max(step, duration / settings.video_max_frames)
        _sample_video(container, stream, step, settings, on_frame)
        return MediaInfo(width, height, stream.frames or 0, duration)


def _claimed_duration(
    container: av.container.InputContainer, stream: av.VideoStream
) -> float | None:
    """The longest duration the container or the stream claims, in seconds; None if silent."""
    claims = []
    if container.duration is not None:
        claims.append(container.duration / av.time_base)
    if stream.duration is not None and stream.time_base is not None:
        claims.append(float(stream.duration * stream.time_base))
    return max(claims) if claims else None


def _sample_video(
    container: av.container.InputContainer,
    stream: av.VideoStream,
    step: float,
    settings: MediaSettings,
    on_frame: Callable[[Frame], None],
) -> None:
    """Decode in order and keep the first frame at or after each sample time."""
    rate = float(stream.average_rate or 30)
    target, taken = 0.0, 0
    for decoded, frame in enumerate(container.decode(stream)):
        if decoded >= VIDEO_DECODED_FRAMES_CAP:
            raise UnscannableError(f"video has more than {VIDEO_DECODED_FRAMES_CAP} frames")
        time = frame.time if frame.time is not None else decoded / rate
        if time > settings.video_max_seconds:
            raise UnscannableError(f"video longer than {settings.video_max_seconds:g} s")
        if time + TIMESTAMP_SLACK < target:
            continue
        pixel_check(frame.width, frame.height, settings)
        on_frame(Frame(_video_picture(frame, settings.decode_size), decoded, round(time, 3)))
        taken += 1
        if taken >= settings.video_max_frames:
            return
        while target <= time + TIMESTAMP_SLACK:
            target += step
    if taken == 0:
        raise UnscannableError("the video has no decodable frames")


# Display-matrix rotation (degrees counter-clockwise) -> the Pillow transpose that shows it upright.
_ROTATIONS: Final = {
    90: Image.Transpose.ROTATE_90,
    -90: Image.Transpose.ROTATE_270,
    270: Image.Transpose.ROTATE_270,
    180: Image.Transpose.ROTATE_180,
    -180: Image.Transpose.ROTATE_180,
}


def _video_picture(frame: av.VideoFrame, decode_size: int) -> Image.Image:
    """RGB at about decode_size (FFmpeg scales, like JPEG's draft), rotated as phones record."""
    target_w, target_h = reduce_target(frame.width, frame.height, decode_size)
    factor = max(1, min(frame.width // target_w, frame.height // target_h))
    size = max(1, frame.width // factor), max(1, frame.height // factor)
    rgb = frame.to_ndarray(width=size[0], height=size[1], format="rgb24")
    picture = Image.fromarray(rgb)
    method = _ROTATIONS.get(round(frame.rotation or 0))
    return picture.transpose(method) if method is not None else picture
