"""Magstripe parsing: ISO 7813 tracks as keyboard-emulation readers send them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.cards.magstripe import MagstripeError, Swipe, looks_like_magstripe, parse_swipe
from hardware.sim.pty_devices import swipe_text

PAN = "6222020200112233445"
TRACK1 = f"B{PAN}^ZHANG/SAN^2612101000000000000000"
TRACK2 = f"{PAN}=2612101000000"  # 33 of the 37 characters a track 2 holds
TRACK3 = "01" + "1" * 60


def test_a_full_swipe_gives_number_name_expiry_and_every_track():
    swipe = parse_swipe(swipe_text(TRACK1, TRACK2, TRACK3) + "\r")
    assert swipe.pan == PAN
    assert swipe.name == "ZHANG/SAN"
    assert swipe.expiry == "2612"
    assert swipe.service_code == "101"
    assert (swipe.track1, swipe.track2, swipe.track3) == (TRACK1, TRACK2, TRACK3)
    assert swipe.tracks_read == (1, 2, 3)
    assert swipe.failed == () and swipe.invalid == () and not swipe.garbage


def test_the_number_comes_from_track_2_when_the_tracks_disagree():
    swipe = parse_swipe(swipe_text("B4111111111111111^A/B^2612101", "5500000000000004=2612"))
    assert swipe.pan == "5500000000000004"


def test_a_member_card_with_only_track_2_and_no_separator():
    swipe = parse_swipe(";0012345678?\r\n")
    assert swipe.pan == "0012345678"
    assert swipe.track1 is None and swipe.expiry is None and swipe.tracks_read == (2,)


def test_track_1_alone_gives_the_number():
    swipe = parse_swipe(swipe_text(TRACK1, None))
    assert swipe.pan == PAN and swipe.track2 is None and swipe.expiry == "2612"


def test_a_failed_track_2_falls_back_to_track_1():
    swipe = parse_swipe(swipe_text(TRACK1, TRACK2, fail=(2,)))
    assert swipe.pan == PAN
    assert swipe.failed == (2,)
    assert swipe.track2 is None


def test_a_failed_track_3_does_not_matter():
    swipe = parse_swipe(f"%{TRACK1}?;{TRACK2}?+E?")
    assert swipe.pan == PAN and swipe.failed == (3,)


def test_every_track_failed_is_a_bilingual_error_naming_the_tracks():
    with pytest.raises(MagstripeError) as caught:
        parse_swipe("%E?;E?+E?\r")
    assert "磁道 1、2、3" in caught.value.message("zh")
    assert "tracks 1, 2, 3" in caught.value.message("en")
    assert caught.value.code == "bad_swipe"


def test_text_that_is_not_track_data_says_so():
    with pytest.raises(MagstripeError) as caught:
        parse_swipe("hello world")
    assert "不是磁条卡数据" in caught.value.zh
    assert "not magnetic stripe data" in caught.value.en


def test_a_lost_end_sentinel_on_track_1_leaves_track_2_usable():
    swipe = parse_swipe(f"%{TRACK1};{TRACK2}?")
    assert swipe.pan == PAN
    assert swipe.invalid == (1,)
    assert swipe.track1 is None and swipe.name is None


def test_a_lost_end_sentinel_on_track_2_is_not_trusted():
    # The read may have been cut inside the number: never guess it.
    swipe = parse_swipe(f"%{TRACK1}?;{PAN[:10]}")
    assert swipe.invalid == (2,)
    assert swipe.pan == PAN  # from track 1
    with pytest.raises(MagstripeError) as caught:
        parse_swipe(f";{PAN[:10]}\r")
    assert "磁道 2" in caught.value.zh


def test_garbage_around_the_tracks_is_ignored_and_noted():
    swipe = parse_swipe(f"xx%{TRACK1}?zz;{TRACK2}?\r")
    assert swipe.pan == PAN and swipe.garbage


@pytest.mark.parametrize(
    ("track", "content", "limit"),
    [(1, "B" + "1" * 16 + "^N/A^" + "9" * 54, 76), (2, "1" * 37, 37), (3, "1" * 104, 104)],
)
def test_track_lengths_follow_iso_7813_without_the_lrc(track, content, limit):
    starts = {1: "%", 2: ";", 3: "+"}
    fitting = content[:limit]
    base = swipe_text(None, "12345678") if track != 2 else ""
    ok = parse_swipe(base + f"{starts[track]}{fitting}?")
    assert ok.tracks_read.count(track) == 1
    too_long = parse_swipe(base + f"{starts[track]}{fitting}1?") if track != 2 else None
    if too_long is not None:
        assert too_long.invalid == (track,)
    else:
        with pytest.raises(MagstripeError):
            parse_swipe(f";{fitting}1?")


def test_characters_outside_the_track_2_set_make_it_invalid():
    swipe = parse_swipe(f"%{TRACK1}?;{PAN}A=2612?")
    assert swipe.invalid == (2,) and swipe.pan == PAN


def test_caps_lock_on_a_keyboard_wedge_is_undone_for_track_1():
    swipe = parse_swipe(swipe_text(TRACK1.lower(), None))
    assert swipe.name == "ZHANG/SAN" and swipe.pan == PAN


def test_a_second_semicolon_track_is_track_3():
    swipe = parse_swipe(f";{TRACK2}?;{TRACK3}?")
    assert swipe.track3 == TRACK3 and swipe.pan == PAN


def test_digits_without_sentinels_are_track_2():
    swipe = parse_swipe(f"{TRACK2}\r\n")
    assert swipe.pan == PAN and swipe.expiry == "2612"


def test_an_impossible_expiry_month_is_left_out():
    assert parse_swipe(f";{PAN}=2613101?").expiry is None
    assert parse_swipe(f";{PAN}==?").expiry is None


def test_a_track_1_in_another_format_gives_no_number():
    with pytest.raises(MagstripeError) as caught:
        parse_swipe("%A123456^X^2612?")
    assert "没有卡号" in caught.value.zh


def test_card_data_stays_out_of_repr():
    swipe = parse_swipe(swipe_text(TRACK1, TRACK2, TRACK3))
    text = repr(swipe)
    assert PAN not in text and "ZHANG" not in text and TRACK3 not in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"%{TRACK1}?", True),
        (f";{TRACK2}?", True),
        ("%E?;E?", True),
        (";E?", True),
        ("6901234567892", False),
        ("https://example.cn/m/1", False),
        (";", False),
        ("%%", False),
    ],
)
def test_looks_like_magstripe(text, expected):
    assert looks_like_magstripe(text) is expected


names = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ /.", min_size=2, max_size=26).filter(
    lambda s: s.strip() != ""
)


@given(
    pan=st.text(alphabet="0123456789", min_size=12, max_size=19),
    name=names,
    year=st.integers(0, 99),
    month=st.integers(1, 12),
    failed=st.sets(st.sampled_from([1, 2, 3]), max_size=1),
)
def test_what_a_reader_sends_parses_back(pan, name, year, month, failed):
    yymm = f"{year:02d}{month:02d}"
    t1 = f"B{pan}^{name}^{yymm}101"
    t2 = f"{pan}={yymm}101"
    swipe = parse_swipe(swipe_text(t1, t2, "0123", fail=failed) + "\r")
    assert swipe.pan == pan
    assert swipe.expiry == yymm
    assert swipe.failed == tuple(sorted(failed))
    if 1 not in failed:
        assert swipe.name == name.strip()


@given(st.text(alphabet=st.sampled_from("%;+?=^E0123456789AB \r\n"), max_size=60))
def test_any_text_gives_digits_or_a_swipe_error(text):
    try:
        swipe = parse_swipe(text)
    except MagstripeError as exc:
        assert exc.zh and exc.en
    else:
        assert isinstance(swipe, Swipe)
        assert swipe.pan.isdigit()
