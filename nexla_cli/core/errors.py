"""Exit codes and the exceptions that carry them.

Every failure the user can cause or meet is a NexlaError; cli.root.run turns it into one
`error: …` line on stderr (plus a hint) and its exit code. Anything else is a bug (exit 1).
(The `token print` fast path answers only when nothing can fail; on any error it leaves
the run to cli.root.run.)
"""

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    BUG = 1
    USAGE = 2
    CONFIG = 3
    AUTH = 4
    NETWORK = 5
    API_REFUSED = 6
    INTERRUPTED = 130
    # The reader of stdout left (`| head`): as a shell reports a death by SIGPIPE.
    READER_LEFT = 141


# A transport failure that waiting will not cure, and the next step for it: trusting the CA.
UNTRUSTED_CERTIFICATE = "the certificate is not trusted"
TRUST_HINT = (
    "point REQUESTS_CA_BUNDLE at a PEM file holding the CA that signed the server's "
    "certificate (docs/network.md)"
)
REACHABLE_HINT = "try again when the server is reachable; --debug shows each request"


def network_hint(message: str) -> str:
    """The next step for a network error that carries no hint of its own."""
    return TRUST_HINT if UNTRUSTED_CERTIFICATE in message else REACHABLE_HINT


class NexlaError(Exception):
    # An int, not only an ExitCode: Interrupted exits 128 + the signal's number.
    exit_code: int = ExitCode.BUG

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(NexlaError):
    exit_code = ExitCode.USAGE


class ConfigError(NexlaError):
    exit_code = ExitCode.CONFIG


class AuthError(NexlaError):
    exit_code = ExitCode.AUTH


class NetworkError(NexlaError):
    """The server could not be reached, or did not answer as the API promises."""

    exit_code = ExitCode.NETWORK


class StoreBusy(NexlaError):
    """Another nexla process held the credentials file's lock for longer than
    NEXLA_LOCK_TIMEOUT. Not a network failure, but exit 5 all the same: what a script does
    about it is what it does about an unreachable server, wait and try again; exit 3 would
    say a person has to fix the configuration, and nothing here needs fixing."""

    exit_code = ExitCode.NETWORK


class ApiRefused(NexlaError):
    """The API answered a request with a 4xx other than 401/403 (`nexla api`)."""

    exit_code = ExitCode.API_REFUSED


class Interrupted(NexlaError):
    """A signal held back while a new session was being stored, acted on afterwards."""

    def __init__(self, signum: int, name: str, done: str):
        super().__init__(f"interrupted ({name}) {done}")
        self.exit_code = 128 + signum  # as shells report a death by that signal


LOGIN_HINT = "run `nexla env login` to sign in again"
