"""TAB in a bash without `compopt`, as macOS's /bin/bash 3.2 is (README, "Shell completion"):
a real interactive bash with the builtin switched off completes names and prints no error."""

from tests.support.real_shells import press_tab
from tests.support.tab_presses import seed_names


# TAB pressed in a real shell
def test_bash_without_compopt_completes_names_with_no_error_output(nx):
    seed_names(nx)
    shown: list = []
    ran = press_tab(
        nx,
        "bash without compopt",
        ["nexla env use loc", "nexla env use zzz", "nexla env use dat"],
        shown=shown,
    )
    # A name completes as in any bash. With nothing to offer, bash 3.2 cannot be told to
    # offer no files: it falls back to the files here (zzz-notes.txt), as documented.
    assert ran == ["env use localhost:8443", "env use zzz-notes.txt", "env use dataops.nexla.io"]
    after_setup = "".join(shown)
    assert "compopt" not in after_setup
    assert "not found" not in after_setup
    assert nx.server.count() == 0
