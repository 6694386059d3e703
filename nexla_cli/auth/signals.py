"""Holding SIGINT, SIGTERM and SIGHUP while a request that changes the server's state is in
flight, so that the answer is stored before the process acts on them."""

import signal
from typing import Any, Dict, Optional, Set

from nexla_cli.core.errors import Interrupted

# What a job is stopped with: held during an exchange, passed on by `token exec`. SIGHUP does
# not exist on Windows.
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class SignalsHeld:
    """SIGINT, SIGTERM and SIGHUP noted rather than acted on, from the moment a request
    that changes the server's state is sent until its answer is stored.

    The server may kill the old token the moment it issues a new one: a job killed by
    cron's `timeout` in between would otherwise lose the session. release() restores the
    handlers and acts on the first signal noted: Interrupted, exit 128 + its number.
    """

    def __init__(self) -> None:
        self.sent: Set[str] = set()  # what was sent: "refresh", "mint", "logout"
        self._received: Optional[int] = None
        self._previous: Dict[int, Any] = {}

    def hold(self, what: str) -> None:
        """Call just before sending `what`."""
        self.sent.add(what)
        if self._previous:
            return
        for signum in STOP_SIGNALS:
            try:
                previous = signal.getsignal(signum)
                signal.signal(signum, self._note)
            except (ValueError, OSError):  # not the main thread: nothing to hold
                continue
            self._previous[signum] = signal.SIG_DFL if previous is None else previous

    def _note(self, signum: int, frame: object) -> None:
        if self._received is None:
            self._received = signum

    def release(self, done: str) -> None:
        previous, self._previous = self._previous, {}
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        received, self._received = self._received, None
        if received is not None:
            raise Interrupted(received, signal.Signals(received).name, done)
