"""`hackatime import`, `export` and `compare` as commands: their output, their summary and one
clear line with a non-zero exit when they fail."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
import pytest

from hackatime.cli import main
from tests.test_transfer_readers import dump_beat, wakatime_dump, write

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as exit_:  # argparse errors
        status = exit_.code if isinstance(exit_.code, int) else 1
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    path = str(tmp_path / "hackatime.db")
    assert run(capsys, "user", "add", "alice", "--db", path, "--timezone", "UTC")[0] == 0
    return path


@pytest.fixture
def dump(tmp_path: Path) -> Path:
    # Gaps of 1, 5 and 20 minutes.
    times = [T0, T0 + 60, T0 + 360, T0 + 1560]
    return write(tmp_path / "dump.json", wakatime_dump([("d", [dump_beat(t) for t in times])]))


def test_import_prints_its_report_and_progress_in_plain_lines(
    capsys: pytest.CaptureFixture[str], database: str, dump: Path
) -> None:
    status, out, err = run(capsys, "import", str(dump), "--user", "alice", "--db", database)
    assert status == 0
    lines = out.splitlines()
    assert lines[:5] == [
        "new:            4",
        "already there:  0",
        "rejected:       0",
        "dates covered:  2023-11-14 to 2023-11-14 (UTC)",
        "total:          0:05:00 (this server's rule: each gap counts up to 2 min)",
    ]
    assert lines[-1].split() == ["all", "0:05:00", "0:06:00", "+0:01:00"]
    # Not a terminal: a plain line at the end, no bar.
    assert err.splitlines() == [
        f"Importing {dump} (WakaTime data dump) for alice",
        err.splitlines()[1],
    ]
    assert err.splitlines()[1].startswith("import: 0.0 MiB of 0.0 MiB (100%), 4 heartbeats, ")
    status, out, _ = run(capsys, "import", str(dump), "--user", "alice", "--db", database)
    assert (status, out.splitlines()[:2]) == (0, ["new:            0", "already there:  4"])


def test_a_failed_import_says_what_stays_and_exits_non_zero(
    capsys: pytest.CaptureFixture[str], database: str, dump: Path, tmp_path: Path
) -> None:
    cut = tmp_path / "cut.json"
    data = dump.read_bytes()
    cut.write_bytes(data[: data.index(f'"time":{T0 + 1560}'.encode())])
    status, out, err = run(capsys, "import", str(cut), "--user", "alice", "--db", database)
    assert (status, out) == (1, "")
    assert err.splitlines()[-2:] == [
        "Stopped after 3 new and 0 already there; what was stored stays, and the same command"
        " goes on from there.",
        err.splitlines()[-1],
    ]
    assert err.splitlines()[-1].startswith(f"hackatime: error: {cut}: ")
    status, out, _ = run(capsys, "import", str(dump), "--user", "alice", "--db", database)
    assert out.splitlines()[:2] == ["new:            1", "already there:  3"]


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        pytest.param(["nowhere.json"], 1, "nowhere.json: No such file", id="missing-file"),
        pytest.param(["--user", "nobody"], 1, "no user named 'nobody'", id="unknown-user"),
        pytest.param(["--from", "http://127.0.0.1:9"], 2, "--from needs --key", id="no-key"),
        pytest.param([], 2, "a FILE or --from URL", id="neither"),
    ],
)
def test_import_errors_are_one_line(
    capsys: pytest.CaptureFixture[str],
    database: str,
    dump: Path,
    argv: list[str],
    status: int,
    message: str,
) -> None:
    if argv[:1] == ["--user"]:
        argv = [str(dump), *argv]
    elif "--user" not in argv:
        argv = [*argv, "--user", "alice"]
    got, out, err = run(capsys, "import", *argv, "--db", database)
    assert (got, out) == (status, "")
    assert message in err.splitlines()[-1]


def test_export_writes_a_file_that_imports_back(
    capsys: pytest.CaptureFixture[str], database: str, dump: Path, tmp_path: Path
) -> None:
    run(capsys, "import", str(dump), "--user", "alice", "--db", database)
    target = tmp_path / "out.json"
    status, out, err = run(
        capsys, "export", "--user", "alice", "--db", database, "--output", str(target)
    )
    assert (status, out) == (0, "")
    assert err.splitlines()[-1] == f"Exported 4 heartbeats of alice to {target}"
    body = orjson.loads(target.read_bytes())
    assert [day["date"] for day in body["days"]] == ["2023-11-14"]
    assert not (tmp_path / "out.json.partial").exists()
    other = tmp_path / "other.db"
    run(capsys, "user", "add", "bob", "--db", str(other), "--timezone", "UTC")
    status, out, _ = run(capsys, "import", str(target), "--user", "bob", "--db", str(other))
    assert out.splitlines()[:5] == [
        "new:            4",
        "already there:  0",
        "rejected:       0",
        "dates covered:  2023-11-14 to 2023-11-14 (UTC)",
        "total:          0:05:00 (this server's rule: each gap counts up to 2 min)",
    ]


def test_export_csv_to_standard_output_within_dates(
    capsys: pytest.CaptureFixture[str], database: str, dump: Path
) -> None:
    run(capsys, "import", str(dump), "--user", "alice", "--db", database)
    status, out, _ = run(
        capsys,
        "export",
        "--user",
        "alice",
        "--db",
        database,
        "--format",
        "csv",
        "--start",
        "2023-11-15",
    )
    assert status == 0
    assert list(csv.reader(io.StringIO(out)))[1:] == []
    status, out, _ = run(capsys, "export", "--user", "alice", "--db", database, "--format", "csv")
    assert [row["time"] for row in csv.DictReader(io.StringIO(out))] == [
        f"{T0}.0",
        f"{T0 + 60}.0",
        f"{T0 + 360}.0",
        f"{T0 + 1560}.0",
    ]
    status, _, err = run(capsys, "export", "--user", "alice", "--db", database, "--end", "soon")
    assert status == 1
    assert err.splitlines()[-1].startswith("hackatime: error: --end: 'soon' is not a date")


def test_compare_prints_the_months(
    capsys: pytest.CaptureFixture[str], database: str, dump: Path
) -> None:
    run(capsys, "import", str(dump), "--user", "alice", "--db", database)
    status, out, _ = run(capsys, "compare", "--user", "alice", "--db", database)
    assert status == 0
    assert [line.split() for line in out.splitlines()[1:]] == [
        ["2023-11", "0:05:00", "0:06:00", "+0:01:00"],
        ["all", "0:05:00", "0:06:00", "+0:01:00"],
    ]
    status, out, _ = run(
        capsys,
        "compare",
        "--user",
        "alice",
        "--db",
        database,
        "--start",
        "2023-12-01",
        "--end",
        "2023-12-31",
    )
    assert [line.split() for line in out.splitlines()[1:]] == [
        ["all", "0:00:00", "0:00:00", "+0:00:00"]
    ]
