"""`make demo`: the real Shield, against the local Discord and Twitch, in a scripted scene.

Everything is real but the platforms: `shield run`'s own runtime (bot/runtime.py), the real
discord.py and twitchio clients, the SQLite database, the media pipeline and the vault. The
scene posts what trolls post and shows, live, what Shield did and how fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps
from rich.console import Console
from rich.markup import escape

from bot.app import App, open_app
from bot.media.banking import add_files
from bot.sandbox.discord import LocalDiscord
from bot.sandbox.discord.model import Default as D  # noqa: N817 (the tests' short name)
from bot.sandbox.twitch import LocalTwitch
from bot.sandbox.wiring import sandbox_config

WAIT_FOR_ACTION_S = 4.0  # how long the scene waits to see Shield act on a message
QUIET_S = 0.8  # after this long with nothing done, a clean message counts as left alone
MEDIA_QUIET_S = 3.0  # the same for a message with media (downloaded and hashed first)


def streamer_photo() -> Image.Image:
    """A generated stand-in for a picture of the streamer that is being faked."""
    rng = np.random.default_rng(2023)
    small = (rng.random((24, 32, 3)) * 255).astype("uint8")
    return Image.fromarray(small).resize((800, 600), Image.Resampling.BICUBIC)


def encoded(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


@dataclass
class Step:
    platform: str  # discord or twitch
    who: str
    text: str
    shows: str
    send: Callable[[], Awaitable[Any]]  # posts it; returns the sandbox's record of it
    media: bool = False  # media takes longer: downloaded and hashed in another process


class Scene:
    """Plays steps and reads, from what the local servers received, what Shield did."""

    def __init__(self, discord: LocalDiscord, twitch: LocalTwitch, console: Console) -> None:
        self.discord = discord
        self.twitch = twitch
        self.console = console

    async def discord_outcome(
        self, message: dict[str, Any], quiet: float
    ) -> tuple[str, float | None]:
        message_id, channel = str(message["id"]), str(message["channel_id"])
        sent = self.discord.dispatched_at(message_id) or time.perf_counter()
        path = f"/channels/{channel}/messages/{message_id}"
        deadline = time.perf_counter() + WAIT_FOR_ACTION_S
        while time.perf_counter() < deadline:
            for request in self.discord.find_requests(path=path):
                if request.method == "DELETE":
                    return "deleted", (request.at - sent) * 1000
                if request.method == "PATCH":
                    return "preview hidden, held for review", (request.at - sent) * 1000
            replies = self.discord.find_requests("POST", f"/channels/{channel}/messages")
            if any(r.at >= sent for r in replies):
                return "answered with where to report; moderators alerted", None
            if time.perf_counter() - sent > quiet:
                return "left alone", None
            await asyncio.sleep(0.02)
        return "left alone", None

    async def twitch_outcome(self, delivery: Any, quiet: float) -> tuple[str, float | None]:
        deadline = time.perf_counter() + WAIT_FOR_ACTION_S
        while time.perf_counter() < deadline:
            latency = self.twitch.delete_latency(delivery)
            if latency is not None:
                return "deleted", latency * 1000
            if time.perf_counter() - delivery.at > quiet:
                return "left alone", None
            await asyncio.sleep(0.02)
        return "left alone", None

    async def play(self, steps: list[Step], *, pause: float) -> dict[str, int]:
        counts: dict[str, int] = {}
        for step in steps:
            shown = step.text if step.text.isprintable() else ascii(step.text)[1:-1]
            tag = "[magenta]Discord[/]" if step.platform == "discord" else "[cyan]Twitch[/] "
            self.console.print(f"{tag} [dim]{step.who}:[/] {escape(shown)}")
            record = await step.send()
            quiet = MEDIA_QUIET_S if step.media else QUIET_S
            if step.platform == "discord":
                outcome, ms = await self.discord_outcome(record, quiet)
            else:
                outcome, ms = await self.twitch_outcome(record, quiet)
            style = {"deleted": "bold red", "left alone": "green"}.get(outcome, "bold yellow")
            timing = f" in {ms:.0f} ms" if ms is not None else ""
            self.console.print(
                f"        [{style}]{outcome}{timing}[/]  [dim]({escape(step.shows)})[/]"
            )
            key = outcome.split(",")[0].split(";")[0]
            counts[key] = counts.get(key, 0) + 1
            await asyncio.sleep(pause)
        return counts


async def run_demo(
    console: Console, *, pause: float = 0.4, keep_open: bool = False
) -> dict[str, int]:
    """Start the sandboxes and Shield, play the scene, stop everything; returns the outcomes."""
    from bot.runtime import run_shield
    from bot.settings import load_settings

    with tempfile.TemporaryDirectory(prefix="shield-demo-") as folder:
        home = Path(folder)
        async with LocalDiscord(heartbeat_interval_ms=1000) as discord, LocalTwitch() as twitch:
            config, env = sandbox_config(home, discord=discord, twitch=twitch)
            app = open_app(load_settings(config, env=env))
            try:
                return await _scene(
                    app, discord, twitch, console, pause, home, run_shield, keep_open
                )
            finally:
                app.close()


async def _scene(
    app: App,
    discord: LocalDiscord,
    twitch: LocalTwitch,
    console: Console,
    pause: float,
    home: Path,
    run_shield: Callable[..., Coroutine[Any, Any, None]],
    keep_open: bool,
) -> dict[str, int]:
    photo = streamer_photo()
    vault_file = home / "my-photo.png"
    photo.save(vault_file)
    add_files(app.banks, app.audit, [vault_file], bank="my-vault", tier=None,
              actor="cli:streamer", settings=app.settings)  # fmt: skip
    for community in (f"discord:{D.GUILD}", "twitch:streamer"):
        app.communities.set(community, "repeat_offence", "timeout", updated_by="demo")
    console.print(
        "[bold]Shield demo[/]: the streamer hashed one private photo into their vault "
        "([italic]shield bank add --bank my-vault my-photo.png[/]); trolls arrive.\n"
    )
    stop = asyncio.Event()
    dashboard: list[str] = []
    shield = asyncio.create_task(
        run_shield(
            app, discord_token=D.TOKEN, stop=stop, dashboard_port=0, on_dashboard=dashboard.append
        )
    )
    try:
        await asyncio.wait_for(twitch.wait_for_subscription("channel.chat.message", timeout=20), 25)
        await discord.wait_for_request("PUT", None, timeout=20)  # slash commands published
        await asyncio.sleep(0.5)
        copy = encoded(ImageOps.mirror(photo).resize((400, 300)), "JPEG", quality=70)
        copy_url = discord.add_file("pic.jpg", copy, "image/jpeg")

        async def say(author: int, text: str, **options: Any) -> dict[str, Any]:
            return await discord.send_message(D.GENERAL, author, text, **options)

        async def forwarded() -> dict[str, Any]:
            source = await discord.send_message(D.FORUM_POST, D.OWNER, "mirror: undress[.]app")
            return await discord.forward(D.GENERAL, D.MEMBER, D.FORUM_POST, int(source["id"]))

        async def dm() -> dict[str, Any]:
            return await discord.dm(D.MEMBER, "someone sent me this: clothoff.io/her")

        async def chat(who: str, text: str) -> Any:
            return await twitch.chat_message("streamer", who, text)

        photo_png = encoded(photo, "PNG")

        def post(who: str, text: str, shows: str, author: int = D.MEMBER) -> Step:
            return Step("discord", who, text, shows, lambda: say(author, text))

        def said(who: str, text: str, shows: str) -> Step:
            return Step("twitch", who, text, shows, lambda: chat(who, text))

        photo_step = Step(
            "discord", "troll", "(posts the streamer's photo)", "a known image from the vault",
            lambda: say(D.MEMBER, "", attachments=[("photo.png", photo_png, "image/png")]),
            media=True,
        )  # fmt: skip
        copy_step = Step(
            "discord", "troll", "(posts a mirrored, resized JPEG of it)", "an edited copy",
            lambda: say(D.MEMBER, "", attachments=[("edit.jpg", copy, "image/jpeg")]),
            media=True,
        )  # fmt: skip
        steps = [
            post("viewer", "gg that clutch was insane", "ordinary chat"),
            post("troll", "lol look what someone made of her: clothoff.io", "a listed nudify site"),
            post("troll", "clothoff[.]io (remove the brackets)", "defanged link"),
            post("troll", "c l o t h o f f . i o", "spaced-out letters"),
            post("troll", "[cute cats](https://streams.example@mrdeepfakes.com/)",
                 "masked link, user name trick"),
            photo_step,
            copy_step,
            Step("discord", "troll", "(forwards a post with undress[.]app)",
                 "a forwarded message", forwarded),
            post("troll", "cl\u043ethoff.io is the new mirror", "Cyrillic look-alike"),
            Step("discord", "DM to Shield", "someone sent me this: clothoff.io/her",
                 "a member reports by DM", dm),
            said("viewer1", "hype! PogChamp", "ordinary Twitch chat"),
            said("viewer2", "free pics at clothoff dot io", "spelled-out dot"),
            Step("twitch", "viewer2", f"look {copy_url}", "a link to the edited copy",
                 lambda: chat("viewer2", f"look {copy_url}"), media=True),
        ]  # fmt: skip
        counts = await Scene(discord, twitch, console).play(steps, pause=pause)
        await asyncio.sleep(0.5)
        alerts = len(discord.find_requests("POST", f"/channels/{D.ALERTS}/messages"))
        cases = app.db.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
        console.print(
            f"\n{alerts} alerts went to the moderators' #alerts channel (text only, never the "
            f"media); {cases} cases are in the database, with hashes and metadata."
        )
        if dashboard:
            from bot.review.web.accounts import login_link

            link = login_link(app, "demo-moderator", by="demo", role="admin")
            local = link.replace(link.split("/login/")[0], dashboard[0])
            if keep_open:
                console.print(f"Review the cases in the dashboard: [bold]{local}[/]")
            else:
                console.print("(Run `make demo` in a terminal to keep the review dashboard open.)")
        if keep_open:
            console.print("Press Enter to stop the demo.")
            with contextlib.suppress(EOFError, KeyboardInterrupt):
                await asyncio.to_thread(input)
        return counts
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(shield, 15)
