"""The e2e tier of tests/app/test_api_hostile.py, whose docstring says what is promised: the cases
that need a real `nexla` process (a terminal, signals, several processes, what a fresh
interpreter loads)."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import time

import pexpect
import pytest

from tests.support.fake_nexla import Fault
from tests.support.processes import nexla_executable, run_bytes


@pytest.fixture
def api(api_by_variable):
    """Here `api` is api_by_variable (tests/conftest.py): any request wrongly sent would
    succeed, so "no request" assertions mean something."""
    return api_by_variable


# ---- --paginate limits -----------------------------------------------------------------------


# reads the pipe while nexla still runs
def test_paginate_writes_each_page_as_it_comes(api):
    """Page 1 reaches stdout while page 2 is still being waited for (it never comes)."""
    api.server.add_fault("GET", "/data_sources", Fault.delay(0))
    api.server.add_fault("GET", "/data_sources", Fault.hang(30), times=None)
    proc = subprocess.Popen(
        [nexla_executable(), "api", "/data_sources", "--paginate"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=api.env,
        cwd=api.tmp_path,
    )
    try:
        assert api.server.wait_for_count("GET", "/data_sources", 2, timeout=60)
        fcntl.fcntl(proc.stdout, fcntl.F_SETFL, os.O_NONBLOCK)
        seen = b""
        deadline = time.monotonic() + 10
        while b'{"id": 100}' not in seen and time.monotonic() < deadline:
            seen += proc.stdout.read() or b""
            time.sleep(0.05)
        assert proc.poll() is None, "nexla finished instead of waiting for page 2"
        assert seen.startswith(b'[{"id": 1}, ') and b'{"id": 100}' in seen
    finally:
        proc.kill()
        proc.communicate()


# ---- the clock ----------------------------------------------------------------------------------


# faketime (LD_PRELOAD)
@pytest.mark.skipif(shutil.which("faketime") is None, reason="needs faketime")
def test_a_clock_before_the_build_date_draws_one_warning_line(api):
    result = subprocess.run(
        ["faketime", "2020-01-01 12:00:00", nexla_executable(), "api", "/teams"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=api.env,
        cwd=api.tmp_path,
        timeout=120,
    )
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1, result.stderr
    assert "clock" in warnings[0] and "2020-01-01" in warnings[0]
    assert "SystemTimeWarning" not in result.stderr and "warnings.warn" not in result.stderr
    # The test CA's certificates are valid from 2000 on, so the call itself succeeds.
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("[")


# ---- bodies on a terminal ----------------------------------------------------------------------

# OSC retitle, clear screen, a C1 CSI (U+009B in UTF-8), CRLF, and a byte that is not UTF-8.
HOSTILE = b"hello\x1b]0;owned\x07\x1b[2J\xc2\x9b31m there\r\nline two\xff\n"


# through a real process's stdout pipe (in-process: tests/app/test_api.py)
def test_piped_bodies_stay_byte_for_byte(api):
    api.server.add_fault("GET", "/teams", Fault.body(200, HOSTILE, "text/plain"))
    result = run_bytes(api, "api", "/teams")
    assert result.returncode == 0, result.stderr
    assert result.stdout == HOSTILE


# a real terminal
def test_on_a_terminal_control_characters_of_a_text_body_are_escaped(api):
    api.server.add_fault("GET", "/teams", Fault.body(200, HOSTILE, "text/plain"))
    child = pexpect.spawn(
        nexla_executable(),
        ["api", "/teams"],
        env=api.env_with(TERM="xterm-256color"),
        cwd=str(api.tmp_path),
        timeout=60,
    )
    shown = child.read()
    child.close()
    assert child.exitstatus == 0, shown
    # The pty turns "\n" into "\r\n"; nothing else may reach the terminal raw.
    text = shown.replace(b"\r\n", b"\n")
    assert not re.search(rb"[\x00-\x09\x0b-\x1f\x7f]", text), text
    assert "\x9b".encode() not in text
    assert text == (
        b"hello\\x1b]0;owned\\x07\\x1b[2J\\x9b31m there\nline two" + "\ufffd".encode() + b"\n"
    )
