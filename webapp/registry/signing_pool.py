"""Signing in parallel processes, for the bulk paths (the import, the mass reissue).

The workers are forked once, after the decrypted keys are set here, and inherit them with the process's
memory: a key is never pickled, sent through a pipe or written to disk. They get plain tuples and give
plain tuples back. With one process (or inside a web worker, which must not start processes) the work
runs here, in order, through the same functions.

`multiprocessing.Pool` forks every worker up front, before it starts any thread: forking later, beside
running threads, can copy a held lock into the child and hang it. Workers exit when their parent dies, as
their pipe closes, and are ended when the pool is closed.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from multiprocessing.pool import AsyncResult, Pool
from typing import Any, Generic, TypeVar

from flask import current_app, has_request_context

T = TypeVar("T")
R = TypeVar("R")

#: What forked workers read: the keys and whatever else the work needs, set before they are forked.
_forked: dict[str, Any] = {}
#: What the work reads while it runs here, in-process: its own pool's values, so that two pools in one process
#: (two threads of the development server, or a compromise's reissue run while an import signs) never read or
#: clear each other's.
_here: ContextVar[dict[str, Any] | None] = ContextVar("signing_pool_here", default=None)


def shared(name: str) -> Any:
    """A value the pool's owner shared with the workers (in a worker, or here when working in-process)."""
    here = _here.get()
    return (_forked if here is None else here)[name]


def processes() -> int:
    """How many signing processes a job or a command uses: SIGNING_PROCESSES, or one per core."""
    return int(current_app.config.get("SIGNING_PROCESSES") or os.cpu_count() or 1)


class _Done(Generic[R]):
    """A result computed here, shaped like `AsyncResult`."""

    def __init__(self, value: R) -> None:
        self.value = value

    def get(self) -> R:
        return self.value


class _Joined(Generic[R]):
    """The chunks' results of a `map_async`, joined in order when asked for."""

    def __init__(self, parts: AsyncResult) -> None:
        self.parts = parts

    def get(self) -> list[R]:
        return [result for part in self.parts.get() for result in part]


Pending = AsyncResult | _Done | _Joined


@contextlib.contextmanager
def _default_sigterm() -> Iterator[None]:
    """SIGTERM's default action for the workers forked meanwhile. They inherit the forking process's handlers: an RQ
    worker's (an in-process one, tests/webapp/queues.py) only asks it to stop after the job, so a worker told to
    `terminate` while it waited for the pool's queue lived on, and the abandoned pool's `join` hung forever. Python
    sets handlers only in the main thread; elsewhere the handlers are left as they are."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _leave_ctrl_c_to_the_parent() -> None:
    """A worker ignores SIGINT. Ctrl-C reaches the terminal's whole process group: a worker interrupted while it
    held the pool's task-queue lock died with it held, and the parent's `terminate` then waited on that lock for
    ever (the command hung after «Aborted!» was due). The parent stops them itself (SIGTERM) once interrupted."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class SigningPool:
    """`count` forked workers sharing `values` (decrypted keys among them), or none when `count` is 1."""

    def __init__(self, values: dict[str, Any], count: int) -> None:
        if count > 1 and has_request_context():
            raise RuntimeError("a web worker starts no processes: sign in the request, or start a job")
        self.values = values
        self.count = count
        self.pool: Pool | None = None
        if count > 1:
            _forked.clear()
            _forked.update(values)
            with _default_sigterm():
                self.pool = multiprocessing.get_context("fork").Pool(count, initializer=_leave_ctrl_c_to_the_parent)

    def here(self, work: Callable[[T], R], argument: T) -> R:
        """`work(argument)` in this process, reading this pool's values: a one-off beside the workers' batches."""
        token = _here.set(self.values)
        try:
            return work(argument)
        finally:
            _here.reset(token)

    def submit(self, work: Callable[[T], R], argument: T) -> Pending:
        if self.pool is None:
            return _Done(self.here(work, argument))
        return self.pool.apply_async(work, (argument,))

    def map_async(self, work: Callable[[list[T]], list[R]], items: list[T]) -> Pending:
        """`work` over `items` in one chunk per worker; `get()` gives the results in the items' order."""
        if self.pool is None or len(items) < self.count:
            return _Done(self.here(work, items))
        size = -(-len(items) // self.count)
        chunks = [items[start : start + size] for start in range(0, len(items), size)]
        return _Joined(self.pool.map_async(work, chunks))

    def close(self, finished: bool = True) -> None:
        """Let the workers end once their work is done; stop them at once (SIGTERM) only when it was abandoned."""
        if self.pool is not None:
            if finished:
                self.pool.close()
            else:
                self.pool.terminate()
            self.pool.join()
            _forked.clear()

    def __enter__(self) -> SigningPool:
        return self

    def __exit__(self, error_type: type[BaseException] | None, *_exc: object) -> None:
        self.close(finished=error_type is None)
