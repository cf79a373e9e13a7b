"""Deployment as a new user does it: the single file from `make dist`, copied into an empty
folder and run by a Python that has none of the dependencies; and a plain, non-editable
`pip install .` into a fresh venv. Both serve heartbeats in and totals out."""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import httpx
import pytest

import hackatime
from tests.helpers import REPO_ROOT, free_port, running_server
from tests.test_deploy import environment, read_unit

pytestmark = pytest.mark.slow

KEY_LINE = re.compile(r"^api_key = (\S+)$", re.MULTILINE)
# Left out of the copy `pip install .` builds from: what a fresh clone does not have.
NOT_IN_A_CLONE = (".git", ".venv", "dist", "build", "data", "*.egg-info", "__pycache__", ".*_cache")


def run(*argv: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in argv], capture_output=True, text=True, timeout=600, **kwargs
    )


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("HACKATIME_", "PYTHON", "VIRTUAL_ENV", "SHIV_"))
    }
    return {**env, **extra}


def heartbeats_in_totals_out(base_url: str, key: str) -> float:
    """Three heartbeats a minute and half a minute apart; the all-time total the server gives."""
    start = time.time() - 600
    with httpx.Client(base_url=base_url, timeout=10) as http:
        posted = http.post(
            "/api/hackatime/v1/users/current/heartbeats.bulk",
            json=[
                {"entity": "/home/pi/app/main.py", "time": start + offset, "project": "app"}
                for offset in (0, 60, 90)
            ],
            headers={"Authorization": f"Bearer {key}"},
        )
        assert posted.status_code == 201, posted.text
        stats = http.get("/api/v1/stats", headers={"Authorization": f"Bearer {key}"})
    assert stats.status_code == 200, stats.text
    return stats.json()["data"]["total_seconds"]


def first_users_total(db_path: Path, serve_on_port: list[str], env: dict[str, str]) -> float:
    """Serve a new database with `serve_on_port` and the port; the total that
    heartbeats_in_totals_out gets with the key of the first user the start made."""
    port = free_port()
    command = [*serve_on_port, str(port)]
    with running_server(db_path, port=port, command=command, env=env) as server:
        match = KEY_LINE.search(server.startup_output)
        assert match, server.startup_output
        total = heartbeats_in_totals_out(server.base_url, match[1])
        assert server.stop() == 0
    return total


@pytest.fixture(scope="module")
def single_file() -> Path:
    built = run("make", "-C", REPO_ROOT, "dist", env=clean_env())
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return REPO_ROOT / "dist" / "hackatime"


def test_the_single_file_runs_with_a_bare_python(single_file: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare-python"
    made = run(sys.executable, "-m", "venv", "--without-pip", bare)
    assert made.returncode == 0, made.stderr
    assert run(bare / "bin" / "python3", "-c", "import starlette").returncode != 0
    folder = tmp_path / "pi"
    folder.mkdir()
    program = folder / "hackatime"
    shutil.copy2(single_file, program)
    # `./hackatime` finds python3 on PATH, as on a Pi: here the bare one comes first.
    env = clean_env(
        PATH=f"{bare / 'bin'}{os.pathsep}{os.environ['PATH']}",
        HOME=str(tmp_path / "home"),
        LOGNAME="pi",
    )

    version = run("./hackatime", "--version", cwd=folder, env=env)
    added = run("./hackatime", "user", "add", "bob", cwd=folder, env=env)
    assert (version.returncode, version.stdout) == (0, f"hackatime {hackatime.__version__}\n")
    assert added.returncode == 0, added.stderr
    assert sorted(path.name for path in folder.iterdir()) == ["data", "hackatime"]

    port = free_port()
    db_path = folder / "data" / "hackatime.db"
    with running_server(
        db_path, port=port, command=[str(program), "serve", "--port", str(port)], env=env
    ) as server:
        # bob exists, so no first user is made: serve bob's key.
        total = heartbeats_in_totals_out(server.base_url, added.stdout.splitlines()[-1])
        health = httpx.get(f"{server.base_url}/api/health", timeout=10).json()
        assert server.stop() == 0

    assert total == 90.0
    assert health["status"] == "ok"
    assert health["version"] == hackatime.__version__


def interpreter(version: str) -> Path | None:
    """A python3 of that version on this machine (on the PATH, or one pyenv keeps), if any."""
    found = shutil.which(f"python{version}")
    candidates = [Path(found)] if found else []
    candidates += sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python3"))
    for candidate in candidates:
        # A pyenv shim is on the PATH even when its version is not installed.
        if run(candidate, "--version").returncode == 0:
            return candidate
    return None


@pytest.mark.parametrize("version", ["3.12", "3.13", "3.14"])
def test_the_single_file_runs_under_each_newer_python(
    single_file: Path, tmp_path: Path, version: str
) -> None:
    # A Pi whose system upgrade brings a newer python3 (trixie has 3.13) keeps the same file.
    python = interpreter(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine")
    folder = tmp_path / "pi"
    folder.mkdir()
    program = folder / "hackatime"
    shutil.copy2(single_file, program)
    env = clean_env(HOME=str(tmp_path / "home"), LOGNAME="pi")

    ran = run(python, "-I", program, "--version", env=env)
    assert (ran.returncode, ran.stdout, ran.stderr) == (
        0,
        f"hackatime {hackatime.__version__}\n",
        "",
    )
    serve = [str(python), "-I", str(program), "serve", "--port"]
    assert first_users_total(folder / "data" / "hackatime.db", serve, env) == 90.0


def test_an_older_python_is_told_which_it_needs(single_file: Path) -> None:
    python = interpreter("3.10")
    if python is None:
        pytest.skip("no Python 3.10 on this machine")

    ran = run(python, "-I", single_file, "--version", env=clean_env())

    version = run(python, "-c", "import platform; print(platform.python_version())").stdout
    assert (ran.returncode, ran.stdout, ran.stderr) == (
        1,
        "",
        f"hackatime: error: it needs Python 3.11 or newer, and this is Python {version}",
    )


def test_a_plain_pip_install_serves(tmp_path: Path) -> None:
    source = tmp_path / "clone"
    shutil.copytree(REPO_ROOT, source, ignore=shutil.ignore_patterns(*NOT_IN_A_CLONE))
    venv = tmp_path / "venv"
    assert run(sys.executable, "-m", "venv", venv).returncode == 0
    installed = run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", source)
    assert installed.returncode == 0, installed.stderr[-3000:]
    shutil.rmtree(source)  # nothing may be read from the sources any more

    db_path = tmp_path / "elsewhere" / "hackatime.db"
    serve = [str(venv / "bin" / "hackatime"), "serve", "--port"]
    assert first_users_total(db_path, serve, clean_env(LOGNAME="pi")) == 90.0


def test_the_units_command_lines_run_the_single_file(single_file: Path, tmp_path: Path) -> None:
    """What deploy/hackatime.service and hackatime-backup.service run, with their environment,
    under a stand-in root (and on the loopback: tests serve nothing else)."""
    root = tmp_path / "root"

    def rebased(value: str) -> str:
        return re.sub(r"(^|\s)/(var|usr)/", lambda m: f"{m[1]}{root}/{m[2]}/", value)

    service = read_unit("hackatime.service")["Service"]
    backup = read_unit("hackatime-backup.service")["Service"]
    for directory in (*service["StateDirectory"], *backup["StateDirectory"][0].split()):
        (root / "var/lib" / directory).mkdir(parents=True, exist_ok=True)
    program = root / "usr/local/bin/hackatime"
    program.parent.mkdir(parents=True)
    shutil.copy2(single_file, program)
    env = clean_env(
        **{
            **{name: rebased(value) for name, value in environment(service).items()},
            "HACKATIME_HOST": "127.0.0.1",
            "HACKATIME_PORT": str(free_port()),
            "LOGNAME": "hackatime",
        }
    )
    db_path = Path(env["HACKATIME_DB"])
    serve = shlex.split(rebased(service["ExecStart"][0]))

    with running_server(db_path, port=int(env["HACKATIME_PORT"]), command=serve, env=env) as server:
        match = KEY_LINE.search(server.startup_output)
        assert match, server.startup_output
        total = heartbeats_in_totals_out(server.base_url, match[1])
        nightly = run(*shlex.split(rebased(backup["ExecStart"][0])), env=env)
        assert server.stop() == 0

    assert total == 90.0
    assert nightly.returncode == 0, nightly.stderr
    (copy,) = (root / "var/lib/hackatime-backups").iterdir()
    assert re.fullmatch(r"hackatime-\d{8}T\d{6}Z\.db", copy.name)
    assert (Path(env["SHIV_ROOT"])).is_dir()  # unpacked where the unit lets it write


def test_make_dist_rebuilds_when_the_pip_options_change(tmp_path: Path) -> None:
    # The Makefile alone, with a build that records its arguments: a native build, then one for
    # the Pi as the README asks, must not leave the native file in place ("Nothing to be done").
    shutil.copy(REPO_ROOT / "Makefile", tmp_path / "Makefile")
    python = tmp_path / ".venv/bin/python"
    python.parent.mkdir(parents=True)
    python.write_text('#!/bin/sh\necho "$@" >> "$(dirname "$0")/calls"\n: > dist/hackatime\n')
    python.chmod(0o755)
    # Sources older than the install, the install older than any build.
    for age, name in (
        (120, "pyproject.toml"),
        (120, "app.py"),
        (120, "deploy/single_file.py"),
        (120, "hackatime/__init__.py"),
        (60, ".venv/.installed"),
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
        os.utime(tmp_path / name, (time.time() - age, time.time() - age))
    pi = "DIST_PIP_ARGS=--platform manylinux2014_aarch64 --python-version 3.11"

    for argv in ([], [pi], [pi], []):
        built = run("make", "-C", tmp_path, "dist", *argv, env=clean_env())
        assert built.returncode == 0, built.stdout + built.stderr

    calls = (tmp_path / ".venv/bin/calls").read_text().splitlines()
    assert calls == [
        "deploy/single_file.py dist/hackatime",
        "deploy/single_file.py dist/hackatime"
        " --platform manylinux2014_aarch64 --python-version 3.11",
        "deploy/single_file.py dist/hackatime",
    ]


def test_a_python_the_compiled_libraries_are_not_for_gets_one_line() -> None:
    # What a PC's file meets on a Pi, or a file under a Python newer than it was made for: orjson
    # fails to load.
    ran = run(
        sys.executable,
        "-c",
        "import sys; sys.modules['orjson'] = None; from hackatime.cli import main",
        cwd=REPO_ROOT,
        env=clean_env(),
    )

    version, machine = platform.python_version(), platform.machine()
    assert (ran.returncode, ran.stdout, ran.stderr) == (
        1,
        "",
        f"hackatime: error: its compiled libraries do not load under Python {version} on"
        f" {machine} (import of orjson halted; None in sys.modules): build it on this machine"
        " (`make dist`)\n",
    )


def _build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "single_file", REPO_ROOT / "deploy/single_file.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([], []),
        (
            ["--platform", "manylinux2014_aarch64", "--python-version", "3.11"],
            ["manylinux2014_aarch64"],
        ),
        (
            ["--platform=manylinux2014_aarch64", "--platform", "linux_aarch64"],
            ["manylinux2014_aarch64", "linux_aarch64"],
        ),
        (["--platform"], []),
    ],
)
def test_a_build_for_a_pi_takes_the_pis_platform_for_every_python(
    options: list[str], expected: list[str]
) -> None:
    assert _build_script().option_values(options, "--platform") == expected


@pytest.mark.parametrize(
    ("member", "compiled"),
    [
        ("orjson/orjson.cpython-313-aarch64-linux-gnu.so", True),
        ("ijson.libs/libyajl-bc332733.so.2.1.1", True),
        ("ijson.libs/", False),
        ("orjson/__init__.py", False),
        ("orjson-3.13.0.dist-info/RECORD", False),
    ],
)
def test_only_compiled_files_are_added_beside_the_first_pythons(
    member: str, compiled: bool
) -> None:
    assert _build_script().is_compiled(member) is compiled
