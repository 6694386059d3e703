"""Values a rule of the CLI refuses, shared by the unit test of the rule and the tests that
run commands with them (tests/unit and tests/app modules of the same name)."""

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
