"""The `shield` command. Each command group lives in its own module; this file wires them."""

from __future__ import annotations

import os
import sys

import click

from bot import __version__
from bot.cli._context import CliContext
from bot.cli.admin import audit_command, community_group, delete_user_data_command
from bot.cli.check import check
from bot.cli.dashboard import admin_group, dashboard_command
from bot.cli.demo import demo
from bot.cli.lists import lists_group
from bot.cli.media import bank_group, hash_command, scan_command
from bot.cli.review import case_group, vault_group
from bot.cli.run import run_command
from bot.errors import ShieldError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--db",
    "db_path",
    metavar="PATH",
    envvar="SHIELD_DB",
    help="SQLite database file (default shield.db here; env SHIELD_DB).",
)
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    envvar="SHIELD_CONFIG",
    help="Your settings file (TOML) over config/default.toml (env SHIELD_CONFIG).",
)
@click.option("-v", "--verbose", is_flag=True, help="Also log what Shield does (INFO level).")
@click.version_option(__version__, prog_name="shield")
@click.pass_context
def cli(ctx: click.Context, db_path: str | None, config_path: str | None, verbose: bool) -> None:
    """Shield keeps deepfake porn and other non-consensual intimate imagery out of chat.

    Start with `shield check 'a chat message'` to see what Shield would do, and
    `shield lists show` to see what it knows.
    """
    obj = CliContext(config_path=config_path, db_path=db_path, verbose=verbose)
    ctx.obj = obj
    ctx.call_on_close(obj.close)


COMMANDS: tuple[click.Command, ...] = (
    check,
    lists_group,
    audit_command,
    community_group,
    delete_user_data_command,
    demo,
    hash_command,
    bank_group,
    scan_command,
    case_group,
    vault_group,
    run_command,
    dashboard_command,
    admin_group,
)
for command in COMMANDS:
    cli.add_command(command)


def _fail(message: str, code: int) -> None:
    click.echo(f"shield: error: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every failure is one line on standard error, never a traceback."""
    try:
        result = cli.main(args=argv, prog_name="shield", standalone_mode=False)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "shield"
        _fail(f"{exc.format_message()} (see: {where} --help)", 2)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except click.Abort:
        _fail("aborted", 1)
    except ShieldError as exc:
        _fail(str(exc), 1)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as exc:
        if os.environ.get("SHIELD_DEBUG"):
            raise
        _fail(f"unexpected {type(exc).__name__}: {exc} (set SHIELD_DEBUG=1 to see details)", 1)
    sys.exit(result if isinstance(result, int) else 0)
