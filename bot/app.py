"""Wiring: settings, storage and detectors, built once at start-up and handed to their users."""

from __future__ import annotations

import getpass
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlite_utils import Database

from bot.core.scanner import LinkScanner, LinkScanOptions
from bot.settings import Settings, config_dir
from bot.storage import AuditRepo, BankRepo, CommunitySettingsRepo, ListRepo, open_database
from bot.storage.database import get_meta, set_meta

if TYPE_CHECKING:
    from bot.core.actions import Enforced
    from bot.media.matcher import MediaMatcher
    from bot.storage.cases import Case

log = logging.getLogger(__name__)


def cli_actor() -> str:
    """Who is acting when a command is typed on this machine, for provenance and the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


# What a running platform bot does for a decision made elsewhere (the dashboard):
# (case, "ban" or "timeout", actor) -> what was done and what failed. The caller audits.
PlatformAction = Callable[["Case", str, str], Awaitable["Enforced"]]
# A text-only message to a case's author: (case, text, actor) -> whether it was sent.
PlatformNotify = Callable[["Case", str, str], Awaitable["Enforced"]]


@dataclass
class App:
    """Everything a command or a platform needs, built once."""

    settings: Settings
    db: Database
    lists: ListRepo = field(init=False)
    banks: BankRepo = field(init=False)
    audit: AuditRepo = field(init=False)
    communities: CommunitySettingsRepo = field(init=False)
    # Registered by `shield run` while a platform's bot runs, keyed by platform ("discord",
    # "twitch"); empty for `shield dashboard` alone, which can then only record decisions.
    platform_actions: dict[str, PlatformAction] = field(init=False, default_factory=dict)
    platform_notify: dict[str, PlatformNotify] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.lists = ListRepo(self.db)
        self.banks = BankRepo(self.db)
        self.audit = AuditRepo(self.db)
        self.communities = CommunitySettingsRepo(self.db)

    @cached_property
    def link_scanner(self) -> LinkScanner:
        """A scanner over every enabled list, built from storage (rebuild after list changes)."""
        from bot.lists import build_link_index

        options = LinkScanOptions(
            lookalikes=self.settings.links.lookalikes,
            keywords=self.settings.links.keywords,
            max_text_chars=self.settings.links.max_text_chars,
        )
        return LinkScanner(build_link_index(self.lists), options)

    @cached_property
    def media_matcher(self) -> MediaMatcher:
        """A matcher over every enabled entry of every enabled bank, built from storage."""
        from bot.media.matcher import MediaMatcher

        return MediaMatcher.from_repo(self.banks, self.settings.matching)

    def reload(self) -> None:
        """Forget the scanners built from storage; the next use rebuilds them (after imports)."""
        self.__dict__.pop("link_scanner", None)
        self.__dict__.pop("media_matcher", None)

    def close(self) -> None:
        self.db.close()


def open_app(settings: Settings) -> App:
    """Open (or create) the database and load the starter lists into a new one."""
    db = open_database(settings.storage.database)
    app = App(settings=settings, db=db)
    if get_meta(db, "seeded") is None:
        from bot.lists import import_file

        for seed in settings.lists.seed:
            path = config_dir() / seed.file
            report = import_file(
                app, path, list_name=seed.list, tier=seed.tier, fmt="auto", actor="shield:seed"
            )
            log.info("loaded starter list %s: %d rules", seed.list, report.added)
        set_meta(db, "seeded", "1")
        db.conn.commit()
    return app
