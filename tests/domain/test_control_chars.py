"""Control characters: refused in names and reasons, shown as escapes when printed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_app.domain.control_chars import (
    escape_control_chars,
    has_control_chars,
    refuse_control_chars,
    shown,
)
from pos_app.domain.errors import InvalidInput

CONTROLS = [
    "\x00",  # NUL
    "\x07",  # BEL
    "\t",
    "\n",
    "\r",
    "\x1b",  # ESC
    "\x7f",  # DEL
    "\x85",  # NEL (C1)
    "\x9b",  # CSI (C1)
    "\u061c",  # Arabic letter mark
    "\u200e",  # LRM
    "\u200f",  # RLM
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",  # RLO
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u2028",  # line separator
    "\u2029",
    "\udcff",  # a lone surrogate: an undecodable byte in argv
]


@pytest.mark.parametrize("ch", CONTROLS)
def test_a_name_with_a_control_character_is_refused_naming_the_field(ch):
    with pytest.raises(InvalidInput) as info:
        refuse_control_chars(f"张{ch}三", "姓名", "name")
    assert "姓名" in info.value.zh and "控制字符" in info.value.zh
    assert "The name cannot contain control characters" in info.value.en
    # The message shows the character as an escape, never the character itself.
    assert ch not in info.value.en and ch not in info.value.zh


@pytest.mark.parametrize(
    "text", ["张三", "O'Brien", "Zoë", "李 四", "👨‍👩‍👧 family", "مرحبا", "=1+2", "", "　全角　"]
)
def test_ordinary_names_pass_unchanged(text):
    assert refuse_control_chars(text, "姓名", "name") == text
    assert not has_control_chars(text)


def test_notes_may_have_lines_and_tabs_but_no_other_control():
    assert refuse_control_chars("一\n二\tb", "备注", "notes", multiline=True) == "一\n二\tb"
    assert refuse_control_chars("一\r\n二", "备注", "notes", multiline=True) == "一\n二"
    for ch in ("\x1b", "\x00", "\r", "\u202e", "\x9b"):
        with pytest.raises(InvalidInput):
            refuse_control_chars(f"一\n{ch}", "备注", "notes", multiline=True)
        assert has_control_chars(f"一\n{ch}", multiline=True)
    assert not has_control_chars("一\n二", multiline=True)


def test_escapes_are_visible_text():
    assert escape_control_chars("a\x1b[2Jb\u202ec\x00") == "a\\x1b[2Jb\\u202ec\\x00"
    assert escape_control_chars("line1\nline2\r", keep="\n") == "line1\nline2\\x0d"


def test_shown_cuts_long_input():
    assert shown("9" * 5000) == "9" * 40 + "…"
    assert shown("\x1b") == "\\x1b"


@given(st.text())
def test_escaped_text_has_no_control_characters_left(text):
    escaped = escape_control_chars(text)
    assert not has_control_chars(escaped)
    # Escaping only ever adds a backslash form: plain text passes unchanged.
    if not has_control_chars(text):
        assert escaped == text
