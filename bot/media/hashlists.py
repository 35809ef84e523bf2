"""Hash list files: one PDQ or pHash per line, or the HMA/ThreatExchange CSV
(`signal_type,signal_value,...`), read and written.

Pure and streaming: the caller reads the file and hands over lines. Every hash is validated at
the door (bot.core.signals); a bad line is recorded with its number and skipped, never fatal,
because shared hash lists are input like any other.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final, TextIO

from bot.core.listformats import BadLine
from bot.core.signals import PdqSignal, PhashSignal, signal_type
from bot.storage.banks import BankEntry, NewBankEntry

FORMATS: Final = ("auto", "pdq", "phash", "hma-csv")
MAX_BAD_KEPT: Final = 1000  # a hostile file can be all bad lines: keep these, count the rest
SHOW_CHARS: Final = 80  # characters of a bad line shown back
# Column names of the CSV that Shield writes; HMA files need only the first two.
CSV_COLUMNS: Final = (
    "signal_type",
    "signal_value",
    "bank",
    "tier",
    "item",
    "frame",
    "quality",
    "enabled",
    "source",
    "added_by",
    "added_at",
    "note",
)
# Names other tools use for the signal types Shield has (HMA: video_md5; ThreatExchange).
_ALIASES: Final = {
    "video_md5": "md5",
    "photo_md5": "md5",
    "hash_md5": "md5",
    "hash_pdq": "pdq",
    "pdq_hash": "pdq",
    "photo_pdq": "pdq",
    "hash_sha256": "sha256",
    "sha-256": "sha256",
}
_HEX: Final = {bits: re.compile(f"[0-9a-f]{{{bits // 4}}}") for bits in (64, 128, 256)}
_TRUE: Final = frozenset({"1", "true", "yes", "on", ""})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


@dataclass(slots=True)
class ParsedHashes:
    """What a hash file held: entries, plus everything skipped, so the import can be trusted."""

    format: str
    entries: list[NewBankEntry] = field(default_factory=list)
    bad: list[BadLine] = field(default_factory=list)  # the first MAX_BAD_KEPT
    bad_count: int = 0
    comments: int = 0  # comment and blank lines
    duplicates: int = 0  # hashes repeated within the file
    unsupported: int = 0  # CSV rows of signal types Shield does not match (url, raw_text...)


def _show(text: str) -> str:
    clean = text.rstrip("\r\n").encode("unicode_escape").decode("ascii")
    return clean if len(clean) <= SHOW_CHARS else clean[: SHOW_CHARS - 3] + "..."


def canonical(kind: str, value: str) -> str:
    """The canonical hex of `value` as a `kind` hash, or ValueError saying what is wrong."""
    text = value.strip().lower()
    pattern = _HEX.get(signal_type(kind).bits)
    if pattern is not None and pattern.fullmatch(text):  # fast path for big files
        return text
    return signal_type(kind).validate(value)


def detect(line: str) -> str | None:
    """The format a file's first meaningful line suggests, or None."""
    text = line.strip().lower()
    if text.startswith("signal_type"):
        return "hma-csv"
    first = re.split(r"[\s,#]", text, maxsplit=1)[0]
    for signal in (PdqSignal, PhashSignal):
        if len(first) == signal.hex_chars():
            return signal.name
    return None


def parse_lines(lines: Iterable[str], fmt: str = "auto") -> ParsedHashes:
    """Read a hash file's lines in format `fmt` (or detect it from the first meaningful line).

    ValueError if the format cannot be told or a CSV has no `signal_type,signal_value` header.
    """
    numbered = enumerate(lines, start=1)
    report = ParsedHashes(format=fmt)
    seen: set[tuple[str, str]] = set()
    for number, line in numbered:
        if not line.strip() or line.lstrip().startswith("#"):
            report.comments += 1
            continue
        if fmt == "auto":
            found = detect(line)
            if found is None:
                raise ValueError(
                    f"cannot tell the format from line {number} ({_show(line)!r}): "
                    "give --format pdq, phash or hma-csv"
                )
            report.format = found
        if report.format == "hma-csv":
            _parse_csv(number, line, numbered, report, seen)
        else:
            _parse_plain(itertools.chain([(number, line)], numbered), report, seen)
        break
    if report.format == "auto":  # nothing but comments: an empty list, any format will do
        report.format = "pdq"
    return report


def _bad(report: ParsedHashes, number: int, line: str, reason: str) -> None:
    report.bad_count += 1
    if len(report.bad) < MAX_BAD_KEPT:
        report.bad.append(BadLine(number, _show(line), reason))


def _add(report: ParsedHashes, seen: set[tuple[str, str]], entry: NewBankEntry) -> None:
    key = (entry.signal_type, entry.signal_value)
    if key in seen:
        report.duplicates += 1
        return
    seen.add(key)
    report.entries.append(entry)


def _parse_plain(
    lines: Iterable[tuple[int, str]], report: ParsedHashes, seen: set[tuple[str, str]]
) -> None:
    """One hash per line; `#` starts a comment, also after the hash."""
    kind = report.format
    for number, line in lines:
        text = line.split("#", 1)[0].strip()
        if not text:
            report.comments += 1
            continue
        try:
            value = canonical(kind, text)
        except ValueError as exc:
            _bad(report, number, line, str(exc))
            continue
        _add(report, seen, NewBankEntry(kind, value))


def _parse_csv(
    number: int,
    header_line: str,
    rest: Iterator[tuple[int, str]],
    report: ParsedHashes,
    seen: set[tuple[str, str]],
) -> None:
    """The HMA/ThreatExchange CSV: a header naming signal_type and signal_value, then rows."""
    header = [name.strip().lower() for name in next(csv.reader([header_line]))]
    if "signal_type" not in header or "signal_value" not in header:
        raise ValueError(
            f"line {number}: a hma-csv file starts with a header line naming the columns "
            "signal_type,signal_value (and optionally item, frame, quality, note, enabled)"
        )
    for number, line in rest:
        if not line.strip() or line.lstrip().startswith("#"):
            report.comments += 1
            continue
        try:
            row = dict(zip(header, next(csv.reader([line])), strict=False))
            entry = _csv_entry(row)
        except csv.Error as exc:
            _bad(report, number, line, f"not a CSV row ({exc})")
            continue
        except ValueError as exc:
            _bad(report, number, line, str(exc))
            continue
        if entry is None:
            report.unsupported += 1
        else:
            _add(report, seen, entry)


def _csv_entry(row: dict[str, str]) -> NewBankEntry | None:
    """One CSV row as an entry; None for a signal type Shield does not match."""
    raw_kind = row.get("signal_type", "").strip().lower()
    if not raw_kind:
        raise ValueError("no signal_type")
    kind = _ALIASES.get(raw_kind, raw_kind)
    try:
        signal_type(kind)
    except ValueError:
        return None
    value = canonical(kind, row.get("signal_value", ""))
    enabled_text = (row.get("enabled") or "").strip().lower()
    if enabled_text not in _TRUE | _FALSE:
        raise ValueError(f"enabled must be 1 or 0, not {enabled_text!r}")
    return NewBankEntry(
        signal_type=kind,
        signal_value=value,
        quality=_int(row, "quality", 0, 100),
        item=(row.get("item") or "").strip() or None,
        frame=_int(row, "frame", 0, 10**9),
        source=(row.get("source") or "").strip() or None,
        note=(row.get("note") or "").strip() or None,
        enabled=enabled_text in _TRUE,
    )


def _int(row: dict[str, str], key: str, low: int, high: int) -> int | None:
    text = (row.get(key) or "").strip()
    if not text:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{key} must be a whole number from {low} to {high}, not {text!r}")
    return int(text)


def write_csv(entries: Iterable[BankEntry], out: TextIO) -> int:
    """Write entries as the CSV that `parse_lines` reads back (HMA-compatible first columns)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for e in entries:
        writer.writerow(
            (
                e.signal_type,
                e.signal_value,
                e.bank,
                e.tier.value,
                e.item or "",
                "" if e.frame is None else e.frame,
                "" if e.quality is None else e.quality,
                int(e.enabled),
                e.source or "",
                e.added_by or "",
                e.added_at,
                e.note or "",
            )
        )
        count += 1
    return count
