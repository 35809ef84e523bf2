"""`shield dashboard` (the review dashboard alone) and `shield admin ...` (dashboard accounts)."""

from __future__ import annotations

import asyncio
import ipaddress
import sys
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from bot.app import cli_actor
from bot.cli._context import CliContext, add_row, pass_context, print_json
from bot.errors import InputError
from bot.review.web.accounts import LINK_MINUTES, MAX_LINK_MINUTES, dashboard_url
from bot.storage.users import ROLES


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command(name="dashboard")
@click.option("--host", help="Address to listen on (default: [dashboard] host, 127.0.0.1).")
@click.option(
    "--port", type=click.IntRange(0, 65535), help="Port (default: [dashboard] port; 0 picks one)."
)
@pass_context
def dashboard_command(ctx: CliContext, host: str | None, port: int | None) -> None:
    """Serve the review dashboard alone, e.g. on a review host that has no bot tokens.

    It needs the database and the vault key (SHIELD_VAULT_KEY or [vault] key_file); log in
    with a password (shield admin set-password NAME) or a link (shield admin login-link NAME).
    Ctrl+C stops it.
    """
    from bot.review.vault import EvidenceVault, load_master_key
    from bot.review.web.app import serve
    from bot.storage.users import UserRepo

    settings = ctx.settings
    # A new key is made only for a database without evidence: on a review host that shares an
    # existing database, a fresh key would open nothing, so a missing key is an error there.
    has_evidence = ctx.app.db.execute("SELECT 1 FROM evidence LIMIT 1").fetchone() is not None
    key = load_master_key(settings, create=not has_evidence)
    vault = EvidenceVault(ctx.app.db, key, settings)
    where = host or settings.dashboard.host
    public = settings.dashboard.public_url or ""
    if not _loopback(where) and not public.startswith("https://"):
        click.echo(
            f"shield: warning: serving on {where} without TLS: put an https reverse proxy in "
            "front and set [dashboard] public_url, or listen on 127.0.0.1",
            err=True,
        )
    if not UserRepo(ctx.app.db).all():
        click.echo("shield: no dashboard users yet: run `shield admin set-password NAME`", err=True)

    def ready(addresses: list[Any]) -> None:
        first = addresses[0] if addresses else (where, port or settings.dashboard.port)
        listen_host, listen_port = first[0], first[1]
        shown = f"[{listen_host}]" if ":" in str(listen_host) else listen_host
        click.echo(f"Shield dashboard on http://{shown}:{listen_port}/ (Ctrl+C stops it)")
        if public:
            click.echo(f"public address: {public}")
        sys.stdout.flush()

    try:
        asyncio.run(serve(ctx.app, vault, host=host, port=port, secret_key=key, ready=ready))
    except KeyboardInterrupt:
        click.echo("dashboard stopped", err=True)


@click.group(name="admin")
def admin_group() -> None:
    """Dashboard accounts: passwords, one-time login links, the list of users."""


@admin_group.command(name="set-password")
@click.argument("user")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    help="Role: a new user is admin unless given; an existing user keeps theirs unless given.",
)
@pass_context
def set_password_command(ctx: CliContext, user: str, role: str | None) -> None:
    """Set the dashboard password of USER (created if new), and log them out everywhere.

    On a terminal it asks twice; otherwise it reads one line from standard input
    (e.g. `pass show shield | shield admin set-password alice`).
    """
    from bot.review.web.accounts import set_password

    stdin = sys.stdin
    if stdin.isatty():
        password = click.prompt(
            "Password", hide_input=True, confirmation_prompt="Repeat the password"
        )
    else:
        password = stdin.readline().rstrip("\r\n")
        if not password:
            raise InputError("no password on standard input: give it as one line")
    found, created = set_password(ctx.app, user, password, role=role, by=cli_actor())
    verb = "created" if created else "updated"
    click.echo(
        f"{verb} dashboard user {found.name} ({found.role}); "
        f"log in at {dashboard_url(ctx.settings)}/login"
    )


@admin_group.command(name="login-link")
@click.argument("user")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    help="Role: a new user is moderator unless given; an existing user keeps theirs unless given.",
)
@click.option(
    "--minutes",
    type=click.IntRange(1, MAX_LINK_MINUTES),
    default=LINK_MINUTES,
    show_default=True,
    help="How long the link works (it works once).",
)
@pass_context
def login_link_command(ctx: CliContext, user: str, role: str | None, minutes: int) -> None:
    """Print a one-time login link for USER (created if new). Send it privately."""
    from bot.review.web.accounts import login_link

    click.echo(login_link(ctx.app, user, by=cli_actor(), role=role, minutes=minutes))


@admin_group.command(name="users")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def users_command(ctx: CliContext, as_json: bool) -> None:
    """The dashboard's users and their roles."""
    from bot.storage.users import UserRepo

    users = UserRepo(ctx.app.db).all()
    if as_json:
        print_json(
            [
                {
                    "name": u.name,
                    "role": u.role,
                    "password": u.has_password,
                    "disabled": u.disabled,
                    "created_at": u.created_at,
                }
                for u in users
            ]
        )
        return
    table = Table("name", "role", "password", "state", "created")
    for u in users:
        add_row(
            table,
            u.name,
            u.role,
            "set" if u.has_password else "links only",
            "disabled" if u.disabled else "active",
            u.created_at,
        )
    Console(width=200).print(table)
