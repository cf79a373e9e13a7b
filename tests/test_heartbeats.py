"""The pure half of ingest: `normalise`, `parse_user_agent`, `machine_from_header`."""

from __future__ import annotations

from typing import Any

import pytest

from hackatime.heartbeats import (
    Heartbeat,
    RequestContext,
    machine_from_header,
    normalise,
    parse_user_agent,
)

NOW_MS = 1_700_000_000_000  # 2023-11-14T22:13:20Z
NOW_S = NOW_MS // 1000
T = NOW_S - 1000  # a valid time, 1000 s before "now"

GO_VIM_LINUX = "wakatime/v1.90.0 (linux-6.1.0-rpi-arm64) go1.22.1 vim/9.1.0 vim-wakatime/11.2.0"
GO_VSCODE_DARWIN = (
    "wakatime/v1.90.0 (darwin-23.4.0-arm64) go1.22.1 vscode/1.88.1 vscode-wakatime/24.5.0"
)
GO_VSCODE_WINDOWS = (
    "wakatime/v1.90.0 (windows-10.0.22631-amd64) go1.22.1 vscode/1.88.1 vscode-wakatime/24.5.0"
)
LEGACY_VIM_LINUX = (
    "wakatime/13.1.0 (Linux-6.1.0-x86_64-with-glibc2.36) Python3.11.7.final.0 "
    "vim/9.0 vim-wakatime/9.0.0"
)


def context(user_agent: str | None = None, machine: str | None = None) -> RequestContext:
    return RequestContext(user_agent=user_agent, machine=machine, now_ms=NOW_MS)


def accepted(raw: Any, ctx: RequestContext | None = None) -> Heartbeat:
    result = normalise(raw, ctx or context())
    assert isinstance(result, Heartbeat), result
    return result


def rejected(raw: Any, ctx: RequestContext | None = None) -> list[str]:
    result = normalise(raw, ctx or context())
    assert isinstance(result, list), result
    return result


@pytest.mark.parametrize(
    ("time", "expected_ms"),
    [
        pytest.param(T + 0.5, (T * 1000) + 500, id="float-seconds"),
        pytest.param(T, T * 1000, id="int-seconds"),
        pytest.param(f"{T}.25", (T * 1000) + 250, id="numeric-string"),
        pytest.param(f" {T} ", T * 1000, id="numeric-string-padded"),
        pytest.param(T * 1000 + 123, T * 1000 + 123, id="milliseconds"),
        pytest.param(str(T * 1000 + 123), T * 1000 + 123, id="milliseconds-string"),
        pytest.param(T * 1_000_000 + 123_456, T * 1000 + 123, id="microseconds"),
        pytest.param(T * 1_000_000_000 + 123_456_789, T * 1000 + 123, id="nanoseconds"),
        pytest.param(946_684_800, 946_684_800_000, id="exactly-2000-01-01"),
        pytest.param(978_307_200.0, 978_307_200_000, id="old-replayed-2001"),
        pytest.param(NOW_S + 3600, NOW_MS + 3_600_000, id="one-hour-ahead"),
    ],
)
def test_time_accepted_and_rescaled(time: Any, expected_ms: int) -> None:
    assert accepted({"entity": "a.py", "time": time}).time_ms == expected_ms


@pytest.mark.parametrize(
    "time",
    [
        pytest.param(float("nan"), id="nan"),
        pytest.param(float("inf"), id="inf"),
        pytest.param(float("-inf"), id="minus-inf"),
        pytest.param("nan", id="nan-string"),
        pytest.param("inf", id="inf-string"),
        pytest.param("yesterday", id="unparseable-string"),
        pytest.param("", id="empty-string"),
        pytest.param(True, id="bool"),
        pytest.param(None, id="null"),
        pytest.param([T], id="list"),
        pytest.param({"seconds": T}, id="object"),
        pytest.param(946_684_799, id="before-2000"),
        pytest.param(946_684_799_999, id="before-2000-in-milliseconds"),
        pytest.param(-T, id="negative"),
        pytest.param(NOW_S + 3601, id="over-an-hour-ahead"),
        pytest.param((NOW_S + 7200) * 1000, id="future-in-milliseconds"),
    ],
)
def test_time_rejected(time: Any) -> None:
    problems = rejected({"entity": "a.py", "time": time})
    assert len(problems) == 1
    assert problems[0].startswith("time:")


def test_time_missing_rejected() -> None:
    problems = rejected({"entity": "a.py"})
    assert len(problems) == 1
    assert problems[0].startswith("time:")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        pytest.param({"time": T}, "entity: required", id="entity-missing"),
        pytest.param({"entity": "  ", "time": T}, "entity: required", id="entity-blank"),
        pytest.param({"entity": 3, "time": T}, "entity: must be a string", id="entity-number"),
        pytest.param(["a.py", T], "heartbeat must be a JSON object", id="not-an-object"),
        pytest.param(None, "heartbeat must be a JSON object", id="null"),
    ],
)
def test_entity_and_shape_rejected(raw: Any, problem: str) -> None:
    assert rejected(raw) == [problem]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, "file", id="missing-is-file"),
        pytest.param({"type": None}, "file", id="null-is-file"),
        pytest.param({"type": ""}, "file", id="empty-is-file"),
        pytest.param({"type": "file"}, "file", id="file"),
        pytest.param({"type": "domain"}, "domain", id="domain"),
        pytest.param({"type": "url"}, "url", id="url"),
        pytest.param({"type": "event"}, "event", id="event"),
        pytest.param({"type": "app"}, "app", id="app"),
    ],
)
def test_type(fields: dict[str, Any], expected: str) -> None:
    assert accepted({"entity": "a.py", "time": T, **fields}).type == expected


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("folder", id="unknown-word"),
        pytest.param("FILE", id="wrong-case"),
        pytest.param(3, id="number"),
    ],
)
def test_type_invalid(kind: Any) -> None:
    problems = rejected({"entity": "a.py", "time": T, "type": kind})
    assert len(problems) == 1
    assert problems[0].startswith("type:")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, "coding", id="missing-is-coding"),
        pytest.param({"category": None}, "coding", id="null-is-coding"),
        pytest.param({"category": ""}, "coding", id="empty-is-coding"),
        pytest.param({"category": "debugging"}, "debugging", id="given"),
        pytest.param({"category": " building "}, "building", id="stripped"),
    ],
)
def test_category(fields: dict[str, Any], expected: str) -> None:
    assert accepted({"entity": "a.py", "time": T, **fields}).category == expected


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        pytest.param("lineno", 12, 12, id="lineno-int"),
        pytest.param("lineno", "12", 12, id="lineno-string"),
        pytest.param("cursorpos", " 7 ", 7, id="cursorpos-padded-string"),
        pytest.param("lines", "300", 300, id="lines-string"),
        pytest.param("lines", 300.0, 300, id="lines-whole-float"),
        pytest.param("line_additions", "4", 4, id="line-additions-string"),
        pytest.param("line_deletions", 0, 0, id="line-deletions-zero"),
        pytest.param("project_root_count", "3", 3, id="project-root-count-string"),
        pytest.param("ai_line_changes", 5, 5, id="ai-line-changes"),
        pytest.param("human_line_changes", "-2", -2, id="human-line-changes-negative"),
        pytest.param("lineno", None, None, id="null"),
        pytest.param("lineno", "", None, id="empty-string"),
    ],
)
def test_int_fields(field: str, value: Any, expected: int | None) -> None:
    heartbeat = accepted({"entity": "a.py", "time": T, field: value})
    assert getattr(heartbeat, field) == expected


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("lineno", "twelve", id="word"),
        pytest.param("cursorpos", 1.5, id="fraction"),
        pytest.param("lines", "12.0", id="decimal-string"),
        pytest.param("line_additions", [1], id="list"),
        pytest.param("lineno", 2**60, id="out-of-range"),
    ],
)
def test_int_field_invalid(field: str, value: Any) -> None:
    problems = rejected({"entity": "a.py", "time": T, field: value})
    assert len(problems) == 1
    assert problems[0].startswith(f"{field}:")


def test_every_problem_reported_at_once() -> None:
    problems = rejected(
        {
            "time": "soon",
            "type": "folder",
            "lineno": "x",
            "cursorpos": 2.5,
            "lines": {},
            "is_write": "maybe",
            "dependencies": [1, 2],
        }
    )
    fields = [problem.split(":", 1)[0] for problem in problems]
    assert sorted(fields) == sorted(
        ["entity", "time", "type", "lineno", "cursorpos", "lines", "is_write", "dependencies"]
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            {"entity": 7, "time": None, "type": "folder", "lines": "x"},
            [
                "entity: must be a string",
                "time: required, epoch seconds",
                "type: must be one of file, domain, url, event, app",
                "lines: 'x' is not a whole number",
            ],
            id="entity-wrong-too",
        ),
        pytest.param(
            {"entity": "a.py", "time": "soon", "type": "folder"},
            ["time: 'soon' is not a number", "type: must be one of file, domain, url, event, app"],
            id="entity-right",
        ),
    ],
)
def test_problems_come_in_the_order_of_the_fields(raw: dict[str, Any], expected: list[str]) -> None:
    assert rejected(raw) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(True, True, id="true"),
        pytest.param(False, False, id="false"),
        pytest.param(1, True, id="one"),
        pytest.param("true", True, id="string-true"),
        pytest.param("false", False, id="string-false"),
        pytest.param(None, None, id="null"),
    ],
)
def test_is_write(value: Any, expected: bool | None) -> None:
    assert accepted({"entity": "a.py", "time": T, "is_write": value}).is_write is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(["os", "requests"], ("os", "requests"), id="list"),
        pytest.param([" os ", ""], ("os",), id="list-stripped"),
        pytest.param("os, requests", ("os", "requests"), id="comma-string"),
        pytest.param([], None, id="empty-list"),
        pytest.param(None, None, id="null"),
    ],
)
def test_dependencies(value: Any, expected: tuple[str, ...] | None) -> None:
    heartbeat = accepted({"entity": "a.py", "time": T, "dependencies": value})
    assert heartbeat.dependencies == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param([1, 2], id="numbers"),
        pytest.param({"os": 1}, id="object"),
        pytest.param(["x"] * 501, id="too-many"),
    ],
)
def test_dependencies_invalid(value: Any) -> None:
    problems = rejected({"entity": "a.py", "time": T, "dependencies": value})
    assert len(problems) == 1
    assert problems[0].startswith("dependencies:")


def test_full_item_and_unknown_fields_ignored() -> None:
    heartbeat = accepted(
        {
            "entity": "/home/pi/src/app.py",
            "time": T,
            "type": "file",
            "category": "coding",
            "project": "hackatime",
            "branch": "main",
            "language": "Python",
            "is_write": True,
            "lineno": "10",
            "cursorpos": "4",
            "lines": "120",
            "dependencies": ["orjson"],
            "user_agent": GO_VIM_LINUX,
            "machine": "pi",
            # Not ours: ignored, never an error.
            "user_id": 99,
            "id": "abc",
            "editor": "emacs",
            "some_future_field": {"x": 1},
        },
        context(user_agent="curl/8.5.0", machine=None),
    )
    assert heartbeat == Heartbeat(
        time_ms=T * 1000,
        entity="/home/pi/src/app.py",
        type="file",
        category="coding",
        project="hackatime",
        branch="main",
        language="Python",
        editor="vim",
        operating_system="Linux",
        machine="pi",
        is_write=True,
        lineno=10,
        cursorpos=4,
        lines=120,
        dependencies=("orjson",),
        user_agent=GO_VIM_LINUX,
    )


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        pytest.param(GO_VIM_LINUX, ("vim", "Linux"), id="go-cli-linux-vim"),
        pytest.param(GO_VSCODE_DARWIN, ("vscode", "macOS"), id="go-cli-darwin-vscode"),
        pytest.param(GO_VSCODE_WINDOWS, ("vscode", "Windows"), id="go-cli-windows-vscode"),
        pytest.param(LEGACY_VIM_LINUX, ("vim", "Linux"), id="legacy-python-cli-linux"),
        pytest.param(
            "wakatime/13.1.0 (macOS-14.4.1-arm64-arm-64bit) Python3.11.7.final.0 "
            "vim/9.0 vim-wakatime/9.0.0",
            ("vim", "macOS"),
            id="legacy-python-cli-macos",
        ),
        pytest.param(
            "wakatime/13.1.0 (Windows-10-10.0.19045-SP0) Python3.11.7.final.0 "
            "vim/9.0 vim-wakatime/9.0.0",
            ("vim", "Windows"),
            id="legacy-python-cli-windows",
        ),
        pytest.param(
            "wakatime/v1.90.0 (linux-6.8.0-amd64) go1.22.1 PyCharm/2024.1 PyCharm-wakatime/15.0.0",
            ("pycharm", "Linux"),
            id="jetbrains-lowercased",
        ),
        pytest.param(
            "wakatime/v1.90.0 (freebsd-14.0-amd64) go1.22.1 emacs/29.1 emacs-wakatime/1.0.2",
            ("emacs", "FreeBSD"),
            id="freebsd-emacs",
        ),
        pytest.param(
            "wakatime/v1.90.0 (linux-6.1.0-arm64) go1.22.1", (None, "Linux"), id="no-plugin"
        ),
        pytest.param("curl/8.5.0", (None, None), id="not-wakatime"),
        pytest.param("", (None, None), id="empty"),
        pytest.param(None, (None, None), id="missing"),
    ],
)
def test_parse_user_agent(user_agent: str | None, expected: tuple[str | None, str | None]) -> None:
    assert parse_user_agent(user_agent) == expected


@pytest.mark.parametrize(
    ("item_agent", "request_agent", "expected"),
    [
        pytest.param(GO_VSCODE_DARWIN, GO_VIM_LINUX, ("vscode", "macOS"), id="item-first"),
        pytest.param(None, GO_VIM_LINUX, ("vim", "Linux"), id="request-otherwise"),
        pytest.param("", LEGACY_VIM_LINUX, ("vim", "Linux"), id="blank-item-falls-back"),
        pytest.param(None, None, (None, None), id="neither"),
    ],
)
def test_editor_and_os_from_user_agent(
    item_agent: str | None, request_agent: str | None, expected: tuple[str | None, str | None]
) -> None:
    raw = {"entity": "a.py", "time": T, "user_agent": item_agent}
    heartbeat = accepted(raw, context(user_agent=request_agent))
    assert (heartbeat.editor, heartbeat.operating_system) == expected
    assert heartbeat.user_agent == (item_agent or request_agent)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"entity": "/src/main.py"}, "Python", id="py"),
        pytest.param({"entity": "C:\\src\\App.TSX"}, "TSX", id="windows-path-upper-case"),
        pytest.param({"entity": "/src/Makefile"}, "Makefile", id="by-file-name"),
        pytest.param({"entity": "/src/main.py", "language": "Cython"}, "Cython", id="given-wins"),
        pytest.param({"entity": "/src/notes"}, None, id="no-extension"),
        pytest.param({"entity": "/src/data.unknownext"}, None, id="unknown-extension"),
        pytest.param({"entity": "main.py", "type": "app"}, None, id="not-a-file"),
    ],
)
def test_language(fields: dict[str, Any], expected: str | None) -> None:
    assert accepted({"time": T, **fields}).language == expected


@pytest.mark.parametrize(
    ("header_machine", "item_machine", "expected"),
    [
        pytest.param("pi", "laptop", "pi", id="context-over-item"),
        pytest.param(None, "laptop", "laptop", id="item-otherwise"),
        pytest.param(None, None, None, id="neither"),
    ],
)
def test_machine(
    header_machine: str | None, item_machine: str | None, expected: str | None
) -> None:
    raw = {"entity": "a.py", "time": T, "machine": item_machine}
    assert accepted(raw, context(machine=header_machine)).machine == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("my+laptop%21", "my laptop!", id="plus-and-percent"),
        pytest.param("caf%C3%A9", "café", id="utf8"),
        pytest.param("  pi  ", "pi", id="stripped"),
        pytest.param("plain-name", "plain-name", id="plain"),
        pytest.param("%20+", None, id="only-spaces"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="missing"),
    ],
)
def test_machine_from_header(header: str | None, expected: str | None) -> None:
    assert machine_from_header(header) == expected


def test_a_repeated_dependency_is_kept_once() -> None:
    heartbeat = normalise(
        {"entity": "a.py", "time": T, "dependencies": ["os", "sys", "os"]}, context()
    )
    assert isinstance(heartbeat, Heartbeat)
    assert heartbeat.dependencies == ("os", "sys")


@pytest.mark.parametrize(
    ("user_agent", "machine", "expected_agent", "expected_machine"),
    [
        pytest.param(None, "pi\x00box", None, None, id="nul-in-machine-ignored"),
        pytest.param(None, "m" * 1025, None, "m" * 1024, id="long-machine-cut"),
        pytest.param("u" * 5000, None, "u" * 1024, None, id="long-user-agent-cut"),
        pytest.param("u\x00a", None, None, None, id="nul-in-user-agent-ignored"),
    ],
)
def test_request_headers_are_bounded_per_field(
    user_agent: str | None,
    machine: str | None,
    expected_agent: str | None,
    expected_machine: str | None,
) -> None:
    heartbeat = accepted({"entity": "a.py", "time": T}, context(user_agent, machine))
    assert (heartbeat.user_agent, heartbeat.machine) == (expected_agent, expected_machine)


def test_an_item_keeps_its_own_user_agent_whatever_the_header() -> None:
    own = "wakatime/v1.90.0 (linux-6.1) go1.22 vim/9.1 vim-wakatime/11.2"
    raw = {"entity": "a.py", "time": T, "user_agent": own}
    heartbeat = accepted(raw, context("u" * 100_000))
    assert (heartbeat.user_agent, heartbeat.editor) == (own, "vim")
