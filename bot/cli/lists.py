"""`shield lists ...`: the link lists (block, review, allow) and their rules."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from bot.app import cli_actor
from bot.cli._context import CliContext, add_row, pass_context, print_json
from bot.core.verdict import Tier
from bot.errors import InputError
from bot.lists import ImportReport, add_rule, import_file, parse_user_rule, remove_rule

FORMATS = ("auto", "hosts", "plain", "abp", "wildcard", "dnsmasq", "tsv")
TIERS = ("block", "review", "allow", "flag")
BAD_LINES_SHOWN = 20  # the rest are counted; --json gives them all
PROGRESS_FROM_BYTES = 1 << 20  # files smaller than this import too fast for a bar

tier_option = click.option(
    "--tier",
    type=click.Choice(TIERS, case_sensitive=False),
    help="block: delete and alert; review: hold for moderators; allow: never act on it.",
)
list_option = click.option("--list", "list_name", required=True, help="Name of the list.")


@click.group(name="lists")
def lists_group() -> None:
    """Manage link lists: deepfake and nudify sites, brand keywords, the allow-list."""


@lists_group.command(name="import")
@list_option
@tier_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS, case_sensitive=False),
    default="auto",
    show_default=True,
    help="File format; auto detects hosts, plain, Adblock, wildcard, dnsmasq and Shield TSV.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.argument("file", type=click.Path(path_type=Path))
@pass_context
def import_command(
    ctx: CliContext, list_name: str, tier: str | None, fmt: str, as_json: bool, file: Path
) -> None:
    """Import rules from FILE into a list (created if new). Bad lines are reported, not fatal;
    importing the same file twice changes nothing."""
    app = ctx.app
    existing = app.lists.get(list_name)
    wanted = Tier.parse(tier) if tier else (existing.tier if existing else Tier.BLOCK)
    size = file.stat().st_size if file.is_file() else 0
    console = Console(stderr=True)
    show_bar = size >= PROGRESS_FROM_BYTES and console.is_terminal and not as_json
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not show_bar,
        transient=True,
    ) as bar:
        task = bar.add_task(f"importing {file.name}", total=size or None)
        report = import_file(
            app,
            file,
            list_name=list_name,
            tier=wanted,
            fmt=fmt.lower(),
            actor=cli_actor(),
            progress=(lambda done: bar.update(task, completed=done)) if show_bar else None,
        )
    if as_json:
        print_json(_report_dict(report))
    else:
        click.echo(_report_text(report, file))


def _report_dict(report: ImportReport) -> dict[str, object]:
    return {
        "list": report.list_name,
        "format": report.format,
        "added": report.added,
        "existing": report.existing,
        "comments": report.comments,
        "duplicates": report.duplicates,
        "unsupported": report.unsupported,
        "bad_lines": [{"line": b.line, "text": b.text, "reason": b.reason} for b in report.bad],
    }


def _report_text(report: ImportReport, file: Path) -> str:
    lines = [
        f"Imported {file.name} into list {report.list_name} (format: {report.format}): "
        f"{report.added} new, {report.existing} already there"
        + (f", {report.duplicates} repeated in the file" if report.duplicates else "")
        + (
            f", {report.unsupported} rules of kinds Shield does not use"
            if report.unsupported
            else ""
        )
        + "."
    ]
    if report.bad:
        lines.append(f"{len(report.bad)} bad lines skipped:")
        for bad in report.bad[:BAD_LINES_SHOWN]:
            lines.append(f"  line {bad.line}: {bad.text}: {bad.reason}")
        if len(report.bad) > BAD_LINES_SHOWN:
            lines.append(f"  ... and {len(report.bad) - BAD_LINES_SHOWN} more (--json lists all)")
    return "\n".join(lines)


@lists_group.command(name="add")
@list_option
@tier_option
@click.option("--note", help="Why this rule is here (kept with it, shown to moderators).")
@click.argument("rules", nargs=-1, required=True, metavar="DOMAIN_OR_RULE...")
@pass_context
def add_command(
    ctx: CliContext, list_name: str, tier: str | None, note: str | None, rules: tuple[str, ...]
) -> None:
    """Add rules to a list (created if new, as a block list unless --tier says otherwise).

    A rule is a domain (clothoff.io: it and all its subdomains), a path on a host
    (t.me/NAME), a brand keyword (keyword:crushai), or any line of a hosts, Adblock,
    wildcard or dnsmasq list.
    """
    for text in rules:
        rule, added = add_rule(
            ctx.app,
            list_name,
            text,
            tier=Tier.parse(tier) if tier else None,
            actor=cli_actor(),
            note=note,
        )
        where = "to list" if added else "was already in list"
        click.echo(f"{'added ' if added else ''}{rule.kind.value} {rule.value} {where} {list_name}")


@lists_group.command(name="remove")
@list_option
@click.argument("rules", nargs=-1, required=True, metavar="DOMAIN_OR_RULE...")
@pass_context
def remove_command(ctx: CliContext, list_name: str, rules: tuple[str, ...]) -> None:
    """Remove rules from a list (to keep a rule but stop using it: lists disable)."""
    for text in rules:
        rule = remove_rule(ctx.app, list_name, text, actor=cli_actor())
        click.echo(f"removed {rule.kind.value} {rule.value} from list {list_name}")


@lists_group.command(name="show")
@click.argument("name", required=False)
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many rules.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def show_command(ctx: CliContext, name: str | None, limit: int | None, as_json: bool) -> None:
    """Show all lists, or the rules of list NAME."""
    app = ctx.app
    if name is None:
        infos = app.lists.all()
        if as_json:
            print_json(
                [
                    {
                        "name": i.name,
                        "tier": i.tier.value,
                        "enabled": i.enabled,
                        "rules": i.entries,
                        "enabled_rules": i.enabled_entries,
                        "source": i.source,
                        "created_at": i.created_at,
                    }
                    for i in infos
                ]
            )
            return
        table = Table("list", "tier", "enabled", "rules", "source")
        for i in infos:
            rules = f"{i.entries}" + (
                f" ({i.entries - i.enabled_entries} disabled)"
                if i.enabled_entries < i.entries
                else ""
            )
            add_row(
                table, i.name, i.tier.value, "yes" if i.enabled else "no", rules, i.source or ""
            )
        Console().print(table)
        return
    info = app.lists.get(name)
    if info is None:
        raise InputError(f"there is no list called {name!r} (see: shield lists show)")
    rows = app.lists.entries(info.id, limit=limit)
    if as_json:
        print_json(
            {"name": info.name, "tier": info.tier.value, "enabled": info.enabled, "rules": rows}
        )
        return
    state = "enabled" if info.enabled else "disabled"
    click.echo(f"list {info.name}: tier {info.tier.value}, {state}, {info.entries} rules")
    table = Table("kind", "rule", "tier", "on", "category", "source", "added by", "added at")
    for r in rows:
        add_row(
            table,
            r["kind"],
            r["value"],
            r["tier"],
            "yes" if r["enabled"] else "no",
            r["category"] or "",
            (r["source"] or "")[:60],
            r["added_by"] or "",
            r["added_at"],
        )
    Console(width=200).print(table)


def _toggle(ctx: CliContext, name: str, rules: tuple[str, ...], enabled: bool) -> None:
    app = ctx.app
    info = app.lists.get(name)
    if info is None:
        raise InputError(f"there is no list called {name!r} (see: shield lists show)")
    word = "enabled" if enabled else "disabled"
    if not rules:
        app.lists.set_enabled(info.id, enabled)
        app.audit.record(cli_actor(), f"list.{word[:-1]}", info.name)
        click.echo(f"list {info.name} {word}")
        return
    for text in rules:
        rule = parse_user_rule(text)
        if not app.lists.set_entry_enabled(info.id, rule, enabled):
            raise InputError(f"{rule.value} is not in list {info.name}")
        app.audit.record(
            cli_actor(), f"list.rule-{word[:-1]}", info.name, detail={"rule": rule.value}
        )
        click.echo(f"{rule.value} {word} in list {info.name}")


@lists_group.command(name="disable")
@click.argument("name")
@click.argument("rules", nargs=-1, metavar="[DOMAIN_OR_RULE...]")
@pass_context
def disable_command(ctx: CliContext, name: str, rules: tuple[str, ...]) -> None:
    """Stop using list NAME, or only some of its rules, without deleting anything."""
    _toggle(ctx, name, rules, False)


@lists_group.command(name="enable")
@click.argument("name")
@click.argument("rules", nargs=-1, metavar="[DOMAIN_OR_RULE...]")
@pass_context
def enable_command(ctx: CliContext, name: str, rules: tuple[str, ...]) -> None:
    """Use list NAME (or some of its rules) again."""
    _toggle(ctx, name, rules, True)
