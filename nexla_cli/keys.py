"""Saved service keys: where `--save-key` keeps one, and reading and forgetting it again.

A saved key lives in the OS keyring (macOS Keychain, Windows Credential Manager, the
freedesktop Secret Service), reached through the `keyring` library, or in the credentials
file. The environment's record in the file says which, and this module is the only one
that looks at those two fields:

    "service_key": "<the key>"                              the key itself (plain text, 0600)
    "service_key_keyring": {"service": …, "username": …}   only where the keyring holds it

$NEXLA_KEY_STORAGE (auto, keyring, file) chooses where a key is saved; a saved key is read
and forgotten wherever the file says it is.

`keyring` is imported only when a command saves, uses (re-mints with) or forgets a key
that lives there. Reading the file (`token print`, `token status`, `env show`, completion)
never loads it, nor D-Bus behind it. Every keyring call runs in a daemon thread and is given
up after TIMEOUT_SECONDS: a keyring that hangs (a stopped daemon, a prompt nobody answers)
must never hang a job, and the abandoned thread does not keep the process alive.
"""

import os
import sys
from typing import TYPE_CHECKING, Mapping

from nexla_cli.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from nexla_cli.deps import Deps

STORAGE_VARIABLE = "NEXLA_KEY_STORAGE"
STORAGE_CHOICES = ("auto", "keyring", "file")
TIMEOUT_SECONDS = 3.0  # the default of deps.Timing.keyring_call
# What the keyring shows as the item's service (Keychain "Name"); the account names the
# environment and the config dir, so two config dirs never share (or delete) one item.
SERVICE_NAME = "nexla service key"

IN_KEYRING = "keyring"
IN_FILE = "file"
LOCATION_LABELS = {IN_KEYRING: "OS keyring", IN_FILE: "credentials file (plain text)"}

_FILE_FIELD = "service_key"
_KEYRING_FIELD = "service_key_keyring"


class KeyStorageError(ConfigError):
    """The key cannot be kept, read or found where it should be (exit 3)."""


class _NoBackend(Exception):
    """The keyring library found no usable backend at all (not: one that fails)."""


class _Unanswered(Exception):
    """A keyring call did not return within TIMEOUT_SECONDS."""


def storage_choice(environ: "Mapping[str, str]") -> str:
    """$NEXLA_KEY_STORAGE, default auto; anything else is a usage error."""
    raw = environ.get(STORAGE_VARIABLE)
    if raw is None or raw.strip() == "":
        return "auto"
    value = raw.strip()
    if value not in STORAGE_CHOICES:
        raise UsageError(
            f"{STORAGE_VARIABLE} must be auto, keyring or file, not {_shown(raw)!r}",
        )
    return value


# What the credentials file says ------------------------------------------------------------


def location(env: dict) -> "str | None":
    """IN_KEYRING, IN_FILE, or None when no key is saved for this environment."""
    if isinstance(env.get(_KEYRING_FIELD), dict):
        return IN_KEYRING
    if isinstance(env.get(_FILE_FIELD), str) and env[_FILE_FIELD]:
        return IN_FILE
    return None


def is_saved(env: dict) -> bool:
    return location(env) is not None


def drop(env: dict) -> "tuple[bool, dict | None]":
    """Remove every mention of a saved key from the record: (was one saved, keyring item).

    The keyring item, if any, is for `forget` once the file no longer names it.
    """
    reference = env.pop(_KEYRING_FIELD, None)
    had_file_key = env.pop(_FILE_FIELD, None) is not None
    return had_file_key or reference is not None, (
        reference if isinstance(reference, dict) else None
    )


# Reading, for a re-mint -------------------------------------------------------------------


def read(deps: "Deps", env: dict, name: str) -> str:
    """The saved key, from wherever the record says it is; KeyStorageError otherwise."""
    if location(env) == IN_FILE:
        return env[_FILE_FIELD]
    reference = env.get(_KEYRING_FIELD)
    if not isinstance(reference, dict):
        raise KeyStorageError(f"no service key is saved for {name}")
    service, username = _names(reference)
    try:
        key = _call(deps, lambda backend: backend.get_password(service, username))
    except Exception as exc:
        raise KeyStorageError(
            f"cannot read the service key for {name} from the OS keyring: {_cause(deps, exc)}",
            hint="unlock the keyring and try again, or save the key again with "
            f"`NEXLA_KEY_STORAGE=file nexla token from-key --env {name} --save-key`",
        ) from None
    if not key:
        raise KeyStorageError(
            f"the service key for {name} is no longer in the OS keyring "
            f"(service {service!r}, account {username!r})",
            hint=f"save it again with `nexla token from-key --env {name} --save-key`, "
            f"or sign in with `nexla env login --env {name}`",
        )
    return key


def holds(deps: "Deps", env: dict, name: str, key: str) -> bool:
    """Whether the key saved for this environment is `key`; False when it cannot be told."""
    try:
        return is_saved(env) and read(deps, env, name) == key
    except KeyStorageError:
        return False


# Saving -----------------------------------------------------------------------------------


class SavePlan:
    """Where `--save-key` will keep a key, decided before anything is sent."""

    def __init__(
        self,
        name: str,
        where: str,
        store_path,
        reference: "dict | None" = None,
        backend: str = "",
        warning: str = "",
        choice: str = "auto",
    ):
        self.name = name
        self.where = where
        self.store_path = store_path
        self.reference = reference
        self.backend = backend
        #: For the user when the key will be kept in plain text only because no keyring exists.
        self.warning = warning
        self.choice = choice

    def describe(self) -> str:
        if self.where == IN_KEYRING:
            return f"in the OS keyring ({self.backend})"
        return f"in {self.store_path} (mode 0600, plain text)"


def plan_save(deps: "Deps", name: str, store_path) -> SavePlan:
    """Decide where NAME's key goes, probing the keyring so that a locked, refusing or silent
    one is found out now (exit 3) and not after a session was minted.

    auto: the keyring when usable; the file, with a warning, when no backend exists at all.
    keyring: the keyring or exit 3. file: the file, and the keyring is never touched.
    """
    choice = storage_choice(deps.environ)
    if choice == "file":
        return SavePlan(name, IN_FILE, store_path, choice=choice)
    reference = {"service": SERVICE_NAME, "username": f"{name} in {_config_dir(store_path)}"}
    try:
        backend = _call(deps, lambda backend: _backend_name(backend))
        # A read of the item itself: a locked collection or a refusing keyring fails here.
        _call(
            deps, lambda backend: backend.get_password(reference["service"], reference["username"])
        )
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
        raise _save_error(deps, exc, store_path, "nothing was sent") from None
    return SavePlan(name, IN_KEYRING, store_path, reference, backend=backend, choice=choice)


def save(deps: "Deps", plan: SavePlan, env: dict, key: str) -> "tuple[dict | None, str]":
    """Keep `key` as planned and make the record say where: (keyring item to forget once the
    file is written, warning).

    Called with the store's lock held, before the file is written: the key is in the keyring
    before the file names it, so no process killed in between leaves a reference without
    its key. A key that is already there is not written again (on macOS a rewrite drops the
    user's "Always Allow").
    """
    old = env.get(_KEYRING_FIELD) if isinstance(env.get(_KEYRING_FIELD), dict) else None
    if plan.where == IN_KEYRING:
        reference = dict(plan.reference)
        service, username = _names(reference)
        try:
            held = _call(deps, lambda backend: backend.get_password(service, username))
            if held != key:
                if held is not None:
                    import secrets

                    # That item holds another key, which the file may still name beside its
                    # session: the new key goes into an item of its own, so that a process
                    # killed before the file is written leaves the old pair as it was.
                    reference["username"] = f"{username} ({secrets.token_hex(4)})"
                    service, username = _names(reference)
                _call(deps, lambda backend: backend.set_password(service, username, key))
        except Exception as exc:
            raise _save_error(
                deps, exc, plan.store_path, "the new session was not stored and nothing was changed"
            ) from None
        env.pop(_FILE_FIELD, None)
        env[_KEYRING_FIELD] = reference
        return (old if old and old != reference else None), ""
    env.pop(_KEYRING_FIELD, None)
    env[_FILE_FIELD] = key
    if old is None:
        return None, ""
    why = (
        f"{STORAGE_VARIABLE}=file never touches the keyring"
        if plan.choice == "file"
        else "no OS keyring is available now"
    )
    return None, (
        f"the service key saved earlier for {plan.name} is still in the OS keyring ({why}); "
        f"delete it with your keyring's own tool: {_item(old)}"
    )


# Forgetting -------------------------------------------------------------------------------


def forget(deps: "Deps", reference: "dict | None", name: str) -> str:
    """Delete a keyring item the file no longer names; a warning when that failed, else "".

    Called only after the file was written, so a failure here leaves an orphaned item (which
    nothing will use again) rather than a reference without its key.
    """
    if not reference:
        return ""
    try:
        service, username = _names(reference)
        _call(deps, lambda backend: _delete(backend, service, username))
    except Exception as exc:
        return (
            f"could not delete the service key for {name} from the OS keyring "
            f"({_cause(deps, exc)}); it was forgotten locally. Delete it with your keyring's own "
            f"tool: {_item(reference)}"
        )
    return ""


def _delete(backend, service: str, username: str) -> None:
    from keyring.errors import PasswordDeleteError

    try:
        backend.delete_password(service, username)
    except PasswordDeleteError:
        pass  # already gone: the goal is met


# The keyring, bounded -----------------------------------------------------------------------


def _call(deps: "Deps", work):
    """`work(backend)` in a daemon thread, given up after the run's keyring timeout
    (deps.timing.keyring_call, TIMEOUT_SECONDS unless a test shortens it): _Unanswered.

    Once a call has not returned, that thread may hold the keyring's locks or connection,
    so every later call in this run fails at once instead of waiting again.
    """
    if deps.keyring_unanswered:
        raise _Unanswered()
    import threading

    # Loading the library talks to nobody, and on a busy machine it alone can take a good
    # part of a second: it is not what the bound is for.
    _load_library()

    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = work(_backend(deps.environ))
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = _no_backend_if_none(exc)

    worker = threading.Thread(target=run, name="nexla-keyring", daemon=True)
    worker.start()
    worker.join(deps.timing.keyring_call)
    if worker.is_alive():
        deps.keyring_unanswered = True
        raise _Unanswered()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _load_library() -> None:
    try:
        import keyring  # noqa: F401
        import keyring.backends.fail  # noqa: F401
        import keyring.backends.null  # noqa: F401
    except Exception as exc:  # not installed, or broken: either way there is none to use
        raise _NoBackend(f"the keyring library cannot be loaded: {_shown(str(exc))}") from None


def _backend(environ: "Mapping[str, str]"):
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
        return _NoBackend(_shown(str(exc)))
    return exc


def _backend_name(backend) -> str:
    return str(getattr(backend, "name", "") or type(backend).__name__)


def _cause(deps: "Deps", exc: BaseException) -> str:
    """What went wrong, in words, for an error line."""
    if isinstance(exc, _Unanswered):
        return f"it did not answer within {deps.timing.keyring_call:g} seconds"
    if isinstance(exc, _NoBackend):
        return f"none is available ({exc})"
    # Looked up, not imported: after a call that never returned, nothing more is loaded.
    errors = sys.modules.get("keyring.errors")
    if errors is not None and isinstance(exc, errors.KeyringLocked):
        return "it is locked"
    detail = _shown(str(exc)) if str(exc) else ""
    label = type(exc).__name__ + (f": {detail}" if detail else "")
    if errors is not None and isinstance(exc, errors.KeyringError):
        return f"it refused ({label})"
    return f"it failed ({label})"


def _save_error(deps: "Deps", exc: BaseException, store_path, outcome: str) -> KeyStorageError:
    """Exit 3 naming the cause and both ways out; never a silent fall back to plain text."""
    return KeyStorageError(
        f"cannot keep the service key in the OS keyring: {_cause(deps, exc)}; {outcome}",
        hint=f"unlock the keyring (or make it answer) and try again, or set "
        f"{STORAGE_VARIABLE}=file to keep the key in {store_path} (plain text)",
    )


def _names(reference: dict) -> "tuple[str, str]":
    service, username = reference.get("service"), reference.get("username")
    if not isinstance(service, str) or not isinstance(username, str):
        raise KeyStorageError("the credentials file names a keyring item it cannot describe")
    return service, username


def _item(reference: dict) -> str:
    return f"service {reference.get('service')!r}, account {reference.get('username')!r}"


def _config_dir(store_path) -> str:
    return os.path.dirname(os.path.abspath(os.fspath(store_path)))


def _shown(text: str, limit: int = 200) -> str:
    """Library or user text for an error line: one line, control characters escaped, short."""
    escaped = "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )
    return escaped if len(escaped) <= limit else escaped[: limit - 1] + "…"
