"""`shield demo`: a scripted chat shown live, so a newcomer sees Shield work without an account."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from bot.app import open_app
from bot.cli._context import CliContext, pass_context
from bot.settings import with_database

# (who, message, what it shows)
SCENE: tuple[tuple[str, str, str], ...] = (
    ("viewer1", "gg that clutch was insane", "ordinary chat passes untouched"),
    (
        "viewer2",
        "schedule is on https://www.twitch.tv/videos and discord.gg/abc",
        "platform links pass",
    ),
    ("troll1", "lol look what someone made of her: clothoff.io", "a listed nudify site"),
    ("troll2", "clothoff[.]io (remove the brackets)", "defanged link"),
    ("troll3", "c l o t h o f f . i o", "spaced-out letters"),
    ("troll4", "https://cl\u200bothoff.io/her-name", "a zero-width space inside the name"),
    (
        "troll5",
        "\uff43\uff4c\uff4f\uff54\uff48\uff4f\uff46\uff46\uff0e\uff49\uff4f",
        "full-width letters",
    ),
    (
        "troll6",
        "[totally safe](https://streams.example@mrdeepfakes.com/)",
        "masked link with userinfo",
    ),
    ("troll7", "https://www.google.com/url?q=https://undress.app/", "open redirect"),
    ("troll8", "cl\u043ethoff.io is the new mirror", "Cyrillic look-alike: held for review"),
    ("troll9", "try crushai, it's free", "brand keyword without a domain: held for review"),
    ("viewer3", "I need to undress the turkey before dinner lol", "ordinary words stay ordinary"),
)

_STYLE = {"block": "bold red", "review": "bold yellow", "allow": "green"}
_ACTION = {
    "block": "deleted, moderators alerted",
    "review": "held for moderators",
    "allow": "shown",
}


@click.command()
@click.option("--fast", is_flag=True, help="No pauses between messages.")
@click.option(
    "--text-only", is_flag=True, help="Only the link scanner on a scripted chat (no sandbox)."
)
@pass_context
def demo(ctx: CliContext, fast: bool, text_only: bool) -> None:
    """Watch Shield guard a local Discord and Twitch from a scripted troll raid.

    Starts the project's own local Discord and Twitch servers on 127.0.0.1, runs the real bot
    against them with a throw-away database, and shows live what it deleted and how fast.
    No account, no token, nothing leaves this machine.
    """
    console = Console(highlight=False)
    if not text_only:
        import asyncio
        import logging

        from bot.sandbox.demo import run_demo

        # The scene is the output; the bot's own notices (sandbox URLs, the private-address
        # switch that lets it fetch the local servers' media) would only clutter it.
        logging.getLogger().setLevel(logging.ERROR)
        for noisy in ("twitchio", "discord", "bot"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        interactive = sys.stdin.isatty() and sys.stdout.isatty() and not fast
        asyncio.run(run_demo(console, pause=0.0 if fast else 0.4, keep_open=interactive))
        return
    with tempfile.TemporaryDirectory(prefix="shield-demo-") as folder:
        settings = with_database(ctx.settings, Path(folder) / "demo.db")
        app = open_app(settings)
        try:
            scanner = app.link_scanner
            console.print("[bold]Shield demo[/]: a chat with trolls, scanned message by message.\n")
            for who, message, what in SCENE:
                started = time.perf_counter()
                verdict = scanner.scan(message)
                micros = (time.perf_counter() - started) * 1e6
                style = _STYLE[verdict.verdict]
                shown = message if message.isprintable() else ascii(message)[1:-1]
                console.print(f"[dim]{who}:[/] {escape(shown)}")
                console.print(
                    f"  [{style}]{verdict.verdict.upper():<6}[/] {_ACTION[verdict.verdict]}"
                    f"  [dim]({what}; {micros:.0f} µs)[/]"
                )
                for f in verdict.findings:
                    console.print(
                        f"         [dim]{f.signal} {f.value} -> {f.matched} ({f.source})[/]"
                    )
                if not fast:
                    time.sleep(0.4)
        finally:
            app.close()
