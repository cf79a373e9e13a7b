"""The `hackatime` command: serve, back up, migrate, and manage users and goals. Thin over the
domain modules."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hackatime import __version__, aliases, backups, goals, migrations, timeranges, users
from hackatime.compare import compare_months, comparison_lines
from hackatime.config import ConfigError, Settings, load_settings
from hackatime.db import Database
from hackatime.dbcheck import OutOfDate, UnusableDatabase, prepare_for_writing
from hackatime.errors import ApiError
from hackatime.transfer import importer, readers, remote, writers
from hackatime.transfer.progress import progress_for


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="SQLite database file (env HACKATIME_DB)")

    parser = argparse.ArgumentParser(
        prog="hackatime", description="Self-hosted WakaTime-compatible time tracker."
    )
    parser.add_argument("--version", action="version", version=f"hackatime {__version__}")
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

    remove = user.add_parser("rm", parents=[common], help="delete a user and their heartbeats")
    remove.add_argument("name")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")

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

    commands.add_parser(
        "migrate",
        parents=[common],
        help="bring the database to this version's schema (serve does it too), after a backup",
    )

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
    goal_rm.add_argument("id", help="the goal's id, as goal list shows it")

    project = commands.add_parser(
        "project", help="rename and merge projects (stored heartbeats are never changed)"
    ).add_subparsers(dest="action", required=True)
    whose = argparse.ArgumentParser(add_help=False, parents=[common])
    whose.add_argument("--user", help="whose projects (may be left out when there is one user)")
    rename = project.add_parser("rename", parents=[whose], help="show project OLD as NEW")
    rename.add_argument("old", metavar="OLD")
    rename.add_argument("new", metavar="NEW")
    merge = project.add_parser("merge", parents=[whose], help="show projects OLD… as NEW")
    merge.add_argument("new", metavar="NEW")
    merge.add_argument("olds", metavar="OLD", nargs="*")
    merge.add_argument(
        "-i",
        "--ignore-case",
        action="store_true",
        help="also merge every project named like NEW or an OLD but for case and outer spaces",
    )
    unalias = project.add_parser(
        "unalias", parents=[whose], help="show NAME (or every name shown as NAME) as stored"
    )
    unalias.add_argument("name", metavar="NAME")
    project.add_parser("aliases", parents=[whose], help="list the names shown as others")

    bring = commands.add_parser(
        "import", parents=[common], help="import heartbeats from a file or a running server"
    )
    bring.add_argument(
        "file", nargs="?", help="a WakaTime data dump, Hackatime export or hackatime export"
    )
    bring.add_argument("--user", required=True, help="whose heartbeats they become")
    bring.add_argument("--from", dest="url", help="a WakaTime-compatible API's base URL")
    bring.add_argument("--key", help="your API key there")
    bring.add_argument("--start", help="first day, YYYY-MM-DD (default: the account's first)")
    bring.add_argument("--end", help="last day, YYYY-MM-DD (default: today)")
    bring.add_argument("--rate", type=float, default=5.0, help="requests per second at most")

    take = commands.add_parser("export", parents=[common], help="write a user's heartbeats")
    take.add_argument("--user", required=True)
    take.add_argument("--start", help="first day, YYYY-MM-DD (default: the first heartbeat)")
    take.add_argument("--end", help="last day, inclusive (default: the last heartbeat)")
    take.add_argument("--format", choices=list(writers.FORMATS), default="json")
    take.add_argument("--output", help="file to write (default: standard output)")

    compare = commands.add_parser(
        "compare", parents=[common], help="monthly totals under this server's and WakaTime's rule"
    )
    compare.add_argument("--user", required=True)
    compare.add_argument("--start", help="first day, YYYY-MM-DD (default: the first heartbeat)")
    compare.add_argument("--end", help="last day, inclusive (default: the last heartbeat)")
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
    if args.command == "migrate":
        return _migrate(parser, settings)
    if args.command in _TRANSFERS:
        return _transfer(parser, settings, args)
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
        prepare_for_writing(settings.db_path, datetime.now(UTC))
    except UnusableDatabase as error:
        return _fail(error)
    # uvicorn re-raises SIGTERM after its graceful shutdown; exiting 0 instead tells a service
    # manager that the stop was clean.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    serving.run(create_app(settings), settings)
    return 0


def _backup(parser: argparse.ArgumentParser, settings: Settings, args: argparse.Namespace) -> int:
    target = Path(args.path)
    into_folder = target.is_dir()
    if args.keep is not None and (not into_folder or args.keep < 1):
        parser.error("--keep N needs an existing folder as the destination and N of 1 or more")
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
        print(f"hackatime: error: {error}", file=sys.stderr)
        return 1
    print(f"Backed up {settings.db_path} to {target}")
    if args.keep is not None:
        for old in backups.prune(target.parent, args.keep):
            print(f"Removed the old copy {old}")
    return 0


def _migrate(parser: argparse.ArgumentParser, settings: Settings) -> int:
    path = settings.db_path
    if not path.is_file():
        parser.error(f"no database at {path}")
    try:
        upgraded = prepare_for_writing(path, datetime.now(UTC))
    except UnusableDatabase as error:
        return _fail(error)
    if upgraded.backup is not None:
        print(f"Backed up {path} to {upgraded.backup}")
    for migration in upgraded.applied:
        print(f"Applied {migration.name}")
    done = "now at" if upgraded.applied else "already at"
    print(f"{path} is {done} schema version {migrations.latest_version()}")
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


async def _remove(db: Database, args: argparse.Namespace) -> int:
    user = await users.get_user_by_name(db, args.name)
    if user is None:
        raise users.UserError(f"no user named {args.name!r}")
    heartbeat_count, goal_count = await users.owned_rows(db, user)
    what = f"user {user.username!r} with {heartbeat_count} heartbeats and {goal_count} goals"
    if not args.yes and not _confirm(f"Delete {what}? This cannot be undone. [y/N] "):
        print("Nothing deleted.", file=sys.stderr)
        return 1
    await users.delete_user(db, user.username)
    print(f"Deleted {what}")
    return 0


def _confirm(question: str) -> bool:
    try:
        answer = input(question)
    except EOFError:  # no terminal to answer from: --yes is the way
        print("\nno answer; pass --yes to delete without asking", file=sys.stderr)
        return False
    return answer.strip().lower() in ("y", "yes")


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
    found = await goals.list_goals(db, user_id)
    if not found:
        print(f"No goals for {args.user!r} yet." if args.user else "No goals yet.")
        print("Add one with: hackatime goal add --user NAME --title T --seconds N --period day")
    for goal in found:
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


def _print_moved(moved: Sequence[aliases.Moved], asked: str) -> None:
    if not moved:
        print(f"Nothing to merge into {asked!r}")
    elif moved[0].shown != asked:
        print(f"{asked!r} is itself shown as {moved[0].shown!r}, so that is where they go")
    for each in moved:
        for alias in each.aliases:
            print(f"{alias!r} now shows as {each.shown!r}")


async def _project_rename(db: Database, args: argparse.Namespace) -> int:
    user = await aliases.resolve_user(db, args.user)
    _print_moved([await aliases.rename(db, user.id, args.old, args.new)], args.new)
    return 0


async def _project_merge(db: Database, args: argparse.Namespace) -> int:
    if not args.olds and not args.ignore_case:
        raise aliases.AliasError("name the projects to merge into NEW, or pass --ignore-case")
    user = await aliases.resolve_user(db, args.user)
    moved = await aliases.merge(db, user.id, args.new, args.olds, ignore_case=args.ignore_case)
    _print_moved(moved, args.new)
    return 0


async def _project_unalias(db: Database, args: argparse.Namespace) -> int:
    user = await aliases.resolve_user(db, args.user)
    for alias, shown in await aliases.unalias(db, user.id, args.name):
        print(f"{alias!r} shows as itself again (was shown as {shown!r})")
    return 0


async def _project_aliases(db: Database, args: argparse.Namespace) -> int:
    user = await aliases.resolve_user(db, args.user)
    for alias, shown in await aliases.list_aliases(db, user.id):
        print(f"{alias!r} shows as {shown!r}")
    return 0


def _transfer(parser: argparse.ArgumentParser, settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "import" and bool(args.file) == bool(args.url):
        parser.error("import takes a FILE or --from URL, one of them")
    if args.command == "import" and args.url and not args.key:
        parser.error("--from needs --key")
    if args.command == "import" and args.rate <= 0:
        parser.error("--rate must be positive")
    if not settings.db_path.exists():
        parser.error(f"no database at {settings.db_path} (start the server or add a user first)")
    handler = _TRANSFERS[args.command]
    # Export and compare only read: they never hold up the server's writes.
    writable = args.command == "import"
    try:
        return asyncio.run(
            _with_db(settings, lambda db: handler(db, settings, args), writable=writable)
        )
    except UnusableDatabase as error:
        return _fail(error)
    except (users.UserError, readers.DumpError, remote.RemoteError, ApiError, OSError) as error:
        print(f"hackatime: error: {_message(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("hackatime: interrupted", file=sys.stderr)
        return 130


def _message(error: Exception) -> str:
    if isinstance(error, ApiError):
        return error.message
    if isinstance(error, OSError) and error.strerror:
        return f"{error.filename}: {error.strerror}" if error.filename else error.strerror
    return str(error)


async def _named_user(db: Database, name: str) -> users.User:
    user = await users.get_user_by_name(db, name)
    if user is None:
        raise users.UserError(f"no user named {name!r}")
    return user


def _now_ms() -> int:
    return int(time.time() * 1000)


async def _import(db: Database, settings: Settings, args: argparse.Namespace) -> int:
    user = await _named_user(db, args.user)
    tz = timeranges.zone(user.zone_name(settings.default_timezone))
    report = importer.ImportReport()
    try:
        if args.url:
            await _import_remote(db, user, tz, args, report)
        else:
            await _import_file(db, user, args, report)
    except BaseException:
        if report.read:
            print(
                f"Stopped after {report.new:,} new and {report.already_stored:,} already there;"
                " what was stored stays, and the same command goes on from there.",
                file=sys.stderr,
            )
        raise
    for line in await importer.report_lines(
        db, user.id, report, tz, timeout_ms=settings.timeout_ms
    ):
        print(line)
    return 0


async def _import_file(
    db: Database, user: users.User, args: argparse.Namespace, report: importer.ImportReport
) -> None:
    path = Path(args.file)
    # Opened here for what it is and its size; importer.import_file reads it in a process.
    with readers.open_dump(path) as dump:
        kind, size = dump.kind, dump.size
    print(f"Importing {args.file} ({kind}) for {user.username}", file=sys.stderr)
    progress = progress_for(sys.stderr, total=size, unit="B", description="import")
    try:
        await importer.import_file(db, user.id, path, report, now_ms=_now_ms(), progress=progress)
    finally:
        progress.close()


async def _import_remote(
    db: Database,
    user: users.User,
    tz: ZoneInfo,
    args: argparse.Namespace,
    report: importer.ImportReport,
) -> None:
    server = remote.RemoteServer(args.url, args.key, requests_per_second=args.rate)
    first = (
        timeranges.parse_date(args.start, "--start")
        if args.start
        else await asyncio.to_thread(remote.account_start, server)
    )
    if first is None:
        raise users.UserError("--start is needed: the server does not say when the account began")
    last = timeranges.parse_date(args.end, "--end") if args.end else timeranges.today(_now_ms(), tz)
    if last < first:
        raise users.UserError("--start: after --end")
    source = remote.RemoteHistory(server, first, last)
    print(f"Importing {first} to {last} from {args.url} for {user.username}", file=sys.stderr)
    await _import_with_progress(
        db, user, source.heartbeats(), report, source.position, total=source.days, unit="days"
    )


async def _import_with_progress(
    db: Database,
    user: users.User,
    items: Iterator[Any],
    report: importer.ImportReport,
    position: Callable[[], int],
    *,
    total: int,
    unit: str,
) -> None:
    progress = progress_for(sys.stderr, total=total, unit=unit, description="import")
    try:
        await importer.import_heartbeats(
            db, user.id, items, report, now_ms=_now_ms(), position=position, progress=progress
        )
    finally:
        progress.close()


async def _export(db: Database, settings: Settings, args: argparse.Namespace) -> int:
    user = await _named_user(db, args.user)
    tz = timeranges.zone(user.zone_name(settings.default_timezone))
    first_ms, end_ms = await writers.default_range(db, user.id, _now_ms())
    span = timeranges.resolve_range(
        args.start,
        args.end,
        tz,
        default_start_ms=first_ms,
        default_end_ms=end_ms,
        start_name="--start",
        end_name="--end",
    )
    total = await writers.count(db, user.id, span.start_ms, span.end_ms)
    progress = progress_for(sys.stderr, total=total, unit="heartbeats", description="export")
    chunks = writers.export_chunks(
        db,
        user,
        start_ms=span.start_ms,
        end_ms=span.end_ms,
        tz=tz,
        file_format=args.format,
        on_page=lambda written: progress.update(written, written),
    )
    try:
        if args.output:
            # Written beside the target and renamed: a stopped export leaves no half file.
            target = Path(args.output)
            partial = target.with_name(target.name + ".partial")
            with partial.open("wb") as output:
                async for chunk in chunks:
                    output.write(chunk)
            partial.replace(target)
        else:
            async for chunk in chunks:
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
    finally:
        progress.close()
    print(
        f"Exported {total:,} heartbeats of {user.username} to {args.output or 'standard output'}",
        file=sys.stderr,
    )
    return 0


async def _compare(db: Database, settings: Settings, args: argparse.Namespace) -> int:
    user = await _named_user(db, args.user)
    tz = timeranges.zone(user.zone_name(settings.default_timezone))
    span = await writers.history_span(db, user.id)
    if span == (0, 0) and not (args.start and args.end):
        print(f"{user.username} has no heartbeats")
        return 0
    first = (
        timeranges.parse_date(args.start, "--start")
        if args.start
        else timeranges.local_date(span[0], tz)
    )
    last = (
        timeranges.parse_date(args.end, "--end")
        if args.end
        else max(timeranges.local_date(span[1] - 1, tz), first)
    )
    if last < first:
        raise users.UserError("--start: after --end")
    months = await compare_months(db, user.id, first, last, tz, timeout_ms=settings.timeout_ms)
    for line in comparison_lines(months, timeout_ms=settings.timeout_ms):
        print(line)
    return 0


_TRANSFERS: dict[str, Callable[[Database, Settings, argparse.Namespace], Awaitable[int]]] = {
    "import": _import,
    "export": _export,
    "compare": _compare,
}

Action = Callable[[Database, argparse.Namespace], Awaitable[int]]
# Commands that only read: they open the database read-only and never checkpoint it.
_READ_ONLY = {("user", "list"), ("goal", "list"), ("project", "aliases")}
_ACTIONS: dict[str, dict[str, Action]] = {
    "user": {"add": _add, "set": _set, "list": _list, "key": _key, "rm": _remove},
    "goal": {"add": _goal_add, "list": _goal_list, "rm": _goal_rm},
    "project": {
        "rename": _project_rename,
        "merge": _project_merge,
        "unalias": _project_unalias,
        "aliases": _project_aliases,
    },
}


if __name__ == "__main__":
    sys.exit(main())
