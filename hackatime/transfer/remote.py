"""Pulling a user's heartbeats from a running WakaTime-compatible server (WakaTime, Wakapi,
Hackatime, or another instance of this one), one day at a time through
`users/current/heartbeats?date=`.

Politely: at most `requests_per_second`, and a 429 or 5xx answer (or a dropped connection) is
tried again after the server's Retry-After, else after a doubling backoff. Blocking stdlib
urllib, so the importer runs it in its worker thread; no runtime dependency is added for it.
Resuming needs no state: heartbeats already stored are recognised by the importer.

The key goes only to the server named: a redirect to another origin (scheme, host or port) is
refused rather than followed without the key, which is simpler and leaves nothing to get wrong
(urllib would copy the Authorization header to any host, or to plain http). An answer is read
up to `max_answer_bytes` (a day of heartbeats is far less) and refused past it.
"""

from __future__ import annotations

import base64
import http.client
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import IO, Any

import orjson

from hackatime.transfer.readers import names_by_id, resolve

USER_AGENT = "hackatime-import"
_RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
_MAX_WAIT_SECONDS = 300.0
MAX_ANSWER_BYTES = 64 * 1024 * 1024
# Only the error message of a refusal is read from its body.
_MAX_REFUSAL_BYTES = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}


class RemoteError(RuntimeError):
    """The server refused or kept failing; the message says which request and why."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, parts.hostname, parts.port or _DEFAULT_PORTS.get(scheme)


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect within the origin asked, and refuses one elsewhere."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if _origin(newurl) != _origin(req.full_url):
            fp.close()
            raise RemoteError(
                f"GET {req.full_url}: {code} redirects to another server ({newurl});"
                " not followed, so that the key goes nowhere else"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_SameOriginRedirects())


@dataclass
class RemoteServer:
    base_url: str
    key: str
    requests_per_second: float = 5.0
    attempts: int = 6
    backoff_seconds: float = 1.0
    timeout_seconds: float = 60.0
    max_answer_bytes: int = MAX_ANSWER_BYTES
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _next_request_at: float = field(default=0.0, init=False, repr=False)

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        """The decoded JSON answer of GET base_url/path, retried as the module says."""
        url = self.base_url.rstrip("/") + "/" + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        token = base64.b64encode(self.key.encode()).decode()
        request = urllib.request.Request(
            url,
            headers={
                "Authorization": f"Basic {token}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
        )
        for attempt in range(1, self.attempts + 1):
            self._wait_for_turn()
            try:
                with _OPENER.open(request, timeout=self.timeout_seconds) as response:
                    body = response.read(self.max_answer_bytes + 1)
                if len(body) > self.max_answer_bytes:
                    raise RemoteError(
                        f"GET {url}: the answer is longer than {self.max_answer_bytes} bytes"
                    )
                return orjson.loads(body)
            except urllib.error.HTTPError as error:
                if error.code not in _RETRIED_STATUSES or attempt == self.attempts:
                    raise RemoteError(_refusal(url, error), error.code) from None
                retry_after = _retry_after(error.headers.get("Retry-After"))
                self.sleep(self._backoff(attempt) if retry_after is None else retry_after)
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                if attempt == self.attempts:
                    reason = getattr(error, "reason", error)
                    raise RemoteError(f"GET {url}: {reason}") from None
                self.sleep(self._backoff(attempt))
            except orjson.JSONDecodeError:
                raise RemoteError(f"GET {url}: the answer is not JSON") from None
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_seconds * 2 ** (attempt - 1), _MAX_WAIT_SECONDS)

    def _wait_for_turn(self) -> None:
        now = self.clock()
        if now < self._next_request_at:
            self.sleep(self._next_request_at - now)
            now = self._next_request_at
        self._next_request_at = now + 1 / self.requests_per_second

    def optional_list(self, path: str) -> list[Any]:
        """`data` of a listing only some servers have (WakaTime's user agents, machine names):
        empty where the server answers 404."""
        try:
            answer = self.get(path)
        except RemoteError as error:
            if error.status == 404:
                return []
            raise
        data = answer.get("data") if isinstance(answer, dict) else None
        return data if isinstance(data, list) else []


def _refusal(url: str, error: urllib.error.HTTPError) -> str:
    try:
        detail = orjson.loads(error.read(_MAX_REFUSAL_BYTES)).get("error")
    except (orjson.JSONDecodeError, AttributeError, OSError):
        detail = None
    return f"GET {url}: {error.code} {detail or error.reason}"


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = (moment - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), _MAX_WAIT_SECONDS)


@dataclass
class RemoteHistory:
    """The heartbeats of first..last as one stream of API-shaped dicts, and how many days have
    been fetched (the import's progress)."""

    server: RemoteServer
    first: date
    last: date
    days_done: int = 0

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def heartbeats(self) -> Iterator[dict[str, Any]]:
        agents = names_by_id(self.server.optional_list("users/current/user_agents"), ("value",))
        machines = names_by_id(self.server.optional_list("users/current/machine_names"), ("name",))
        for offset in range(self.days):
            day = self.first + timedelta(days=offset)
            answer = self.server.get("users/current/heartbeats", {"date": day.isoformat()})
            data = answer.get("data") if isinstance(answer, dict) else None
            if not isinstance(data, list):
                raise RemoteError(f"heartbeats of {day}: the answer has no 'data' list")
            self.days_done = offset + 1
            for item in data:
                if isinstance(item, dict):
                    # WakaTime names user agents and machines by id; others by value.
                    resolve(item, agents, machines, None)
                yield item

    def position(self) -> int:
        return self.days_done


def account_start(server: RemoteServer) -> date | None:
    """The day the remote account was made (`created_at` of users/current), if it says."""
    answer = server.get("users/current")
    profile = answer.get("data") if isinstance(answer, dict) else None
    created = profile.get("created_at") if isinstance(profile, dict) else None
    if not isinstance(created, str):
        return None
    try:
        return datetime.fromisoformat(created.replace("Z", "+00:00")).date()
    except ValueError:
        return None
