"""The `hackatime` command: serve, back up, and manage users and goals. Thin over the domain
modules."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from hackatime import goals, users
from hackatime.config import ConfigError, Settings, load_settings
from hackatime.db import Database, backup
from hackatime.dbcheck import OutOfDate, UnusableDatabase, prepare_for_writing


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="SQLite database file (env HACKATIME_DB)")

    parser = argparse.ArgumentParser(
        prog="hackatime", description="Self-hosted WakaTime-compatible time tracker."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", parents=[common], help="run the server")
    serve.add_argument("--host", help="address to listen on (env HACKATIME_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (env HACKATIME_PORT)")

    user = commands.add_parser("user", help="manage users").add_subparsers(
        dest="action", required=True
    )
    add = user.add_parser("add", parents=[common], help="create a user and print its API key")
    add.add_argument("name")
    add.add_argument("--email")
    add.add_argument("--slack-uid")
    add.add_argument("--timezone", help="IANA zone such as Europe/Berlin")
    add.add_argument("--admin", action="store_true")

    change = user.add_parser("set", parents=[common], help="change a user")
    change.add_argument("name")
    change.add_argument("--email", help="'' clears it")
    change.add_argument("--slack-uid", help="'' clears it")
    change.add_argument("--timezone", help="IANA zone; '' goes back to the detected one")
    change.add_argument("--admin", action=argparse.BooleanOptionalAction, default=None)
    change.add_argument("--trust-level", choices=sorted(users.TRUST_LEVELS))
    visibility = change.add_mutually_exclusive_group()
    visibility.add_argument("--public", dest="public", action="store_true", default=None)
    visibility.add_argument("--private", dest="public", action="store_false")

    user.add_parser("list", parents=[common], help="list users")

    key = user.add_parser("key", parents=[common], help="replace a user's API key (--rotate)")
    key.add_argument("name")
    key.add_argument("--rotate", action="store_true", help="make a new key; the old one stops")
    backup = commands.add_parser(
        "backup", parents=[common], help="copy the database safely, even while it is served"
    )
    backup.add_argument("path", help="where to write the copy (must not exist)")
    backup.add_argument("--force", action="store_true", help="replace an existing file")

    goal = commands.add_parser("goal", help="manage coding goals").add_subparsers(
        dest="action", required=True
    )
    goal_add = goal.add_parser("add", parents=[common], help="add a goal")
    goal_add.add_argument("--user", required=True, help="whose goal")
    goal_add.add_argument("--title", required=True)
    goal_add.add_argument("--seconds", type=int, required=True, help="target per period")
    goal_add.add_argument("--period", choices=goals.PERIODS, required=True)
    goal_add.add_argument("--project", help="count only this project")
    goal_add.add_argument("--language", help="count only this language")
    goal_list = goal.add_parser("list", parents=[common], help="list goals")
    goal_list.add_argument("--user", help="only this user's goals")
    goal_rm = goal.add_parser("rm", parents=[common], help="remove a goal")
    goal_rm.add_argument("id", type=int)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(os.environ, db_path=args.db)
    except ConfigError as error:
        parser.error(str(error))
    if args.command == "serve":
        return _serve(parser, settings, args)
    if args.command == "backup":
        return _backup(parser, settings, args)
    handler = _ACTIONS[args.command][args.action]
    creates_database = (args.command, args.action) == ("user", "add")
    if not creates_database and not settings.db_path.exists():
        parser.error(f"no database at {settings.db_path} (start the server or add a user first)")
    if creates_database:
        # Checked before the database is opened, so a bad name leaves no new file behind.
        problems = users.validate_fields(
            username=args.name, email=args.email, timezone=args.timezone
        )
        if problems:
            parser.error("; ".join(problems))
    writable = (args.command, args.action) not in _READ_ONLY
    try:
        return asyncio.run(_with_db(settings, lambda db: handler(db, args), writable=writable))
    except UnusableDatabase as error:
        return _fail(error)
    except users.UserError as error:
        print(f"hackatime: error: {error}", file=sys.stderr)
        return 2


def _fail(error: Exception) -> int:
    print(f"hackatime: error: {error}", file=sys.stderr)
    return 1


async def _with_db(
    settings: Settings, action: Callable[[Database], Awaitable[int]], *, writable: bool
) -> int:
    db = Database(settings.db_path, read_connections=1, writable=writable)
    try:
        await db.open()
    except OutOfDate:
        # An empty or older database is brought up to date first: a write, the first time only.
        db = Database(settings.db_path, read_connections=1)
        await db.open()
    try:
        return await action(db)
    finally:
        await db.close()


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
        prepare_for_writing(settings.db_path)
    except UnusableDatabase as error:
        return _fail(error)
    # uvicorn re-raises SIGTERM after its graceful shutdown; exiting 0 instead tells a service
    # manager that the stop was clean.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    serving.run(create_app(settings), settings)
    return 0


def _backup(parser: argparse.ArgumentParser, settings: Settings, args: argparse.Namespace) -> int:
    target = Path(args.path)
    if target.exists() and not args.force:
        parser.error(f"{target} exists; choose another path or pass --force")
    if target.resolve() == settings.db_path.resolve():
        parser.error("the backup path is the database itself")
    try:
        backup(settings.db_path, target)
    except (FileNotFoundError, sqlite3.Error) as error:
        print(f"hackatime: error: {error}", file=sys.stderr)
        return 1
    print(f"Backed up {settings.db_path} to {target}")
    return 0


async def _add(db: Database, args: argparse.Namespace) -> int:
    user, key = await users.create_user(
        db,
        args.name,
        email=args.email,
        slack_uid=args.slack_uid,
        timezone=args.timezone,
        is_admin=args.admin,
    )
    print(f"Created user {user.username!r} (id {user.id}). API key, shown only this once:")
    print(key)
    return 0


async def _set(db: Database, args: argparse.Namespace) -> int:
    user = await users.update_user(
        db,
        args.name,
        email=args.email,
        slack_uid=args.slack_uid,
        timezone=args.timezone,
        is_admin=args.admin,
        trust_level=args.trust_level,
        is_public=args.public,
    )
    print(_describe(user))
    return 0


async def _list(db: Database, args: argparse.Namespace) -> int:
    for user in await users.list_users(db):
        print(_describe(user))
    return 0


async def _key(db: Database, args: argparse.Namespace) -> int:
    if not args.rotate:
        if await users.get_user_by_name(db, args.name) is None:
            raise users.UserError(f"no user named {args.name!r}")
        raise users.UserError(
            "keys are stored only as digests and cannot be shown again; "
            "use --rotate to make a new one"
        )
    key = await users.rotate_key(db, args.name)
    print(f"New API key for {args.name!r}; the old one no longer works:")
    print(key)
    return 0


def _describe(user: users.User) -> str:
    fields: list[tuple[str, Any]] = [
        ("id", user.id),
        ("email", user.email or "-"),
        ("slack_uid", user.slack_uid or "-"),
        (
            "timezone",
            user.timezone
            or (f"{user.detected_timezone} (detected)" if user.detected_timezone else "-"),
        ),
        ("admin", "yes" if user.is_admin else "no"),
        ("trust", user.trust_level),
        ("visibility", "public" if user.is_public else "private"),
    ]
    return user.username + "  " + "  ".join(f"{name}={value}" for name, value in fields)


async def _goal_add(db: Database, args: argparse.Namespace) -> int:
    goal = await goals.add_goal(
        db,
        args.user,
        title=args.title,
        seconds=args.seconds,
        period=args.period,
        project=args.project,
        language=args.language,
    )
    print(f"Added goal {goal.id}: {_describe_goal(goal)}")
    return 0


async def _goal_list(db: Database, args: argparse.Namespace) -> int:
    user_id = None
    if args.user:
        user = await users.get_user_by_name(db, args.user)
        if user is None:
            raise users.UserError(f"no user named {args.user!r}")
        user_id = user.id
    for goal in await goals.list_goals(db, user_id):
        print(f"{goal.id}  {_describe_goal(goal)}")
    return 0


async def _goal_rm(db: Database, args: argparse.Namespace) -> int:
    await goals.remove_goal(db, args.id)
    print(f"Removed goal {args.id}")
    return 0


def _describe_goal(goal: goals.Goal) -> str:
    scope = "".join(
        f" {name}={value}"
        for name, value in (("project", goal.project), ("language", goal.language))
        if value
    )
    return f"{goal.title!r}  {goal.seconds}s per {goal.period}{scope}  user_id={goal.user_id}"


Action = Callable[[Database, argparse.Namespace], Awaitable[int]]
# Commands that only read: they open the database read-only and never checkpoint it.
_READ_ONLY = {("user", "list"), ("goal", "list")}
_ACTIONS: dict[str, dict[str, Action]] = {
    "user": {"add": _add, "set": _set, "list": _list, "key": _key},
    "goal": {"add": _goal_add, "list": _goal_list, "rm": _goal_rm},
}


if __name__ == "__main__":
    sys.exit(main())
