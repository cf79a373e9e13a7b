"""What every command shares: opening the database, the one error line, and the types that tie
each command family to the parser."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from typing import TypeAlias

from hackatime import users
from hackatime.config import Settings
from hackatime.db import Database
from hackatime.dbcheck import UnusableDatabase, sqlite_problem

# What add_subparsers returns: each command module adds its own parsers to it.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
# A command as `main` runs it, set on its parser as the default `run`.
Command = Callable[[argparse.ArgumentParser, Settings, argparse.Namespace], int]
Action = Callable[[Database, argparse.Namespace], Awaitable[int]]


def fail(error: object, status: int = 1) -> int:
    print(f"hackatime: error: {error}", file=sys.stderr)
    return status


def require_database(parser: argparse.ArgumentParser, settings: Settings) -> None:
    if not settings.db_path.exists():
        parser.error(f"no database at {settings.db_path} (start the server or add a user first)")


async def _with_db(
    settings: Settings, action: Callable[[Database], Awaitable[int]], *, writable: bool
) -> int:
    # Read-only, an empty or older database is refused (OutOfDate) rather than upgraded: the
    # migration is a write that a still-running older server must not find under it.
    db = Database(settings.db_path, read_connections=1, writable=writable)
    await db.open()
    try:
        return await action(db)
    finally:
        await db.close()


def run_on_database(
    settings: Settings, action: Callable[[Database], Awaitable[int]], *, writable: bool
) -> int:
    try:
        return asyncio.run(_with_db(settings, action, writable=writable))
    except UnusableDatabase as error:
        return fail(error)
    except sqlite3.Error as error:
        # SQLITE_BUSY once the busy timeout has passed while a server writes, a full disk…
        return fail(f"{settings.db_path} {sqlite_problem(error)}")


def run_action(
    settings: Settings, args: argparse.Namespace, action: Action, *, writable: bool
) -> int:
    try:
        return run_on_database(settings, lambda db: action(db, args), writable=writable)
    except users.UserError as error:
        return fail(error, 2)


def database_command(action: Action, *, writable: bool = True) -> Command:
    """The command running `action` on the database, which must exist. A command that only reads
    passes writable=False: it opens the database read-only and never checkpoints it."""

    def command(
        parser: argparse.ArgumentParser, settings: Settings, args: argparse.Namespace
    ) -> int:
        require_database(parser, settings)
        return run_action(settings, args, action, writable=writable)

    return command
