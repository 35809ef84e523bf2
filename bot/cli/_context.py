"""What every command shares: global options, the lazily opened App, and output helpers."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass, field
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from bot.app import App, open_app
from bot.settings import Settings, load_settings, with_database


@dataclass
class CliContext:
    config_path: str | None
    db_path: str | None
    verbose: bool = False
    _settings: Settings | None = None
    _app: App | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            settings = load_settings(self.config_path)
            if self.db_path:
                settings = with_database(settings, self.db_path)
            # One-shot commands stay quiet below warnings unless asked (-v); the bot logs at the
            # configured level.
            level = settings.logging.level
            if not self.verbose and logging.getLevelName(level) < logging.WARNING:
                level = "WARNING"
            logging.basicConfig(
                level=level,
                stream=sys.stderr,
                format="%(levelname)s %(name)s: %(message)s",
            )
            self._settings = settings
        return self._settings

    @property
    def app(self) -> App:
        if self._app is None:
            self._app = open_app(self.settings)
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None


pass_context = click.make_pass_decorator(CliContext)


def add_row(table: Table, *cells: object) -> None:
    """A table row of user data, shown literally (a "[red]" in a list's source is not markup)."""
    table.add_row(*(escape(str(cell)) for cell in cells))


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=None))
