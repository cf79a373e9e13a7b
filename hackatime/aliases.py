"""Project aliases: a user's stored project names shown under another name.

Heartbeats keep the project name they arrived with; `project_aliases` says which stored name
is shown as which, and every read applies it. So a rename covers heartbeats that still arrive
under the old name, and removing an alias brings the stored name back exactly.

The table stays flat: an alias never points at a name that is itself an alias. A command whose
new name is already shown as another name goes to that final name (renaming `x` to `b` while
`b` is shown as `a` shows `x` as `a`); one that would make a loop (showing `a` as `b` while `b`
is shown as `a`) is refused. Reading then needs one step, never a walk.

Reads apply the rule inside their own SQL, so it costs no extra query: `shown_sql` is the
project as the user sees it, applied to the few groups a sum returns (or the rows of a page);
`stored_names_sql` is every stored name a name asked for stands for, so a filter stays a plain
`IN` on the indexed column. A user without aliases pays one probe of an empty index per group.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from hackatime.db import Database
from hackatime.users import User, UserError, get_user_by_name, list_users

# Heartbeats without a project are shown as this; it names no stored project, so no alias may
# start or end there.
UNKNOWN = "Unknown"


class AliasError(UserError):
    """A rename, merge or unalias that cannot be done; the message says why."""


def shown_sql(name: str, user_id: str = ":user_id") -> str:
    """SQL for the name the project `name` is shown as to the user `user_id` (both SQL: a
    column or a parameter)."""
    return (
        f"coalesce((SELECT pa.project FROM project_aliases pa"
        f" WHERE pa.user_id = {user_id} AND pa.alias = {name}), {name})"
    )


def stored_names_sql(names: Sequence[str], user_id: str = ":user_id") -> str:
    """SQL selecting every stored name that the names asked for (SQL parameters) stand for: an
    old name asks for the whole project it now belongs to."""
    shown = " UNION ALL ".join(f"SELECT {shown_sql(name, user_id)}" for name in names)
    return (
        f"WITH shown(name) AS ({shown}) SELECT name FROM shown"
        " UNION SELECT pa.alias FROM project_aliases pa JOIN shown"
        f" ON pa.user_id = {user_id} AND pa.project = shown.name"
    )


@dataclass(frozen=True)
class ProjectNames:
    """One user's aliases as the commands see them: stored name -> shown name."""

    shown_as: Mapping[str, str]

    def shown(self, name: str) -> str:
        return self.shown_as.get(name, name)


_FOR_USER = "SELECT alias, project FROM project_aliases WHERE user_id = ? ORDER BY project, alias"


async def project_names(db: Database, user_id: int) -> ProjectNames:
    rows = await db.fetch_all(_FOR_USER, (user_id,))
    return ProjectNames({alias: shown for alias, shown in rows})


@dataclass(frozen=True)
class Moved:
    """One name given to a command: the stored names it moved, and where they now show."""

    name: str
    aliases: list[str]
    shown: str


# `name`, plus every stored name shown as `name`, now shows as `target`. Done in one statement
# so the group read is the group written; the NOT EXISTS keeps the table flat should another
# command have made `target` an alias meanwhile (nothing is then written).
_MOVE = """
WITH moved(alias) AS (
    SELECT :name
    UNION SELECT alias FROM project_aliases WHERE user_id = :user_id AND project = :name
)
INSERT INTO project_aliases (user_id, alias, project, created_at_ms)
SELECT :user_id, alias, :target, :now_ms FROM moved
WHERE alias <> :target
  AND NOT EXISTS (SELECT 1 FROM project_aliases WHERE user_id = :user_id AND alias = :target)
ON CONFLICT (user_id, alias) DO UPDATE SET project = excluded.project
RETURNING alias
"""

# A name is either an alias or a name shown for others, never both: this removes the one alias,
# or every alias of the shown name.
_UNALIAS = """
DELETE FROM project_aliases WHERE user_id = :user_id AND (alias = :name OR project = :name)
RETURNING alias, project
"""

_STORED_PROJECTS = """
SELECT DISTINCT project FROM heartbeats WHERE user_id = ? AND project IS NOT NULL
"""


async def resolve_user(db: Database, username: str | None) -> User:
    """The user a command is about: the one named, or the only user there is."""
    if username is not None:
        found = await get_user_by_name(db, username)
        if found is None:
            raise AliasError(f"no user named {username!r}")
        return found
    everyone = await list_users(db)
    if len(everyone) != 1:
        raise AliasError(f"there are {len(everyone)} users: say whose projects with --user NAME")
    return everyone[0]


def _fold(name: str) -> str:
    return name.strip().casefold()


def _check_name(name: str) -> None:
    if not name.strip():
        raise AliasError("project names cannot be empty")
    if name == UNKNOWN:
        raise AliasError(f"{UNKNOWN!r} stands for heartbeats without a project; it has no alias")


def plan_merge(names: ProjectNames, new: str, olds: Sequence[str]) -> tuple[str, list[str]]:
    """The name everything will show as and the names to move there, or AliasError.

    Names differing only in case or surrounding spaces are different projects unless given
    (`similar_names` finds them).
    """
    for name in (new, *olds):
        _check_name(name)
    target = names.shown(new)
    todo: list[str] = []
    for old in dict.fromkeys(olds):
        if old == new:
            continue
        group = {old, *(alias for alias, shown in names.shown_as.items() if shown == old)}
        if target in group:
            raise AliasError(
                f"{new!r} is shown as {old!r}: showing {old!r} as {new!r} would be a loop;"
                f" run `hackatime project unalias {new}` first"
            )
        todo.append(old)
    return target, todo


def similar_names(stored: Iterable[str], names: ProjectNames, wanted: Iterable[str]) -> list[str]:
    """The shown project names equal to one of `wanted` but for case and surrounding spaces."""
    folded = {_fold(name) for name in wanted}
    shown = {names.shown(name) for name in stored}
    return sorted(name for name in shown if _fold(name) in folded)


async def merge(
    db: Database, user_id: int, new: str, olds: Sequence[str], *, ignore_case: bool = False
) -> list[Moved]:
    """Show every name in `olds` (and whatever each is shown for) as `new`."""
    names = await project_names(db, user_id)
    if ignore_case:
        stored = [row[0] for row in await db.fetch_all(_STORED_PROJECTS, (user_id,))]
        similar = similar_names([*stored, *names.shown_as], names, [new, *olds])
        olds = [*olds, *(name for name in similar if name != names.shown(new))]
    target, todo = plan_merge(names, new, olds)
    now_ms = int(time.time() * 1000)
    moved: list[Moved] = []
    for old in todo:
        rows = await db.write(
            _MOVE, {"user_id": user_id, "name": old, "target": target, "now_ms": now_ms}
        )
        if not rows:
            raise AliasError(f"{target!r} was renamed meanwhile; run the command again")
        # An old name given after the project it was shown as has moved already.
        earlier = {alias for each in moved for alias in each.aliases}
        moved.append(Moved(old, sorted({row[0] for row in rows} - earlier), target))
    return moved


async def rename(db: Database, user_id: int, old: str, new: str) -> Moved:
    if old == new:
        raise AliasError(f"{old!r} is already called {new!r}")
    (moved,) = await merge(db, user_id, new, [old])
    return moved


async def unalias(db: Database, user_id: int, name: str) -> list[tuple[str, str]]:
    """Remove `name`'s alias, or every alias shown as `name`: (stored name, was shown as)."""
    rows = await db.write(_UNALIAS, {"user_id": user_id, "name": name})
    if not rows:
        raise AliasError(f"{name!r} is not an alias, nor shown for one")
    return sorted((alias, shown) for alias, shown in rows)


async def list_aliases(db: Database, user_id: int) -> list[tuple[str, str]]:
    """(stored name, shown as), grouped by the shown name."""
    return [(alias, shown) for alias, shown in await db.fetch_all(_FOR_USER, (user_id,))]
