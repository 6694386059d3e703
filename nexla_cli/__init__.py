"""nexla: sign in to Nexla environments and keep session tokens alive.

For Python programs (docs/python.md): `get_token`, `NexlaAuth`, `sdk_client`, `NexlaError`
and its subclasses, `NexlaWarning`. They are loaded on first use (module `__getattr__`), so
`import nexla_cli` stays cheap and the `nexla` program, whose modules live in this package,
never loads them.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nexla_cli.core.errors import ApiRefused as ApiRefused
    from nexla_cli.core.errors import AuthError as AuthError
    from nexla_cli.core.errors import ConfigError as ConfigError
    from nexla_cli.core.errors import Interrupted as Interrupted
    from nexla_cli.core.errors import NetworkError as NetworkError
    from nexla_cli.core.errors import NexlaError as NexlaError
    from nexla_cli.core.errors import StoreBusy as StoreBusy
    from nexla_cli.core.errors import UsageError as UsageError
    from nexla_cli.core.version import __version__ as __version__
    from nexla_cli.library import NexlaAuth as NexlaAuth
    from nexla_cli.library import NexlaWarning as NexlaWarning
    from nexla_cli.library import get_token as get_token
    from nexla_cli.library import sdk_client as sdk_client

_LIBRARY = ("get_token", "NexlaAuth", "sdk_client", "NexlaWarning")
_ERRORS = (
    "NexlaError",
    "UsageError",
    "ConfigError",
    "AuthError",
    "NetworkError",
    "StoreBusy",
    "ApiRefused",
    "Interrupted",
)

__all__ = ["__version__", *_LIBRARY, *_ERRORS]


def __getattr__(name: str) -> object:
    # Everything, the version included, is looked up on first use: `nexla` itself loads
    # this module on every run, and TAB and `token print` need none of it.
    if name == "__version__":
        from nexla_cli.core.version import __version__

        return __version__
    if name in _LIBRARY:
        from nexla_cli import library

        return getattr(library, name)
    if name in _ERRORS:
        from nexla_cli.core import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'nexla_cli' has no attribute {name!r}")


def __dir__() -> "list[str]":
    return sorted(set(globals()) | set(__all__))
