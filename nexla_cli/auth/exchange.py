"""One exchange: a change to what is stored, around at most one request that changes the
server's state (a refresh, a mint, a logout), in one fixed order:

    lock the store -> reserve room for the answer -> hold signals -> the request ->
    write the file -> delete keyring items the file no longer names -> release the lock ->
    release signals (and act on one that arrived: exit 130, 143 or 129)

Every command that changes the server or a saved key goes through `exchange()`: renewal,
`token from-key`, `env logout` and `env remove`, a pasted-token sign-in. The ordering rule
for saved keys lives here: a key is in the keyring before the file names it
(`Exchange.save_key`), and an item is deleted only once the file no longer names it, while
the lock is still held, so no other command can save the same key into it in between
(`Exchange.forget_key`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from nexla_cli.auth.signals import SignalsHeld
from nexla_cli.core.errors import ConfigError, NexlaError
from nexla_cli.storage import keys
from nexla_cli.storage.store import StoreData, StoreWriteError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nexla_cli.auth.sessiondeps import SessionDeps

# What a write that failed after the request becomes (None: the operation reports it).
IfUnwritten = Callable[[StoreWriteError, "Exchange"], "NexlaError | None"]


class Exchange:
    """The records of the store under its lock (`data`), and what may be done with them."""

    def __init__(self, deps: SessionDeps, held: SignalsHeld, done: str) -> None:
        self.deps = deps
        self.data: StoreData = StoreData()
        #: For Interrupted: when the held signal is acted on ("once the session was stored").
        self.done = done
        self._held = held
        self._unnamed: list[tuple[keys.KeyringItem, str]] = []

    @property
    def sent(self) -> frozenset[str]:
        """What was sent: "refresh", "mint", "logout"."""
        return frozenset(self._held.sent)

    def reserve(self) -> None:
        """Room for the answer, before anything is sent: ConfigError when there is none."""
        self.deps.store.reserve()

    def sending(self, what: str) -> None:
        """Just before the request: signals are held from now until the answer is stored."""
        self._held.hold(what)

    def save_key(self, plan: keys.SavePlan, env: keys.KeyHolder, key: str) -> None:
        """Keep `key` as planned: into the keyring now, before the file names it; the item
        the file named before is deleted once the file no longer names it."""
        old_item, warning = keys.save(self.deps.keyring, plan, env, key)
        if warning:
            self.deps.notices.warn(warning)
        self._forget_when_unnamed(old_item, plan.name)

    def forget_key(self, env: keys.KeyHolder, name: str) -> bool:
        """Drop NAME's saved key from the record (and its keyring item once the file is
        written); whether one was saved."""
        was_saved, item = keys.drop(env)
        self._forget_when_unnamed(item, name)
        return was_saved

    def _forget_when_unnamed(self, item: keys.KeyringItem | None, name: str) -> None:
        if item is not None:
            self._unnamed.append((item, name))

    def after_write(self, data: StoreData) -> None:
        """The file is written and the lock still held: delete the items it stopped naming
        (a warning when that fails; the local change stands)."""
        named = {
            keys.keyring_item(identity)
            for env in data.environments.values()
            for identity in env.identities()
        }
        for item, name in self._unnamed:
            if item in named:
                continue  # named again (the same key saved anew): still in use
            warning = keys.forget(self.deps.keyring, item, name, self.deps.store.path)
            if warning:
                self.deps.notices.warn(warning)


@contextlib.contextmanager
def exchange(
    deps: SessionDeps,
    *,
    done: str,
    recover_corrupt: bool = False,
    if_unwritten: IfUnwritten | None = None,
) -> Iterator[Exchange]:
    """The store's records under its lock, written (and unnamed keyring items deleted) when
    the body ends; signals held from `Exchange.sending` until then.

    A write that fails becomes `if_unwritten(error, exchange)`: the operation's own error
    (`exchange.sent` says whether a request went out), or None when the operation reports
    its own outcome. Without `if_unwritten`, the StoreWriteError itself (exit 3).
    """
    held = SignalsHeld()
    current = Exchange(deps, held, done)
    try:
        with deps.store.transaction(recover_corrupt, after_write=current.after_write) as data:
            current.data = data
            yield current
    except StoreWriteError as exc:
        if if_unwritten is None:
            raise
        error = if_unwritten(exc, current)
        if error is not None:
            raise error from None
    finally:
        held.release(current.done)


def answer_not_stored(name: str, exc: StoreWriteError) -> ConfigError:
    """A new session the server sent could not be written, and the stored one still stands."""
    return ConfigError(
        f"the new session for {name} could not be stored ({exc.message}); "
        "the stored one was left as it was",
        hint="free some disk space or make the directory writable, then try again",
    )
