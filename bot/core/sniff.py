"""What a download is, from its magic bytes alone: never from the file name or Content-Type."""

from __future__ import annotations

from typing import Final

SNIFF_BYTES: Final = 256
"""`sniff` and `describe` never look past this many bytes, so a downloader can decide early."""

MEDIA_KINDS: Final = frozenset({"jpeg", "png", "gif", "webp", "avif", "heic", "mp4", "mov", "webm"})


def _codes(names: str) -> frozenset[bytes]:
    """Four-character codes from a comma-separated list (some end in spaces, like `qt  `)."""
    return frozenset(name.encode("ascii") for name in names.split(","))


# ISO base media file format (MP4 family) brands, from the `ftyp` box.
_AVIF_BRANDS: Final = _codes("avif,avis")
_AUDIO_BRANDS: Final = _codes("M4A ,M4B ,M4P ,F4A ,F4B ")
_BRANDS: Final = {
    **dict.fromkeys(_codes("heic,heix,heim,heis,hevc,hevx,hevm,hevs,mif1,msf1"), "heic"),
    **dict.fromkeys(_codes("qt  "), "mov"),
    **dict.fromkeys(
        _codes(
            "isom,iso2,iso3,iso4,iso5,iso6,iso7,iso8,iso9,mp41,mp42,mp71,avc1,dash,"
            "M4V ,M4VP,M4VH,f4v ,3gp4,3gp5,3gp6,3gp7,3g2a,3g2b,3g2c,mmp4,MSNV"
        ),
        "mp4",
    ),
}
# Old QuickTime files start with one of these atoms instead of `ftyp`.
_QUICKTIME_ATOMS: Final = _codes("moov,mdat,wide,free,skip,pnot")

_OTHER_MAGIC: Final = (
    (b"%PDF-", "PDF"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x00\x00\x01\x00", "an icon"),
    (b"ID3", "MP3 audio"),
    (b"OggS", "Ogg audio"),
    (b"fLaC", "FLAC audio"),
    (b"\x7fELF", "a program"),
)


def sniff(data: bytes) -> str | None:
    """The media kind (one of MEDIA_KINDS) the bytes start with, or None for anything else."""
    head = data[:SNIFF_BYTES]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML; its DocType says Matroska or WebM
        return "webm" if b"webm" in head or b"matroska" in head else None
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return _iso_brand(head)
    if (
        len(head) >= 8
        and head[4:8] in _QUICKTIME_ATOMS
        and int.from_bytes(head[:4]) not in range(2, 8)
    ):
        return "mov"
    return None


def _iso_brand(head: bytes) -> str | None:
    """The kind named by an `ftyp` box's major brand or, failing that, its compatible brands."""
    size = int.from_bytes(head[:4])
    if size < 12:
        return None
    major = head[8:12]
    if major in _AUDIO_BRANDS:
        return None
    end = min(size, len(head))
    brands = [major] + [head[i : i + 4] for i in range(16, end - 3, 4)]
    if _AVIF_BRANDS.intersection(brands):
        return "avif"
    return next((_BRANDS[brand] for brand in brands if brand in _BRANDS), None)


def describe(data: bytes) -> str | None:
    """A few words saying what a non-media download looks like, for a moderator; None if unknown."""
    head = data[:SNIFF_BYTES]
    if not head:
        return "an empty file"
    for magic, label in _OTHER_MAGIC:
        if head.startswith(magic):
            return label
    if head.startswith(b"RIFF"):
        return "a RIFF file (audio or video Shield cannot scan)"
    text = head.decode("utf-8", errors="replace").rstrip("\ufffd")
    lowered = text.lstrip("\ufeff \t\r\n").lower()
    if lowered.startswith(("<!doctype html", "<html", "<head", "<body", "<script", "<!--")):
        return "HTML"
    if lowered.startswith(("<svg", "<?xml")) and "<svg" in lowered:
        return "an SVG image"
    if lowered.startswith("<?xml"):
        return "XML"
    if lowered.startswith(("{", "[")):
        return "JSON"
    if text and "\ufffd" not in text and "".join(text.split()).isprintable():
        return "text"
    return None
