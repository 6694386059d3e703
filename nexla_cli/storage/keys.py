"""Saved service keys: where `--save-key` keeps one, and reading and forgetting it again.

A saved key lives in the OS keyring (macOS Keychain, Windows Credential Manager, the
freedesktop Secret Service), reached through the `keyring` library, or in the credentials
file. The environment's record in the file says which, in one object that this module alone
reads and writes (SavedKey; docs/file-format.md):

    "saved_key": {"in": "file", "key": "<the key>"}          the key itself (plain text, 0600)
    "saved_key": {"in": "keyring", "service": …, "username": …}   the keyring item holding it

either with `"rejected_at": EPOCH` once the server refused the key (it is not sent again).
Format 1 kept the same in three fields beside the session (`service_key`,
`service_key_keyring`, `service_key_rejected_at`); `v1_fields_to_saved_key` reads them.

$NEXLA_KEY_STORAGE (auto, keyring, file) chooses where a key is saved; a saved key is read
and forgotten wherever the file says it is.

`keyring` is imported only when a command saves, uses (re-mints with) or forgets a key
that lives there. Reading the file (`token print`, `token status`, `env show`, completion)
never loads it, nor D-Bus behind it, and this module itself imports only the standard
library and errors.py (the store reads SavedKey records on every run). Every keyring call
runs in a daemon thread and is given up after the run's keyring timeout (3 s): a keyring
that hangs (a stopped daemon, a prompt nobody answers) must never hang a job, and the
abandoned thread does not keep the process alive.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Mapping

from nexla_cli.core.errors import ConfigError
from nexla_cli.core.text import shown

# For type checkers only (see deps.py): the store imports this module on every run.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Protocol, TypeVar

    from nexla_cli.core.model import JsonObject

    _Result = TypeVar("_Result")

    class KeyHolder(Protocol):
        """An identity's record (store.Identity) as keys.py sees it: only where its key is saved."""

        saved_key: SavedKey | None


STORAGE_VARIABLE = "NEXLA_KEY_STORAGE"
# What the keyring shows as the item's service (Keychain "Name"); the account names the
# environment and the config dir, so two config dirs never share (or delete) one item.
SERVICE_NAME = "nexla service key"

IN_KEYRING = "keyring"
IN_FILE = "file"
LOCATION_LABELS = {IN_KEYRING: "OS keyring", IN_FILE: "credentials file (plain text)"}


class Keyring:
    """The OS keyring as one run reaches it: which backend the environment chooses, how long
    a call may take, and whether a call has already gone unanswered (then every later call
    in the run fails at once: that thread may hold the keyring's locks or connection)."""

    def __init__(
        self, environ: Mapping[str, str], *, timeout: float, platform: str = sys.platform
    ) -> None:
        self.environ = environ
        self.timeout = timeout
        self.unanswered = False
        #: sys.platform: on macOS ("darwin") a silent or refusing keyring is the Keychain's
        #: access dialog, and is explained as such.
        self.platform = platform


class KeyStorageError(ConfigError):
    """The key cannot be kept, read or found where it should be (exit 3)."""


class _NoBackend(Exception):
    """The keyring library found no usable backend at all (not: one that fails)."""


class _Unanswered(Exception):
    """A keyring call did not return within the run's keyring timeout."""


# What the credentials file says ------------------------------------------------------------


class KeyringItem:
    """The OS keyring item that holds a saved key: its service and account (username)."""

    __slots__ = ("service", "username")

    def __init__(self, service: str, username: str) -> None:
        self.service = service
        self.username = username

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KeyringItem):
            return NotImplemented
        return (self.service, self.username) == (other.service, other.username)

    def __hash__(self) -> int:
        return hash((self.service, self.username))

    def __repr__(self) -> str:
        return f"KeyringItem({self.service!r}, {self.username!r})"

    def describe(self) -> str:
        """For people who look the item up with their keyring's own tool."""
        return f"service {self.service!r}, account {self.username!r}"


class SavedKey:
    """The service key saved for one environment, as the credentials file records it: the
    key itself (kept in the file) or the keyring item that holds it, and when the server
    refused it (`rejected_at`, epoch seconds; None while it has not).

    Where the key is stays in this module: others ask `location()`, `read()`, `drop()`.
    `extra` keeps fields a newer nexla added to the object, so a rewrite keeps them.
    """

    __slots__ = ("_key", "_item", "rejected_at", "extra")

    def __init__(
        self,
        *,
        key: str | None = None,
        item: KeyringItem | None = None,
        rejected_at: int | None = None,
        extra: JsonObject | None = None,
    ) -> None:
        if (key is None) == (item is None):
            raise ValueError("a saved key is either in the file or in the keyring")
        self._key = key
        self._item = item
        self.rejected_at = rejected_at
        self.extra: JsonObject = extra or {}

    @property
    def where(self) -> str:
        return IN_FILE if self._key is not None else IN_KEYRING

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SavedKey):
            return NotImplemented
        return self.to_json() == other.to_json()

    def __repr__(self) -> str:
        # Never the key: a repr can end up in a traceback or a log.
        place = repr(self._item) if self._item is not None else "the file"
        return f"SavedKey(in {place}, rejected_at={self.rejected_at})"

    @classmethod
    def from_json(cls, raw: object) -> SavedKey:
        """The record for a stored `saved_key` object; ValueError saying what is wrong."""
        if not isinstance(raw, dict):
            raise ValueError("saved_key is not an object")
        rejected_at = raw.get("rejected_at")
        if rejected_at is not None and not _is_time(rejected_at):
            raise ValueError("saved_key.rejected_at is not a time")
        rejected = None if rejected_at is None else int(rejected_at)
        extra = {key: value for key, value in raw.items() if key not in _JSON_FIELDS}
        where = raw.get("in")
        if where == IN_FILE:
            return cls(key=_text(raw, "key"), rejected_at=rejected, extra=extra)
        if where == IN_KEYRING:
            item = KeyringItem(_text(raw, "service"), _text(raw, "username"))
            return cls(item=item, rejected_at=rejected, extra=extra)
        raise ValueError('saved_key is neither "in" the file nor the keyring')

    def to_json(self) -> JsonObject:
        data: JsonObject = dict(self.extra)
        if self._item is not None:
            data["in"] = IN_KEYRING
            data["service"] = self._item.service
            data["username"] = self._item.username
        else:
            data["in"] = IN_FILE
            data["key"] = self._key
        if self.rejected_at is not None:
            data["rejected_at"] = self.rejected_at
        return data


# The fields of a `saved_key` object this version knows; others are kept as `extra`.
_JSON_FIELDS = frozenset({"in", "key", "service", "username", "rejected_at"})


def _text(raw: JsonObject, field: str) -> str:
    value = raw.get(field)
    if not isinstance(value, str) or not value:
        raise ValueError(f"saved_key has no {field}")
    return value


def _is_time(value: object) -> bool:
    # bool is an int in Python, and JSON's true is no time; nor is 1e400 (infinite).
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return isinstance(value, int) or math.isfinite(value)


def v1_fields_to_saved_key(env: JsonObject) -> None:
    """Format 1 -> 2 for one environment's JSON object, in place: the three fields that
    said where its saved key was become one `saved_key` object.

    As format 1 was read: a keyring reference (`service_key_keyring`, an object) wins over a
    key in the file (`service_key`, a non-empty string); anything else means no key is
    saved. `service_key_rejected_at` counted (when set, not 0) only beside a saved key.

    Version 1 tolerated what it could not use until a key was needed; so does the step. A
    refusal mark that is not a time still means refused (dated 0). A keyring reference that
    names no item (no service or account) could never be read: no key is saved.
    """
    reference = env.pop("service_key_keyring", None)
    in_file = env.pop("service_key", None)
    rejected_at = env.pop("service_key_rejected_at", None)
    if isinstance(reference, dict):
        service, username = reference.get("service"), reference.get("username")
        if not (isinstance(service, str) and service and isinstance(username, str) and username):
            return
        saved: JsonObject = {"in": IN_KEYRING, "service": service, "username": username}
    elif isinstance(in_file, str) and in_file:
        saved = {"in": IN_FILE, "key": in_file}
    else:
        return
    if rejected_at:
        saved["rejected_at"] = rejected_at if _is_time(rejected_at) else 0
    env["saved_key"] = saved


def location(env: KeyHolder) -> str | None:
    """IN_KEYRING, IN_FILE, or None when no key is saved for this environment."""
    return env.saved_key.where if env.saved_key is not None else None


def is_saved(env: KeyHolder) -> bool:
    return env.saved_key is not None


def drop(env: KeyHolder) -> tuple[bool, KeyringItem | None]:
    """Remove the saved key (and what was remembered about it) from the record: (was one
    saved, its keyring item, for `forget` once the file no longer names it)."""
    item = keyring_item(env)
    saved, env.saved_key = env.saved_key, None
    return saved is not None, item


# Reading, for a re-mint -------------------------------------------------------------------


def read(keyring: Keyring, env: KeyHolder, name: str) -> str:
    """The saved key, from wherever the record says it is; KeyStorageError otherwise."""
    saved = env.saved_key
    if saved is None:
        raise KeyStorageError(f"no service key is saved for {name}")
    if saved._key is not None:
        problem = _not_a_key(saved._key)
        if problem:
            raise KeyStorageError(
                f"the service key saved for {name} in the credentials file {problem}; "
                "nothing was sent",
                hint=f"save the key again with `nexla token from-key --env {name} --save-key`, "
                f"or sign in with `nexla env login --env {name}`",
            )
        return saved._key
    assert saved._item is not None
    item = saved._item
    try:
        key = _call(keyring, lambda backend: backend.get_password(item.service, item.username))
    except Exception as exc:
        raise KeyStorageError(
            f"cannot read the service key for {name} from the OS keyring: {_cause(keyring, exc)}",
            hint=f"{_way_out(keyring, exc, 'unlock the keyring and try again')}, or save the "
            f"key again with `NEXLA_KEY_STORAGE=file nexla token from-key --env {name} --save-key`",
        ) from None
    if key is None:
        raise KeyStorageError(
            f"the service key for {name} is no longer in the OS keyring ({item.describe()})",
            hint=f"save it again with `nexla token from-key --env {name} --save-key`, "
            f"or sign in with `nexla env login --env {name}`",
        )
    problem = _not_a_key(key)
    if problem:
        # `nexla` saves only a key it checked, so the item was changed by something else:
        # keyring trouble, never sent, and the item itself is never shown.
        raise KeyStorageError(
            f"the OS keyring item for the service key of {name} ({item.describe()}) "
            f"{problem}; nothing was sent",
            hint=f"save the key again with `nexla token from-key --env {name} --save-key`, "
            f"or sign in with `nexla env login --env {name}`",
        )
    return str(key)


def _not_a_key(value: object) -> str:
    """What is wrong with a keyring item's content as a service key; "" when nothing is."""
    from nexla_cli.core.model import MAX_SECRET_LENGTH, fits_a_header

    if not isinstance(value, str) or not value:
        return "is empty"
    if len(value) > MAX_SECRET_LENGTH:
        return f"is {len(value)} characters long, more than a key can be ({MAX_SECRET_LENGTH})"
    if not fits_a_header(value):
        return "holds spaces, line breaks, control or non-ASCII characters, which no key has"
    return ""


def holds(keyring: Keyring, env: KeyHolder, name: str, key: str) -> bool:
    """Whether the key saved for this environment is `key`; False when it cannot be told."""
    try:
        return is_saved(env) and read(keyring, env, name) == key
    except KeyStorageError:
        return False


# Saving -----------------------------------------------------------------------------------


# What a backend can hold, by its class name: Windows Credential Manager keeps at most 2560
# bytes a credential (CRED_MAX_CREDENTIAL_BLOB_SIZE), and keyring writes the key as UTF-16.
_LONGEST_KEY = {"WinVaultKeyring": 1280}
_BACKEND_LABELS = {"WinVaultKeyring": "Windows Credential Manager"}


def longest_key(backend_classes: list[str]) -> tuple[int, str] | None:
    """(the longest key, in characters, the backend keeps; the backend's name) when one of
    the backend's classes (a chainer's included) has a limit, else None."""
    limits = [
        (_LONGEST_KEY[name], _BACKEND_LABELS.get(name, name))
        for name in backend_classes
        if name in _LONGEST_KEY
    ]
    return min(limits) if limits else None


def _backend_classes(backend: Any) -> list[str]:
    """The class names of the backend and of those it chains (keyring's ChainerBackend)."""
    chained = getattr(backend, "backends", None)
    names = [type(backend).__name__]
    if isinstance(chained, (list, tuple)):
        names.extend(type(each).__name__ for each in chained)
    return names


class SavePlan:
    """Where `--save-key` will keep a key, decided before anything is sent."""

    def __init__(
        self,
        name: str,
        where: str,
        store_path: Path,
        item: KeyringItem | None = None,
        backend: str = "",
        warning: str = "",
        choice: str = "auto",
        limit: tuple[int, str] | None = None,
    ) -> None:
        self.name = name
        self.where = where
        self.store_path = store_path
        self.item = item
        self.backend = backend
        #: For the user when the key will be kept in plain text only because no keyring exists.
        self.warning = warning
        self.choice = choice
        #: (longest key, backend's name) when the keyring cannot hold every key.
        self.limit = limit

    def check_fits(self, key: str) -> None:
        """KeyStorageError (exit 3) when the keyring planned for cannot hold `key`: found
        out before anything is sent, so no session is minted for a key that cannot be kept
        (a Credential Manager write of a longer key fails only after the mint)."""
        if self.where != IN_KEYRING or self.limit is None:
            return
        longest, backend = self.limit
        if len(key) > longest:
            raise KeyStorageError(
                f"the service key is {len(key)} characters long and {backend} keeps at most "
                f"{longest}: it cannot be saved in the OS keyring; nothing was sent",
                hint=f"set {STORAGE_VARIABLE}=file to keep the key in {self.store_path} "
                "(plain text, mode 0600)",
            )

    def for_identity(self, user_id: object, org_id: object) -> SavePlan:
        """This plan for the key of one identity: its keyring item names the user and org,
        so that two identities' keys never share one item."""
        if self.item is not None:
            owner = identity_owner(user_id, org_id)
            self.item = KeyringItem(SERVICE_NAME, _account(self.name, self.store_path, owner))
        return self

    def describe(self) -> str:
        if self.where == IN_KEYRING:
            return f"in the OS keyring ({self.backend})"
        return f"in {self.store_path} (mode 0600, plain text)"


def plan_save(keyring: Keyring, name: str, store_path: Path) -> SavePlan:
    """Decide where NAME's key goes, probing the keyring so that a locked, refusing or silent
    one is found out now (exit 3) and not after a session was minted.

    auto: the keyring when usable; the file, with a warning, when no backend exists at all.
    keyring: the keyring or exit 3. file: the file, and the keyring is never touched.
    """
    from nexla_cli.core import settings

    choice = settings.key_storage(keyring.environ)
    if choice == "file":
        return SavePlan(name, IN_FILE, store_path, choice=choice)
    item = KeyringItem(SERVICE_NAME, _account(name, store_path))
    try:
        backend = _call(keyring, _backend_name)
        limit = longest_key(_call(keyring, _backend_classes))
        # A read of the item itself: a locked collection or a refusing keyring fails here.
        _call(keyring, lambda backend: backend.get_password(item.service, item.username))
    except _NoBackend as exc:
        if choice == "keyring":
            raise KeyStorageError(
                f"cannot keep the service key in the OS keyring: none is available ({exc}); "
                "nothing was sent",
                hint=f"set up a keyring, or set {STORAGE_VARIABLE}=file to keep the key in "
                f"{store_path} (plain text)",
            ) from None
        return SavePlan(
            name,
            IN_FILE,
            store_path,
            choice=choice,
            warning=f"no OS keyring is available ({exc}): the service key for {name} is "
            f"kept in plain text in {store_path} (mode 0600); set {STORAGE_VARIABLE}=file "
            "to choose that without this warning",
        )
    except Exception as exc:
        raise _save_error(keyring, exc, store_path, "nothing was sent") from None
    return SavePlan(
        name, IN_KEYRING, store_path, item, backend=backend, choice=choice, limit=limit
    )


def save(
    keyring: Keyring, plan: SavePlan, env: KeyHolder, key: str
) -> tuple[KeyringItem | None, str]:
    """Keep `key` as planned and make the record say where (a new SavedKey, not refused):
    (keyring item the file stops naming, to forget once the file is written; warning).

    Called with the store's lock held, before the file is written: the key is in the keyring
    before the file names it, so no process killed in between leaves a reference without
    its key. A key that is already there is not written again (on macOS a rewrite drops the
    user's "Always Allow").
    """
    old = keyring_item(env)
    if plan.where == IN_KEYRING:
        try:
            item = _item_holding(keyring, plan, old, key)
        except Exception as exc:
            raise _save_error(
                keyring,
                exc,
                plan.store_path,
                "the new session was not stored and nothing was changed",
            ) from None
        env.saved_key = SavedKey(item=item)
        return (old if old is not None and old != item else None), ""
    env.saved_key = SavedKey(key=key)
    if old is None:
        return None, ""
    why = (
        f"{STORAGE_VARIABLE}=file never touches the keyring"
        if plan.choice == "file"
        else "no OS keyring is available now"
    )
    return None, (
        f"the service key saved earlier for {plan.name} is still in the OS keyring ({why}); "
        f"delete it with your keyring's own tool: {old.describe()}"
    )


def _item_holding(
    keyring: Keyring, plan: SavePlan, named: KeyringItem | None, key: str
) -> KeyringItem:
    """The keyring item that holds `key` once this returns: the one the file names when it
    already holds it (and belongs to this config directory), else the planned one, else,
    when that holds another key, a new one beside it."""
    if named is not None and belongs_here(named, plan.name, plan.store_path):
        if _get(keyring, named) == key:
            return named
    assert plan.item is not None
    item = plan.item
    held = _get(keyring, item)
    if held == key:
        # Named by no file (or by this one): deletions happen under the lock that is held
        # now, so nothing deletes it after this.
        return item
    if held is not None:
        import secrets

        # That item holds another key, which the file may still name beside its session:
        # the new key goes into an item of its own, so that a process killed before the
        # file is written leaves the old pair as it was.
        item = KeyringItem(item.service, f"{item.username} ({secrets.token_hex(4)})")
    _call(keyring, lambda backend: backend.set_password(item.service, item.username, key))
    return item


def _get(keyring: Keyring, item: KeyringItem) -> str | None:
    held = _call(keyring, lambda backend: backend.get_password(item.service, item.username))
    return None if held is None else str(held)


def keyring_item(env: KeyHolder) -> KeyringItem | None:
    """The keyring item the record names, None when the key is in the file or not saved."""
    return env.saved_key._item if env.saved_key is not None else None


def belongs_here(item: KeyringItem, name: str, store_path: Path) -> bool:
    """Whether `item` is one this config directory made for a key of NAME's (one
    identity's, or, before identities, the environment's). A copy of the directory (a
    restored backup, a CI job seeded from it) names the original's items: it may read
    them, never rewrite or delete them."""
    import re

    if item.service != SERVICE_NAME:
        return False
    own = _account(name, store_path)
    if item.username == own or item.username.startswith(own + " ("):
        return True
    pattern = (
        re.escape(name)
        + r" \(user [^()]*, org [^()]*\) in "
        + re.escape(_config_dir(store_path))
        + r"( \([0-9a-f]+\))?"
    )
    return re.fullmatch(pattern, item.username) is not None


def identity_owner(user_id: object, org_id: object) -> str:
    """How a keyring account names an identity: `(user 42, org 7)`. A server's id is shown
    without parentheses or control characters (as `[`, `]`, escapes), so that the account
    stays one this config directory recognises as its own (belongs_here) and deletes."""
    return f"(user {_account_part(user_id)}, org {_account_part(org_id)})"


def _account_part(value: object) -> str:
    from nexla_cli.core.text import escape_controls

    return escape_controls(str(value)).replace("(", "[").replace(")", "]")


def _account(name: str, store_path: Path, owner: str = "") -> str:
    who = f" {owner}" if owner else ""
    return f"{name}{who} in {_config_dir(store_path)}"


# Forgetting -------------------------------------------------------------------------------


def forget(keyring: Keyring, item: KeyringItem | None, name: str, store_path: Path) -> str:
    """Delete a keyring item the file no longer names; a warning when that failed, else "".

    Called only after the file was written, with the lock still held, so a failure here
    leaves an orphaned item (which nothing will use again) rather than a reference without
    its key. An item another config directory made (this one is a copy) is left alone.
    """
    if item is None or not belongs_here(item, name, store_path):
        return ""
    try:
        _call(keyring, lambda backend: _delete(backend, item.service, item.username))
    except Exception as exc:
        return (
            f"could not delete the service key for {name} from the OS keyring "
            f"({_cause(keyring, exc)}); it was forgotten locally. Delete it with your keyring's "
            f"own tool: {item.describe()}"
        )
    return ""


def _delete(backend: Any, service: str, username: str) -> None:
    from keyring.errors import PasswordDeleteError

    try:
        backend.delete_password(service, username)
    except PasswordDeleteError as exc:
        if _denied_in_dialog(exc):
            raise  # macOS: Deny in the Keychain's dialog, not an item already gone
        # already gone: the goal is met


# The keyring, bounded -----------------------------------------------------------------------


def _call(keyring: Keyring, work: Callable[[Any], _Result]) -> _Result:
    """`work(backend)` in a daemon thread, given up after the run's keyring timeout
    (keyring.timeout: runtime.Timing.keyring_call, 3 s unless a test shortens it): _Unanswered.

    Once a call has not returned, that thread may hold the keyring's locks or connection,
    so every later call in this run fails at once instead of waiting again.
    """
    if keyring.unanswered:
        raise _Unanswered()
    import threading

    # Loading the library talks to nobody, and on a busy machine it alone can take a good
    # part of a second: it is not what the bound is for.
    _load_library()

    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work(_backend(keyring.environ))
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = _no_backend_if_none(exc)

    worker = threading.Thread(target=run, name="nexla-keyring", daemon=True)
    worker.start()
    worker.join(keyring.timeout)
    if worker.is_alive():
        keyring.unanswered = True
        raise _Unanswered()
    if "error" in outcome:
        raise outcome["error"]
    result: _Result = outcome["value"]
    return result


def _load_library() -> None:
    try:
        import keyring  # noqa: F401
        import keyring.backends.fail  # noqa: F401
        import keyring.backends.null  # noqa: F401
    except Exception as exc:  # not installed, or broken: either way there is none to use
        loading = shown(str(exc), limit=200)
        raise _NoBackend(f"the keyring library cannot be loaded: {loading}") from None


def _backend(environ: Mapping[str, str]) -> Any:
    """The backend the keyring library chooses (it honours keyringrc.cfg), or the one the
    run's $PYTHON_KEYRING_BACKEND names; _NoBackend when there is none to use."""
    import keyring
    import keyring.core
    from keyring.backends import fail, null

    named = environ.get("PYTHON_KEYRING_BACKEND")
    backend = keyring.core.load_keyring(named) if named else keyring.get_keyring()
    # fail.Keyring raises on every call; null.Keyring would silently keep nothing.
    if isinstance(backend, fail.Keyring):
        raise _NoBackend("the keyring library found no backend")
    if isinstance(backend, null.Keyring):
        raise _NoBackend("the keyring backend is set to null")
    return backend


def _no_backend_if_none(exc: BaseException) -> BaseException:
    """NoKeyringError from a call means the same as finding no backend."""
    errors = sys.modules.get("keyring.errors")
    if errors is not None and isinstance(exc, errors.NoKeyringError):
        return _NoBackend(shown(str(exc), limit=200))
    return exc


def _backend_name(backend: Any) -> str:
    return str(getattr(backend, "name", "") or type(backend).__name__)


def _cause(keyring: Keyring, exc: BaseException) -> str:
    """What went wrong, in words, for an error line."""
    if isinstance(exc, _Unanswered):
        waited = f"it did not answer within {keyring.timeout:g} seconds"
        if keyring.platform == "darwin":
            # macOS asks again after every Python upgrade: a dialog nobody has answered yet.
            waited += " (a Keychain dialog may be waiting for an answer)"
        return waited
    if keyring.platform == "darwin" and _denied_in_dialog(exc):
        return "access was denied in the Keychain dialog"
    if isinstance(exc, _NoBackend):
        return f"none is available ({exc})"
    # Looked up, not imported: after a call that never returned, nothing more is loaded.
    errors = sys.modules.get("keyring.errors")
    if errors is not None and isinstance(exc, errors.KeyringLocked):
        return "it is locked"
    detail = shown(str(exc), limit=200) if str(exc) else ""
    label = type(exc).__name__ + (f": {detail}" if detail else "")
    if errors is not None and isinstance(exc, errors.KeyringError):
        return f"it refused ({label})"
    return f"it failed ({label})"


def _denied_in_dialog(exc: BaseException) -> bool:
    """Whether keyring's macOS backend reports a Deny (or Cancel) in the Keychain's access
    dialog: it raises its api.KeychainDenied (errSecUserCanceled, -128) as KeyringLocked,
    or as PasswordDeleteError on delete. Found by name: that module loads only on macOS."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return False
        if type(seen).__name__ == "KeychainDenied":
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _way_out(keyring: Keyring, exc: BaseException, otherwise: str) -> str:
    """The first way out of a keyring failure: on macOS, the Keychain's dialog."""
    if keyring.platform == "darwin":
        if isinstance(exc, _Unanswered):
            return "answer the Keychain dialog (Always Allow) and run again"
        if _denied_in_dialog(exc):
            return "run again and choose Always Allow in the Keychain dialog"
    return otherwise


def _save_error(
    keyring: Keyring, exc: BaseException, store_path: Path, outcome: str
) -> KeyStorageError:
    """Exit 3 naming the cause and both ways out; never a silent fall back to plain text."""
    return KeyStorageError(
        f"cannot keep the service key in the OS keyring: {_cause(keyring, exc)}; {outcome}",
        hint=f"{_way_out(keyring, exc, 'unlock the keyring (or make it answer) and try again')}"
        f", or set {STORAGE_VARIABLE}=file to keep the key in {store_path} (plain text)",
    )


def _config_dir(store_path: Path) -> str:
    return os.path.dirname(os.path.abspath(os.fspath(store_path)))
