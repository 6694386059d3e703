"""Text from a server made safe to show: control characters escaped.

Standard library only. A server's text (a `Location`, an error message, a body shown on a
terminal) could otherwise move the cursor, retitle the window, clear the screen or forge a
line of output.
"""

import re

# C0 controls, DEL and C1 controls: what a terminal may act on rather than show.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")


def escape_controls(text: str, keep: str = "") -> str:
    """`text` with every C0, DEL and C1 control character written as an escape (`\\x1b`).

    Characters in `keep` (e.g. "\\n\\t" for a multi-line body) are left as they are.
    """

    def escaped(match: "re.Match[str]") -> str:
        char = match.group()
        if char in keep:
            return char
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{ord(char):02x}")

    return _CONTROLS.sub(escaped, text)
