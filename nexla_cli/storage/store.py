"""The credential store: one JSON file holding every environment and its session.

One file, so an environment's settings and its session change together or not at all.
It is replaced atomically (temp file in the same directory, fsync, os.replace), so a
reader never needs a lock and a killed writer leaves the old file or the new one. Every
read-modify-write holds a cross-process lock (`credentials.json.lock`).

What the file holds is read into records (StoreData, Environment, Identity, model.Session,
keys.SavedKey) and written back from them; fields a record does not know are kept in its
`extra` and written back as they were, so a newer nexla's minor addition survives an
older one's rewrite. An older format is brought up to date as it is read (MIGRATIONS); the
next write stores the current one. docs/file-format.md describes the format.

Reading is standard library only: the `token print` fast path reads the store too, so
the module imports nothing heavy (filelock only when locking; no typing at run time).

A damaged session
    One identity's session that cannot be parsed (model.Session.from_dict says why) does
    not make the whole file unreadable: it is recorded as it was read, and kept as it is
    when the file is rewritten. Whoever uses the session meets `Identity.session`, which
    raises CorruptStore (exit 3, naming the file): `token print`, `token status`, `env list`,
    `env show`, renewal, `nexla api`. Commands that forget the session anyway (`env
    logout`, `env remove`, marking a dead token) ask `session_unless_damaged()` and treat it
    as no session: there is nothing to send. The `token print` fast path, which decides no
    errors, leaves it to the full app, which reports it as above. Replacing the session
    (`identity.session = …`) ends the damage. A damaged session says nobody's identity it
    is: it is never chosen by --org, and `env logout --all` and `env remove` forget it.

Identities
    An environment holds one identity per user and org signed in to it (`Identity`; see
    docs/file-format.md, format 3). The active one is stored where format 2 kept the one
    session, the others in `other_identities`, so a file with one identity reads as format
    2 did and the step from 2 to 3 changes nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from nexla_cli.core.errors import ConfigError, StoreBusy
from nexla_cli.core.identities import same_key
from nexla_cli.core.model import Session

# For type checkers only: nothing more is imported at run time (the fast path reads here).
# keys.py is imported only to read (or migrate) a saved key: a `token print` in a store
# without one never loads it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from nexla_cli.core.model import JsonObject
    from nexla_cli.core.runtime import Notices
    from nexla_cli.storage import keys

# The newest format this nexla reads and the one it writes (see MIGRATIONS below).
FORMAT_VERSION = 3
LOCK_TIMEOUT_SECONDS = 60.0
# The file holds a few environments (a few KB each); anything far larger is not ours, and
# reading it whole could take all memory (a symlink to /dev/zero once did).
MAX_STORE_BYTES = 16 * 1024 * 1024
# Our own records nest five levels; the cap leaves room for what a server puts in a user
# record, while JSON nested thousands of levels deep is a corrupt file, not a crash.
MAX_NESTING = 64
# Room set aside beyond the current file's size before a request whose answer must be
# stored: a new session (a token of at most 16 KiB, user and org) fits many times over.
RESERVE_EXTRA_BYTES = 64 * 1024
_TEMP_PREFIX = ".credentials."
_TEMP_SUFFIX = ".tmp"


class CorruptStore(ConfigError):
    def __init__(self, path: Path, detail: str):
        super().__init__(
            f"cannot parse {path}: {detail}",
            hint="`nexla env configure HOST` or `nexla env login --env NAME` sets it aside "
            "and starts afresh",
        )
        self.path = path
        self.detail = detail


class RefusedFile(ConfigError):
    """A file nexla will not touch at all (a symlink, a shared directory): left as it is."""


# The records ------------------------------------------------------------------------------


class _DamagedSession:
    """A stored session that could not be parsed: what was read (written back as it was)
    and why it is unusable."""

    __slots__ = ("raw", "path", "reason")

    def __init__(self, raw: object, path: Path, reason: str) -> None:
        self.raw = raw
        self.path = path
        self.reason = reason


class Identity:
    """One user in one org on an environment, as stored: its session and the service key
    saved for it (with what is remembered about them: a refresh failure, a refused key).

    Which identity a session is, is what the server named when it was obtained: the user's
    id and the org's id in the session (`key`). `saved_key` is a keys.SavedKey (or None);
    only keys.py looks inside it. See "A damaged session" above for what `storedsessions`
    does when the stored one cannot be parsed.
    """

    __slots__ = ("saved_key", "extra", "_session", "_damaged")

    def __init__(
        self,
        *,
        session: Session | None = None,
        saved_key: keys.SavedKey | None = None,
        extra: JsonObject | None = None,
    ) -> None:
        self.saved_key = saved_key
        self.extra: JsonObject = extra or {}
        self._session = session
        self._damaged: _DamagedSession | None = None

    def __repr__(self) -> str:
        return f"Identity({self.key!r}, session={self._session!r})"

    @property
    def session(self) -> Session | None:
        """The stored session, None when not signed in; CorruptStore when it is damaged."""
        if self._damaged is not None:
            raise CorruptStore(self._damaged.path, self._damaged.reason)
        return self._session

    @session.setter
    def session(self, value: Session | None) -> None:
        self._session = value
        self._damaged = None

    @property
    def session_damaged(self) -> bool:
        return self._damaged is not None

    def session_unless_damaged(self) -> Session | None:
        """The session, or None when there is none or it is damaged: for the commands that
        forget it anyway, for which a damaged session is nothing to send."""
        return self._session

    @property
    def empty(self) -> bool:
        """Nothing stored: no session (damaged or not) and no saved key."""
        return self._session is None and self._damaged is None and self.saved_key is None

    @property
    def key(self) -> tuple[object, object] | None:
        """(user id, org id) as the server named them; None without a readable session."""
        if self._session is None:
            return None
        return identity_key(self._session)

    @classmethod
    def from_json(cls, raw: JsonObject, path: Path, fields: frozenset[str]) -> Identity:
        """The identity in `raw`'s `session` and `saved_key`; the keys not in `fields` are
        kept as its `extra`."""
        saved_key = None
        if raw.get("saved_key") is not None:
            from nexla_cli.storage.keys import SavedKey

            try:
                saved_key = SavedKey.from_json(raw["saved_key"])
            except ValueError as exc:
                raise CorruptStore(path, str(exc)) from None
        extra = {key: value for key, value in raw.items() if key not in fields}
        identity = cls(saved_key=saved_key, extra=extra)
        stored = raw.get("session")
        if stored is not None:
            try:
                identity._session = Session.from_dict(stored)
            except ValueError as exc:
                identity._damaged = _DamagedSession(stored, path, str(exc))
        return identity

    def to_json(self) -> JsonObject:
        data: JsonObject = dict(self.extra)
        if self._damaged is not None:
            data["session"] = self._damaged.raw
        elif self._session is not None:
            data["session"] = self._session.to_dict()
        if self.saved_key is not None:
            data["saved_key"] = self.saved_key.to_json()
        return data


def identity_key(session: Session) -> tuple[object, object]:
    """(user id, org id) of a session: the identity it belongs to."""
    return session.user.get("id"), (session.org or {}).get("id")


_IDENTITY_FIELDS = frozenset({"session", "saved_key"})


class Environment:
    """One environment as stored: its API URL and its identities.

    One identity is active (`active`: what commands use when no org is chosen; it may be
    empty, when nobody is signed in); the others are in `others`. `session` and
    `saved_key` are the active identity's.
    """

    __slots__ = ("api_url", "extra", "active", "others")

    def __init__(
        self,
        api_url: str,
        *,
        session: Session | None = None,
        saved_key: keys.SavedKey | None = None,
        extra: JsonObject | None = None,
        others: list[Identity] | None = None,
    ) -> None:
        self.api_url = api_url
        self.extra: JsonObject = extra or {}
        self.active = Identity(session=session, saved_key=saved_key)
        self.others: list[Identity] = others or []

    def __repr__(self) -> str:
        return f"Environment({self.api_url!r}, active={self.active!r}, others={self.others!r})"

    # The active identity's, as a one-identity environment always had them.

    @property
    def session(self) -> Session | None:
        return self.active.session

    @session.setter
    def session(self, value: Session | None) -> None:
        self.active.session = value

    @property
    def saved_key(self) -> keys.SavedKey | None:
        return self.active.saved_key

    @saved_key.setter
    def saved_key(self, value: keys.SavedKey | None) -> None:
        self.active.saved_key = value

    @property
    def session_damaged(self) -> bool:
        return self.active.session_damaged

    def session_unless_damaged(self) -> Session | None:
        return self.active.session_unless_damaged()

    # Identities.

    def identities(self) -> list[Identity]:
        """Every identity with something stored, the active one first."""
        return ([] if self.active.empty else [self.active]) + self.others

    def find(self, key: tuple[object, object] | None) -> Identity | None:
        """The identity `key` names; None for a key no identity has. None as the key is
        the active identity."""
        if key is None:
            return self.active
        return next((each for each in self.identities() if same_key(each.key, key)), None)

    def activate(self, identity: Identity) -> None:
        """Make `identity` (one of ours, or a new one) the active one; the one that was
        active, if anything is stored for it, stays among the others."""
        if identity is self.active:
            return
        if identity in self.others:
            self.others.remove(identity)
        if not self.active.empty:
            self.others.insert(0, self.active)
        self.active = identity

    def forget(self, identity: Identity) -> None:
        """Forget `identity`. When it was the active one and exactly one other remains,
        that one becomes active; otherwise none is (as with the current environment)."""
        if identity is self.active:
            self.active = Identity()
            if len(self.others) == 1:
                self.active = self.others.pop()
        elif identity in self.others:
            self.others.remove(identity)

    @classmethod
    def from_json(cls, raw: JsonObject, path: Path) -> Environment:
        """The record for one environment's object (its `api_url` and `other_identities`
        already checked)."""
        active = Identity.from_json(raw, path, _ENVIRONMENT_FIELDS)
        env = cls(raw["api_url"], extra=active.extra)
        active.extra = {}
        env.active = active
        env.others = [
            Identity.from_json(other, path, _IDENTITY_FIELDS)
            for other in raw.get(OTHER_IDENTITIES) or []
        ]
        return env

    def to_json(self) -> JsonObject:
        data: JsonObject = dict(self.extra)
        data.update(self.active.to_json())
        data["api_url"] = self.api_url
        if self.others:
            data[OTHER_IDENTITIES] = [other.to_json() for other in self.others]
        return data


OTHER_IDENTITIES = "other_identities"
_ENVIRONMENT_FIELDS = frozenset({"api_url", "session", "saved_key", OTHER_IDENTITIES})


class StoreData:
    """What the file holds: the environments by name, and which one is current (a name
    among them, or None)."""

    __slots__ = ("version", "current", "environments", "extra")

    def __init__(
        self,
        current: str | None = None,
        environments: dict[str, Environment] | None = None,
        *,
        extra: JsonObject | None = None,
    ) -> None:
        # Always the current format: an older file is migrated as it is read.
        self.version = FORMAT_VERSION
        self.current = current
        self.environments: dict[str, Environment] = environments if environments is not None else {}
        self.extra: JsonObject = extra or {}

    def __repr__(self) -> str:
        return f"StoreData(current={self.current!r}, environments={sorted(self.environments)})"

    @classmethod
    def from_json(cls, raw: JsonObject, path: Path) -> StoreData:
        """The records for a file's object, already checked (_check_shape) and migrated."""
        environments = {
            name: Environment.from_json(env, path) for name, env in raw["environments"].items()
        }
        extra = {key: value for key, value in raw.items() if key not in _STORE_FIELDS}
        return cls(raw.get("current"), environments, extra=extra)

    def to_json(self) -> JsonObject:
        data: JsonObject = dict(self.extra)
        data["version"] = self.version
        data["current"] = self.current
        data["environments"] = {name: env.to_json() for name, env in self.environments.items()}
        return data


_STORE_FIELDS = frozenset({"version", "current", "environments"})


def empty_store() -> StoreData:
    return StoreData()


# Migrations -------------------------------------------------------------------------------


def _saved_key_in_one_object(data: JsonObject) -> JsonObject:
    """1 -> 2: an environment's saved service key, three fields beside its session, becomes
    one `saved_key` object (keys.py says how)."""
    from nexla_cli.storage.keys import v1_fields_to_saved_key

    for env in data["environments"].values():
        v1_fields_to_saved_key(env)
    return data


def _one_session_the_active_identity(data: JsonObject) -> JsonObject:
    """2 -> 3: an environment held one session (and the key saved for it); format 3 holds
    identities, one user in one org each. The one session becomes the active identity,
    stored where format 2 kept it, so nothing moves: an environment has no other
    identities yet."""
    return data


# Format N -> N+1, for every N from 1 up to FORMAT_VERSION - 1: the reader applies them in
# order to what it parsed, in memory. Nothing is written by reading: the next write of the
# file stores FORMAT_VERSION, and until then an older nexla still reads the file it wrote.
MIGRATIONS: dict[int, Callable[[JsonObject], JsonObject]] = {
    1: _saved_key_in_one_object,
    2: _one_session_the_active_identity,
}


def _migrated(data: JsonObject) -> JsonObject:
    version = data["version"]
    while version < FORMAT_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    data["version"] = version
    return data


# Reading ------------------------------------------------------------------------------------


def read_store(path: Path) -> StoreData:
    """The stored records, empty ones if there is no file; CorruptStore if unparseable.

    Only a regular file of at most MAX_STORE_BYTES is read: a FIFO, a device or a huge file
    is CorruptStore without blocking (O_NONBLOCK), and a symlink is RefusedFile, never
    followed (O_NOFOLLOW). The directory must not be a shared one (check_config_dir).
    """
    check_config_dir(path.parent)
    flags = os.O_RDONLY | _flags("O_NONBLOCK", "O_NOFOLLOW", "O_CLOEXEC", "O_BINARY")
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return empty_store()
    except OSError as exc:
        if _is_symlink(path):
            raise _symlink_refused(path) from None
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        raw = _read_regular(path, fd)
    finally:
        os.close(fd)
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise CorruptStore(path, "not valid JSON") from None
    except RecursionError:
        raise CorruptStore(path, "JSON nested too deeply") from None
    if not _nesting_within(data, MAX_NESTING):
        raise CorruptStore(path, "JSON nested too deeply")
    _check_shape(path, data)
    return StoreData.from_json(_migrated(data), path)


def _flags(*names: str) -> int:
    """The named os.O_* flags this platform has (Windows has neither NONBLOCK nor NOFOLLOW)."""
    value = 0
    for name in names:
        value |= getattr(os, name, 0)
    return value


def _read_regular(path: Path, fd: int) -> bytes:
    """The file's bytes, if it is a regular file of a sane size; CorruptStore otherwise."""
    st = os.fstat(fd)
    if stat.S_ISDIR(st.st_mode):
        raise CorruptStore(path, "it is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise CorruptStore(path, f"it is not a regular file but {_file_kind(st.st_mode)}")
    if st.st_size > MAX_STORE_BYTES:
        raise CorruptStore(path, f"it is larger than {MAX_STORE_BYTES // (1024 * 1024)} MiB")
    chunks, total = [], 0
    try:
        while total <= MAX_STORE_BYTES:
            chunk = os.read(fd, 1024 * 1024)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    if total > MAX_STORE_BYTES:  # it grew while being read
        raise CorruptStore(path, f"it is larger than {MAX_STORE_BYTES // (1024 * 1024)} MiB")
    return b"".join(chunks)


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _nesting_within(data: object, limit: int) -> bool:
    """Whether no list or object in data is nested deeper than limit (iteratively: the
    point is to refuse what recursion could not handle)."""
    pending: list[tuple[object, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        children: list[object]
        if isinstance(value, dict):
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return False
        pending.extend((child, depth + 1) for child in children)
    return True


def _is_symlink(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False


def _symlink_refused(path: Path) -> RefusedFile:
    return RefusedFile(
        f"{path} is a symbolic link: nexla never follows one out of its directory, "
        "and left it alone",
        hint="replace the link with the file itself, or point NEXLA_CONFIG_DIR at the "
        "directory the file is in",
    )


def _check_shape(path: Path, data: object) -> None:
    """What every format has in common, checked before any migration: a version this nexla
    knows, environments (objects, each with an API URL) and a current one among them."""
    if not isinstance(data, dict):
        raise CorruptStore(path, "not a JSON object")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise CorruptStore(path, "no format version")
    if version < 1:
        raise CorruptStore(path, f"unknown format version {version}")
    if version > FORMAT_VERSION:
        raise ConfigError(
            f"{path} was written by a newer nexla (format {version})",
            hint="upgrade nexla",
        )
    environments = data.get("environments")
    if not isinstance(environments, dict) or not all(
        isinstance(env, dict) and isinstance(env.get("api_url"), str)
        for env in environments.values()
    ):
        raise CorruptStore(path, "malformed environments")
    for env in environments.values():
        others = env.get(OTHER_IDENTITIES)
        if others is not None and not (
            isinstance(others, list) and all(isinstance(other, dict) for other in others)
        ):
            raise CorruptStore(path, f"malformed {OTHER_IDENTITIES}")
    current = data.get("current")
    if current is not None and (not isinstance(current, str) or current not in environments):
        raise CorruptStore(path, "the current environment is not in it")


# Windows -------------------------------------------------------------------------------------
# NTFS has no POSIX modes: os.stat reports 0666 for every file and 0777 for every directory,
# and os.chmod only sets or clears the read-only flag. Privacy there is the directory's ACL:
# nexla makes the one it creates owner-only and otherwise leaves modes, owners and ACLs alone.

# icacls is bounded in time like every outside call; it answers in milliseconds.
ACL_TIMEOUT_SECONDS = 10.0


def posix_modes(platform: str | None = None) -> bool:
    """Whether file modes and owners mean what POSIX says (everywhere but Windows)."""
    return (platform or sys.platform) != "win32"


def windows_account(environ: Mapping[str, str]) -> str | None:
    """This run's account as icacls names it (DOMAIN\\user), from the variables Windows sets
    for every logon; None when they are missing."""
    user = environ.get("USERNAME", "").strip()
    if not user:
        return None
    domain = environ.get("USERDOMAIN", "").strip()
    return f"{domain}\\{user}" if domain else user


def owner_only_acl_commands(directory: Path, account: str) -> list[list[str]]:
    """The icacls calls that make `directory` (and what is created in it) the account's alone.

    Two calls, in this order: the account is granted full control first, and only once that
    has worked are the inherited entries removed, so a name icacls cannot resolve leaves the
    directory as it was (inheriting the profile's ACL) and never locks its owner out.
    """
    return [
        ["icacls", str(directory), "/grant:r", f"{account}:(OI)(CI)F"],
        ["icacls", str(directory), "/inheritance:r"],
    ]


def _restrict_to_owner(directory: Path, account: str | None) -> str | None:
    """Run owner_only_acl_commands; a notice when that could not be done."""
    import subprocess

    if account is None:
        return _acl_not_set(directory, "USERNAME is not set")
    for command in owner_only_acl_commands(directory, account):
        try:
            done = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=ACL_TIMEOUT_SECONDS,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            return _acl_not_set(directory, reason)
        if done.returncode != 0:
            return _acl_not_set(directory, f"icacls exit status {done.returncode}")
    return None


# Another process that has the file open without FILE_SHARE_DELETE (an antivirus scanner, the
# search indexer, a backup agent, an editor) makes a rename onto it fail for a moment with
# ERROR_ACCESS_DENIED (5) or ERROR_SHARING_VIOLATION (32). A refresh already sent would be
# lost, so the rename is tried again for about a second, as pip does; on POSIX a
# PermissionError is final.
SHARING_VIOLATIONS = (5, 32)
REPLACE_WAITS = (0.1, 0.2, 0.3, 0.4)


def is_sharing_violation(exc: OSError, platform: str | None = None) -> bool:
    """Whether exc is one of Windows' passing refusals (see SHARING_VIOLATIONS)."""
    return (
        not posix_modes(platform)
        and isinstance(exc, PermissionError)
        and getattr(exc, "winerror", None) in SHARING_VIOLATIONS
    )


def replace_file(source: str | Path, target: str | Path) -> None:
    """os.replace, tried again after each of REPLACE_WAITS while Windows reports a sharing
    violation; the last error is raised as it came."""
    for wait in (*REPLACE_WAITS, None):
        try:
            os.replace(source, target)
            return
        except PermissionError as exc:
            if wait is None or not is_sharing_violation(exc):
                raise
        time.sleep(wait)


def _acl_not_set(directory: Path, reason: str) -> str:
    return (
        f"could not make {directory} private to you ({reason}); it keeps the permissions "
        f"of {directory.parent}"
    )


# Modes -------------------------------------------------------------------------------------


def permission_warning(path: Path, platform: str | None = None) -> str | None:
    """A warning when the credentials file is open to group or others, else None (always
    None on Windows, where modes say nothing: see above)."""
    if not posix_modes(platform):
        return None
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) and mode & 0o077:
        return (
            f"{path} is accessible by group or others (mode {mode & 0o777:04o}); "
            f"run `chmod 600 {path}`"
        )
    return None


def _shared(mode: int, platform: str | None = None) -> bool:
    """Sticky, setgid, or writable by others (o+w): a directory meant for many users, like
    /tmp, where others can place or swap files, so nothing in it can be trusted or kept
    private. Group-writable alone is not: with a private group per user (umask 002) that is
    how a `mkdir` comes out, and it is tightened like a readable one."""
    if not posix_modes(platform):  # modes mean nothing there; ACLs guard the directory
        return False
    return bool(mode & (stat.S_ISVTX | stat.S_ISGID | stat.S_IWOTH))


def check_config_dir(directory: Path) -> None:
    """RefusedFile if the config dir is shared or not a directory; nothing if it is missing.

    Readers and writers alike: a file others can place there is not ours to use.
    """
    try:
        st = os.stat(directory)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ConfigError(f"cannot use {directory}: {exc.strerror}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise ConfigError(f"cannot use {directory} as the config directory: not a directory")
    if _shared(st.st_mode):
        raise RefusedFile(
            f"{directory} is a shared directory (mode {stat.S_IMODE(st.st_mode):04o}): "
            "nexla keeps credentials only in a private one and changed nothing",
            hint="point NEXLA_CONFIG_DIR at a directory of your own, e.g. ~/.config/nexla",
        )


def ensure_config_dir(directory: Path, account: str | None = None) -> str | None:
    """Create the config dir 0700, or tighten one of ours that others may read (returns a
    notice saying so); a warning if it is not ours. A shared directory is refused, never
    chmod-ed: as root with NEXLA_CONFIG_DIR=/tmp that would lock every user out of /tmp.

    On Windows a directory nexla creates is made owner-only by its ACL (`account`, see
    windows_account); one that exists is left as it is.
    """
    check_config_dir(directory)
    if not posix_modes():
        return _ensure_windows_dir(directory, account)
    try:
        _make_private_dirs(directory)
        st = os.stat(directory)
    except OSError as exc:
        raise ConfigError(f"cannot create {directory}: {exc.strerror}") from None
    check_config_dir(directory)  # it may have been created meanwhile by someone else
    if st.st_mode & 0o077:
        if hasattr(os, "geteuid") and st.st_uid == os.geteuid():
            os.chmod(directory, 0o700)
            return (
                f"{directory} was open to group or others (mode "
                f"{stat.S_IMODE(st.st_mode):04o}); tightened it to 0700"
            )
        return f"{directory} is accessible by group or others and not owned by you"
    return None


def _ensure_windows_dir(directory: Path, account: str | None) -> str | None:
    if directory.is_dir():
        return None
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {directory}: {exc.strerror}") from None
    return _restrict_to_owner(directory, account)


def _make_private_dirs(directory: Path) -> None:
    """mkdir -p, but every directory created 0700: os.makedirs gives the parents 0777 & ~umask,
    which under umask 000 would let anyone swap the config dir out from under us."""
    missing = []
    while not directory.exists() and directory.parent != directory:
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        # A new directory inherits the parent's setgid bit on Linux; 0700 exactly, so that
        # ours is never taken for a shared one.
        with contextlib.suppress(OSError):
            os.chmod(path, 0o700)


class StoreWriteError(ConfigError):
    """The store could not be written (a full disk, a read-only directory)."""


class CredentialStore:
    """The store file at `path` and its lock, waited for up to `lock_timeout` seconds.

    What the user should hear of (a file open to others, a file set aside) goes to
    `notices`, never to a stream.
    """

    def __init__(
        self,
        path: Path,
        *,
        lock_timeout: float = LOCK_TIMEOUT_SECONDS,
        notices: Notices | None = None,
        account: str | None = None,
    ) -> None:
        from nexla_cli.core.runtime import Notices

        self.path = path
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.lock_timeout = lock_timeout
        self.notices = notices if notices is not None else Notices()
        # Windows only: whom a config directory nexla creates is made private to.
        self.account = account
        # (fd, path) of the temporary file reserve() set aside for the next write.
        self._reserved: tuple[int, str] | None = None

    def load(self) -> StoreData:
        """Read without the lock: a file is only ever replaced whole."""
        data = read_store(self.path)
        self._note(permission_warning(self.path))
        return data

    @contextlib.contextmanager
    def transaction(
        self,
        recover_corrupt: bool = False,
        after_write: Callable[[StoreData], None] | None = None,
    ) -> Iterator[StoreData]:
        """Lock, read, yield the records for changes, then write them back if they changed
        (in the current format, whatever format was read).

        If the body raises, nothing is written. With recover_corrupt, an unparseable file
        is moved aside (kept, 0600, named in a notice) and the transaction starts afresh.
        `after_write(records)` runs once they are on disk, the lock still held (it is how
        a keyring item the file stopped naming is deleted before another process can look).
        """
        self._note(ensure_config_dir(self.path.parent, self.account))
        with self._locked():
            self._remove_stale_temp_files()
            try:
                data = read_store(self.path)
            except CorruptStore as exc:
                if not recover_corrupt:
                    raise
                kept = self._move_aside()
                self._note(
                    f"{self.path} could not be parsed ({exc.detail}); kept it as {kept} and "
                    "started afresh "
                    "(it may still hold tokens: delete it when you no longer need it)"
                )
                data = empty_store()
            else:
                self._note(permission_warning(self.path))
            before = _serialised(data)
            try:
                yield data
                if _serialised(data) != before or not self.path.exists():
                    try:
                        self._write(data)
                    except OSError as exc:
                        raise StoreWriteError(
                            f"cannot write {self.path}: {exc.strerror or exc}"
                        ) from None
                if after_write is not None:
                    after_write(data)
            finally:
                self._release_reservation()

    def _note(self, message: str | None) -> None:
        if message:
            self.notices.warn(message)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        import filelock

        self._check_lock_file()
        lock = filelock.FileLock(str(self.lock_path), timeout=self.lock_timeout, mode=0o600)
        try:
            lock.acquire()
        except filelock.Timeout:  # a TimeoutError, so an OSError: first
            raise StoreBusy(
                f"could not lock {self.lock_path} within {self.lock_timeout:g} seconds",
                hint="another nexla process is holding it; nothing was changed: try again "
                "when it is done (NEXLA_LOCK_TIMEOUT sets how long to wait)",
            ) from None
        except OSError as exc:
            raise ConfigError(f"cannot lock {self.lock_path}: {exc.strerror}") from None
        try:
            # filelock creates the file with the mode, but an older file may be wider.
            if posix_modes():
                os.chmod(self.lock_path, 0o600)
            yield
        finally:
            lock.release()

    def _check_lock_file(self) -> None:
        """filelock opens the lock file with O_TRUNC, following links: only a regular file
        (or none yet) is used, so no lock ever truncates a file outside the directory."""
        try:
            mode = os.lstat(self.lock_path).st_mode
        except FileNotFoundError:
            return
        if stat.S_ISLNK(mode):
            raise RefusedFile(
                f"{self.lock_path} is a symbolic link: nexla never follows one out of its "
                "directory, and left it alone",
                hint=f"remove it (`rm {self.lock_path}`); nexla creates the lock file itself",
            )
        if not stat.S_ISREG(mode):
            raise RefusedFile(
                f"{self.lock_path} is not a regular file ({_file_kind(mode)}); left it alone",
                hint="remove it; nexla creates the lock file itself",
            )

    def _write(self, data: StoreData) -> None:
        import tempfile  # here, not at the top: the read path (token print) never writes

        directory = self.path.parent
        # The file reserve() set aside, else a new one. mkstemp creates the file 0600
        # whatever the umask, so no secret is ever exposed.
        reserved, self._reserved = self._reserved, None
        fd, temp_name = reserved or tempfile.mkstemp(
            prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX, dir=directory
        )
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data.to_json(), handle, indent=2, sort_keys=True)
                handle.write("\n")
                handle.truncate()  # a reserved file is longer than what was written
                handle.flush()
                os.fsync(handle.fileno())
            replace_file(temp_name, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise
        _fsync_directory(directory)

    # Reserving room for the next write -------------------------------------------------

    def reserve(self) -> None:
        """Inside transaction(), before a request whose answer must be stored: prove that
        the directory takes a new file and set aside room for it, so that the write at the
        end of the transaction does not need any more space. ConfigError naming the problem
        when that is not possible (a read-only directory, a full disk, a file size limit).
        """
        import tempfile

        if self._reserved is not None:
            return
        directory = self.path.parent
        try:
            size = self.path.stat().st_size
        except OSError:
            size = 0
        try:
            fd, temp_name = tempfile.mkstemp(
                prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX, dir=directory
            )
        except OSError as exc:
            raise ConfigError(
                f"cannot write in {directory} ({exc.strerror or exc}); nothing was sent",
                hint="make the directory writable (or set NEXLA_CONFIG_DIR)",
            ) from None
        try:
            # Zeros, not a sparse file: written blocks are allocated (and counted against
            # a file size limit) now, while nothing has been sent yet.
            _write_zeros(fd, size + RESERVE_EXTRA_BYTES)
        except OSError as exc:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise ConfigError(
                f"no room in {directory} to rewrite the credentials ({exc.strerror or exc}); "
                "nothing was sent",
                hint="free some disk space",
            ) from None
        self._reserved = (fd, temp_name)

    def _release_reservation(self) -> None:
        reserved, self._reserved = self._reserved, None
        if reserved is not None:
            fd, temp_name = reserved
            with contextlib.suppress(OSError):
                os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(temp_name)

    def _move_aside(self) -> Path:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        counter = 1
        while os.path.lexists(target):
            counter += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{counter}")
        replace_file(self.path, target)
        # It may hold tokens. Never through a link (read_store refuses those anyway).
        if posix_modes() and not _is_symlink(target):
            os.chmod(target, 0o600)
        return target

    def kept_aside(self) -> list[Path]:
        """Files an earlier command moved aside as unparseable; they may hold tokens."""
        return sorted(self.path.parent.glob(self.path.name + ".corrupt-*"))

    def _remove_stale_temp_files(self) -> None:
        # Temp files are only written under the lock, so any we find belong to a writer
        # that was killed; they may hold secrets.
        for leftover in self.path.parent.glob(_TEMP_PREFIX + "*" + _TEMP_SUFFIX):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _serialised(data: StoreData) -> str:
    """The records as the file would hold them, to tell whether a transaction changed any."""
    return json.dumps(data.to_json(), sort_keys=True)


def _write_zeros(fd: int, size: int) -> None:
    chunk = bytes(min(size, 64 * 1024))
    written = 0
    while written < size:
        written += os.write(fd, chunk[: size - written])


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
