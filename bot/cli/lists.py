"""`shield lists ...`: the link lists (block, review, allow) and their rules."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from bot.app import cli_actor
from bot.cli._context import CliContext, add_row, pass_context, print_json
from bot.core.verdict import Tier
from bot.errors import InputError
from bot.lists import (
    SUBSCRIPTION_EVERY_HOURS,
    SUBSCRIPTION_MAX_EVERY_HOURS,
    ImportReport,
    RefreshReport,
    add_rule,
    import_file,
    parse_user_rule,
    refresh_subscriptions,
    remove_rule,
    subscribe,
    unsubscribe,
)
from bot.storage.subscriptions import SubscriptionRepo

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


# ---------------------------------------------------------------- subscriptions


def _refresh_text(report: RefreshReport) -> str:
    sub = report.subscription
    if report.error is not None:
        return f"{sub.url} (list {sub.list_name}): FAILED, rules kept: {report.error}"
    imported = report.imported
    assert imported is not None
    lines = [
        f"{sub.url} (list {sub.list_name}, {sub.tier.value}, format: {imported.format}): "
        f"{report.rules} rules, {imported.added} new, {imported.existing} already there, "
        f"{report.removed} removed (no longer in the list)"
        + (f", {imported.duplicates} repeated" if imported.duplicates else "")
        + (
            f", {imported.unsupported} rules of kinds Shield does not use"
            if imported.unsupported
            else ""
        )
        + "."
    ]
    if report.bad_lines:
        lines.append(f"{report.bad_lines} bad lines skipped:")
        for bad in imported.bad[:BAD_LINES_SHOWN]:
            lines.append(f"  line {bad.line}: {bad.text}: {bad.reason}")
        if report.bad_lines > BAD_LINES_SHOWN:
            lines.append(f"  ... and {report.bad_lines - BAD_LINES_SHOWN} more (--json lists them)")
    return "\n".join(lines)


@lists_group.command(name="subscribe")
@list_option
@click.option(
    "--tier",
    type=click.Choice(("block", "review", "allow"), case_sensitive=False),
    help="block: delete and alert; review: hold for moderators; allow: an allow-list feed.",
)
@click.option(
    "--every",
    "every_hours",
    type=click.IntRange(1, SUBSCRIPTION_MAX_EVERY_HOURS),
    default=SUBSCRIPTION_EVERY_HOURS,
    show_default=True,
    metavar="HOURS",
    help="Fetch the list again this often (while `shield run` runs).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS, case_sensitive=False),
    default="auto",
    show_default=True,
    help="List format; auto detects hosts, plain, Adblock, wildcard, dnsmasq and Shield TSV.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.argument("url")
@pass_context
def subscribe_command(
    ctx: CliContext,
    list_name: str,
    tier: str | None,
    every_hours: int,
    fmt: str,
    as_json: bool,
    url: str,
) -> None:
    """Follow the published list at URL (http or https): fetch it now into a list (created if
    new), then again every --every hours while `shield run` runs (or with `lists refresh`).

    Bad lines are reported, never fatal. Rules that leave the published list are removed at
    the next refresh, but only those the subscription added: your own rules always stay.
    """
    report = asyncio.run(
        subscribe(
            ctx.app,
            url,
            list_name=list_name,
            tier=Tier.parse(tier) if tier else None,
            every_hours=every_hours,
            fmt=fmt.lower(),
            actor=cli_actor(),
        )
    )
    if as_json:
        print_json(report.to_dict())
        return
    click.echo(f"Subscribed: {_refresh_text(report)}")
    click.echo(f"It is fetched again every {every_hours} h while `shield run` runs.")


@lists_group.command(name="unsubscribe")
@click.option(
    "--keep-rules", is_flag=True, help="Keep the rules it added (they then stay until removed)."
)
@click.argument("url")
@pass_context
def unsubscribe_command(ctx: CliContext, keep_rules: bool, url: str) -> None:
    """Stop following the list at URL (or subscription number N), removing the rules it added
    unless --keep-rules. Rules you added yourself are never removed."""
    sub, removed = unsubscribe(ctx.app, url, keep_rules=keep_rules, actor=cli_actor())
    what = "its rules were kept" if keep_rules else f"{removed} rules removed"
    click.echo(f"Unsubscribed list {sub.list_name} from {sub.url}: {what}.")


@lists_group.command(name="subscriptions")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def subscriptions_command(ctx: CliContext, as_json: bool) -> None:
    """Show the lists followed, and what their last refresh did (or why it failed)."""
    subs = SubscriptionRepo(ctx.app.db).all()
    if as_json:
        print_json([s.to_dict() for s in subs])
        return
    if not subs:
        click.echo("No subscriptions (add one: shield lists subscribe --list NAME URL).")
        return
    table = Table("#", "url", "list", "tier", "every", "rules", "last refresh", "result", "next")
    for s in subs:
        if s.last_error is not None:
            result = f"FAILED ({s.failures}x): {s.last_error}"
        else:
            result = (
                f"+{s.last_added} -{s.last_removed}"
                + (f", {s.last_bad_lines} bad lines" if s.last_bad_lines else "")
                + (f" ({s.last_format})" if s.last_format else "")
            )
        add_row(
            table,
            s.id,
            s.url,
            s.list_name,
            s.tier.value,
            f"{s.every_hours} h",
            s.last_rules if s.last_rules is not None else "",
            s.last_attempt_at or "never",
            result,
            s.due_at().isoformat(timespec="minutes") if s.last_attempt_at else "now",
        )
    Console(width=200).print(table)


@lists_group.command(name="refresh")
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
@click.argument("url", required=False)
@pass_context
def refresh_command(ctx: CliContext, as_json: bool, url: str | None) -> None:
    """Fetch every subscribed list now (or only the one at URL) and apply the changes.

    A list that cannot be fetched keeps its rules; the reason is shown and recorded.
    """
    reports = asyncio.run(refresh_subscriptions(ctx.app, url, actor=cli_actor()))
    if as_json:
        print_json([r.to_dict() for r in reports])
    elif not reports:
        click.echo("No subscriptions to refresh.")
    else:
        for report in reports:
            click.echo(_refresh_text(report))
    failed = [r for r in reports if not r.ok]
    if failed:
        raise InputError(
            f"{len(failed)} of {len(reports)} subscriptions could not be refreshed (see above); "
            "their rules were kept"
        )
