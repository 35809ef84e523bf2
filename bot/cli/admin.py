"""Housekeeping commands: the audit log, per-community settings, deleting a user's data."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from bot.app import cli_actor
from bot.cli._context import CliContext, add_row, pass_context, print_json
from bot.storage.communities import REGISTRY, check_community
from bot.storage.userdata import delete_user_data


@click.command(name="audit")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--action", help="Only entries of this action, e.g. list.add.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def audit_command(ctx: CliContext, limit: int, action: str | None, as_json: bool) -> None:
    """Show the newest entries of the append-only audit log."""
    entries = ctx.app.audit.recent(limit, action=action)
    if as_json:
        print_json(
            [
                {
                    "id": e.id,
                    "at": e.at,
                    "actor": e.actor,
                    "action": e.action,
                    "target": e.target,
                    "subject": e.subject,
                    "community": e.community,
                    "detail": e.detail,
                }
                for e in entries
            ]
        )
        return
    table = Table("id", "at", "actor", "action", "target", "detail")
    for e in entries:
        detail = ", ".join(f"{k}={v}" for k, v in e.detail.items())
        add_row(table, str(e.id), e.at, e.actor, e.action, e.target or "", detail)
    Console(width=200).print(table)


@click.command(name="delete-user-data")
@click.argument("user")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def delete_user_data_command(ctx: CliContext, user: str, as_json: bool) -> None:
    """Erase USER from everything Shield stores (e.g. discord:1234, twitch:5678, cli:alice).

    Their identifier is replaced by [redacted] in lists, banks, settings and the audit log;
    the deletion itself is logged without naming them.
    """
    counts = delete_user_data(ctx.app.db, user.strip(), requested_by=cli_actor())
    if as_json:
        print_json({"user": "[redacted]", "rows": counts})
        return
    total = sum(counts.values())
    if not total:
        click.echo("nothing stored about that user")
        return
    click.echo(f"redacted {total} rows: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@click.group(name="community")
def community_group() -> None:
    """Settings per community: a Discord server (discord:ID) or a Twitch channel (twitch:LOGIN)."""


@community_group.command(name="show")
@click.argument("community")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def community_show(ctx: CliContext, community: str, as_json: bool) -> None:
    """Show every setting of COMMUNITY, with defaults for those never set."""
    values = ctx.app.communities.all(check_community(community))
    if as_json:
        print_json(values)
        return
    for spec in REGISTRY:
        click.echo(f"{spec.key} = {values[spec.key]!r}    # {spec.help}")


@community_group.command(name="set")
@click.argument("community")
@click.argument("key", type=click.Choice([s.key for s in REGISTRY]))
@click.argument("value")
@pass_context
def community_set(ctx: CliContext, community: str, key: str, value: str) -> None:
    """Set KEY to VALUE for COMMUNITY."""
    stored = ctx.app.communities.set(community, key, value, updated_by=cli_actor())
    ctx.app.audit.record(
        cli_actor(), "community.set", key, community=community, detail={"value": stored}
    )
    click.echo(f"{community}: {key} = {stored!r}")
