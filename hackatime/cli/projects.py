"""`hackatime project`: names shown in place of others (stored heartbeats are never changed)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from hackatime import aliases
from hackatime.cli.common import Commands, database_command
from hackatime.db import Database


def add_project(commands: Commands, common: argparse.ArgumentParser) -> None:
    project = commands.add_parser(
        "project", help="rename and merge projects (stored heartbeats are never changed)"
    ).add_subparsers(dest="action", required=True)
    whose = argparse.ArgumentParser(add_help=False, parents=[common])
    whose.add_argument("--user", help="whose projects (may be left out when there is one user)")
    rename = project.add_parser("rename", parents=[whose], help="show project OLD as NEW")
    rename.add_argument("old", metavar="OLD")
    rename.add_argument("new", metavar="NEW")
    rename.set_defaults(run=database_command(_project_rename))
    merge = project.add_parser("merge", parents=[whose], help="show projects OLD… as NEW")
    merge.add_argument("new", metavar="NEW")
    merge.add_argument("olds", metavar="OLD", nargs="*")
    merge.add_argument(
        "-i",
        "--ignore-case",
        action="store_true",
        help="also merge every project named like NEW or an OLD but for case and outer spaces",
    )
    merge.set_defaults(run=database_command(_project_merge))
    unalias = project.add_parser(
        "unalias", parents=[whose], help="show NAME (or every name shown as NAME) as stored"
    )
    unalias.add_argument("name", metavar="NAME")
    unalias.set_defaults(run=database_command(_project_unalias))
    listing = project.add_parser("aliases", parents=[whose], help="list the names shown as others")
    listing.set_defaults(run=database_command(_project_aliases, writable=False))


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
