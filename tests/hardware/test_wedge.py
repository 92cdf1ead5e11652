"""Keyboard-wedge detection as pure logic over (key, time), and the wedge card source."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.cards.wedge import HeldKey, WedgeCardSource, WedgeDetector, WedgeOutcome
from hardware.errors import DeviceUriError
from hardware.events import CardEvent, CardPresented, CardReadFailed, DeviceState
from hardware.uri import parse_device_uri

SCANNER = 0.004  # seconds between a scanner's keys
PERSON = 0.150


class Keyboard:
    """Feeds keys to a detector and records what a UI would do with each outcome."""

    def __init__(self, detector: WedgeDetector, start: float = 100.0) -> None:
        self.detector = detector
        self.now = start
        self.delivered: list[str] = []  # keys that reached the focused field, in order
        self.scans: list[str] = []
        self.fed = 0

    def _apply(self, outcome: WedgeOutcome, key: str | None = None) -> None:
        self.delivered.extend(k.text for k in outcome.release)
        if key is not None and not outcome.held:
            self.delivered.append(key)
        if outcome.scan is not None:
            self.scans.append(outcome.scan.text)

    def type(self, text: str, gap: float) -> None:
        for ch in text:
            self.now += gap
            self.fed += 1
            self._apply(self.detector.feed(ch, self.now, token=self.fed), ch)

    def wait(self, seconds: float) -> None:
        self.now += seconds
        self._apply(self.detector.poll(self.now))


def detector(**options: object) -> WedgeDetector:
    return WedgeDetector(**options)  # type: ignore[arg-type]


def test_a_fast_burst_ended_by_enter_is_one_scan_and_nothing_reaches_the_field():
    kb = Keyboard(detector())
    kb.type("6901234567892\r", SCANNER)
    assert kb.scans == ["6901234567892"]
    assert kb.delivered == []
    assert kb.detector.pending == 0 and kb.detector.deadline is None


def test_tab_ends_a_scan_too():
    kb = Keyboard(detector())
    kb.type("VIP-0001\t", SCANNER)
    assert kb.scans == ["VIP-0001"] and kb.delivered == []


def test_slow_typing_reaches_the_field_in_order_and_is_never_a_scan():
    kb = Keyboard(detector())
    kb.type("hello", PERSON)
    assert kb.delivered == list("hell")  # each key is let go when the next one comes late
    kb.wait(0.019)
    assert kb.delivered == list("hell")  # still within the gap: the 'o' could start a scan
    kb.wait(0.002)
    assert kb.delivered == list("hello")
    kb.type("\r", PERSON)
    assert kb.delivered == list("hello\r") and kb.scans == []


def test_a_held_key_waits_no_longer_than_the_gap():
    d = detector(gap_ms=20)
    outcome = d.feed("a", 1.0)
    assert outcome.held and d.deadline == pytest.approx(1.02)
    assert d.poll(1.0199) == WedgeOutcome()
    assert [k.text for k in d.poll(1.0201).release] == ["a"]


def test_a_burst_without_terminator_is_a_scan_after_the_silence_not_before():
    kb = Keyboard(detector(gap_ms=20, silence_ms=80))
    kb.type("12345678", SCANNER)
    kb.wait(0.05)
    assert kb.scans == [] and kb.delivered == []  # past the gap, waiting for a late Enter
    kb.wait(0.031)
    assert kb.scans == ["12345678"] and kb.delivered == []


def test_a_late_enter_within_the_silence_still_ends_the_scan_and_is_swallowed():
    kb = Keyboard(detector(gap_ms=20, silence_ms=80))
    kb.type("12345678", SCANNER)
    kb.type("\r", 0.06)
    assert kb.scans == ["12345678"] and kb.delivered == []


def test_an_enter_after_the_silence_passes_and_the_scan_is_not_lost():
    kb = Keyboard(detector(gap_ms=20, silence_ms=80))
    kb.type("000", 0.001)
    kb.type("\r", 0.09)  # nobody polled in time
    assert kb.scans == ["000"] and kb.delivered == ["\r"]


def test_a_short_fast_burst_is_a_person_and_enter_passes():
    kb = Keyboard(detector(min_len=3))
    kb.type("12\r", SCANNER)
    assert kb.scans == [] and kb.delivered == ["1", "2", "\r"]


def test_enter_alone_passes():
    kb = Keyboard(detector())
    kb.type("\r", PERSON)
    assert kb.delivered == ["\r"] and kb.scans == []


def test_a_person_typing_right_after_a_scan_is_not_part_of_it():
    kb = Keyboard(detector())
    kb.type("AB123456", SCANNER)
    kb.type("x", PERSON)  # late: the scan ended, 'x' starts a new burst
    assert kb.scans == ["AB123456"]
    kb.wait(1.0)
    assert kb.delivered == ["x"]


def test_a_key_without_text_ends_the_burst():
    d = detector()
    for i, ch in enumerate("ab"):
        d.feed(ch, 1.0 + i * SCANNER)
    outcome = d.feed("", 1.0 + 2 * SCANNER)  # an arrow key
    assert not outcome.held and [k.text for k in outcome.release] == ["a", "b"]
    for i, ch in enumerate("abcd"):
        d.feed(ch, 2.0 + i * SCANNER)
    outcome = d.feed("", 2.0 + 4 * SCANNER)
    assert not outcome.held and outcome.scan is not None and outcome.scan.text == "abcd"


def test_a_configured_suffix_ends_the_scan_at_once_and_its_enter_is_swallowed():
    kb = Keyboard(detector(suffix="$"))
    kb.type("12345$", SCANNER)
    assert kb.scans == ["12345"] and kb.detector.pending == 0
    kb.type("\r", SCANNER)
    assert kb.delivered == []
    kb.type("\r", PERSON)  # a later Enter is the person's
    assert kb.delivered == ["\r"]


def test_a_burst_without_the_configured_prefix_is_handed_back():
    kb = Keyboard(detector(prefix="#"))
    kb.type("12345678\r", SCANNER)
    assert kb.scans == [] and kb.delivered == list("12345678\r")
    kb.type("#12345678\r", SCANNER)
    assert kb.scans == ["12345678"]


def test_a_burst_without_the_configured_suffix_is_handed_back():
    kb = Keyboard(detector(suffix="$"))
    kb.type("12345678", SCANNER)
    kb.wait(1.0)
    assert kb.scans == [] and kb.delivered == list("12345678")


def test_release_all_hands_back_everything_unjudged():
    d = detector()
    for i, ch in enumerate("12345"):
        d.feed(ch, 1.0 + i * SCANNER, token=i)
    keys = d.release_all()
    assert [k.token for k in keys] == [0, 1, 2, 3, 4] and d.pending == 0


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        WedgeDetector(gap_ms=0)
    with pytest.raises(ValueError):
        WedgeDetector(min_len=0)


keys = st.lists(
    st.tuples(
        st.sampled_from(list("0123456789ABCab-%;?=\r\t") + [""]),
        st.sampled_from([0.001, 0.004, 0.009, 0.015, 0.021, 0.035, 0.06, 0.09, 0.2]),
    ),
    max_size=40,
)


@settings(max_examples=300)
@given(keys)
def test_no_key_is_ever_lost_or_reordered(sequence):
    d = detector(gap_ms=20, silence_ms=80, min_len=3)
    now = 0.0
    released: list[HeldKey] = []
    passed_or_released: list[int] = []  # indexes of keys that reached the field, in order
    scanned_chars = 0
    printable = 0
    swallowed_terminators = 0
    for index, (text, gap) in enumerate(sequence):
        now += gap
        if text not in ("", "\r", "\t"):
            printable += 1
        outcome = d.feed(text, now, token=index)
        released += outcome.release
        passed_or_released += [k.token for k in outcome.release]  # type: ignore[misc]
        if not outcome.held:
            passed_or_released.append(index)
        elif text in ("\r", "\t"):
            swallowed_terminators += 1
        if outcome.scan is not None:
            scanned_chars += len(outcome.scan.text)
    final = d.poll(now + 1.0)
    passed_or_released += [k.token for k in final.release]  # type: ignore[misc]
    released += final.release
    if final.scan is not None:
        scanned_chars += len(final.scan.text)
    assert d.pending == 0
    assert passed_or_released == sorted(passed_or_released)  # in order
    assert len(set(passed_or_released)) == len(passed_or_released)  # once each
    assert len(released) + scanned_chars == printable  # every typed key accounted


@given(st.lists(st.sampled_from(list("0123456789AB")), min_size=1, max_size=20))
def test_a_person_never_makes_a_scan(chars):
    kb = Keyboard(detector(gap_ms=20))
    kb.type("".join(chars) + "\r", 0.031)
    kb.wait(1.0)
    assert kb.scans == [] and kb.delivered == [*chars, "\r"]


@given(st.text(alphabet="0123456789ABCDEFGHIJ-", min_size=3, max_size=60))
def test_a_scanner_always_makes_exactly_one_scan(code):
    kb = Keyboard(detector(gap_ms=20))
    kb.type(code + "\r", 0.009)
    assert kb.scans == [code] and kb.delivered == []


# -- the card source ----------------------------------------------------------------------


def wedge(uri: str = "wedge") -> tuple[WedgeCardSource, list[CardEvent]]:
    source = WedgeCardSource(parse_device_uri(uri))
    events: list[CardEvent] = []
    source.start(events.append)
    return source, events


def feed(source: WedgeCardSource, text: str, start: float, gap: float = SCANNER) -> list[bool]:
    return [source.feed_key(ch, start + i * gap) for i, ch in enumerate(text)]


def test_a_scanned_barcode_becomes_a_card():
    source, events = wedge()
    assert all(feed(source, "]E06901234567892\r", 10.0))
    assert len(events) == 1 and isinstance(events[0], CardPresented)
    assert (events[0].kind, events[0].number, events[0].reader) == (
        "barcode",
        "6901234567892",
        "wedge",
    )


def test_a_swipe_typed_through_the_wedge_is_a_magstripe_card():
    source, events = wedge()
    feed(source, "%B6222020200112233445^LI/SI^2612101?;6222020200112233445=2612101?\r", 10.0)
    assert len(events) == 1 and isinstance(events[0], CardPresented)
    assert (events[0].kind, events[0].number) == ("magstripe", "6222020200112233445")


def test_a_failed_swipe_through_the_wedge_is_a_read_failure():
    source, events = wedge()
    feed(source, "%E?;E?\r", 10.0)
    assert len(events) == 1 and isinstance(events[0], CardReadFailed)


def test_options_come_from_the_uri():
    source, events = wedge("wedge:?min_len=4&gap_ms=30&silence_ms=100&prefix=%23&suffix=%24")
    assert source.detector.gap == pytest.approx(0.03)
    assert source.detector.silence == pytest.approx(0.1)
    feed(source, "#123$", 10.0)  # three characters: too short for min_len=4
    assert events == []
    source.poll(11.0)
    assert [k.text for k in source.take_released()] == list("#123$")
    feed(source, "#1234$", 12.0, gap=0.025)  # 25 ms apart is within gap_ms=30
    assert len(events) == 1 and isinstance(events[0], CardPresented)
    assert events[0].number == "1234"


def test_a_person_s_keys_come_back_through_take_released():
    source, events = wedge()
    held = feed(source, "ab", 10.0, gap=PERSON)
    assert held == [True, True]
    assert [k.text for k in source.take_released()] == ["a"]
    assert source.deadline is not None
    source.poll(source.deadline)
    assert [k.text for k in source.take_released()] == ["b"]
    assert source.take_released() == [] and events == []


def test_before_start_and_after_stop_every_key_passes():
    source = WedgeCardSource(parse_device_uri("wedge"))
    assert source.feed_key("1", 1.0) is False
    events: list[CardEvent] = []
    source.start(events.append)
    assert feed(source, "123", 2.0) == [True, True, True]
    source.stop()  # the held keys are handed back, not lost
    assert [k.text for k in source.take_released()] == ["1", "2", "3"]
    assert source.feed_key("4", 3.0) is False and not source.running
    source.close()
    source.start(events.append)  # a closed wedge stays off
    assert source.feed_key("5", 4.0) is False
    assert source.status().state == DeviceState.UNKNOWN


def test_status_is_ready():
    source, _ = wedge()
    assert source.status().state == DeviceState.READY and source.status().ok


def test_a_failing_handler_does_not_break_the_keyboard():
    source = WedgeCardSource(parse_device_uri("wedge"))

    def broken(event: CardEvent) -> None:
        raise RuntimeError("handler broke")

    source.start(broken)
    assert all(feed(source, "12345\r", 1.0))


@pytest.mark.parametrize("options", ["gap_ms=0", "min_len=0", "silence_ms=-5", "gap_ms=x"])
def test_bad_wedge_options_are_uri_errors(options):
    with pytest.raises(DeviceUriError) as caught:
        WedgeCardSource(parse_device_uri(f"wedge:?{options}"))
    assert caught.value.zh and caught.value.en


def test_only_wedge_uris():
    with pytest.raises(DeviceUriError):
        WedgeCardSource(parse_device_uri("serial:/dev/ttyS0"))
