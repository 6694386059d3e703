"""Numbers given on the command line (docs/network.md, `--paginate`; docs/scripting.md,
`--min-ttl`): plain ASCII digits within the option's range, else exit 2 in one short line
before anything is sent, however long or odd the value."""

from __future__ import annotations

import pytest

from tests.support.outcomes import assert_error

BAD_MAX_PAGES = ["0", "-1", "1e3", "1.5", "+5", "\u00b2", "9" * 400, "9" * 5000, "1000000001", ""]


@pytest.mark.parametrize("value", BAD_MAX_PAGES, ids=lambda v: v[:12] or "empty")
def test_a_bad_max_pages_is_exit_2_in_one_short_line_before_any_request(nx, value):
    nx.sign_in()
    nx.server.clear_log()
    result = nx.run("api", "/data_sources", "--paginate", "--max-pages", value)
    line = assert_error(result, 2, "--max-pages")
    assert len(line) < 200
    assert nx.server.count() == 0


def test_the_largest_max_pages_is_taken(nx):
    nx.sign_in()
    result = nx.run("api", "/data_sources", "--paginate", "--max-pages", "1000000000")
    assert result.returncode == 0, result.stderr
