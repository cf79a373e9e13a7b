"""deploy/: the systemd units a Pi runs hackatime with. systemd-analyze checks them where it is
installed; the settings that matter are checked on every machine."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from hackatime.cli import _parser
from tests.helpers import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
UNITS = ("hackatime.service", "hackatime-backup.service", "hackatime-backup.timer")
SYSTEM_UNITS = Path("/usr/lib/systemd/system")
INSTALLED_AT = "/usr/local/bin/hackatime"


def read_unit(name: str) -> dict[str, dict[str, list[str]]]:
    """section -> key -> every value given, in order (systemd keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in (DEPLOY / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def environment(service: dict[str, list[str]]) -> dict[str, str]:
    return dict(
        assignment.split("=", 1)
        for line in service.get("Environment", [])
        for assignment in shlex.split(line)
    )


def one(section: dict[str, list[str]], key: str) -> str:
    (value,) = section[key]
    return value


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None or not SYSTEM_UNITS.is_dir(),
    reason="systemd-analyze is not installed",
)
def test_systemd_analyze_verify_finds_nothing(tmp_path: Path) -> None:
    # A root of its own, where the installed file and systemd's own units exist.
    (tmp_path / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree(SYSTEM_UNITS, tmp_path / "usr/lib/systemd/system", symlinks=True)
    executable = tmp_path / INSTALLED_AT.lstrip("/")
    executable.parent.mkdir(parents=True)
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    units = tmp_path / "etc/systemd/system"
    units.mkdir(parents=True)
    for name in UNITS:
        shutil.copy(DEPLOY / name, units / name)

    result = subprocess.run(
        ["systemd-analyze", "verify", f"--root={tmp_path}", *UNITS],
        capture_output=True,
        text=True,
        timeout=120,
    )

    # It exits 0 even for a misspelt value; what it prints is the verdict.
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_the_service_runs_the_single_file_hardened() -> None:
    unit = read_unit("hackatime.service")
    service = unit["Service"]
    env = environment(service)

    assert shlex.split(one(service, "ExecStart")) == [INSTALLED_AT, "serve"]
    assert one(service, "DynamicUser") == "yes"
    assert one(service, "StateDirectory") == "hackatime"
    assert env["HACKATIME_DB"] == "/var/lib/hackatime/hackatime.db"
    assert env["SHIV_ROOT"] == "/var/cache/" + one(service, "CacheDirectory")
    assert env["HACKATIME_HOST"] == "0.0.0.0"
    assert one(service, "Restart") == "on-failure"
    assert one(service, "KillSignal") == "SIGTERM"
    for key, value in {
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "NoNewPrivileges": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert one(service, key) == value, key
    assert one(unit["Install"], "WantedBy") == "multi-user.target"


def test_the_nightly_backup_keeps_n_copies_as_the_same_user() -> None:
    server = read_unit("hackatime.service")["Service"]
    backup = read_unit("hackatime-backup.service")["Service"]
    timer = read_unit("hackatime-backup.timer")

    assert one(backup, "User") == one(server, "User")
    assert one(backup, "DynamicUser") == "yes"
    assert environment(backup)["HACKATIME_DB"] == environment(server)["HACKATIME_DB"]
    program, *argv = shlex.split(one(backup, "ExecStart"))
    assert program == INSTALLED_AT
    args = _parser().parse_args(argv)
    assert (args.command, args.keep) == ("backup", 14)
    # The folder is one systemd makes for that user, beside the database's.
    assert one(backup, "StateDirectory").split() == ["hackatime", Path(args.path).name]
    assert Path(args.path).parent == Path("/var/lib")
    assert one(backup, "ProtectSystem") == "strict"
    assert one(timer["Timer"], "OnCalendar").startswith("*-*-* ")
    assert one(timer["Timer"], "Persistent") == "true"
    assert one(timer["Install"], "WantedBy") == "timers.target"
