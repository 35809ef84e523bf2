"""The awaitable, append-only log both local servers record requests and events in."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Log(Generic[T]):
    """An append-only list whose items can be awaited; each awaited item is claimed once."""

    def __init__(self, describe: Callable[[T], str] = repr) -> None:
        self.items: list[T] = []
        self._claimed: set[int] = set()
        self._waiters: list[tuple[Callable[[T], bool], asyncio.Future[T]]] = []
        self._describe = describe

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def add(self, item: T) -> None:
        self.items.append(item)
        for waiter in list(self._waiters):
            predicate, future = waiter
            if not future.done() and predicate(item):
                self._claimed.add(len(self.items) - 1)
                self._waiters.remove(waiter)
                future.set_result(item)
                return

    def find(self, predicate: Callable[[T], bool]) -> list[T]:
        """All items matching, claimed or not."""
        return [item for item in self.items if predicate(item)]

    async def wait_for(self, predicate: Callable[[T], bool], timeout: float, what: str) -> T:
        """The first unclaimed item matching, waiting up to `timeout` seconds for one to arrive."""
        for index, item in enumerate(self.items):
            if index not in self._claimed and predicate(item):
                self._claimed.add(index)
                return item
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        waiter = (predicate, future)
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            seen = ", ".join(self._describe(i) for i in self.items[-10:]) or "nothing"
            raise TimeoutError(f"no {what} within {timeout}s; last seen: {seen}") from None
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
