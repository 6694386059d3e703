"""A user in two orgs on one environment (README, "Several orgs"), as tests set it up:
Ada is in Acme (org 7) and Globex (org 8) on the fake server; Bob shares Acme."""

from __future__ import annotations

from tests.support.fake_nexla import DEFAULT_USER

ACME = {"id": 7, "name": "Acme"}
GLOBEX = {"id": 8, "name": "Globex"}
ADA = dict(DEFAULT_USER)
BOB = {"id": 43, "email": "bob@example.com", "full_name": "Bob Builder"}
ACME_KEY = "svc-acme-" + "a" * 20
GLOBEX_KEY = "svc-globex-" + "g" * 20

ADA_IN_ACME = "ada@example.com in Acme (org 7)"
ADA_IN_GLOBEX = "ada@example.com in Globex (org 8)"
BOB_IN_ACME = "bob@example.com in Acme (org 7)"


def two_orgs(server) -> None:
    """Ada in both orgs (Acme her default), Bob in Acme; a service key for each of Ada's."""
    server.add_memberships(ADA, [ACME, GLOBEX], default_org=ACME)
    server.add_memberships(BOB, [ACME])
    server.add_service_key(ACME_KEY, user=ADA, org=ACME)
    server.add_service_key(GLOBEX_KEY, user=ADA, org=GLOBEX)


def sign_in_to_both(nx) -> tuple[str, str]:
    """`env configure HOST --with-token` with a token from Acme, then `env login` with one
    from Globex (active now): the tokens, Acme's first."""
    two_orgs(nx.server)
    acme = nx.server.sign_in(ADA, ACME)
    nx.ok("env", "configure", nx.server.host, "--with-token", input=acme + "\n")
    globex = nx.server.sign_in(ADA, GLOBEX)
    nx.ok("env", "login", "--with-token", input=globex + "\n")
    return acme, globex


def keys_for_both(nx, *extra: str) -> None:
    """`token from-key --save-key` with Acme's key, then Globex's (active now)."""
    two_orgs(nx.server)
    for key in (ACME_KEY, GLOBEX_KEY):
        env = nx.env_with(NEXLA_SERVICE_KEY=key)
        nx.ok("token", "from-key", "--env", nx.server.host, "--save-key", *extra, env=env)
