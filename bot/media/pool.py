"""Hashing in worker processes: off the event loop, with a time limit, surviving crashed decoders.

Decoders are C code fed with hostile files: one may hang or kill its process. Each item runs in a
`ProcessPoolExecutor` (spawned workers: no inherited state); an item that takes longer than
hash_timeout_seconds, or whose worker dies, is reported unscannable and the pool is replaced, so
the next item runs on fresh workers.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeVar

from PIL import Image

from bot.core.sniff import sniff
from bot.media.hashing import MediaHashes, hash_media
from bot.settings import MediaSettings

log = logging.getLogger(__name__)

T = TypeVar("T")
Task = Callable[[bytes, MediaSettings], MediaHashes]

STARTUP_TIMEOUT: Final = 60.0  # seconds for fresh workers to start and import the decoders
ATTEMPTS: Final = 2  # the CLI path tries an item twice: the pool may have been broken before


class PoolError(Exception):
    """An item could not be hashed because of the worker, not the file's content."""


class WorkerCrashedError(PoolError):
    """The worker process died while running the item, even with the pool to itself."""


class WorkerTimeoutError(PoolError):
    """The item ran longer than hash_timeout_seconds."""


class _PoolBrokeError(Exception):
    """A worker died while this item ran; the culprit may be this item or another one."""


def _init_worker(settings: MediaSettings) -> None:
    """Worker set-up: Pillow's pixel cap follows the settings, and lazy imports happen now."""
    Image.MAX_IMAGE_PIXELS = settings.max_pixels  # process-wide, but this process is ours
    sample = io.BytesIO()
    Image.new("RGB", (64, 64), "grey").save(sample, "PNG")
    hash_media(sample.getvalue(), settings)  # imports scipy (pHash) before the first real item


def _ping() -> int:
    """A no-op task that makes a fresh pool start its workers before real items arrive."""
    return os.getpid()


def crash_worker(data: bytes, settings: MediaSettings) -> MediaHashes:
    """Test hook: the worker dies mid-item, as when a decoder segfaults on a hostile file."""
    os._exit(70)


def stall_worker(data: bytes, settings: MediaSettings) -> MediaHashes:
    """Test hook: the worker hangs, as when a decoder loops on a hostile file."""
    time.sleep(3600)
    raise AssertionError("unreachable")


def unscannable(data: bytes, reason: str) -> MediaHashes:
    """A result for a file the workers could not finish: exact hashes only, and the reason."""
    return MediaHashes(
        kind=sniff(data),
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        unscannable=True,
        reason=reason,
    )


class HashPool:
    """Runs `hash_media` in worker processes; `await pool.hash(data)` never blocks the loop."""

    def __init__(self, settings: MediaSettings, *, start_method: str = "spawn") -> None:
        self.settings = settings
        self.workers = settings.workers or os.cpu_count() or 1
        self.timeout = settings.hash_timeout_seconds
        self._context = multiprocessing.get_context(start_method)
        self._executor: ProcessPoolExecutor | None = None
        self._generation = 0  # bumped on each replacement, so one failure replaces the pool once
        self._slots: asyncio.Semaphore | None = None  # one per worker
        self._alone: asyncio.Lock | None = None  # held by an item re-run with the pool to itself
        self._lock: asyncio.Lock | None = None

    # --- async API ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the workers now rather than on the first item (optional)."""
        await self._ready()

    async def hash(self, data: bytes, *, task: Task = hash_media) -> MediaHashes:
        """Hash `data` in a worker; a crash or a timeout gives an unscannable result."""
        try:
            return await self.run(task, data, self.settings)
        except PoolError as exc:
            return unscannable(data, str(exc))

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a picklable function in a worker under the timeout and crash recovery."""
        if self._slots is None:
            self._slots, self._alone = asyncio.Semaphore(self.workers), asyncio.Lock()
        assert self._alone is not None
        # At most one item per worker is in flight, so the clock measures the item's own work,
        # not its wait in the executor's queue.
        async with self._slots:
            try:
                return await self._attempt(fn, args)
            except _PoolBrokeError:
                pass  # any item in flight may have killed the pool: try this one again, alone
        async with self._alone:
            for _ in range(self.workers):  # hold every slot: nothing else runs beside it
                await self._slots.acquire()
            try:
                return await self._attempt(fn, args)
            except _PoolBrokeError:
                raise WorkerCrashedError("the decoder crashed") from None
            finally:
                for _ in range(self.workers):
                    self._slots.release()

    async def _attempt(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        executor, generation = await self._ready()
        try:
            future = asyncio.get_running_loop().run_in_executor(executor, fn, *args)
            return await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            self._replace(generation, "an item timed out")
            raise WorkerTimeoutError(f"took longer than {self.timeout:g} s") from None
        except BrokenProcessPool:
            self._replace(generation, "a worker died")
            raise _PoolBrokeError from None

    async def _ready(self) -> tuple[ProcessPoolExecutor, int]:
        """The current executor, started and warmed up; startup time is not charged to items."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._executor is None:
                executor = self._new_executor()
                pings = [asyncio.wrap_future(executor.submit(_ping)) for _ in range(self.workers)]
                try:
                    await asyncio.wait_for(asyncio.gather(*pings), STARTUP_TIMEOUT)
                except (TimeoutError, BrokenProcessPool) as exc:
                    _kill(executor)
                    raise PoolError("the hashing workers could not start") from exc
                self._executor = executor
            return self._executor, self._generation

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> HashPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    # --- sync API, for the command line (never call from the event loop) ----------------------

    def hash_sync(self, data: bytes, *, task: Task = hash_media) -> MediaHashes:
        """Like `hash`, blocking; for the CLI."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                executor, generation = self._ready_sync()
            except PoolError as exc:
                return unscannable(data, str(exc))
            try:
                future: Future[MediaHashes] = executor.submit(task, data, self.settings)
                return future.result(timeout=self.timeout)
            except FutureTimeout:
                self._replace(generation, "an item timed out")
                return unscannable(data, f"took longer than {self.timeout:g} s")
            except BrokenProcessPool:
                self._replace(generation, "a worker died")
                if attempt == ATTEMPTS:
                    return unscannable(data, "the decoder crashed")
        raise AssertionError("unreachable")

    def hash_file(self, path: str | os.PathLike[str]) -> MediaHashes:
        """Read a file and hash it (the caller caps the size); for the CLI."""
        return self.hash_sync(Path(path).read_bytes())

    def _ready_sync(self) -> tuple[ProcessPoolExecutor, int]:
        if self._executor is None:
            executor = self._new_executor()
            try:
                for future in [executor.submit(_ping) for _ in range(self.workers)]:
                    future.result(timeout=STARTUP_TIMEOUT)
            except (FutureTimeout, BrokenProcessPool) as exc:
                _kill(executor)
                raise PoolError("the hashing workers could not start") from exc
            self._executor = executor
        return self._executor, self._generation

    def __enter__(self) -> HashPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- both ----------------------------------------------------------------------------------

    def pids(self) -> list[int]:
        """Process ids of the current workers (for tests and diagnostics)."""
        processes = getattr(self._executor, "_processes", None) or {}
        return sorted(processes)

    def close(self) -> None:
        """Stop the workers at once, abandoning any item in flight."""
        if self._executor is not None:
            _kill(self._executor)
            self._executor = None
            self._generation += 1

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self._context,
            initializer=_init_worker,
            initargs=(self.settings,),
        )

    def _replace(self, generation: int, why: str) -> None:
        """Throw away the pool that failed (once, however many items saw it fail)."""
        if generation != self._generation or self._executor is None:
            return
        log.warning("replacing the hashing workers: %s", why)
        self.close()


def _kill(executor: ProcessPoolExecutor) -> None:
    """Stop an executor whose workers may be stuck: shutdown() alone would wait for them."""
    # ProcessPoolExecutor has no public way to stop a running task before Python 3.14's
    # terminate_workers(); its process table is the documented-by-practice alternative.
    processes = list(getattr(executor, "_processes", {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.kill()
    for process in processes:
        process.join(timeout=5)
