"""`shield check`: what Shield would do with a chat message."""

from __future__ import annotations

import sys

import click

from bot.cli._context import CliContext, pass_context, print_json
from bot.core.verdict import Verdict
from bot.errors import InputError

_MARK = {"block": "BLOCK", "review": "REVIEW", "allow": "ALLOW"}


def format_verdict(verdict: Verdict) -> str:
    """A verdict as a person reads it: the decision, then one line per finding."""
    lines = [_MARK.get(verdict.verdict, verdict.verdict.upper())]
    for f in verdict.findings:
        where = f"{f.source_kind} {f.source}"
        extra = f", distance {f.distance}" if f.distance is not None else ""
        note = f" ({f.note})" if f.note else ""
        lines.append(
            f"  {f.tier.value:<6} {f.signal}: {f.value} matched {f.matched} [{where}{extra}]{note}"
        )
    for f in verdict.allowed:
        lines.append(f"  allowed {f.signal}: {f.value} (an allow-list covers it)")
    if not verdict.findings and not verdict.allowed:
        lines.append("  nothing listed found")
    return "\n".join(lines)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.argument("text", nargs=-1)
@pass_context
def check(ctx: CliContext, as_json: bool, text: tuple[str, ...]) -> None:
    """Check chat message TEXT for listed links, look-alikes and brand keywords.

    Give the message as arguments, or '-' (or nothing) to read it from standard input.
    The exit status is 0 whatever the verdict.
    """
    if not text or text == ("-",):
        if sys.stdin is None or sys.stdin.isatty():
            raise InputError("give the message to check, e.g. shield check 'see clothoff.io'")
        message = sys.stdin.read()
        if not message.strip():
            raise InputError("standard input was empty: give the message to check")
    else:
        message = " ".join(text)
    verdict = ctx.app.link_scanner.scan(message)
    if as_json:
        print_json(verdict.to_dict())
    else:
        click.echo(format_verdict(verdict))
