"""What TAB completes, for nexla_cli/fast/fastcomplete.py to answer without Typer.

Written by `python scripts/gen_completion_table.py` from the app; not edited by hand.
For every command (the words after `nexla`, () for the root): the help line shown beside
its name, its subcommands in the order TAB offers them (None: not a group), whether options
are still read after its first argument, its options (every name, help, how many values it
takes, whether it may be repeated, whether it is hidden, the completer of its value) and its
arguments (how many words, -1 for the rest of the line, and their completer).

Completers: "" none (the shell's own, files), "environment names", "command names" (a
command path, as `nexla help` takes), "command line" (another program's: its name, then its
own arguments), a tuple of choices, "typer" (one only Typer's completion knows).
"""
# ruff: noqa: E501

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    Completer = str | tuple[str, ...]
    Option = tuple[tuple[str, ...], str | None, int, bool, bool, Completer]
    Argument = tuple[int, Completer]
    Command = tuple[str, tuple[str, ...] | None, bool, tuple[Option, ...], tuple[Argument, ...]]

COMMANDS: dict[tuple[str, ...], Command] = {
    (): (
        'Sign in to Nexla environments and keep...',
        ('env', 'token', 'api', 'help', 'completion'),
        False,
        (
            (('--version',), 'Show the version and exit.', 0, False, False, ''),
            (('--debug',), 'Log HTTP requests (credentials redacted) and tracebacks. Accepted anywhere on the line; NEXLA_DEBUG=1 does the same.', 0, False, False, ''),
            (('--quiet', '-q'), 'No messages on success (warnings and errors are still shown; results on stdout are unchanged). Accepted anywhere on the line; NEXLA_QUIET=1 does the same.', 0, False, False, ''),
            (('-h', '--help'), 'Show this message and exit.', 0, False, False, ''),
        ),
        (),
    ),
    ('env',): (
        'Sign in to Nexla environments and manage them.',
        ('configure', 'login', 'list', 'use', 'show', 'logout', 'remove'),
        False,
        (
            (('-h', '--help'), 'Show this message and exit.', 0, False, False, ''),
        ),
        (),
    ),
    ('env', 'configure'): (
        'Add an environment, sign in to it, make it current.',
        None,
        True,
        (
            (('--api-url',), 'API base URL (default https://HOST/nexla-api).', 1, False, False, ''),
            (('--no-browser',), 'Print the token page link; do not open a browser.', 0, False, False, ''),
            (('--with-token',), 'Read the token from stdin (first non-empty line).', 0, False, False, ''),
            (('--no-verify',), 'Store the token without checking it with the server.', 0, False, False, ''),
            (('-h', '--help'), 'Show this message and exit.', 0, False, False, ''),
        ),
        ((1, 'environment names'),),
    ),
    ('env', 'login'): (
        'Sign in again; which environment is current stays.',
        None,
        True,
        (
            (('--env', '-e'), 'Environment to act on (default: $NEXLA_ENV, else the current one).', 1, False, False, 'environment names'),
            (('--no-browser',), 'Print the token page link; do not open a browser.', 0, False, False, ''),
            (('--with-token',), 'Read the token from stdin (first non-empty line).', 0, False, False, ''),
            (('--no-verify',), 'Store the token without checking it with the server.', 0, False, False, ''),
            (('-h', '--help'), 'Show this message and exit.', 0, False, False, ''),
        ),
        (),
    ),
    ('env', 'list'): (
        'List the environments and who is signed in.',
        None,
        True,
        (
            (('--json',), 'Print JSON to stdout.', 0, False, False, ''),
            (('--check',), "Ask each environment's server, all at once, whether its token works.", 0, False, False, ''),
            (('-h', '--help'), 'Show this message and exit.', 0, False, False, ''),
        ),
        (),
    ),
    ('env', 'use'): (
        'Make NAME the current environment.',
        None,
        True,
        (
            (('--org',), "Which org's identity on the environment: its id or name, in any case (default: $NEXLA_ORG, else the environment's active identity).", 1, False, False, 'org names'),
            (('--user',), "Which user's identity, where two users share an org (default: $NEXLA_USER).", 1, False, False, ''),
            (('-h', '--help'), 'Show this message and exit.', 0, False, False, ''),
        ),
        ((1, 'environment names'),),
    ),
    ('env', 'show'): (
        'Show one environment in full.',
        None,
        True,
        (
            (('--env', '-e'), 'Environment to act on (default: $NEXLA_ENV, else the current one).', 1, False, False, 'environment names'),
            (('--json',), 'Print JSON to stdout.', 0, False, False, ''),
            (('--check',), 'Ask the server whether the token is still accepted.', 0, False, False, ''),
            (('--org',), "Which org's identity on the environment: its id or name, in any case (default: $NEXLA_ORG, else the environment's active identity).", 1, False, False, 'org names'),
            (('--user',), "Which user's identity, where two users share an org (default: $NEXLA_USER).", 1, False, False, ''),
            (('-h', '--help'), 'Show this message and exit.', 0, False, False, ''),
        ),
        (),
    ),
    ('env', 'logout'): (
        'End the session and forget the token.',
        None,
        True,
        (
            (('--env', '-e'), 'Environment to act on (default: $NEXLA_ENV, else the current one).', 1, False, False, 'environment names'),
            (('--all',), 'Log out of every environment, every identity.', 0, False, False, ''),
            (('--org',), "Which org's identity on the environment: its id or name, in any case (default: $NEXLA_ORG, else the environment's active identity).", 1, False, False, 'org names'),
            (('--user',), "Which user's identity, where two users share an org (default: $NEXLA_USER).", 1, False, False, ''),
            (('-h', '--help'), 'Show this message and exit.', 0, False, False, ''),
        ),
        (),
    ),
    ('env', 'remove'): (
        'Log out of NAME and forget it.',
        None,
        True,
        (
            (('-h', '--help'), 'Show this message and exit.', 0, False, False, ''),
        ),
        ((1, 'environment names'),),
    ),
    ('token',): (
        'Session tokens for shell jobs and scripts.',
        ('refresh', 'from-key', 'print', 'export', 'exec', 'status'),
        False,
        (
            (('-h', '--help'), 'Show this message and exit.', 0, False, False, ''),
        ),
        (),
    ),
    ('token', 'refresh'): (
        'Refresh the session token now.',
        None,
        True,
        (
            (('--env', '-e'), 'Environment to act on (default: $NEXLA_ENV, else the current one).', 1, False, False, 'environment names'),
            (('--json',), 'Print JSON to stdout.', 0, False, False, ''),
            (('--print',), 'Print the new token alone to stdout.', 0, False, False, ''),
            (('--org',), "Which org's identity on the environment: its id or name, in any case (default: $NEXLA_ORG, else the environment's active identity).", 1, False, False, 'org names'),
            (('--user',), "Which user's identity, where two users share an org (default: $NEXLA_USER).", 1, False, False, ''),
            (('-h', '--help'), 'Show this message and exit.', 0, False, False, ''),
        ),
        (),
    ),
    ('token', 'from-key'): (
        'Mint a session from a service key.',
        None,
        True,
        (
            (('--env', '-e'), 'Environment to act on (default: $NEXLA_ENV, else the current one).', 1, False, False, 'environment names'),
            (('--key-file',), "Read the service key from PATH ('-' for stdin).", 1, False, False, 'typer'),
            (('--save-key',), 'Keep the key to mint new sessions when this one expires: in the OS keyring, or where none exists in the credentials file (see NEXLA_KEY_STORAGE).', 0, False, False, ''),
            (('--json',), 'Print JSON to stdout.', 0, False, False, ''),
            (('--print',), 'Print the new token alone to stdout.', 0, False, False, ''),
            (('-h', '--help'), 'Show this message and exit.', 0, False, False, ''),
        ),
        (),
    ),
    ('token', 'print'): (
        'Print the access token, for scripts.',
        None,
        True,
        (
            (('--env', '-e'), 'Environment to act on (default: $NEXLA_ENV, else the current one).', 1, False, False, 'environment names'),
            (('--min-ttl',), 'Renew first unless the token has at least SECONDS of life left (default 0, at most a year: 31536000).', 1, False, False, ''),
            (('--org',), "Which org's identity on the environment: its id or name, in any case (default: $NEXLA_ORG, else the environment's active identity).", 1, False, False, 'org names'),
            (('--user',), "Which user's identity, where two users share an org (default: $NEXLA_USER).", 1, False, False, ''),
            (('-h', '--help'), 'Show this message and exit.', 0, False, False, ''),
        ),
        (),
    ),
    ('token', 'export'): (
        'Print the session as variables for a shell or file.',
        None,
        True,
        (
            (('--env', '-e'), 'Environment to act on (default: $NEXLA_ENV, else the current one).', 1, False, False, 'environment names'),
            (('--format',), 'Shell or file format to print for (bash and zsh are sh).', 1, False, False, ('sh', 'fish', 'powershell', 'dotenv', 'json', 'bash', 'zsh')),
            (('--min-ttl',), 'Renew first unless the token has at least SECONDS of life left (default 0, at most a year: 31536000).', 1, False, False, ''),
            (('--org',), "Which org's identity on the environment: its id or name, in any case (default: $NEXLA_ORG, else the environment's active identity).", 1, False, False, 'org names'),
            (('--user',), "Which user's identity, where two users share an org (default: $NEXLA_USER).", 1, False, False, ''),
            (('-h', '--help'), 'Show this message and exit.', 0, False, False, ''),
        ),
        (),
    ),
    ('token', 'exec'): (
        'Run a command with the session in its environment.',
        None,
        False,
        (
            (('--env', '-e'), 'Environment to act on (default: $NEXLA_ENV, else the current one).', 1, False, False, 'environment names'),
            (('--min-ttl',), 'Renew first unless the token has at least SECONDS of life left (default 0, at most a year: 31536000).', 1, False, False, ''),
            (('--org',), "Which org's identity on the environment: its id or name, in any case (default: $NEXLA_ORG, else the environment's active identity).", 1, False, False, 'org names'),
            (('--user',), "Which user's identity, where two users share an org (default: $NEXLA_USER).", 1, False, False, ''),
            (('-h', '--help'), 'Show this message and exit.', 0, False, False, ''),
        ),
        ((-1, 'command line'),),
    ),
    ('token', 'status'): (
        'Whether there is a valid session, and until when.',
        None,
        True,
        (
            (('--env', '-e'), 'Environment to act on (default: $NEXLA_ENV, else the current one).', 1, False, False, 'environment names'),
            (('--json',), 'Print JSON to stdout.', 0, False, False, ''),
            (('--org',), "Which org's identity on the environment: its id or name, in any case (default: $NEXLA_ORG, else the environment's active identity).", 1, False, False, 'org names'),
            (('--user',), "Which user's identity, where two users share an org (default: $NEXLA_USER).", 1, False, False, ''),
            (('-h', '--help'), 'Show this message and exit.', 0, False, False, ''),
        ),
        (),
    ),
    ('api',): (
        'Call the Nexla API with the stored session.',
        None,
        True,
        (
            (('--env', '-e'), 'Environment to act on (default: $NEXLA_ENV, else the current one).', 1, False, False, 'environment names'),
            (('--method', '-X'), 'HTTP method (default GET, or POST with -f or --input).', 1, False, False, ''),
            (('--field', '-f'), 'Add a field to the JSON body (to the query string for GET, HEAD, --input and --paginate); numbers, true, false and null are typed. Repeatable.', 1, True, False, ''),
            (('--header', '-H'), 'Add a request header. Repeatable.', 1, True, False, ''),
            (('--input',), "Send the body from FILE ('-' for stdin), as it is.", 1, False, False, ''),
            (('--include', '-i'), 'Print the status line and headers first.', 0, False, False, ''),
            (('--paginate',), 'Fetch every page (page/per_page, 100 a page) and print one JSON array.', 0, False, False, ''),
            (('--max-pages',), 'With --paginate: stop with an error after N pages (default 1000).', 1, False, False, ''),
            (('--org',), "Which org's identity on the environment: its id or name, in any case (default: $NEXLA_ORG, else the environment's active identity).", 1, False, False, 'org names'),
            (('--user',), "Which user's identity, where two users share an org (default: $NEXLA_USER).", 1, False, False, ''),
            (('-h', '--help'), 'Show this message and exit.', 0, False, False, ''),
        ),
        ((1, ''),),
    ),
    ('help',): (
        'Show help for a command, as --help does.',
        None,
        True,
        (
            (('-h', '--help'), 'Show this message and exit.', 0, False, False, ''),
        ),
        ((-1, 'command names'),),
    ),
    ('completion',): (
        'Print the TAB completion script for a shell.',
        None,
        True,
        (
            (('-h', '--help'), 'Show this message and exit.', 0, False, False, ''),
        ),
        ((1, ('bash', 'zsh', 'fish', 'powershell')),),
    ),
}
