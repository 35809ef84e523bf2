"""A stacked bar chart laid out in Python and drawn as inline SVG by the template (no JS)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 760, 240  # SVG user units (pixels at 100 %)
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 10, 34  # margins for the axis labels


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: str  # the CSS class that colours it
    title: str  # shown on hover, and read by screen readers


@dataclass(frozen=True, slots=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    left: int
    bottom: float  # y of the x axis
    right: float  # x where the plot ends
    bars: list[Bar]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    series: Sequence[str]
    totals: dict[str, int]


def _nice_max(value: int) -> int:
    """A round, even axis maximum at or above `value` (2, 4, 6, 10, 20, 40, 60, 100...), so the
    middle grid line is a whole number too."""
    if value <= 2:
        return 2
    power = int(10 ** math.floor(math.log10(value)))
    for step in (1, 2, 4, 6, 10):
        if step * power >= value and step * power % 2 == 0:
            return step * power
    return 10 * power


def stacked_bars(days: Sequence[tuple[date, Counter[str]]], series: Sequence[str]) -> Chart:
    """One bar per day, one segment per series (bottom to top in `series` order)."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    peak = _nice_max(max((sum(c.values()) for _, c in days), default=0))
    slot = plot_w / max(len(days), 1)
    bars: list[Bar] = []
    x_ticks: list[Tick] = []
    every = max(1, math.ceil(len(days) / 8))  # about eight date labels, whatever the range
    for i, (day, counts) in enumerate(days):
        x = LEFT + i * slot + slot * 0.15
        base: float = TOP + plot_h
        for name in series:
            n = counts.get(name, 0)
            if not n:
                continue
            h = plot_h * n / peak
            base -= h
            title = f"{day.isoformat()}: {n} {name}"
            bars.append(
                Bar(round(x, 1), round(base, 1), round(slot * 0.7, 1), round(h, 1), name, title)
            )
        if i % every == 0:
            x_ticks.append(Tick(round(x + slot * 0.35, 1), day.strftime("%d %b")))
    y_ticks = [Tick(round(TOP + plot_h * (1 - n / peak), 1), str(n)) for n in (0, peak // 2, peak)]
    totals = {name: sum(c.get(name, 0) for _, c in days) for name in series}
    return Chart(
        WIDTH, HEIGHT, LEFT, TOP + plot_h, WIDTH - RIGHT, bars, x_ticks, y_ticks, series, totals
    )
