"""Build dist/hackatime (`make dist`): the app and every runtime dependency in one zipapp made
by shiv, that runs with the python3 of any supported version.

shiv alone installs each compiled library (orjson, and the optional speed-ups of markupsafe and
ijson) for the one Python that builds the file: a Pi upgraded from bookworm's 3.11 to trixie's
3.13 could then no longer start it. So the dependencies are installed here first, and the
compiled modules of the same releases for the other supported versions are added beside them:
each Python loads the module named with its own tag (`orjson.cpython-313-….so`) and ignores the
others. Extra pip options (DIST_PIP_ARGS: `--platform …`, `--python-version …`) apply to every
version, so a file built on a PC for a Pi gets the Pi's modules for all of them.

Usage: python deploy/single_file.py OUTPUT [PIP OPTION ...]
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
# Every Python the file is made for; hackatime needs 3.11 or newer.
PYTHONS = ("3.11", "3.12", "3.13", "3.14")
EXTENSION_SUFFIXES = (".so", ".pyd")


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--quiet", *args], check=True)


def option_values(options: list[str], name: str) -> list[str]:
    """Each value of a pip option given as `--name value` or `--name=value`."""
    values = []
    for index, option in enumerate(options):
        if option == name and index + 1 < len(options):
            values.append(options[index + 1])
        elif option.startswith(name + "="):
            values.append(option.split("=", 1)[1])
    return values


def compiled_releases(site: Path) -> list[str]:
    """`name==version` of each installed distribution that holds an extension module."""
    releases = []
    for info in sorted(site.glob("*.dist-info")):
        record = (info / "RECORD").read_text()
        paths = (line.split(",", 1)[0] for line in record.splitlines())
        if any(path.endswith(EXTENSION_SUFFIXES) for path in paths):
            name, version = info.name.removesuffix(".dist-info").rsplit("-", 1)
            releases.append(f"{name}=={version}")
    return releases


def is_compiled(member: str) -> bool:
    # auditwheel puts the shared libraries a module links to in `<name>.libs/`, each named with
    # a hash of its contents, so those of several versions sit side by side.
    top, _, rest = member.partition("/")
    return member.endswith(EXTENSION_SUFFIXES) or (top.endswith(".libs") and bool(rest))


def add_extensions(wheel: Path, site: Path) -> None:
    """Unpack a wheel's compiled files into `site`, where its pure modules already are."""
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if is_compiled(member) and not member.endswith("/"):
                archive.extract(member, site)


def main(output: Path, pip_options: list[str]) -> None:
    shutil.rmtree(BUILD, ignore_errors=True)
    site, wheels = BUILD / "site", BUILD / "wheels"
    pip("install", "--target", str(site), str(ROOT), *pip_options)

    built_for = option_values(pip_options, "--python-version") or [
        f"{sys.version_info.major}.{sys.version_info.minor}"
    ]
    platforms = [
        arg for value in option_values(pip_options, "--platform") for arg in ("--platform", value)
    ]
    releases = compiled_releases(site)
    for python in PYTHONS:
        if python in built_for or not releases:
            continue
        folder = wheels / python
        pip(
            "download", "--no-deps", "--only-binary=:all:", "--python-version", python,
            *platforms, "--dest", str(folder), *releases,
        )  # fmt: skip
        for wheel in sorted(folder.glob("*.whl")):
            add_extensions(wheel, site)

    output.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            str(Path(sys.executable).with_name("shiv")),
            "--reproducible", "--compressed", "--console-script", "hackatime",
            "--python", "/usr/bin/env python3",
            "--site-packages", str(site), "--output-file", str(output),
        ],
        check=True,
    )  # fmt: skip
    shutil.rmtree(BUILD)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    try:
        main(Path(sys.argv[1]), sys.argv[2:])
    except subprocess.CalledProcessError as error:
        # pip or shiv has said what went wrong just above.
        sys.exit(f"make dist: {' '.join(map(str, error.cmd[:4]))} … failed ({error.returncode})")
