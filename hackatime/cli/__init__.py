"""The `hackatime` command: serve, back up, migrate, and manage users, goals, projects and
heartbeat files. Thin over the domain modules; each family of commands is a module here."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Sequence

from hackatime import __version__

# The single file runs under whatever python3 is on the PATH, which pip's requires-python
# never sees.
if sys.version_info < (3, 11):  # noqa: UP036 (the point is to run under older ones)
    raise SystemExit(
        f"hackatime: error: it needs Python 3.11 or newer, and this is Python "
        f"{platform.python_version()}"
    )

try:
    # The single file (`make dist`) carries orjson compiled for the build machine's architecture
    # and the Python versions it knew; under any other the import deep inside the commands would
    # end in a long traceback.
    import orjson  # noqa: F401
except ImportError as error:
    raise SystemExit(
        f"hackatime: error: its compiled libraries do not load under Python "
        f"{platform.python_version()} on {platform.machine()} ({error}): build it on this "
        "machine (`make dist`)"
    ) from None

from hackatime.cli import accounts, projects, server, transfer
from hackatime.config import ConfigError, load_settings

# Each adds one command, its options and what runs it, in the order `hackatime --help` lists them.
_COMMANDS = (
    server.add_serve,
    accounts.add_user,
    server.add_backup,
    server.add_migrate,
    accounts.add_goal,
    projects.add_project,
    transfer.add_import,
    transfer.add_export,
    transfer.add_compare,
)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="SQLite database file (env HACKATIME_DB)")

    parser = argparse.ArgumentParser(
        prog="hackatime", description="Self-hosted WakaTime-compatible time tracker."
    )
    parser.add_argument("--version", action="version", version=f"hackatime {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for add_command in _COMMANDS:
        add_command(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(os.environ, db_path=args.db)
    except ConfigError as error:
        parser.error(str(error))
    return args.run(parser, settings, args)
