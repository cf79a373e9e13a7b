"""`hackatime import`, `export` and `compare`: heartbeats in from files or another server, out to
a file, and totals under both rules."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path
from zoneinfo import ZoneInfo

from hackatime import timeranges, users
from hackatime.cli.common import Commands, fail, require_database, run_on_database
from hackatime.compare import compare_months, comparison_lines
from hackatime.config import Settings
from hackatime.db import Database
from hackatime.errors import ApiError
from hackatime.transfer import importer, readers, remote, writers
from hackatime.transfer.progress import progress_for

Transfer = Callable[[Database, Settings, argparse.Namespace], Awaitable[int]]


def add_import(commands: Commands, common: argparse.ArgumentParser) -> None:
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
    bring.set_defaults(run=_import_command)


def add_export(commands: Commands, common: argparse.ArgumentParser) -> None:
    take = commands.add_parser("export", parents=[common], help="write a user's heartbeats")
    take.add_argument("--user", required=True)
    take.add_argument("--start", help="first day, YYYY-MM-DD (default: the first heartbeat)")
    take.add_argument("--end", help="last day, inclusive (default: the last heartbeat)")
    take.add_argument("--format", choices=list(writers.FORMATS), default="json")
    take.add_argument("--output", help="file to write (default: standard output)")
    take.set_defaults(run=_export_command)


def add_compare(commands: Commands, common: argparse.ArgumentParser) -> None:
    compare = commands.add_parser(
        "compare", parents=[common], help="monthly totals under this server's and WakaTime's rule"
    )
    compare.add_argument("--user", required=True)
    compare.add_argument("--start", help="first day, YYYY-MM-DD (default: the first heartbeat)")
    compare.add_argument("--end", help="last day, inclusive (default: the last heartbeat)")
    compare.set_defaults(run=_compare_command)


def _import_command(
    parser: argparse.ArgumentParser, settings: Settings, args: argparse.Namespace
) -> int:
    if bool(args.file) == bool(args.url):
        parser.error("import takes a FILE or --from URL, one of them")
    if args.url and not args.key:
        parser.error("--from needs --key")
    if args.rate <= 0:
        parser.error("--rate must be positive")
    return _transfer(parser, settings, args, _import, writable=True)


# Export and compare only read: they never hold up the server's writes.
def _export_command(
    parser: argparse.ArgumentParser, settings: Settings, args: argparse.Namespace
) -> int:
    return _transfer(parser, settings, args, _export, writable=False)


def _compare_command(
    parser: argparse.ArgumentParser, settings: Settings, args: argparse.Namespace
) -> int:
    return _transfer(parser, settings, args, _compare, writable=False)


def _transfer(
    parser: argparse.ArgumentParser,
    settings: Settings,
    args: argparse.Namespace,
    handler: Transfer,
    *,
    writable: bool,
) -> int:
    require_database(parser, settings)
    try:
        return run_on_database(settings, lambda db: handler(db, settings, args), writable=writable)
    except (users.UserError, readers.DumpError, remote.RemoteError, ApiError, OSError) as error:
        return fail(_message(error))
    except KeyboardInterrupt:
        print("hackatime: interrupted", file=sys.stderr)
        return 130


def _message(error: Exception) -> str:
    if isinstance(error, ApiError):
        return error.message
    if isinstance(error, OSError) and error.strerror:
        return f"{error.filename}: {error.strerror}" if error.filename else error.strerror
    return str(error)


def _now_ms() -> int:
    return int(time.time() * 1000)


async def _import(db: Database, settings: Settings, args: argparse.Namespace) -> int:
    user = await users.named_user(db, args.user)
    tz = timeranges.user_zone(user, settings.default_timezone)
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
    with closing(progress_for(sys.stderr, total=size, unit="B", description="import")) as progress:
        await importer.import_file(db, user.id, path, report, now_ms=_now_ms(), progress=progress)


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
    with closing(
        progress_for(sys.stderr, total=source.days, unit="days", description="import")
    ) as progress:
        await importer.import_heartbeats(
            db,
            user.id,
            source.heartbeats(),
            report,
            now_ms=_now_ms(),
            position=source.position,
            progress=progress,
        )


async def _export(db: Database, settings: Settings, args: argparse.Namespace) -> int:
    user = await users.named_user(db, args.user)
    tz = timeranges.user_zone(user, settings.default_timezone)
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
    user = await users.named_user(db, args.user)
    tz = timeranges.user_zone(user, settings.default_timezone)
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
