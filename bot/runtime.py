"""`shield run` as one process: one storage, one detector, Discord and Twitch side by side.

Services are built once (fetcher, hashing pool, evidence vault, moderator) and handed to each
platform; a Twitch channel linked to a Discord server gets its alerts there; expired evidence
is shredded daily; subscribed lists are refreshed when due. SIGINT and SIGTERM stop everything
in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.app import App
from bot.errors import ShieldError
from bot.media.fetch import SafeFetcher
from bot.media.pool import HashPool
from bot.moderation import Handled, Moderator
from bot.review.vault import EvidenceVault, load_master_key
from bot.storage.cases import CaseRepo

if TYPE_CHECKING:
    from bot.core.context import ScanContext
    from bot.platforms.discord.client import ShieldBot
    from bot.platforms.twitch.client import ShieldTwitchBot

log = logging.getLogger(__name__)

RETENTION_EVERY_SECONDS = 24 * 3600  # how often expired evidence is shredded
SUBSCRIPTIONS_CHECK_SECONDS = 300  # how often list subscriptions are checked for being due
NOTHING_TO_RUN = (
    "nothing to run: set DISCORD_TOKEN for Discord, and/or TWITCH_CLIENT_ID (with "
    "TWITCH_CLIENT_SECRET, TWITCH_BOT_ID, TWITCH_BOT_TOKEN) and [[twitch.channels]] for Twitch"
)


def register_discord(app: App, bot: ShieldBot) -> None:
    """Let the dashboard ban, time out and DM on Discord through the running bot."""
    app.platform_actions["discord"] = bot.reviews.enforce
    app.platform_notify["discord"] = bot.reviews.notify


def register_twitch(app: App, bot: ShieldTwitchBot) -> None:
    """Let the dashboard ban, time out and whisper on Twitch through the running bot."""
    app.platform_actions["twitch"] = bot.act_on_case
    app.platform_notify["twitch"] = bot.notify_member


def unregister_platforms(app: App) -> None:
    for platform in ("discord", "twitch"):
        app.platform_actions.pop(platform, None)
        app.platform_notify.pop(platform, None)


@contextlib.asynccontextmanager
async def services(app: App) -> AsyncIterator[Moderator]:
    """The moderator with its fetcher, hashing pool and evidence vault, built once."""
    settings = app.settings
    vault = EvidenceVault(app.db, load_master_key(settings), settings)
    per_message = settings.discord.media_per_message
    if not (settings.fetch.enabled and settings.discord.scan_media):
        yield Moderator(app, vault=vault, media_per_message=per_message)
        return
    from bot.platforms.discord.runner import fetch_policy

    async with (
        SafeFetcher(settings.fetch, policy=fetch_policy(settings)) as fetcher,
        HashPool(settings.media) as pool,
    ):
        await pool.start()  # the first picture posted should not wait for processes to spawn
        yield Moderator(app, fetcher=fetcher, pool=pool, vault=vault, media_per_message=per_message)


async def _retention(app: App, stop: asyncio.Event) -> None:
    vault = EvidenceVault(app.db, None, app.settings)
    cases = CaseRepo(app.db)
    while not stop.is_set():
        count = vault.purge_expired(actor="shield:retention")
        if count:
            log.info("shredded %d evidence items past retention", count)
        cutoff = datetime.now(UTC) - timedelta(days=app.settings.vault.retention_days)
        expired = cases.expire_open(before=cutoff.isoformat(timespec="seconds"))
        if expired:
            log.info("%d cases nobody decided within retention are now expired", expired)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RETENTION_EVERY_SECONDS)


async def _subscriptions(
    app: App, stop: asyncio.Event, *, check_seconds: float = SUBSCRIPTIONS_CHECK_SECONDS
) -> None:
    """Refresh the list subscriptions that are due, until `stop`; a failure is logged, never
    fatal (a feed that is down must not stop the bot)."""
    from bot.lists import SUBSCRIPTION_ACTOR, refresh_subscriptions
    from bot.storage.subscriptions import SubscriptionRepo

    if not app.settings.fetch.enabled:
        count = len(SubscriptionRepo(app.db).all())
        if count:
            log.warning(
                "fetching is turned off ([fetch] enabled = false): %d list subscriptions will "
                "not be refreshed",
                count,
            )
        await stop.wait()
        return
    while not stop.is_set():
        refresh = asyncio.create_task(
            refresh_subscriptions(app, due_only=True, actor=SUBSCRIPTION_ACTOR),
            name="shield-subscriptions-refresh",
        )
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({refresh, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if not refresh.done():  # stopping: a download in flight is abandoned, nothing written
            refresh.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresh
            return
        if refresh.exception() is not None:
            log.error("refreshing list subscriptions failed", exc_info=refresh.exception())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), check_seconds)


@contextlib.asynccontextmanager
async def _dashboard(
    app: App,
    moderator: Moderator,
    wanted: bool,
    port: int | None,
    on_address: Callable[[str], None] | None,
) -> AsyncIterator[None]:
    """The review dashboard beside the bots, on [dashboard] host and port (or `port`)."""
    if not wanted:
        yield
        return
    from bot.review.web.app import start_dashboard

    runner = await start_dashboard(app, moderator.vault, port=port)
    host, bound = runner.addresses[0][:2]
    address = f"http://{host}:{bound}"
    log.info("review dashboard at %s (shield admin login-link NAME to sign in)", address)
    if on_address is not None:
        on_address(address)
    try:
        yield
    finally:
        await runner.cleanup()


async def run_shield(
    app: App,
    *,
    discord_token: str | None,
    sync_commands: bool = True,
    stop: asyncio.Event | None = None,
    dashboard: bool = True,
    dashboard_port: int | None = None,
    on_dashboard: Callable[[str], None] | None = None,
) -> None:
    """Run every configured platform, and the review dashboard, until SIGINT/SIGTERM, `stop`,
    or a fatal error. `on_dashboard` is told the dashboard's address once it listens."""
    from bot.platforms.twitch import linked_guild, run_twitch, twitch_configured

    want_twitch = twitch_configured(app.settings)
    if not discord_token and not want_twitch:
        raise ShieldError(NOTHING_TO_RUN)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    bots: list[ShieldBot] = []

    def discord_bot(bot: ShieldBot) -> None:
        bots.append(bot)
        register_discord(app, bot)

    async def alert_in_discord(handled: Handled, ctx: ScanContext) -> None:
        """A Twitch case goes to the alert channel of the Discord server linked to it."""
        guild_id = linked_guild(app.settings, ctx.community)
        guild = bots[0].get_guild(guild_id) if bots and guild_id else None
        if guild is not None and handled.case is not None:
            await bots[0].alerts.post(guild, handled.case, handled.plan.describe())

    try:
        async with (
            services(app) as moderator,
            _dashboard(app, moderator, dashboard, dashboard_port, on_dashboard),
        ):
            tasks = [
                asyncio.create_task(_retention(app, stop), name="shield-retention"),
                asyncio.create_task(_subscriptions(app, stop), name="shield-subscriptions"),
            ]
            if discord_token:
                from bot.platforms.discord.runner import run_discord

                tasks.append(
                    asyncio.create_task(
                        run_discord(
                            app,
                            moderator,
                            discord_token,
                            stop=stop,
                            sync_commands=sync_commands,
                            on_bot=discord_bot,
                        ),
                        name="discord",
                    )
                )
            if want_twitch:
                hook = alert_in_discord if discord_token else None
                tasks.append(
                    asyncio.create_task(
                        run_twitch(
                            app,
                            moderator,
                            stop=stop,
                            on_alert=hook,
                            on_bot=lambda bot: register_twitch(app, bot),
                        ),
                        name="twitch",
                    )
                )
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait([*tasks, stopped], return_when=asyncio.FIRST_COMPLETED)
            stop.set()  # one platform failing (or a signal) stops them all, in order
            stopped.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException) and not isinstance(
                    result, asyncio.CancelledError
                ):
                    raise result
    finally:
        unregister_platforms(app)  # the bots are gone: the dashboard only records again
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
