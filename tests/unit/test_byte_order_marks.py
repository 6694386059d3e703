"""The unit tier of tests/app/test_byte_order_marks.py, whose docstring says what is promised:
the decoder behind it, called directly, for any text."""

from __future__ import annotations

import codecs
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.support.hypothesis_profile  # noqa: F401 (the suite's Hypothesis profiles)
from nexla_cli.core import inputs
from nexla_cli.core.errors import UsageError

WITH_BOM = {
    "utf-8-bom": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "utf-16-le-bom": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "utf-16-be-bom": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    "utf-8": lambda text: text.encode("utf-8"),
}


@pytest.mark.parametrize("encoding", WITH_BOM)
@given(text=st.text())
def test_any_text_with_a_byte_order_mark_decodes_to_itself(encoding, text):
    assert inputs.decode_text(WITH_BOM[encoding](text)) == text


@pytest.mark.parametrize(
    "data",
    [b"tok-\xff\xfe\xfd", codecs.BOM_UTF8 + b"\xff", codecs.BOM_UTF16_LE + b"a"],
    ids=["not-utf8", "bom-then-not-utf8", "odd-utf16"],
)
def test_bytes_that_are_no_text_in_any_encoding_are_refused(data):
    with pytest.raises(UnicodeDecodeError):
        inputs.decode_text(data)


@pytest.mark.parametrize("encoding", WITH_BOM)
@pytest.mark.parametrize(
    "text", ["svc-key\n", "svc-key\r\nsecond line\r\n", "\r\n  \r\nsvc-key  \r\n", "svc-key"]
)
def test_the_first_line_of_a_stream_is_read_in_the_encoding_its_mark_names(encoding, text):
    assert inputs.first_line(io.BytesIO(WITH_BOM[encoding](text)), "key") == "svc-key"


@pytest.mark.parametrize("encoding", ["utf-16-le-bom", "utf-16-be-bom"])
def test_an_endless_utf16_stream_is_read_no_further_than_the_bound(encoding):
    data = WITH_BOM[encoding]("k" * 5_000_000)
    stream = io.BytesIO(data)
    with pytest.raises(UsageError):
        inputs.first_line(stream, "key")
    assert stream.tell() <= 4 * inputs.MAX_INPUT_BYTES + 16
