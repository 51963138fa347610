"""A private event loop on a background thread: how a session's blocking methods work everywhere.

Every coroutine of a session (and of the client SDK under it) runs on this one loop, so the
client's sockets and HTTP pool never meet a second loop. :meth:`LoopThread.run` blocks the calling
thread until the coroutine is done, which works the same in a plain script, inside a running event
loop (a Jupyter cell), in an ipywidgets callback and on any Python 3.11+; :meth:`LoopThread.call`
awaits it from any other loop. No nesting of loops (``nest-asyncio``) anywhere.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """An asyncio loop running on its own daemon thread until :meth:`close`."""

    def __init__(self, name: str = "mtdata-session") -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._closed = False
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._finish()

    def _finish(self) -> None:
        """Cancel what is left, then close the loop (on the loop's own thread)."""
        loop = self._loop
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The private loop."""
        return self._loop

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._closed

    def on_loop(self) -> bool:
        """True on the private loop's own thread (where blocking on it would deadlock)."""
        return threading.current_thread() is self._thread

    def _submit(self, coro: Coroutine[Any, Any, T]) -> tuple[concurrent.futures.Future[T], Callable[[], None]]:
        """Start ``coro`` as a task on the loop: a future settled when the task is over, and a canceller."""
        if self._closed:
            coro.close()
            raise RuntimeError("the session is closed")
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        tasks: list[asyncio.Task[T]] = []

        def start() -> None:
            if not future.set_running_or_notify_cancel():
                coro.close()
                return
            tasks.append(self._loop.create_task(coro))
            tasks[0].add_done_callback(lambda task: _settle(task, future))

        def cancel() -> None:
            self._loop.call_soon_threadsafe(lambda: tasks and tasks[0].cancel())

        self._loop.call_soon_threadsafe(start)
        return future, cancel

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the private loop and block until it is done (Ctrl+C cancels it and waits for its cleanup)."""
        if self.on_loop():
            coro.close()
            raise RuntimeError("a blocking session method was called on the session's own loop; await its *_async twin")
        future, cancel = self._submit(coro)
        try:
            return future.result()
        except KeyboardInterrupt:
            cancel()
            with contextlib.suppress(BaseException):
                future.result(timeout=30)  # the task's finally blocks (cancelled requests, cache files) run first
            raise

    async def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` run on the private loop, from any loop (directly when already on it); cancelling the
        caller cancels the task and waits for its cleanup."""
        if self.on_loop():
            return await coro
        future, cancel = self._submit(coro)
        waiter = asyncio.wrap_future(future)
        try:
            return await asyncio.shield(waiter)
        except asyncio.CancelledError:
            cancel()
            with contextlib.suppress(BaseException):
                await waiter
            raise

    def close(self, timeout: float = 30) -> None:
        """Stop the loop (pending tasks are cancelled and awaited) and join the thread; idempotent."""
        if self._closed:
            return
        if self.on_loop():
            raise RuntimeError("close() called from the session's own loop; await close_async()")
        self._closed = True
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)


def _settle(task: asyncio.Task[T], future: concurrent.futures.Future[T]) -> None:
    """Copy a finished task's outcome to a concurrent future."""
    if task.cancelled():  # a running concurrent future cannot be cancel()ed: it gets the exception instead
        future.set_exception(concurrent.futures.CancelledError())
    elif task.exception() is not None:
        future.set_exception(task.exception())  # type: ignore[arg-type]
    else:
        future.set_result(task.result())
