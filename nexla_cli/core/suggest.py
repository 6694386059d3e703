"""Which name a mistyped command or option most likely meant, when any is close enough."""

from typing import Iterable, List

# How alike (difflib's ratio) a mistyped word and a name must be for the name to be offered:
# `tokn` → `token` (0.89) and `hlep` → `help` (0.75) are offered; `--json` → `--version`
# (0.67, click's own cutoff is 0.6) is not: a suggestion that misleads is worse than none.
CLOSE_ENOUGH = 0.75


def close_names(word: str, names: Iterable[str]) -> List[str]:
    """The names close enough to `word` to suggest, closest first (at most three)."""
    import difflib

    return difflib.get_close_matches(word, list(names), n=3, cutoff=CLOSE_ENOUGH)


def did_you_mean(names: List[str]) -> str:
    """` Did you mean 'token'?` to end a message with, or "" when nothing is close."""
    if not names:
        return ""
    return " Did you mean " + " or ".join(f"'{name}'" for name in names) + "?"
