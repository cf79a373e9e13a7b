"""`hackatime user` and `hackatime goal`: accounts, their keys and their coding goals."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hackatime import goals, users
from hackatime.cli.common import Commands, database_command, run_action
from hackatime.config import Settings
from hackatime.db import Database


def add_user(commands: Commands, common: argparse.ArgumentParser) -> None:
    user = commands.add_parser("user", help="manage users").add_subparsers(
        dest="action", required=True
    )
    add = user.add_parser("add", parents=[common], help="create a user and print its API key")
    add.add_argument("name")
    add.add_argument("--email")
    add.add_argument("--slack-uid")
    add.add_argument("--timezone", help="IANA zone such as Europe/Berlin")
    add.add_argument("--admin", action="store_true")
    add.set_defaults(run=_create)

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
    change.set_defaults(run=database_command(_set))

    listing = user.add_parser("list", parents=[common], help="list users")
    listing.set_defaults(run=database_command(_list, writable=False))

    key = user.add_parser("key", parents=[common], help="replace a user's API key (--rotate)")
    key.add_argument("name")
    key.add_argument("--rotate", action="store_true", help="make a new key; the old one stops")
    key.set_defaults(run=database_command(_key))

    remove = user.add_parser("rm", parents=[common], help="delete a user and their heartbeats")
    remove.add_argument("name")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    remove.set_defaults(run=database_command(_remove))


def add_goal(commands: Commands, common: argparse.ArgumentParser) -> None:
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
    goal_add.set_defaults(run=database_command(_goal_add))
    goal_list = goal.add_parser("list", parents=[common], help="list goals")
    goal_list.add_argument("--user", help="only this user's goals")
    goal_list.set_defaults(run=database_command(_goal_list, writable=False))
    goal_rm = goal.add_parser("rm", parents=[common], help="remove a goal")
    goal_rm.add_argument("id", help="the goal's id, as goal list shows it")
    goal_rm.set_defaults(run=database_command(_goal_rm))


def _create(parser: argparse.ArgumentParser, settings: Settings, args: argparse.Namespace) -> int:
    # Checked before the database is opened, so a bad name leaves no new file behind.
    problems = users.validate_fields(username=args.name, email=args.email, timezone=args.timezone)
    if problems:
        parser.error("; ".join(problems))
    return run_action(settings, args, _add, writable=True)


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
        await users.named_user(db, args.name)
        raise users.UserError(
            "keys are stored only as digests and cannot be shown again; "
            "use --rotate to make a new one"
        )
    key = await users.rotate_key(db, args.name)
    print(f"New API key for {args.name!r}; the old one no longer works:")
    print(key)
    return 0


async def _remove(db: Database, args: argparse.Namespace) -> int:
    user = await users.named_user(db, args.name)
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
    user_id = (await users.named_user(db, args.user)).id if args.user else None
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
