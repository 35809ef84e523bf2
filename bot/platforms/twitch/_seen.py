"""A bounded memory of ids already handled: EventSub delivers at least once, some twice."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

DEFAULT_SIZE: Final = 20_000  # ids remembered; a raid of 300 messages/s fills it in a minute


class SeenIds:
    """An LRU set: `first(*keys)` is True once per id and marks every key given as seen.

    It is synchronous on purpose: twitchio runs each delivery in its own task, so two copies of
    one event race; the check and the mark must happen before either task awaits anything.
    """

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first(self, *keys: str | None) -> bool:
        """True if none of `keys` was seen before; all of them are remembered either way."""
        present = [k for k in keys if k]
        new = not any(k in self._ids for k in present)
        for key in present:
            self._ids[key] = None
            self._ids.move_to_end(key)
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return new

    def __len__(self) -> int:
        return len(self._ids)


class Cooldown:
    """At most one event per key per `seconds` (e.g. one whispered reply per sender)."""

    def __init__(
        self, seconds: float, *, size: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.size = size
        self._clock = clock
        self._last: OrderedDict[str, float] = OrderedDict()

    def ready(self, key: str) -> bool:
        """True (and the clock restarts for `key`) if `key` is not cooling down."""
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self.seconds:
            return False
        self._last[key] = now
        self._last.move_to_end(key)
        while len(self._last) > self.size:
            self._last.popitem(last=False)
        return True
