"""Jinja2 templates with autoescaping everywhere, and the filters the pages use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def https_url(value: object) -> str | None:
    """A link target only if it is an https URL: a stored jump link is never `javascript:`."""
    text = str(value or "")
    if text.startswith("https://") and all(c.isprintable() and not c.isspace() for c in text):
        return text
    return None


def when(value: object) -> str:
    """An ISO time as `2026-05-19 14:03` (UTC), short enough for tables."""
    text = str(value or "")
    return text[:16].replace("T", " ") if len(text) >= 16 else text


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)


def size(value: float | None) -> str:
    number = float(value or 0)
    for unit in ("B", "KB", "MB"):
        if number < 1024:
            return f"{number:.0f} {unit}" if unit == "B" else f"{number:.1f} {unit}"
        number /= 1024
    return f"{number:.1f} GB"


class Templates:
    """Renders the pages; every value is escaped unless a template says otherwise (none do)."""

    def __init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(https_url=https_url, when=when, as_json=as_json, size=size)

    def render(self, template: str, /, **values: Any) -> str:
        return self.env.get_template(template).render(**values)
