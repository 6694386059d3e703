"""Hostile values shared by the tiers that test one rule: values the CLI refuses, and values
it must carry unchanged (unit tests of the rule, and tests that run commands with them)."""

from __future__ import annotations

A_YEAR = 365 * 86400

# --min-ttl (docs/scripting.md): a whole number of seconds from 0 to a year, else exit 2.
BAD_MIN_TTL = [
    "9" * 400,  # a whole number, but one no float can hold
    "9" * 5000,  # more digits than Python turns into an int
    str(A_YEAR + 1),
    str(10**12),
    "-1",
    "1e3",
    "1.5",
    "inf",
    "nan",
    "",
    " ",
]

# NEXLA_KEY_STORAGE (docs/storage.md): auto, keyring, file or unset.
BAD_KEY_STORAGE = ["bogus", "KEYRING", "files", "keyring,file", "auto\x1b[2J"]

# Retry-After values that are neither seconds nor an HTTP date (docs/network.md, "Retries").
# Each character is one byte on the wire (Latin-1): "\xd9\xa1" is the Arabic-Indic digit
# one in UTF-8, which str.isdigit() would take for a digit.
UNREADABLE_RETRY_AFTER = [
    "garbage", "-5", "1e3", "1.5", "", " ", "\xff\xfe", "Mon, 99 Foo", "\xd9\xa1"
]

# An API URL's path may hold any printable character but spaces, `?` and `#` after
# normalisation; a token any printable ASCII character but the space. These are the worst of
# them for a shell: commands without spaces (none is allowed), each would leave a file behind
# if it ran (docs/scripting.md, `token export`).
HOSTILE_PATH = "/nexla-api/it's$HOME`>PWNED1`\"\\;>PWNED2|&*!{}\u2019\u00e9%(x)<y>~^[]$(>PWNED3)"
HOSTILE_TOKEN = "tok'\"$(>PWNED4)`>PWNED5`\\;>PWNED6|&*!{}~%^[]<>=#,"
