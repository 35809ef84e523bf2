"""`python -m bot.sandbox.discord [--port N]`: serve the default world and print its addresses."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from bot.sandbox.discord.model import Default
from bot.sandbox.discord.server import LocalDiscord


async def serve(port: int, heartbeat_ms: int) -> None:
    """Runs the default world until interrupted."""
    async with LocalDiscord(port=port, heartbeat_interval_ms=heartbeat_ms) as discord:
        print(f"REST base (discord.http.Route.BASE):          {discord.api_base}")
        print(f"gateway (DiscordWebSocket.DEFAULT_GATEWAY):  {discord.gateway_url}")
        print(f"bot token:                                   {discord.token}")
        print(f"guild {Default.GUILD}: #alerts {Default.ALERTS}, #general {Default.GENERAL}")
        print("Ctrl-C to stop.", flush=True)
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    parser.add_argument("--heartbeat-ms", type=int, default=41250, help="HELLO heartbeat interval")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.heartbeat_ms))


if __name__ == "__main__":
    main()
