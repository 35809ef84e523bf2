"""`shield hash`, `shield bank ...` and `shield scan`: media hashes and the hash banks."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from bot.app import cli_actor
from bot.cli._context import CliContext, pass_context, print_json
from bot.cli.check import format_verdict
from bot.core.verdict import Tier
from bot.errors import InputError
from bot.media.hashlists import FORMATS
from bot.storage.banks import BankRepo

if TYPE_CHECKING:
    from bot.media.hashing import MediaHashes

# Decoders, numpy and aiohttp load inside the commands that need them, so that every other
# `shield` command starts fast.

TIERS = ("block", "review", "allow")
BAD_LINES_SHOWN = 20  # the rest are counted; --json gives the first 1000

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
tier_option = click.option(
    "--tier",
    type=click.Choice(TIERS, case_sensitive=False),
    help="For a new bank (default block). block: delete and alert; review: hold for "
    "moderators; allow: known good, suppresses other matches.",
)
pdq_option = click.option(
    "--pdq-distance",
    type=click.IntRange(0, 256),
    help="This bank's own PDQ distance for its tier (default matching.pdq_block_distance).",
)
phash_option = click.option(
    "--phash-distance",
    type=click.IntRange(0, 64),
    help="Let pHash matches within this distance take the bank's tier (default: review only).",
)


def _banks(ctx: CliContext) -> BankRepo:
    return ctx.app.banks


def _tier(text: str | None) -> Tier | None:
    return Tier.parse(text) if text else None


# ----- shield hash -------------------------------------------------------------------------


def format_hashes(name: str, hashes: MediaHashes) -> str:
    """The hashes of a file as a person reads them: file facts, exact hashes, then per frame."""
    size = f"{hashes.width}x{hashes.height}, " if hashes.width else ""
    lines = [f"{name}: {hashes.kind or 'unknown type'}, {size}{hashes.size} bytes"]
    lines.append(f"  md5     {hashes.md5}")
    lines.append(f"  sha256  {hashes.sha256}")
    for f in hashes.frames:
        when = f" at {f.timestamp:g} s" if f.timestamp is not None else ""
        label = f"frame {f.index}{when}" + (f" {f.variant}" if f.variant != "raw" else "")
        lines.append(f"  {label:<22} pdq {f.pdq} q{f.pdq_quality:<3} phash {f.phash}")
    if hashes.unscannable:
        lines.append(f"  unscannable: {hashes.reason}")
    lines.extend(f"  note: {note}" for note in hashes.notes)
    return "\n".join(lines)


@click.command(name="hash")
@json_option
@click.argument("file", type=click.Path(path_type=Path))
@pass_context
def hash_command(ctx: CliContext, as_json: bool, file: Path) -> None:
    """Print every hash of FILE: MD5, SHA-256, and PDQ and pHash per frame (video: sampled).

    A file that cannot be decoded still gets its MD5 and SHA-256, with the reason.
    """
    from bot.media import banking

    hashes = banking.hash_file(file, ctx.settings)
    if as_json:
        print_json({"file": file.name, **hashes.to_dict()})
    else:
        click.echo(format_hashes(file.name, hashes))


# ----- shield scan -------------------------------------------------------------------------


@click.command(name="scan")
@json_option
@click.option("--nearest", is_flag=True, help="Also show the closest bank entries, however far.")
@click.argument("target", metavar="FILE_OR_URL")
@pass_context
def scan_command(ctx: CliContext, as_json: bool, nearest: bool, target: str) -> None:
    """Check an image or video (a file, or a link to download) against the hash banks.

    Prints the verdict (block, review, allow, or unscannable with the reason) like `shield
    check`. The exit status is 0 whatever the verdict.
    """
    from bot.media import banking

    matcher = ctx.app.media_matcher
    result = banking.scan(target, ctx.settings, matcher)
    closest = matcher.nearest(result.hashes) if nearest and result.hashes else []
    if as_json:
        out = result.to_dict()
        if nearest:
            out["nearest"] = [n.to_dict() for n in closest]
        print_json(out)
        return
    if result.label == "unscannable":
        click.echo(f"UNSCANNABLE\n  {result.reason}")
    else:
        click.echo(format_verdict(result.verdict))
        if result.reason:
            click.echo(f"  note: {result.reason}")
    for n in closest:
        click.echo(
            f"  nearest {n.signal}: {n.value} ~ {n.matched} [bank {n.bank}, entry {n.entry_id}, "
            f"distance {n.distance}]"
        )


# ----- shield bank ... ---------------------------------------------------------------------


@click.group(name="bank")
def bank_group() -> None:
    """Manage hash banks: your private vault of images to keep out, shared hash lists, and
    allow banks for known false positives. Banks hold hashes, never images."""


bank_option = click.option("--bank", "bank", required=True, help="Name of the bank.")


@bank_group.command(name="add")
@bank_option
@tier_option
@pdq_option
@phash_option
@json_option
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@pass_context
def bank_add(
    ctx: CliContext,
    bank: str,
    tier: str | None,
    pdq_distance: int | None,
    phash_distance: int | None,
    as_json: bool,
    files: tuple[Path, ...],
) -> None:
    """Hash FILES on this machine into a bank (created if new). Only hashes and the file
    names are stored, never the pictures; adding a file twice changes nothing."""
    from bot.media import banking

    report = banking.add_files(
        _banks(ctx),
        ctx.app.audit,
        files,
        bank=bank,
        tier=_tier(tier),
        actor=cli_actor(),
        settings=ctx.settings,
        pdq_distance=pdq_distance,
        phash_distance=phash_distance,
    )
    if as_json:
        print_json(report.to_dict())
        return
    for f in report.files:
        frames = f"{f.frames} frame{'s' if f.frames != 1 else ''}"
        line = (
            f"{f.name}: {f.kind or 'unknown type'}, {frames}: {f.added} hashes added to bank "
            f"{report.bank} ({report.tier}), {f.existing} already there"
        )
        if f.low_quality:
            line += f", {f.low_quality} flat frame hashes skipped"
        click.echo(line + (f" ({f.reason})" if f.reason else ""))


@bank_group.command(name="import")
@bank_option
@tier_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS, case_sensitive=False),
    default="auto",
    show_default=True,
    help="pdq or phash: one hash per line; hma-csv: signal_type,signal_value,... (HMA, "
    "ThreatExchange, shield bank export); auto: from the first line.",
)
@pdq_option
@phash_option
@json_option
@click.argument("file", type=click.Path(path_type=Path))
@pass_context
def bank_import(
    ctx: CliContext,
    bank: str,
    tier: str | None,
    fmt: str,
    pdq_distance: int | None,
    phash_distance: int | None,
    as_json: bool,
    file: Path,
) -> None:
    """Import a hash list from FILE into a bank (created if new). Bad lines are reported with
    their numbers, not fatal; importing the same file twice changes nothing."""
    from bot.media import banking

    report = banking.import_file(
        _banks(ctx),
        ctx.app.audit,
        file,
        bank=bank,
        tier=_tier(tier),
        fmt=fmt.lower(),
        actor=cli_actor(),
        pdq_distance=pdq_distance,
        phash_distance=phash_distance,
    )
    if as_json:
        print_json(report.to_dict())
        return
    extras = [
        f"{report.duplicates} repeated in the file" if report.duplicates else "",
        f"{report.unsupported} rows of signal types Shield does not match"
        if report.unsupported
        else "",
    ]
    click.echo(
        f"Imported {file.name} into bank {report.bank} (format: {report.format}): "
        f"{report.added} new, {report.existing} already there"
        + "".join(f", {e}" for e in extras if e)
        + "."
    )
    if report.bad_count:
        click.echo(f"{report.bad_count} bad lines skipped:")
        for bad in report.bad[:BAD_LINES_SHOWN]:
            click.echo(f"  line {bad.line}: {bad.text!r}: {bad.reason}")
        if report.bad_count > BAD_LINES_SHOWN:
            click.echo(f"  ... and {report.bad_count - BAD_LINES_SHOWN} more (--json lists them)")


@bank_group.command(name="export")
@click.option("--bank", "bank", help="Export only this bank (default: every bank).")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@pass_context
def bank_export(ctx: CliContext, bank: str | None, output: Path | None) -> None:
    """Write bank entries as CSV (signal_type,signal_value,bank,tier,...), disabled ones too.

    Hashes can be partly turned back into pictures: keep exports as private as the images.
    """
    from bot.media import banking

    repo = _banks(ctx)
    if output is None:
        banking.export(repo, sys.stdout, bank=bank)
        return
    try:
        # Owner-only from the first byte: hashes can be partly turned back into pictures.
        descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(descriptor, "w", encoding="utf-8", newline="") as fh:
            count = banking.export(repo, fh, bank=bank)
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"exported {count} entries to {output}", err=True)


@bank_group.command(name="show")
@click.argument("name", required=False)
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many entries.")
@json_option
@pass_context
def bank_show(ctx: CliContext, name: str | None, limit: int | None, as_json: bool) -> None:
    """Show all banks, or the entries of bank NAME (with the ids that disable takes)."""
    repo = _banks(ctx)
    if name is None:
        banks = repo.all()
        if as_json:
            print_json(
                [
                    {
                        "name": b.name,
                        "tier": b.tier.value,
                        "enabled": b.enabled,
                        "entries": b.entries,
                        "enabled_entries": b.enabled_entries,
                        "by_signal": repo.counts(b.id),
                        "pdq_distance": b.pdq_distance,
                        "phash_distance": b.phash_distance,
                        "created_by": b.created_by,
                        "created_at": b.created_at,
                    }
                    for b in banks
                ]
            )
            return
        table = Table("bank", "tier", "enabled", "entries", "by signal", "pdq / phash distance")
        for b in banks:
            disabled = b.entries - b.enabled_entries
            count = f"{b.entries}" + (f" ({disabled} disabled)" if disabled else "")
            signals = ", ".join(f"{k} {v}" for k, v in repo.counts(b.id).items())
            distances = f"{b.pdq_distance if b.pdq_distance is not None else 'default'} / " + (
                f"{b.phash_distance}" if b.phash_distance is not None else "review only"
            )
            table.add_row(
                b.name, b.tier.value, "yes" if b.enabled else "no", count, signals, distances
            )
        Console().print(table)
        return
    info = repo.get(name)
    if info is None:
        raise InputError(f"there is no bank called {name!r} (see: shield bank show)")
    entries = list(repo.entries(info.id, limit=limit))
    if as_json:
        print_json(
            {
                "name": info.name,
                "tier": info.tier.value,
                "enabled": info.enabled,
                "entries": [e.to_dict() for e in entries],
            }
        )
        return
    state = "enabled" if info.enabled else "disabled"
    click.echo(f"bank {info.name}: tier {info.tier.value}, {state}, {info.entries} entries")
    table = Table("id", "signal", "hash", "item", "frame", "q", "on", "source", "added by", "at")
    for e in entries:
        table.add_row(
            str(e.id),
            e.signal_type,
            e.signal_value,
            e.item or "",
            "" if e.frame is None else str(e.frame),
            "" if e.quality is None else str(e.quality),
            "yes" if e.enabled else "no",
            (e.source or "")[:40],
            e.added_by or "",
            e.added_at,
        )
    Console(width=240).print(table)


def _toggle(ctx: CliContext, bank: str | None, refs: tuple[str, ...], enabled: bool) -> None:
    from bot.media import banking

    word = "enabled" if enabled else "disabled"
    repo, audit, actor = _banks(ctx), ctx.app.audit, cli_actor()
    if not refs:
        if bank is None:
            raise click.UsageError("give ENTRY (an id or a hash), or --bank NAME for a whole bank")
        info = banking.set_bank_enabled(repo, audit, bank, enabled=enabled, actor=actor)
        click.echo(f"bank {info.name} {word}")
        return
    for entry in banking.set_entries_enabled(
        repo, audit, refs, enabled=enabled, actor=actor, bank=bank
    ):
        click.echo(
            f"{word} entry {entry.id}: {entry.signal_type} {entry.signal_value} "
            f"in bank {entry.bank}"
        )


@bank_group.command(name="disable")
@click.option("--bank", "bank", help="Only entries of this bank; without ENTRY, the whole bank.")
@click.argument("entries", nargs=-1, metavar="[ENTRY...]")
@pass_context
def bank_disable(ctx: CliContext, bank: str | None, entries: tuple[str, ...]) -> None:
    """Stop matching ENTRY (an id from `shield bank show NAME`, or a hash value), without
    deleting it; or a whole bank with --bank NAME alone."""
    _toggle(ctx, bank, entries, False)


@bank_group.command(name="enable")
@click.option("--bank", "bank", help="Only entries of this bank; without ENTRY, the whole bank.")
@click.argument("entries", nargs=-1, metavar="[ENTRY...]")
@pass_context
def bank_enable(ctx: CliContext, bank: str | None, entries: tuple[str, ...]) -> None:
    """Match ENTRY (an id or a hash value), or a whole bank with --bank NAME alone, again."""
    _toggle(ctx, bank, entries, True)
