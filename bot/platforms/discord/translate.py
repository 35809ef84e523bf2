"""Discord messages to the neutral `ScanContext`: text, embeds, attachments, stickers, forwards."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import discord

from bot.core.context import MEDIA_SUFFIXES, MediaRef, ScanContext
from bot.platforms.discord.access import is_moderator

PLATFORM: Final = "discord"
DISCORD_CDN: Final = "https://media.discordapp.net"  # where sticker images live
_STICKER_SUFFIX: Final = {
    discord.StickerFormatType.png: "png",
    discord.StickerFormatType.apng: "png",  # APNG is served as .png; the first frame is hashed
    discord.StickerFormatType.gif: "gif",
}  # Lottie stickers are vector animations: nothing to hash


def community_of(guild_id: int | None) -> str | None:
    """The community name Shield stores for a server: discord:<id>; None for a DM."""
    return None if guild_id is None else f"{PLATFORM}:{guild_id}"


def user_key(user_id: int) -> str:
    """A Discord user as Shield stores them (cases, audit log): discord:<id>."""
    return f"{PLATFORM}:{user_id}"


@dataclass(frozen=True, slots=True)
class Translator:
    """Builds scan contexts; `cdn_base` is where sticker images are fetched from."""

    cdn_base: str = DISCORD_CDN

    def context(
        self,
        message: discord.Message,
        *,
        moderator_role: int | None = None,
        is_edit: bool = False,
    ) -> ScanContext:
        """Everything scannable in `message`, including what a forward carries in its snapshots."""
        texts: list[str] = []
        media: list[MediaRef] = []
        self._collect(message.embeds, message.attachments, message.stickers, texts, media, "")
        for snapshot in message.message_snapshots:
            if snapshot.content:
                texts.append(snapshot.content)
            self._collect(
                snapshot.embeds, snapshot.attachments, snapshot.stickers, texts, media, "forwarded "
            )
        guild = message.guild
        return ScanContext(
            platform=PLATFORM,
            community=community_of(guild.id if guild else None),
            channel_id=str(message.channel.id),
            message_id=str(message.id),
            author_id=user_key(message.author.id),
            author_name=str(message.author),
            text=message.content or "",
            media=tuple(dict.fromkeys(media)),
            is_dm=guild is None,
            is_edit=is_edit,
            jump_url=message.jump_url,
            author_is_moderator=is_moderator(message.author, moderator_role),
            extra_texts=tuple(texts),
        )

    def _collect(
        self,
        embeds: Sequence[discord.Embed],
        attachments: Sequence[discord.Attachment],
        stickers: Iterable[discord.StickerItem],
        texts: list[str],
        media: list[MediaRef],
        prefix: str,
    ) -> None:
        for attachment in attachments:
            if looks_like_media(attachment):
                media.append(
                    MediaRef(
                        url=attachment.url,
                        source=f"{prefix}attachment",
                        filename=attachment.filename,
                        size=attachment.size,
                    )
                )
        for embed in embeds:
            texts.extend(embed_texts(embed))
            media.extend(embed_media(embed, prefix))
        for sticker in stickers:
            suffix = _STICKER_SUFFIX.get(sticker.format)
            if suffix is not None:
                url = f"{self.cdn_base.rstrip('/')}/stickers/{sticker.id}.{suffix}"
                media.append(MediaRef(url=url, source=f"{prefix}sticker", filename=sticker.name))


def looks_like_media(attachment: discord.Attachment) -> bool:
    """A picture or video by its declared type or its name (other files are not downloaded)."""
    kind = (attachment.content_type or "").split(";")[0].strip().lower()
    if kind.startswith(("image/", "video/")):
        return True
    return attachment.filename.lower().endswith(MEDIA_SUFFIXES)


def embed_texts(embed: discord.Embed) -> list[str]:
    """The text of a link preview or a bot's embed: links hide in titles, fields and footers."""
    parts = [embed.title, embed.description, embed.url, embed.author.name, embed.author.url]
    parts.append(embed.footer.text)
    for field in embed.fields:
        parts.extend((field.name, field.value))
    return [p for p in parts if p]


def embed_media(embed: discord.Embed, prefix: str = "") -> list[MediaRef]:
    """The picture, thumbnail and video of an embed, through Discord's media proxy when it has
    one (the proxy already holds a copy, and fetching it does not tip off the linked site)."""
    refs = []
    for source, proxy in (
        ("embed image", embed.image),
        ("embed thumbnail", embed.thumbnail),
        ("embed video", embed.video),
    ):
        url = getattr(proxy, "proxy_url", None) or getattr(proxy, "url", None)
        if not url:
            continue
        # A video player page (YouTube and the like) is not a file: only direct files are fetched.
        direct = url.split("?", 1)[0].lower().endswith(MEDIA_SUFFIXES)
        if source == "embed video" and not getattr(proxy, "proxy_url", None) and not direct:
            continue
        refs.append(MediaRef(url=url, source=f"{prefix}{source}"))
    return refs
