"""What a platform hands the core: one neutral scan context per message, whatever the platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

# Paths that end like this are fetched and hashed when they appear as links in chat.
MEDIA_SUFFIXES: Final = (
    ".jpg",
    ".jpeg",
    ".png",
    ".gif",
    ".webp",
    ".avif",
    ".heic",
    ".mp4",
    ".mov",
    ".webm",
    ".m4v",
)


@dataclass(frozen=True, slots=True)
class MediaRef:
    """A picture or video to download and hash: an attachment, an embed image, a linked file."""

    url: str
    source: str  # attachment, embed, thumbnail, video, sticker, link, forwarded
    filename: str | None = None
    size: int | None = None  # bytes, when the platform says (checked before downloading)


@dataclass(frozen=True, slots=True)
class ScanContext:
    """One message (or edit, or forward, or report) in platform-neutral terms."""

    platform: str  # discord, twitch
    community: str | None  # discord:<guild id>, twitch:<login>; None for a DM
    channel_id: str
    message_id: str
    author_id: str  # platform-qualified: discord:123
    author_name: str
    text: str = ""
    media: tuple[MediaRef, ...] = ()
    is_dm: bool = False
    is_edit: bool = False
    jump_url: str | None = None
    author_is_moderator: bool = False  # never auto-actioned: alerts only
    removable: bool = True  # False when the platform no longer lets anyone remove it (too old)
    extra_texts: tuple[str, ...] = field(default=())  # embed titles/descriptions, snapshot text

    @property
    def all_text(self) -> str:
        """The message text and any other text that came with it, one scan."""
        return "\n".join(t for t in (self.text, *self.extra_texts) if t)
