"""Streaming readers for files of heartbeats: WakaTime's data dump, Hackatime's export and this
server's own export, plain, gzipped or as the one JSON file in a zip.

Each yields the file's heartbeats one at a time as the dicts the API accepts (epoch-second
times, `user_agent` and `machine` as text), so a file of any size is read in bounded memory.
Checking them is heartbeats.normalise's job, not the reader's.

WakaTime's dump (`{"user", "range", "days": [{"date", "heartbeats": [...]}]}`) names each
heartbeat's user agent and machine only by id (`user_agent_id`, `machine_name_id`); WakaTime's
API lists them at `users/current/user_agents` and `machine_names`. A dump that carries those
lists as top-level `user_agents` and `machines` (before `days`) has them resolved; otherwise a
heartbeat takes the dump user's `last_plugin` as its user agent. Hackatime's export
(`{"export_info", "heartbeats": [...]}`) writes each heartbeat's user agent and machine out,
with ISO 8601 times.
"""

from __future__ import annotations

import gzip
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import ijson

WAKATIME_DUMP = "WakaTime data dump"
HACKATIME_EXPORT = "Hackatime export"
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
# Top-level keys read before the heartbeats; everything else at the top is skipped.
_PRELUDE_KEYS = ("user", "user_agents", "machines")
# Where the heartbeats sit in each layout, by the top-level key that holds them.
_HEARTBEATS_AT = {"days": "days.item.heartbeats.item", "heartbeats": "heartbeats.item"}
_KINDS = {"days": WAKATIME_DUMP, "heartbeats": HACKATIME_EXPORT}


class DumpError(ValueError):
    """The file cannot be read as a dump; the message says where and why."""


@dataclass
class Dump:
    kind: str
    username: str | None
    last_plugin: str | None
    # Bytes of the file as stored (compressed, for a gzipped one), and how far reading got.
    size: int
    position: Callable[[], int]
    heartbeats: Iterator[dict[str, Any]]


@contextmanager
def open_dump(path: Path) -> Iterator[Dump]:
    """The dump at `path`, its heartbeats read as they are iterated."""
    try:
        size = path.stat().st_size
        with _open(path) as (raw, stream):
            layout, prelude = _read_prelude(path, stream, raw)
    except OSError as error:
        raise DumpError(f"{path}: {error.strerror or error}") from None
    user = prelude.get("user") if isinstance(prelude.get("user"), dict) else {}
    last_plugin = _text_or_none(user.get("last_plugin"))
    agents = names_by_id(prelude.get("user_agents"), ("value",))
    machines = names_by_id(prelude.get("machines"), ("name", "value"))
    with _open(path) as (raw, stream):
        items = ijson.items(stream, _HEARTBEATS_AT[layout], use_float=True)
        yield Dump(
            kind=_KINDS[layout],
            username=_text_or_none(user.get("username")),
            last_plugin=last_plugin,
            size=size,
            position=raw.tell,
            heartbeats=_heartbeats(path, raw, items, agents, machines, last_plugin),
        )


@contextmanager
def _open(path: Path) -> Iterator[tuple[IO[bytes], IO[bytes]]]:
    """The file as stored, and its JSON: itself, gunzipped, or the one .json in a zip (what
    Hackatime mails)."""
    with path.open("rb") as raw:
        head = raw.read(4)
        raw.seek(0)
        if head[:2] == _GZIP_MAGIC:
            with gzip.GzipFile(fileobj=raw) as stream:
                yield raw, stream
        elif head == _ZIP_MAGIC:
            with _zip_member(path, raw) as stream:
                yield raw, stream
        else:
            yield raw, raw


@contextmanager
def _zip_member(path: Path, raw: IO[bytes]) -> Iterator[IO[bytes]]:
    try:
        archive = zipfile.ZipFile(raw)
    except zipfile.BadZipFile as error:
        raise DumpError(f"{path}: a damaged zip ({error})") from None
    with archive:
        members = [
            member
            for member in archive.infolist()
            if member.filename.lower().endswith(".json") and not member.is_dir()
        ]
        if len(members) != 1:
            found = len(members)
            raise DumpError(f"{path}: the zip holds {found} .json files; import reads exactly one")
        with archive.open(members[0]) as stream:
            yield stream


def _read_prelude(path: Path, stream: IO[bytes], raw: IO[bytes]) -> tuple[str, dict[str, Any]]:
    """Which layout the file has, and the small top-level values that come before its
    heartbeats; reading stops where the heartbeats begin."""
    prelude: dict[str, Any] = {}
    builder: ijson.ObjectBuilder | None = None
    current = ""
    with _dump_errors(path, raw):
        for prefix, event, value in ijson.parse(stream, use_float=True):
            if prefix == "":
                if builder is not None:
                    prelude[current] = builder.value
                    builder = None
                if event == "map_key":
                    if value in _HEARTBEATS_AT:
                        return value, prelude
                    if value in _PRELUDE_KEYS:
                        current, builder = value, ijson.ObjectBuilder()
                elif event != "start_map":
                    break
            elif builder is not None:
                builder.event(event, value)
    raise DumpError(
        f"{path}: not a WakaTime data dump (no top-level 'days')"
        " nor a Hackatime export (no top-level 'heartbeats')"
    )


def _heartbeats(
    path: Path,
    raw: IO[bytes],
    items: Iterator[Any],
    agents: dict[str, str],
    machines: dict[str, str],
    last_plugin: str | None,
) -> Iterator[dict[str, Any]]:
    with _dump_errors(path, raw):
        for item in items:
            if isinstance(item, dict):
                resolve(item, agents, machines, last_plugin)
            yield item


def resolve(
    item: dict[str, Any], agents: dict[str, str], machines: dict[str, str], last_plugin: str | None
) -> None:
    """The item as the API takes it: named user agent and machine, epoch-second time."""
    # A file that writes the fields out (Hackatime's, this server's) is taken at its word, null
    # included; WakaTime's dump names them by id only.
    if "user_agent" not in item:
        agent_id = item.get("user_agent_id")
        item["user_agent"] = (agents.get(agent_id) if isinstance(agent_id, str) else None) or (
            last_plugin
        )
    if "machine" not in item:
        machine_id = item.get("machine_name_id")
        if isinstance(machine_id, str):
            item["machine"] = machines.get(machine_id)
    moment = item.get("time")
    if isinstance(moment, str):
        item["time"] = _iso_seconds(moment)


def _iso_seconds(text: str) -> float | str:
    # Hackatime writes ISO 8601; anything else is left for normalise to refuse by name.
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return text
    return moment.timestamp() if moment.tzinfo is not None else text


def names_by_id(entries: Any, fields: tuple[str, ...]) -> dict[str, str]:
    """id -> name from a list of {"id", "value"} (user agents) or {"id", "name"} (machines)."""
    names: dict[str, str] = {}
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        name = next((entry[field] for field in fields if isinstance(entry.get(field), str)), None)
        if name:
            names[entry["id"]] = name
    return names


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _first_line(error: Exception, default: str) -> str:
    # The parser's messages go on with a picture of the place; the byte offset says it in one
    # line (the compressed offset, for a gzipped file).
    lines = str(error).strip().splitlines()
    return lines[0] if lines else default


@contextmanager
def _dump_errors(path: Path, raw: IO[bytes]) -> Iterator[None]:
    """Parser and decompression errors as one DumpError naming the file and the place."""
    try:
        yield
    except ijson.IncompleteJSONError as error:
        message = _first_line(error, "the JSON ends early")
        raise DumpError(f"{path}: {message} (near byte {raw.tell():,})") from None
    except ijson.JSONError as error:
        message = _first_line(error, "a parse error")
        raise DumpError(f"{path}: not valid JSON near byte {raw.tell():,}: {message}") from None
    except (EOFError, gzip.BadGzipFile, zipfile.BadZipFile, zlib.error) as error:
        raise DumpError(f"{path}: the compressed data is damaged or cut short ({error})") from None
