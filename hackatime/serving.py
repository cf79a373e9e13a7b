"""Serving the app with uvicorn, bounded so that slow or greedy clients cannot take it down.

uvicorn times out idle keep-alive connections but waits forever for a request head that never
ends, or for a connection that never sends a byte; `_GuardedH11Protocol` closes those after
`request_timeout_seconds`. (A body that stops arriving is api/common.py's `read_json`'s
concern: it answers 408.) Running out of file descriptors makes asyncio stop accepting for a
second and log a traceback each time; `_OutOfDescriptors` makes that one line a minute.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import time
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from hackatime.config import Settings

_log = logging.getLogger("hackatime.serving")
# The most often the log is told that file descriptors ran out.
_DESCRIPTOR_REPORT_SECONDS = 60.0
_OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE)


def run(app: Any, settings: Settings) -> None:
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        timeout_graceful_shutdown=10,
        timeout_keep_alive=settings.keep_alive_seconds,
        limit_concurrency=settings.max_connections,
        backlog=settings.backlog,
        http=guarded_protocol(settings.request_timeout_seconds),
    )
    asyncio.run(_serve(uvicorn.Server(config)))


async def _serve(server: uvicorn.Server) -> None:
    asyncio.get_running_loop().set_exception_handler(_OutOfDescriptors())
    await server.serve()


def guarded_protocol(head_timeout: float) -> type[H11Protocol]:
    return type("GuardedH11Protocol", (_GuardedH11Protocol,), {"head_timeout": head_timeout})


class _GuardedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 with a deadline for each request head: from the moment a connection
    opens, or from the first byte of the next request on a kept-alive one."""

    head_timeout = 10.0
    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch_head()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_watching()
        super().connection_lost(exc)

    def _watch_head(self) -> None:
        # h11 stays IDLE until a whole head has arrived. An idle kept-alive connection is
        # uvicorn's keep-alive timer's to close: this one is armed only by connection_made
        # and by bytes that begin a head, and never re-armed while it runs.
        if self.conn.their_state is not h11.IDLE or self.transport.is_closing():
            self._stop_watching()
        elif self._head_deadline is None:
            self._head_deadline = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def _stop_watching(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


class _OutOfDescriptors:
    """The loop's exception handler: out of file descriptors is one line a minute at most.

    asyncio itself pauses accepting for a second and tries again, so service comes back as
    soon as connections close; only its report, a traceback a second, needs taming.
    """

    def __init__(self) -> None:
        self._next_report = 0.0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if not (isinstance(error, OSError) and error.errno in _OUT_OF_DESCRIPTORS):
            loop.default_exception_handler(context)
            return
        now = time.monotonic()
        if now < self._next_report:
            return
        self._next_report = now + _DESCRIPTOR_REPORT_SECONDS
        soft_limit, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        _log.warning(
            "out of file descriptors (limit %d): new connections wait until others close;"
            " raise LimitNOFILE or lower HACKATIME_MAX_CONNECTIONS",
            soft_limit,
        )
