from __future__ import annotations

import hashlib
import re
import sqlite3
import time
import uuid
import weakref
from dataclasses import dataclass, replace

from hackatime.config import is_zone
from hackatime.db import Database, Params, integer_id

TRUST_LEVELS = {"yellow": 0, "red": 1, "green": 2}
TRUST_NAMES = {value: name for name, value in TRUST_LEVELS.items()}

# `current` and `my` stand for the caller in URLs; all-digit names would read as user ids.
SELF_ALIASES = ("current", "my")
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class UserError(ValueError):
    """A user cannot be created or changed as asked; the message says why."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    email: str | None
    slack_uid: str | None
    timezone: str | None
    detected_timezone: str | None
    is_admin: bool
    trust_value: int
    is_public: bool
    created_at_ms: int

    @property
    def trust_level(self) -> str:
        return TRUST_NAMES[self.trust_value]

    def zone_name(self, default: str) -> str:
        return self.timezone or self.detected_timezone or default


_COLUMNS = (
    "id, username, email, slack_uid, timezone, detected_timezone, is_admin, trust_value, "
    "is_public, created_at_ms"
)


def _user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        username=row["username"],
        email=row["email"],
        slack_uid=row["slack_uid"],
        timezone=row["timezone"],
        detected_timezone=row["detected_timezone"],
        is_admin=bool(row["is_admin"]),
        trust_value=row["trust_value"],
        is_public=bool(row["is_public"]),
        created_at_ms=row["created_at_ms"],
    )


def new_api_key() -> str:
    # Lowercase UUID v4 is the only key shape every WakaTime client accepts.
    return str(uuid.uuid4())


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def validate_fields(
    *,
    username: str | None = None,
    email: str | None = None,
    timezone: str | None = None,
    trust_level: str | None = None,
) -> list[str]:
    problems = []
    if username is not None and (
        not _USERNAME.fullmatch(username) or username.isdigit() or username in SELF_ALIASES
    ):
        problems.append(
            f"username {username!r} must be 1-64 letters, digits, '.', '_' or '-', "
            "not all digits, and not 'current' or 'my'"
        )
    if email is not None and email != "" and ("@" not in email or len(email) > 254):
        problems.append(f"email {email!r} is not an email address")
    if timezone is not None and timezone != "" and not is_zone(timezone):
        problems.append(f"timezone {timezone!r} is not an IANA time zone such as Europe/Berlin")
    if trust_level is not None and trust_level not in TRUST_LEVELS:
        problems.append(f"trust level {trust_level!r} must be one of yellow, red, green")
    return problems


async def create_user(
    db: Database,
    username: str,
    *,
    email: str | None = None,
    slack_uid: str | None = None,
    timezone: str | None = None,
    is_admin: bool = False,
) -> tuple[User, str]:
    """Create a user and return it with its API key, the only time the key is ever shown."""
    problems = validate_fields(username=username, email=email, timezone=timezone)
    if problems:
        raise UserError("; ".join(problems))
    key = new_api_key()
    rows = await _write_checked(
        db,
        "INSERT INTO users (username, email, slack_uid, timezone, is_admin, api_key_sha256,"
        f" created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
        (
            username,
            email or None,
            slack_uid or None,
            timezone or None,
            int(is_admin),
            key_digest(key),
            int(time.time() * 1000),
        ),
        {"username": username, "email": email, "slack uid": slack_uid},
    )
    return _user(rows[0]), key


# How SQLite names each UNIQUE constraint on users in its error message, and what it is about.
_UNIQUE_CONSTRAINTS = {
    "users.username": "username",
    "index 'users_email'": "email",
    "users.slack_uid": "slack uid",
}


async def _write(db: Database, sql: str, params: Params) -> list[sqlite3.Row]:
    """Every change to users goes through here, so the users remembered by key are forgotten:
    before the write, and again after it for what lookups read while it was under way."""
    _BY_KEY.pop(db, None)
    try:
        return await db.write(sql, params)
    finally:
        _BY_KEY.pop(db, None)


async def _write_checked(
    db: Database, sql: str, params: Params, values: dict[str, object]
) -> list[sqlite3.Row]:
    """One write to users; a clash with another user's unique field becomes a UserError.

    The constraints do the checking rather than a query beforehand: nothing can come between
    a statement's check and its change.
    """
    try:
        return await _write(db, sql, params)
    except sqlite3.IntegrityError as error:
        if error.sqlite_errorname == "SQLITE_CONSTRAINT_UNIQUE":
            for constraint, label in _UNIQUE_CONSTRAINTS.items():
                if str(error).endswith(constraint) and values.get(label):
                    raise UserError(
                        f"a user with {label} {values[label]!r} already exists"
                    ) from None
        raise


async def update_user(
    db: Database,
    username: str,
    *,
    email: str | None = None,
    slack_uid: str | None = None,
    timezone: str | None = None,
    is_admin: bool | None = None,
    trust_level: str | None = None,
    is_public: bool | None = None,
) -> User:
    """Change the given fields; an empty string clears email, slack uid or timezone."""
    problems = validate_fields(email=email, timezone=timezone, trust_level=trust_level)
    if problems:
        raise UserError("; ".join(problems))
    user = await named_user(db, username)
    changes: dict[str, object] = {}
    if email is not None:
        changes["email"] = email or None
    if slack_uid is not None:
        changes["slack_uid"] = slack_uid or None
    if timezone is not None:
        changes["timezone"] = timezone or None
    if is_admin is not None:
        changes["is_admin"] = int(is_admin)
    if trust_level is not None:
        changes["trust_value"] = TRUST_LEVELS[trust_level]
    if is_public is not None:
        changes["is_public"] = int(is_public)
    if not changes:
        return user
    # Column names come from the fixed keys above, never from input.
    assignments = ", ".join(f"{column} = :{column}" for column in changes)
    rows = await _write_checked(
        db,
        f"UPDATE users SET {assignments} WHERE id = :id RETURNING {_COLUMNS}",
        {**changes, "id": user.id},
        {"email": changes.get("email"), "slack uid": changes.get("slack_uid")},
    )
    return _user(rows[0])


async def rotate_key(db: Database, username: str) -> str:
    user = await named_user(db, username)
    key = new_api_key()
    await _write(db, "UPDATE users SET api_key_sha256 = ? WHERE id = ?", (key_digest(key), user.id))
    return key


# What deleting a user takes with it, as counted before asking (the foreign keys cascade to
# these and to the user's dashboard sessions and project aliases).
COUNT_OWNED_ROWS = (
    "SELECT (SELECT count(*) FROM heartbeats WHERE user_id = :id),"
    " (SELECT count(*) FROM goals WHERE user_id = :id)"
)


async def owned_rows(db: Database, user: User) -> tuple[int, int]:
    """How many heartbeats and goals the user has."""
    row = await db.fetch_one(COUNT_OWNED_ROWS, {"id": user.id})
    assert row is not None
    return row[0], row[1]


async def delete_user(db: Database, username: str) -> None:
    """Delete the user with everything of theirs (heartbeats, goals, sessions, aliases), in one
    statement."""
    if not await _write(db, "DELETE FROM users WHERE username = ? RETURNING id", (username,)):
        raise UserError(f"no user named {username!r}")


async def set_detected_timezone(db: Database, user: User, zone: str) -> User:
    """Record the zone a client reported; the user as it now is (unchanged for a bad zone)."""
    if user.detected_timezone == zone or not is_zone(zone):
        return user
    await _write(db, "UPDATE users SET detected_timezone = ? WHERE id = ?", (zone, user.id))
    return replace(user, detected_timezone=zone)


async def list_users(db: Database) -> list[User]:
    rows = await db.fetch_all(f"SELECT {_COLUMNS} FROM users ORDER BY id")
    return [_user(row) for row in rows]


async def count_users(db: Database) -> int:
    return int(await db.fetch_value("SELECT count(*) FROM users"))


async def _one(db: Database, where: str, value: object) -> User | None:
    row = await db.fetch_one(f"SELECT {_COLUMNS} FROM users WHERE {where}", (value,))
    return None if row is None else _user(row)


async def get_user_by_id(db: Database, user_id: int) -> User | None:
    return await _one(db, "id = ?", user_id)


async def get_user_by_name(db: Database, username: str) -> User | None:
    return await _one(db, "username = ?", username)


async def named_user(db: Database, username: str) -> User:
    """The user of that name; UserError when there is none."""
    user = await get_user_by_name(db, username)
    if user is None:
        raise UserError(f"no user named {username!r}")
    return user


# How long the user a key belongs to is remembered. Every request authenticates, and a lookup
# on a reader thread costs a heartbeat request a quarter of its time. Changes this process
# makes to users are seen at once (see _write); changes made meanwhile by another process
# (`hackatime user ...` while the server runs) within this many seconds.
KEY_MEMORY_SECONDS = 10.0

# The most keys remembered per database. Only keys that belong to a user are, so this bounds
# nothing but a very large instance; the oldest lookup is forgotten first.
REMEMBERED_KEYS = 10_000

# Per database: key digest -> (when it was looked up, on the monotonic clock; its user).
_BY_KEY: weakref.WeakKeyDictionary[Database, dict[str, tuple[float, User]]] = (
    weakref.WeakKeyDictionary()
)


async def get_user_by_key(db: Database, key: str) -> User | None:
    digest = key_digest(key)
    remembered = _BY_KEY.setdefault(db, {})
    now = time.monotonic()
    if digest in remembered and now - remembered[digest][0] < KEY_MEMORY_SECONDS:
        return remembered[digest][1]
    user = await _one(db, "api_key_sha256 = ?", digest)
    # Unknown keys are not remembered: they would let anyone grow the memory without bound.
    if user is None:
        remembered.pop(digest, None)
    # Nor a user changed during the lookup, which may have read it as it was before.
    elif _BY_KEY.get(db) is remembered:
        remembered.pop(digest, None)
        remembered[digest] = (now, user)
        while len(remembered) > REMEMBERED_KEYS:
            # Dicts keep insertion order, and a lookup re-inserts: the first is the oldest.
            del remembered[next(iter(remembered))]
    return user


async def get_user_by_email(db: Database, email: str) -> User | None:
    return await _one(db, "lower(email) = lower(?)", email)


async def get_user_by_slack_uid(db: Database, slack_uid: str) -> User | None:
    return await _one(db, "slack_uid = ?", slack_uid)


async def find_user(db: Database, ident: str, *, by_slack_uid: bool = True) -> User | None:
    """A user named in a URL: username first, then numeric id, then (if allowed) Slack uid."""
    user = await get_user_by_name(db, ident)
    user_id = integer_id(ident)
    if user is None and user_id is not None:
        user = await get_user_by_id(db, user_id)
    if user is None and by_slack_uid:
        user = await get_user_by_slack_uid(db, ident)
    return user


def is_listed(user: User) -> bool:
    """Whether others may see this user's time: public and not convicted (red)."""
    return user.is_public and user.trust_level != "red"


def _sees_everything(viewer: User | None, target: User) -> bool:
    """Self and admins; None is a request with no key."""
    return viewer is not None and (viewer.id == target.id or viewer.is_admin)


def may_view_stats(viewer: User | None, target: User) -> bool:
    """Self and admins always; others, and requests with no key (None), only a listed user."""
    return _sees_everything(viewer, target) or is_listed(target)


def may_view_profile(viewer: User | None, target: User) -> bool:
    """Whether `viewer` (None: a request with no key) may learn that `target` exists and its
    trust level: self and admins always, others only a public user. To anyone else a private
    user is an unknown one."""
    return _sees_everything(viewer, target) or target.is_public
