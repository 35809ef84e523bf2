"""`shield vault ...` and `shield case ...`: evidence retention and the case workflow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from bot.app import cli_actor
from bot.cli._context import CliContext, add_row, pass_context, print_json
from bot.errors import InputError

if TYPE_CHECKING:
    from bot.review.vault import EvidenceVault


def _vault(ctx: CliContext, *, key: bool = True) -> EvidenceVault:
    """The vault; shredding and holds need no key, so none is created for them."""
    from bot.review.vault import EvidenceVault, load_master_key

    return EvidenceVault(ctx.app.db, load_master_key(ctx.settings) if key else None, ctx.settings)


@click.group(name="vault")
def vault_group() -> None:
    """The encrypted evidence vault: retention, legal holds."""


@vault_group.command(name="purge")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def vault_purge(ctx: CliContext, as_json: bool) -> None:
    """Shred every item past its retention date (vault.retention_days) that has no legal hold.

    Run it daily (cron, a systemd timer); `shield run` also does it once a day.
    """
    count = _vault(ctx, key=False).purge_expired(actor=cli_actor())
    if as_json:
        print_json({"purged": count})
    else:
        click.echo(f"purged {count} evidence items past retention")


@vault_group.command(name="hold")
@click.argument("evidence", type=int)
@click.option("--reason", required=True, help="Why it must be kept (e.g. a takedown request).")
@click.option("--release", is_flag=True, help="Lift the hold instead.")
@pass_context
def vault_hold(ctx: CliContext, evidence: int, reason: str, release: bool) -> None:
    """Keep evidence item EVIDENCE past its retention date (or --release it)."""
    vault = _vault(ctx, key=False)
    if vault.info(evidence) is None:
        raise InputError(f"there is no evidence {evidence}")
    vault.set_hold(evidence, not release, actor=cli_actor(), reason=reason)
    click.echo(f"evidence {evidence}: legal hold {'lifted' if release else 'set'}")


@click.group(name="case")
def case_group() -> None:
    """Cases: what Shield found and did, and the moderators' decisions."""


@case_group.command(name="list")
@click.option("--community", help="Only this community (discord:ID, twitch:LOGIN).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def case_list(ctx: CliContext, community: str | None, limit: int, as_json: bool) -> None:
    """The newest cases."""
    from bot.storage.cases import CaseRepo

    cases = CaseRepo(ctx.app.db).recent(community=community, limit=limit)
    if as_json:
        print_json([_case_dict(c) for c in cases])
        return
    table = Table("case", "when", "where", "author", "verdict", "state", "action")
    for c in cases:
        add_row(table, c.id, c.created_at, c.community or "DM", c.author_name or c.author_id,
                c.tier, c.state, c.action)  # fmt: skip
    Console(width=200).print(table)


def _case_dict(case: object) -> dict[str, object]:
    from dataclasses import asdict

    return asdict(case)  # type: ignore[call-overload,no-any-return]


@case_group.command(name="show")
@click.argument("case_id", type=int)
@pass_context
def case_show(ctx: CliContext, case_id: int) -> None:
    """One case as JSON: what matched, hashes, actions, decision."""
    from bot.storage.cases import CaseRepo

    case = CaseRepo(ctx.app.db).get(case_id)
    if case is None:
        raise InputError(f"there is no case {case_id}")
    print_json(_case_dict(case))


@case_group.command(name="confirm")
@click.argument("case_id", type=int)
@click.option("--note", help="Why.")
@click.option("--no-bank", is_flag=True, help="Do not add the item's hashes to the confirmed bank.")
@pass_context
def case_confirm(ctx: CliContext, case_id: int, note: str | None, no_bank: bool) -> None:
    """Confirm a case (its media hashes go to the `confirmed` bank)."""
    from bot.review.workflow import ReviewService

    decision = ReviewService(ctx.app).confirm(
        case_id, by=cli_actor(), note=note, add_to_bank=not no_bank
    )
    _said(decision.changed, decision.case.state, decision.learned, case_id)


@case_group.command(name="dismiss")
@click.argument("case_id", type=int)
@click.option("--note", help="Why it is a false positive.")
@pass_context
def case_dismiss(ctx: CliContext, case_id: int, note: str | None) -> None:
    """Dismiss a case as a false positive (what matched goes on the allow-list / allow bank)."""
    from bot.review.workflow import ReviewService

    decision = ReviewService(ctx.app).dismiss(case_id, by=cli_actor(), note=note)
    _said(decision.changed, decision.case.state, decision.learned, case_id)


def _said(changed: bool, state: str, learned: list[str], case_id: int) -> None:
    if not changed:
        click.echo(f"case {case_id} was already {state}: nothing changed")
        return
    click.echo(f"case {case_id} {state}" + (": " + "; ".join(learned) if learned else ""))


@case_group.command(name="export")
@click.argument("case_id", type=int)
@click.option("--html", "as_html", is_flag=True, help="A printable HTML page instead of JSON.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to this file.")
@pass_context
def case_export(ctx: CliContext, case_id: int, as_html: bool, output: Path | None) -> None:
    """The evidence packet of a case for a takedown request (no media)."""
    from bot.review.workflow import ReviewService, packet_html

    packet = ReviewService(ctx.app).packet(case_id, by=cli_actor())
    text = packet_html(packet) if as_html else json.dumps(packet, indent=1, ensure_ascii=False)
    if output is None:
        click.echo(text)
        return
    try:
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"wrote the evidence packet of case {case_id} to {output}", err=True)
