"""Which identity of an environment a command acts on: one user in one org.

`--org ORG` (the org's id, or its name in any case), else $NEXLA_ORG, else the
environment's active identity; `--user EMAIL` (else $NEXLA_USER) narrows when two users
share an org. A pure decision over what the environment holds (Candidate), so the fast
path and the full app choose alike. Standard library only, and not even `typing`: the fast
path imports it.
"""

from __future__ import annotations

from nexla_cli.core import settings
from nexla_cli.core.errors import ConfigError, UsageError
from nexla_cli.core.text import escape_controls, shown

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from nexla_cli.core.model import JsonObject

    Key = tuple[object, object]


class Candidate:
    """An identity as the choice sees it: who (user id, email) in which org (id, name)."""

    __slots__ = ("user_id", "email", "org_id", "org_name")

    def __init__(self, user_id: object, email: object, org_id: object, org_name: object) -> None:
        self.user_id = user_id
        self.email = email
        self.org_id = org_id
        self.org_name = org_name

    @classmethod
    def of(cls, user: JsonObject, org: JsonObject | None) -> Candidate:
        org = org or {}
        return cls(user.get("id"), user.get("email"), org.get("id"), org.get("name"))

    @property
    def key(self) -> Key:
        return self.user_id, self.org_id

    def __repr__(self) -> str:
        return f"Candidate({self.label()!r})"

    def label(self) -> str:
        return label(self.email, self.org_name, self.org_id)


def same_key(one: Key | None, other: Key | None) -> bool:
    """Whether two identity keys name the same identity: equal ids of the same JSON type.
    Python takes 1 for true and 7 for 7.0; JSON and the server do not, and two orgs a server
    named so are two identities, never one's session or key taken for the other's."""
    if one is None or other is None:
        return one is other
    return one == other and all(type(a) is type(b) for a, b in zip(one, other, strict=True))


def label(email: object, org_name: object, org_id: object) -> str:
    """How an identity is named in every message: `ada@example.com in Acme (org 7)`."""
    who = _plain(email) if email else "an unknown user"
    if org_id is None and not org_name:
        return f"{who} in no org"
    return f"{who} in {org_label(org_name, org_id)}"


def org_label(org_name: object, org_id: object) -> str:
    """`Acme (org 7)`: an org as messages name it."""
    name = _plain(org_name) if org_name else "an unnamed org"
    return f"{name} (org {_plain(org_id)})"


def _plain(value: object, limit: int = 120) -> str:
    """A server's text as it is, its control characters escaped, cut to `limit`."""
    text = escape_controls(str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def label_of(user: JsonObject, org: JsonObject | None) -> str:
    return Candidate.of(user, org).label()


def _org_id_matches(candidate: Candidate, org: str) -> bool:
    # An org-less session has no id: it is never `--org none`.
    return candidate.org_id is not None and str(candidate.org_id).casefold() == _wanted(org)


def _org_name_matches(candidate: Candidate, org: str) -> bool:
    return isinstance(candidate.org_name, str) and _wanted(candidate.org_name) == _wanted(org)


def _wanted(text: str) -> str:
    """Text compared as people read it: trimmed, in any case, and in either Unicode form
    (an `é` typed as one character or as `e` and an accent)."""
    folded = text.strip().casefold()
    if folded.isascii():
        return folded
    import unicodedata  # only for the rare name that is not ASCII

    return unicodedata.normalize("NFC", folded)


def in_org(candidates: Sequence[Candidate], org: str) -> list[Candidate]:
    """The candidates in the org ORG names: by id when one has that id (ids are unique,
    names are not: an org named "7" never hides org 7), else by name."""
    by_id = [each for each in candidates if _org_id_matches(each, org)]
    return by_id or [each for each in candidates if _org_name_matches(each, org)]


def _user_matches(candidate: Candidate, user: str) -> bool:
    wanted = _wanted(user)
    return (isinstance(candidate.email, str) and _wanted(candidate.email) == wanted) or str(
        candidate.user_id
    ) == wanted


def choose(
    env: str,
    candidates: Sequence[Candidate],
    active: Key | None,
    org: str | None,
    user: str | None,
    environ: Mapping[str, str],
) -> Key | None:
    """The key of the identity to act on; None for the active one when neither an org nor
    a user is asked for (an environment nobody is signed in to has no active one).

    ConfigError (exit 3) when no identity matches, naming those there are; UsageError
    (exit 2) when several do, listing them.
    """
    if (org is not None and not org.strip()) or (user is not None and not user.strip()):
        # `--org "$UNSET "` must not quietly mean the active identity, nor an org whose
        # name is blank.
        raise UsageError("--org and --user need a value, e.g. --org acme")
    # Named by a variable set long ago, an org may surprise: errors say where it came from.
    from_variables = frozenset(
        name
        for name, given in ((settings.ORG_VARIABLE, org), (settings.USER_VARIABLE, user))
        if given is None and settings.raw(name, environ)
    )
    org = org or settings.org_name(environ)
    user = user or settings.user_email(environ)
    if not org and not user:
        return active
    matching = list(candidates)
    if org:
        matching = in_org(matching, org)
    if user:
        matching = [each for each in matching if _user_matches(each, user)]
    if not matching:
        raise _none_matches(env, candidates, org, user, from_variables)
    matching = _distinct(matching)
    if len(matching) > 1 and not org and any(same_key(active, each.key) for each in matching):
        return active  # --user alone: the active identity, when it is that user's
    if len(matching) > 1:
        raise UsageError(
            f"{env} has {len(matching)} identities "
            + (f"in org {shown(org, limit=60)}" if org else f"for {shown(str(user), limit=60)}")
            + ": "
            + listed(matching),
            hint=_narrowing_hint(matching, org),
        )
    return matching[0].key


def _distinct(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Each identity once: a file edited by hand may list one twice, and the first is the
    one every command finds (store.Environment.find)."""
    found: dict[tuple[object, ...], Candidate] = {}
    for each in candidates:
        # Typed, as same_key compares: org 1 and org true stay two.
        found.setdefault(tuple((type(part), part) for part in each.key), each)
    return list(found.values())


# Identities named in one message: a hand-edited file may hold thousands.
LISTED_AT_MOST = 10


def listed(candidates: Sequence[Candidate]) -> str:
    """`a; b; c`, the first LISTED_AT_MOST of them and how many more."""
    shown_here = "; ".join(each.label() for each in candidates[:LISTED_AT_MOST])
    more = len(candidates) - LISTED_AT_MOST
    return shown_here + (f"; and {more} more (see `nexla env list`)" if more > 0 else "")


def _narrowing_hint(matching: Sequence[Candidate], org: str | None) -> str:
    if not org:
        return "choose one with --org ORG (or NEXLA_ORG)"
    if len({(type(each.org_id), each.org_id) for each in matching}) > 1:
        return "name the org by its id, e.g. --org " + _plain(matching[0].org_id, limit=40)
    return "choose one with --user EMAIL (or NEXLA_USER)"


def _none_matches(
    env: str,
    candidates: Sequence[Candidate],
    org: str | None,
    user: str | None,
    from_variables: frozenset[str] = frozenset(),
) -> ConfigError:
    def whence(variable: str) -> str:
        return f" (from {variable})" if variable in from_variables else ""

    asked = " and ".join(
        part
        for part in (
            f"org {shown(org, limit=60)}{whence(settings.ORG_VARIABLE)}" if org else "",
            f"user {shown(user, limit=60)}{whence(settings.USER_VARIABLE)}" if user else "",
        )
        if part
    )
    if not candidates:
        return ConfigError(
            f"no identity for {asked} on {env}: nobody is signed in there; nothing was sent",
            hint=f"sign in to that org: `nexla env login --env {env}` with a token from it, "
            f"or `nexla token from-key --env {env}` with its service key",
        )
    there = listed(candidates)
    return ConfigError(
        f"no identity for {asked} on {env}; there are: {there}; nothing was sent",
        hint=f"sign in to that org: `nexla env login --env {env}` with a token from it, "
        f"or `nexla token from-key --env {env}` with its service key",
    )
