"""Reading files of heartbeats: WakaTime's dump (plain and gzipped), Hackatime's export, and
what is wrong with a file that is neither."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path
from typing import Any

import orjson
import pytest

from hackatime.transfer import readers

VIM = "wakatime/v1.90.0 (linux-6.1.0-rpi-arm64) go1.22.1 vim/9.1.0 vim-wakatime/11.2.0"
CODE = "wakatime/v1.98.0 (darwin-23.1.0-arm64) go1.22.1 vscode/1.85.0 vscode-wakatime/24.4.0"


def wakatime_dump(days: list[tuple[str, list[dict[str, Any]]]], **top: Any) -> dict[str, Any]:
    return {
        "user": {"username": "al", "last_plugin": VIM},
        "range": {"start": 1_700_000_000, "end": 1_700_200_000},
        **top,
        "days": [{"date": date, "heartbeats": beats} for date, beats in days],
    }


def dump_beat(time: float, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"id-{time}",
        "time": time,
        "entity": "/home/al/app/main.py",
        "type": "file",
        "category": "coding",
        "project": "app",
        "user_agent_id": "ua-code",
        "machine_name_id": "m-desk",
        **fields,
    }


def write(path: Path, document: Any, *, gzipped: bool = False) -> Path:
    data = orjson.dumps(document)
    path.write_bytes(gzip.compress(data) if gzipped else data)
    return path


def read_all(path: Path) -> tuple[readers.Dump, list[Any]]:
    with readers.open_dump(path) as dump:
        items = list(dump.heartbeats)
        # Progress reaches the whole file once every heartbeat is read.
        assert dump.position() == dump.size
        return dump, items


@pytest.mark.parametrize("gzipped", [pytest.param(False, id="plain"), pytest.param(True, id="gz")])
def test_wakatime_dump_names_user_agents_and_machines_from_its_lists(
    tmp_path: Path, gzipped: bool
) -> None:
    document = wakatime_dump(
        [
            ("2023-11-14", [dump_beat(1_700_000_000.5), dump_beat(1_700_000_060.0)]),
            ("2023-11-15", [dump_beat(1_700_090_000.0, user_agent_id="unknown")]),
        ],
        user_agents=[{"id": "ua-code", "value": CODE, "editor": "vscode", "os": "Mac"}],
        machines=[{"id": "m-desk", "name": "desk", "value": "desk.local"}],
    )
    dump, items = read_all(write(tmp_path / "dump.json", document, gzipped=gzipped))
    assert (dump.kind, dump.username, dump.last_plugin) == (readers.WAKATIME_DUMP, "al", VIM)
    assert [(item["time"], item["user_agent"], item["machine"]) for item in items] == [
        (1_700_000_000.5, CODE, "desk"),
        (1_700_000_060.0, CODE, "desk"),
        # An id the lists do not name falls back to the user's last plugin.
        (1_700_090_000.0, VIM, "desk"),
    ]


def test_a_dump_without_lists_takes_the_last_plugin_and_no_machine(tmp_path: Path) -> None:
    _, items = read_all(write(tmp_path / "d.json", wakatime_dump([("d", [dump_beat(1.7e9)])])))
    assert (items[0]["user_agent"], items[0].get("machine")) == (VIM, None)


def test_hackatime_export_times_are_iso_and_fields_written_out(tmp_path: Path) -> None:
    document = {
        "export_info": {"exported_at": "2024-03-02T10:00:00Z", "total_heartbeats": 2},
        "heartbeats": [
            {
                "id": 7,
                "time": "2024-03-01T09:00:00Z",
                "entity": "main.py",
                "user_agent": CODE,
                "machine": "laptop",
                "editor": "vscode",
            },
            {"id": 8, "time": "2024-03-01T10:30:00+01:00", "entity": "x.py", "user_agent": None},
        ],
    }
    dump, items = read_all(write(tmp_path / "export.json", document))
    assert dump.kind == readers.HACKATIME_EXPORT
    assert dump.username is None
    assert [(item["time"], item["user_agent"], item.get("machine")) for item in items] == [
        (1_709_283_600.0, CODE, "laptop"),
        # Written out as null: taken at its word, no fallback.
        (1_709_285_400.0, None, None),
    ]


def test_a_zip_holding_one_json_is_read_from_inside(tmp_path: Path) -> None:
    path = tmp_path / "heartbeats_export.zip"
    document = {"export_info": {}, "heartbeats": [{"time": 1_709_283_600.5, "entity": "a.py"}]}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", "not heartbeats")
        archive.writestr("heartbeats_export.json", orjson.dumps(document))
    with readers.open_dump(path) as dump:
        assert dump.kind == readers.HACKATIME_EXPORT
        assert [item["time"] for item in dump.heartbeats] == [1_709_283_600.5]


def test_a_zip_with_two_json_files_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.json", b"{}")
        archive.writestr("b.json", b"{}")
    with pytest.raises(readers.DumpError, match=r"holds 2 \.json files"):
        read_all(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b'{"user": {}}', "not a WakaTime data dump", id="no-heartbeats-key"),
        pytest.param(b"[1, 2]", "not a WakaTime data dump", id="top-level-array"),
        pytest.param(b'{"user": {"a" 1}}', "near byte", id="invalid-json"),
        pytest.param(b"", "near byte", id="empty"),
        pytest.param(b"PK\x03\x04 cut", "a damaged zip", id="damaged-zip"),
    ],
)
def test_a_file_that_is_not_a_dump_says_why(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(readers.DumpError, match=message) as raised:
        read_all(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize("gzipped", [pytest.param(False, id="plain"), pytest.param(True, id="gz")])
def test_a_cut_file_yields_what_came_before_the_cut_then_fails(
    tmp_path: Path, gzipped: bool
) -> None:
    beats = [dump_beat(1_700_000_000.0 + minute * 60) for minute in range(50)]
    data = orjson.dumps(wakatime_dump([("2023-11-14", beats)]))
    cut = data[: data.index(b'"id":"id-1700001800.0"')]
    path = tmp_path / "cut.json"
    path.write_bytes(gzip.compress(cut) if gzipped else cut)
    seen = []
    with pytest.raises(readers.DumpError), readers.open_dump(path) as dump:
        seen.extend(item["time"] for item in dump.heartbeats)
    assert seen == [beat["time"] for beat in beats[:30]]


def test_a_missing_file_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(readers.DumpError, match="No such file"):
        read_all(tmp_path / "nowhere.json")
