"""`hackatime serve`, `backup` and `migrate`: running the server and looking after its database."""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from hackatime import backups, migrations
from hackatime.cli.common import Commands, fail
from hackatime.config import ConfigError, Settings, load_settings
from hackatime.dbcheck import UnusableDatabase, prepare_for_writing


def add_serve(commands: Commands, common: argparse.ArgumentParser) -> None:
    serve = commands.add_parser("serve", parents=[common], help="run the server")
    serve.add_argument("--host", help="address to listen on (env HACKATIME_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (env HACKATIME_PORT)")
    serve.set_defaults(run=_serve)


def add_backup(commands: Commands, common: argparse.ArgumentParser) -> None:
    backup = commands.add_parser(
        "backup", parents=[common], help="copy the database safely, even while it is served"
    )
    backup.add_argument(
        "path",
        help="a new file to write the copy to, or an existing folder to put a timestamped copy in",
    )
    backup.add_argument("--force", action="store_true", help="replace an existing file")
    backup.add_argument(
        "--keep",
        type=int,
        metavar="N",
        help="into a folder: then delete all but the newest N copies this command made there",
    )
    backup.set_defaults(run=_backup)


def add_migrate(commands: Commands, common: argparse.ArgumentParser) -> None:
    commands.add_parser(
        "migrate",
        parents=[common],
        help="bring the database to this version's schema (serve does it too), after a backup",
    ).set_defaults(run=_migrate)


def _serve(parser: argparse.ArgumentParser, settings: Settings, args: argparse.Namespace) -> int:
    from app import create_app
    from hackatime import logs, serving

    try:
        settings = load_settings(os.environ, db_path=args.db, host=args.host, port=args.port)
    except ConfigError as error:
        parser.error(str(error))
    if not 0 < settings.port < 65536:
        parser.error(f"--port must be between 1 and 65535, got {settings.port}")
    logs.configure()
    print(f"hackatime: database {settings.db_path.resolve()}", flush=True)
    try:
        # Here rather than only in the app's lifespan, whose failure uvicorn reports with a
        # traceback: an unusable database ends `serve` with one line.
        prepare_for_writing(settings.db_path, datetime.now(UTC))
    except UnusableDatabase as error:
        return fail(error)
    # uvicorn re-raises SIGTERM after its graceful shutdown; exiting 0 instead tells a service
    # manager that the stop was clean.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    serving.run(create_app(settings), settings)
    return 0


def _backup(parser: argparse.ArgumentParser, settings: Settings, args: argparse.Namespace) -> int:
    target = Path(args.path)
    into_folder = target.is_dir()
    if args.keep is not None:
        if args.keep < 1:
            parser.error("--keep N needs N of 1 or more")
        if not into_folder:
            # Named, so that a cron line whose folder was never made says what to create.
            problem = "is not a folder" if target.exists() else "does not exist; create it first"
            needs = "--keep N needs an existing folder as the destination"
            parser.error(f"{needs}: {target} {problem}")
    if not into_folder:
        if args.path.endswith("/") or not target.parent.is_dir():
            folder = target if args.path.endswith("/") else target.parent
            parser.error(f"the destination folder {folder} does not exist; create it first")
        if target.exists() and not args.force:
            parser.error(f"{target} exists; choose another path or pass --force")
        if target.resolve() == settings.db_path.resolve():
            parser.error("the backup path is the database itself")
    try:
        if into_folder:
            target = backups.copy_into(settings.db_path, target, datetime.now(UTC))
        else:
            backups.backup(settings.db_path, target)
    except (OSError, sqlite3.Error) as error:
        return fail(error)
    print(f"Backed up {settings.db_path} to {target}")
    if args.keep is not None:
        for old in backups.prune(target.parent, args.keep):
            print(f"Removed the old copy {old}")
    return 0


def _migrate(parser: argparse.ArgumentParser, settings: Settings, args: argparse.Namespace) -> int:
    path = settings.db_path
    if not path.is_file():
        parser.error(f"no database at {path}")
    try:
        upgraded = prepare_for_writing(path, datetime.now(UTC))
    except UnusableDatabase as error:
        return fail(error)
    if upgraded.backup is not None:
        print(f"Backed up {path} to {upgraded.backup}")
    for migration in upgraded.applied:
        print(f"Applied {migration.name}")
    done = "now at" if upgraded.applied else "already at"
    print(f"{path} is {done} schema version {migrations.latest_version()}")
    return 0
