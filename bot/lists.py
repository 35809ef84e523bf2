"""Link lists as the commands use them: import files, add and remove rules, build the index.

Every change is written to the audit log with the person or rule that made it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.linkindex import LinkIndex, LinkIndexBuilder
from bot.core.listformats import BadLine, parse_lines, parse_one
from bot.core.rules import LinkRule
from bot.core.verdict import Tier
from bot.errors import InputError
from bot.storage.lists import ListRepo, NewEntry

if TYPE_CHECKING:
    from bot.app import App

Progress = Callable[[int], None]  # called with the number of bytes read so far


@dataclass
class ImportReport:
    list_name: str
    format: str
    added: int = 0
    existing: int = 0
    comments: int = 0
    duplicates: int = 0
    unsupported: int = 0
    bad: list[BadLine] = field(default_factory=list)


def build_link_index(repo: ListRepo) -> LinkIndex:
    builder = LinkIndexBuilder()
    builder.add_many(repo.index_rows())
    return builder.build()


def _read_lines(path: Path, progress: Progress | None) -> Iterator[str]:
    """The file's lines as text; undecodable bytes become U+FFFD so that line is reported bad."""
    done = 0
    with path.open("r", encoding="utf-8-sig", errors="replace", newline=None) as fh:
        for line in fh:
            yield line
            if progress is not None:
                done += len(line.encode("utf-8", "replace"))
                progress(done)


def import_file(
    app: App,
    path: str | os.PathLike[str],
    *,
    list_name: str,
    tier: Tier | str,
    fmt: str = "auto",
    actor: str,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a list file into `list_name`; importing the same file again changes nothing."""
    file = Path(path)
    if not file.is_file():
        what = "is a folder" if file.is_dir() else "does not exist"
        raise InputError(f"cannot import {file}: it {what}")
    if not os.access(file, os.R_OK):
        raise InputError(f"cannot import {file}: permission denied")
    tier = Tier.parse(tier) if isinstance(tier, str) else tier
    try:
        parsed = parse_lines(_read_lines(file, progress), fmt)
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror}") from None
    except ValueError as exc:
        raise InputError(f"cannot import {file}: {exc}") from None
    info = app.lists.ensure(list_name, tier, created_by=actor, source=file.name)
    # An entry keeps its own tier when the file gives one (TSV); otherwise the tier asked for
    # here, recorded on the entry only when it differs from the list's.
    entries = (
        NewEntry(
            rule=e.rule,
            tier=_entry_tier(e.tier or tier, info.tier),
            category=e.category,
            confidence=e.confidence,
            source=e.source or f"imported from {file.name}",
        )
        for e in parsed.entries
    )
    added, existing = app.lists.add_entries(info.id, entries, added_by=actor)
    report = ImportReport(
        list_name=info.name,
        format=parsed.format,
        added=added,
        existing=existing,
        comments=parsed.comments,
        duplicates=parsed.duplicates,
        unsupported=parsed.unsupported,
        bad=list(parsed.bad),
    )
    app.audit.record(
        actor,
        "list.import",
        info.name,
        detail={
            "file": file.name,
            "format": parsed.format,
            "added": added,
            "existing": existing,
            "bad_lines": len(parsed.bad),
        },
    )
    return report


def _entry_tier(wanted: Tier, list_tier: Tier) -> Tier | None:
    return None if wanted == list_tier else wanted


def parse_user_rule(text: str) -> LinkRule:
    """A rule as typed by a moderator, in any list syntax; InputError says what is wrong."""
    try:
        return parse_one(text).rule
    except ValueError as exc:
        raise InputError(str(exc)) from None


def add_rule(
    app: App,
    list_name: str,
    text: str,
    *,
    tier: Tier | None,
    actor: str,
    note: str | None = None,
) -> tuple[LinkRule, bool]:
    """Add one rule; returns it in canonical form and whether it was new."""
    rule = parse_user_rule(text)
    info = app.lists.ensure(list_name, tier or Tier.BLOCK, created_by=actor)
    entry = NewEntry(rule=rule, tier=_entry_tier(tier or info.tier, info.tier), note=note)
    added, _ = app.lists.add_entries(info.id, [entry], added_by=actor)
    if added:
        app.audit.record(
            actor,
            "list.add",
            info.name,
            detail={"rule": rule.value, "kind": rule.kind.value, "tier": (tier or info.tier).value},
        )
    return rule, bool(added)


def remove_rule(app: App, list_name: str, text: str, *, actor: str) -> LinkRule:
    """Remove one rule from a list; InputError if the list or the rule is not there."""
    info = app.lists.get(list_name)
    if info is None:
        raise InputError(f"there is no list called {list_name!r} (see: shield lists show)")
    rule = parse_user_rule(text)
    if not app.lists.remove_entry(info.id, rule):
        raise InputError(f"{rule.value} is not in list {info.name}")
    app.audit.record(actor, "list.remove", info.name, detail={"rule": rule.value})
    return rule
