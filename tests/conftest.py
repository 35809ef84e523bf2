"""Shared fixtures: a scanner over given rules, a fresh database, and the real `shield` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest
from aiohttp import web

from bot.app import App, open_app
from bot.core.linkindex import LinkIndexBuilder
from bot.core.rules import parse_rule
from bot.core.scanner import LinkScanner
from bot.core.verdict import Tier
from bot.settings import load_settings, with_database

# The starter list shipped in config/, as (rule, list, tier) for core tests that need no database.
STARTER_RULES: tuple[tuple[str, str, str], ...] = (
    ("clothoff.io", "deepfake-sites", "block"),
    ("mrdeepfakes.com", "deepfake-sites", "block"),
    ("undress.app", "deepfake-sites", "block"),
    ("pornpen.ai", "deepfake-sites", "review"),
    ("keyword:crushai", "deepfake-sites", "review"),
    ("keyword:clothoff", "deepfake-sites", "review"),
    ("keyword:nudify", "deepfake-sites", "review"),
    ("keyword:undress ai", "deepfake-sites", "review"),
    ("keyword:deepnude", "deepfake-sites", "review"),
    ("t.me/deepfakechan", "telegram", "block"),
    ("imgur.com/a/badalbum", "albums", "block"),
    ("203.0.113.7", "ips", "block"),
    ("discord.com", "platform-allow", "allow"),
    ("discordapp.com", "platform-allow", "allow"),
    ("twitch.tv", "platform-allow", "allow"),
)


def make_scanner(rules: Iterable[tuple[str, str, str]] = STARTER_RULES) -> LinkScanner:
    builder = LinkIndexBuilder()
    for text, list_name, tier in rules:
        rule = parse_rule(text)
        builder.add(rule.kind, rule.value, list_name, Tier(tier))
    return LinkScanner(builder.build())


@pytest.fixture(scope="session")
def scanner() -> LinkScanner:
    return make_scanner()


@pytest.fixture
def app(tmp_path: Path) -> Iterable[App]:
    settings = with_database(load_settings(env={}), tmp_path / "shield.db")
    vault = msgspec.structs.replace(settings.vault, key_file=str(tmp_path / "shield-vault.key"))
    application = open_app(msgspec.structs.replace(settings, vault=vault))
    yield application
    application.close()


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


Shield = Callable[..., Result]


@pytest.fixture
def shield(tmp_path: Path) -> Shield:
    """Run the installed `shield` command (as `python -m bot`) against a database in tmp_path."""

    def run(
        *args: str,
        db: Path | None = None,
        stdin: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Result:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SHIELD_")}
        environment.update(env or {})
        command = [sys.executable, "-m", "bot", "--db", str(db or tmp_path / "shield.db"), *args]
        done = subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            text=True,
            env=environment,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture
async def media_server() -> AsyncIterator[tuple[str, dict[str, bytes]]]:
    """A local web server standing in for Discord's CDN: it serves whatever a test puts in."""
    files: dict[str, bytes] = {}

    async def serve(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in files:
            raise web.HTTPNotFound()
        return web.Response(body=files[name], content_type="application/octet-stream")

    app = web.Application()
    app.router.add_get("/files/{name}", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/files", files
    await runner.cleanup()
