"""The PC/SC IC reader on the real stack: pyscard → pcscd → vpcd → a VirtualCard over TCP.

Option parsing and a missing pyscard are checked without pcscd; everything else needs
pcscd with the vpcd driver (skipped when it is not reachable, failed in CI).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hardware.cards.pcsc_reader import (
    PcscCardSource,
    PcscOptions,
    list_readers,
    pcsc_options,
    pcsc_status,
)
from hardware.errors import DeviceUriError
from hardware.events import CardEvent, CardPresented, CardReadFailed, CardRemoved, DeviceState
from hardware.sim.vpcd_card import VirtualCard
from hardware.uri import parse_device_uri
from tests.hardware.pcscd_control import (
    VPCD_PORT,
    VPCD_PORT_2,
    VPCD_READER,
    VPCD_READER_2,
    pcscd,  # noqa: F401  (fixture)
    start_pcscd,
    stop_pcscd,
    wait_card_state,
)

UID = bytes.fromhex("04A1B2C3")
UID_2 = bytes.fromhex("04D5E6F7A1B2C3")
KEY = bytes.fromhex("A0A1A2A3A4A5")
BLOCK4 = b"8800001234".ljust(16, b"\x00")
WAIT = 3.0  # pcscd polls vpcd about every 0.4 s: an event comes well within this


class Events:
    """Collects a source's events (called on its device thread); waits with a deadline."""

    def __init__(self) -> None:
        self.items: list[CardEvent] = []
        self._changed = threading.Condition()

    def __call__(self, event: CardEvent) -> None:
        with self._changed:
            self.items.append(event)
            self._changed.notify_all()

    def wait(self, count: int, timeout: float = WAIT) -> list[CardEvent]:
        """The first `count` events; fails if they do not all come in time."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.items) >= count, timeout)
            assert arrived, f"expected {count} events within {timeout} s, got {self.items}"
            return list(self.items[:count])


def wait_until(check: Callable[[], bool], timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def uri(text: str) -> Any:
    return parse_device_uri(text)


@pytest.fixture
def open_source() -> Iterator[Callable[[str], PcscCardSource]]:
    """Opens sources by URI text; closes them all afterwards."""
    opened: list[PcscCardSource] = []

    def open_(text: str) -> PcscCardSource:
        source = PcscCardSource(uri(text))
        opened.append(source)
        return source

    yield open_
    for source in opened:
        source.close()


@pytest.fixture
def cards() -> Iterator[Callable[..., VirtualCard]]:
    """Makes virtual cards (not inserted); removes any still in a reader afterwards."""
    made: list[VirtualCard] = []

    def make(uid: bytes = UID, **kwargs: Any) -> VirtualCard:
        card = VirtualCard(uid, **kwargs)
        made.append(card)
        return card

    yield make
    for card in made:
        card.remove()


# -- options, and no pyscard: no pcscd needed ----------------------------------------------


def test_options_default_to_uid_in_hex() -> None:
    assert pcsc_options(uri("pcsc:")) == PcscOptions()


def test_options_are_read_from_the_uri() -> None:
    options = pcsc_options(
        uri(
            "pcsc:ACR122%20U?byte_order=reversed&format=dec&block=4&key=A0A1A2A3A4A5"
            "&key_type=b&number_from=block"
        )
    )
    assert options == PcscOptions("ACR122 U", "reversed", "dec", 4, KEY, "B", "block")
    assert options.matches("ACS ACR122 U PICC Interface 00 00")
    assert options.matches("acs acr122 u picc")
    assert not options.matches("ACS ACR1252 Dual Reader")


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("byte_order=backwards", "byte_order"),
        ("format=oct", "format"),
        ("block=7", "block"),  # a sector trailer holds keys, not data
        ("block=256", "block"),
        ("block=four", "block"),
        ("key=FFFF", "key"),
        ("key=GGGGGGGGGGGG", "key"),
        ("key_type=C", "key_type"),
        ("number_from=atr", "number_from"),
        ("number_from=block", "number_from=block"),  # without block=
    ],
)
def test_bad_options_are_refused_in_both_languages(query: str, named: str) -> None:
    with pytest.raises(DeviceUriError) as caught:
        pcsc_options(uri(f"pcsc:?{query}"))
    assert named in caught.value.en and named in caught.value.zh
    assert "GGGG" not in caught.value.en  # a key, even a bad one, is not echoed


def test_status_of_a_bad_uri_is_an_error_not_an_exception() -> None:
    status = pcsc_status(uri("pcsc:?format=oct"))
    assert status.state is DeviceState.ERROR and "format" in status.detail_en


def test_the_key_is_never_shown() -> None:
    text = f"pcsc:ACR?key={KEY.hex()}&key_type=A&block=four"
    status = pcsc_status(uri(text))
    assert status.state is DeviceState.ERROR and "block" in status.detail_en
    source = PcscCardSource(uri(text.replace("four", "4")))
    source.close()
    shown = [status.uri, status.detail_en, status.detail_zh, source.uri]
    assert not any(KEY.hex() in part for part in shown), shown
    assert status.uri == "pcsc:ACR?key=******&key_type=A&block=four"


def test_without_pyscard_there_is_no_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes `from smartcard import scard` raise ImportError.
    monkeypatch.setitem(sys.modules, "smartcard", None)
    monkeypatch.setitem(sys.modules, "smartcard.scard", None)
    assert list_readers() == []
    status = pcsc_status(uri("pcsc:"))
    assert status.state is DeviceState.NO_DRIVER
    assert status.detail_en == "pyscard not installed" and "pyscard" in status.detail_zh
    source = PcscCardSource(uri("pcsc:"))
    try:
        assert source.status().state is DeviceState.NO_DRIVER
        source.start(Events())
        assert wait_until(lambda: source.status().detail_en == "pyscard not installed")
        assert source.device_thread.call(lambda: True, timeout=2.0)  # its thread lives on
    finally:
        source.close()


# -- on pcscd + vpcd -------------------------------------------------------------------------

pcscd_only = [pytest.mark.pcscd, pytest.mark.usefixtures("pcscd")]


# (URI options, reader, expected number). Every source listens at once, to one card on each
# reader: several programs may share a reader.
UID_READS = [
    ("", VPCD_READER, "04A1B2C3"),
    ("?byte_order=reversed", VPCD_READER, "C3B2A104"),
    ("?format=dec", VPCD_READER, "0077705923"),
    ("?byte_order=reversed&format=dec", VPCD_READER, "3283263748"),
    ("?format=dec", VPCD_READER_2, "01361087880606403"),  # 7-byte UID: 17 digits
    ("?byte_order=reversed", VPCD_READER_2, "C3B2A1F7E6D504"),
]


@pytest.mark.pcscd
@pytest.mark.usefixtures("pcscd")
def test_uid_is_read_and_normalized(
    open_source: Callable[[str], PcscCardSource], cards: Callable[..., VirtualCard]
) -> None:
    listeners = []
    for options, reader, _number in UID_READS:
        events = Events()
        open_source(f"pcsc:{reader}{options}").start(events)
        listeners.append(events)
    cards(UID, port=VPCD_PORT).insert()
    cards(UID_2, port=VPCD_PORT_2).insert()
    for events, (options, reader, number) in zip(listeners, UID_READS, strict=True):
        (presented,) = events.wait(1)
        assert isinstance(presented, CardPresented), (options, presented)
        assert presented.kind == "ic"
        uid = UID if reader == VPCD_READER else UID_2
        assert presented.raw == uid.hex().upper()  # as the reader gave it
        assert (presented.reader, presented.number) == (reader, number), options


@pytest.mark.pcscd
@pytest.mark.usefixtures("pcscd")
def test_insert_and_remove_are_reported_in_order(
    open_source: Callable[[str], PcscCardSource], cards: Callable[..., VirtualCard]
) -> None:
    events = Events()
    source = open_source(f"pcsc:{VPCD_READER}")
    source.start(events)
    first, second = cards(UID), cards(UID_2)
    first.insert()
    events.wait(1)
    first.remove()
    events.wait(2)
    second.insert()
    events.wait(3)
    second.remove()
    got = events.wait(4)
    assert [type(e) for e in got] == [CardPresented, CardRemoved, CardPresented, CardRemoved]
    assert [e.number for e in got if isinstance(e, CardPresented)] == [
        UID.hex().upper(),
        UID_2.hex().upper(),
    ]
    assert {e.reader for e in got} == {VPCD_READER}
    assert [e.at for e in got] == sorted(e.at for e in got)
    assert wait_card_state(VPCD_READER, present=False)
    assert len(events.items) == 4  # nothing more: no repeats, nothing from the other reader
    assert source.status().state is DeviceState.READY


@pytest.mark.pcscd
@pytest.mark.usefixtures("pcscd")
def test_a_card_already_there_is_reported_at_start(
    open_source: Callable[[str], PcscCardSource], cards: Callable[..., VirtualCard]
) -> None:
    cards(UID).insert()
    assert wait_card_state(VPCD_READER, present=True)
    events = Events()
    open_source(f"pcsc:{VPCD_READER}").start(events)
    (presented,) = events.wait(1)
    assert isinstance(presented, CardPresented) and presented.number == "04A1B2C3"


@pytest.mark.pcscd
@pytest.mark.usefixtures("pcscd")
def test_every_pcsclite_call_runs_on_the_device_thread(
    open_source: Callable[[str], PcscCardSource],
    cards: Callable[..., VirtualCard],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from smartcard import scard

    threads: set[str] = set()
    for name in dir(scard):
        if name.startswith("SCard"):
            real = getattr(scard, name)

            def spy(*args: Any, _real: Any = real) -> Any:
                threads.add(threading.current_thread().name)
                return _real(*args)

            monkeypatch.setattr(scard, name, spy)
    events = Events()
    source = open_source(f"pcsc:{VPCD_READER}?block=4&key={KEY.hex()}")
    assert source.status().state is DeviceState.READY
    source.start(events)
    card = cards(UID, key=KEY, sectors={4: BLOCK4})
    card.insert()
    events.wait(1)
    card.remove()
    events.wait(2)
    source.close()
    assert threads and all(name.startswith("hw-pcsc") for name in threads), threads


@pytest.mark.pcscd
@pytest.mark.usefixtures("pcscd")
def test_a_listener_that_raises_does_not_stop_the_reader(
    open_source: Callable[[str], PcscCardSource], cards: Callable[..., VirtualCard]
) -> None:
    events = Events()

    def clumsy(event: CardEvent) -> None:
        events(event)
        raise RuntimeError("listener bug")

    open_source(f"pcsc:{VPCD_READER}").start(clumsy)
    card = cards(UID)
    card.insert()
    events.wait(1)
    card.remove()
    assert isinstance(events.wait(2)[1], CardRemoved)


@pytest.mark.pcscd
@pytest.mark.usefixtures("pcscd")
def test_sector_read_with_the_right_key(
    open_source: Callable[[str], PcscCardSource], cards: Callable[..., VirtualCard]
) -> None:
    from_block, from_uid = Events(), Events()
    sector = f"pcsc:{VPCD_READER}?block=4&key={KEY.hex()}&key_type=B"
    open_source(f"{sector}&number_from=block").start(from_block)
    open_source(sector).start(from_uid)  # reads the block too: only our cards are accepted
    cards(UID, key=KEY, sectors={4: BLOCK4}).insert()
    for events, number in ((from_block, "8800001234"), (from_uid, "04A1B2C3")):
        (presented,) = events.wait(1)
        assert isinstance(presented, CardPresented)
        assert (presented.raw, presented.number) == ("04A1B2C3", number)


@pytest.mark.pcscd
@pytest.mark.usefixtures("pcscd")
def test_wrong_key_is_a_failed_read(
    open_source: Callable[[str], PcscCardSource], cards: Callable[..., VirtualCard]
) -> None:
    events = Events()
    open_source(f"pcsc:{VPCD_READER}?block=4&number_from=block").start(events)  # key FF…FF
    card = cards(UID, key=KEY, sectors={4: BLOCK4})
    card.insert()
    (failed,) = events.wait(1)
    assert isinstance(failed, CardReadFailed)
    assert failed.reader == VPCD_READER
    assert "sector 1" in failed.reason_en and "扇区 1" in failed.reason_zh
    card.remove()
    assert isinstance(events.wait(2)[1], CardRemoved)


@pytest.mark.pcscd
@pytest.mark.usefixtures("pcscd")
def test_block_without_a_number_is_a_failed_read(
    open_source: Callable[[str], PcscCardSource], cards: Callable[..., VirtualCard]
) -> None:
    events = Events()
    open_source(f"pcsc:{VPCD_READER}?block=5&number_from=block").start(events)
    cards(UID, sectors={4: BLOCK4}).insert()  # block 5 is empty
    (failed,) = events.wait(1)
    assert isinstance(failed, CardReadFailed) and "empty" in failed.reason_en


@pytest.mark.pcscd
@pytest.mark.usefixtures("pcscd")
def test_uid_read_failure_is_a_failed_read(
    open_source: Callable[[str], PcscCardSource], cards: Callable[..., VirtualCard]
) -> None:
    events = Events()
    source = open_source(f"pcsc:{VPCD_READER}")
    source.start(events)
    assert wait_until(lambda: source.status().state is DeviceState.READY)
    assert events.items == []  # an empty reader reports nothing
    card = cards(b"")  # answers FF CA with 63 00
    card.insert()
    (failed,) = events.wait(1)
    assert isinstance(failed, CardReadFailed)
    assert "63 00" in failed.reason_en and "63 00" in failed.reason_zh
    card.remove()
    assert isinstance(events.wait(2)[1], CardRemoved)


@pytest.mark.pcscd
@pytest.mark.usefixtures("pcscd")
def test_reader_name_filter(
    open_source: Callable[[str], PcscCardSource], cards: Callable[..., VirtualCard]
) -> None:
    every, second_only = Events(), Events()
    open_source("pcsc:").start(every)
    open_source("pcsc:pcd 00 01").start(second_only)  # any case
    cards(UID, port=VPCD_PORT).insert()
    cards(UID_2, port=VPCD_PORT_2).insert()
    both = every.wait(2)
    assert {(e.reader, e.number) for e in both if isinstance(e, CardPresented)} == {
        (VPCD_READER, UID.hex().upper()),
        (VPCD_READER_2, UID_2.hex().upper()),
    }
    (only,) = second_only.wait(1)
    assert isinstance(only, CardPresented)
    assert (only.reader, only.number) == (VPCD_READER_2, UID_2.hex().upper())
    assert len(second_only.items) == 1


@pytest.mark.pcscd
@pytest.mark.usefixtures("pcscd")
def test_status_with_and_without_a_matching_reader(
    open_source: Callable[[str], PcscCardSource],
) -> None:
    assert set(list_readers()) >= {VPCD_READER, VPCD_READER_2}

    ready = pcsc_status(uri(f"pcsc:{VPCD_READER_2}"))
    assert ready.state is DeviceState.READY and VPCD_READER_2 in ready.detail_en
    assert open_source(f"pcsc:{VPCD_READER_2}").status() == ready

    missing = pcsc_status(uri("pcsc:ACR122"))
    assert missing.state is DeviceState.NOT_FOUND
    assert "ACR122" in missing.detail_en
    assert VPCD_READER in missing.detail_en and VPCD_READER_2 in missing.detail_en
    assert VPCD_READER in missing.detail_zh

    # Started, the source keeps looking for the reader and says why it has none.
    source = open_source("pcsc:ACR122")
    source.start(Events())
    assert wait_until(lambda: source.status().state is DeviceState.NOT_FOUND)
    assert VPCD_READER in source.status().detail_en


@pytest.mark.pcscd
@pytest.mark.usefixtures("pcscd")
def test_pcscd_restart_is_survived(
    open_source: Callable[[str], PcscCardSource], cards: Callable[..., VirtualCard]
) -> None:
    events = Events()
    source = open_source(f"pcsc:{VPCD_READER}")
    source.start(events)
    card = cards(UID)
    card.insert()
    assert isinstance(events.wait(1)[0], CardPresented)
    try:
        stop_pcscd()
        # vpcd went with pcscd: the card is out, and the source says so.
        assert card.wait_gone(WAIT)
        assert isinstance(events.wait(2)[1], CardRemoved)
        assert wait_until(lambda: source.status().state is DeviceState.NO_DRIVER)
        assert "pcscd not running" in source.status().detail_en
        assert "pcscd" in source.status().detail_zh
        assert pcsc_status(uri(f"pcsc:{VPCD_READER}")).detail_en.startswith("pcscd not running")
        assert list_readers() == []
        assert source.device_thread.call(lambda: True, timeout=2.0)  # still alive, retrying
    finally:
        assert start_pcscd(), "pcscd did not come back"
    assert wait_until(lambda: source.status().state is DeviceState.READY)
    again = cards(UID_2)
    again.insert()
    presented = events.wait(3)[2]
    assert isinstance(presented, CardPresented) and presented.number == UID_2.hex().upper()
    again.remove()
    assert isinstance(events.wait(4)[3], CardRemoved)


@pytest.mark.pcscd
@pytest.mark.usefixtures("pcscd")
def test_stop_then_start_again(
    open_source: Callable[[str], PcscCardSource], cards: Callable[..., VirtualCard]
) -> None:
    first, second = Events(), Events()
    source = open_source(f"pcsc:{VPCD_READER}")
    source.start(first)
    source.stop()
    card = cards(UID)
    card.insert()
    assert wait_card_state(VPCD_READER, present=True)
    source.start(second)  # the card on the reader is reported to the new listener
    assert isinstance(second.wait(1)[0], CardPresented)
    assert first.items == []


@pytest.mark.pcscd
@pytest.mark.usefixtures("pcscd")
def test_reader_unplugged_and_plugged_back(
    open_source: Callable[[str], PcscCardSource],
    cards: Callable[..., VirtualCard],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from smartcard import scard

    # vpcd's readers cannot be unplugged; pcsclite stops listing an unplugged reader, so
    # hide it from the listing (everything else is the real pcscd).
    unplugged = threading.Event()
    real_list = scard.SCardListReaders

    def listing(ctx: Any, groups: Any) -> Any:
        hresult, readers = real_list(ctx, groups)
        if unplugged.is_set():
            readers = [r for r in readers if r != VPCD_READER]
        return hresult, readers

    monkeypatch.setattr(scard, "SCardListReaders", listing)
    events = Events()
    source = open_source(f"pcsc:{VPCD_READER}")
    source.start(events)
    cards(UID).insert()
    assert isinstance(events.wait(1)[0], CardPresented)
    unplugged.set()
    assert isinstance(events.wait(2)[1], CardRemoved)
    assert wait_until(lambda: source.status().state is DeviceState.NOT_FOUND)
    assert VPCD_READER_2 in source.status().detail_en  # what is there instead
    unplugged.clear()
    presented = events.wait(3)[2]  # plugged back with the card still on it
    assert isinstance(presented, CardPresented) and presented.number == "04A1B2C3"
    assert source.status().state is DeviceState.READY
