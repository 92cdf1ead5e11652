"""The virtual IC card: the vpcd protocol against a stand-in vpcd on 127.0.0.1 port 0, and
against the real vpcd driver in pcscd through pyscard."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest

from hardware.errors import DeviceUnavailable
from hardware.sim.vpcd_card import (
    MIFARE_1K_ATR,
    BadCardData,
    VirtualCard,
    parse_uid,
    run_virtual_card,
)
from tests.hardware.pcscd_control import (
    VPCD_PORT,
    VPCD_READER,
    pcscd,  # noqa: F401  (fixture)
    wait_card_state,
)

UID = bytes.fromhex("04A1B2C3")
KEY = bytes.fromhex("A0A1A2A3A4A5")
BLOCK4 = b"8800001234".ljust(16, b"\x00")


class FakeVpcd:
    """The reader's side of the vpcd protocol, for one card at a time."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(2.0)
        self.port: int = self.server.getsockname()[1]
        self.conn: socket.socket | None = None

    def accept(self) -> None:
        self.conn, _ = self.server.accept()
        self.conn.settimeout(2.0)

    def send(self, payload: bytes) -> None:
        assert self.conn is not None
        self.conn.sendall(struct.pack(">H", len(payload)) + payload)

    def _recv_exact(self, n: int) -> bytes:
        assert self.conn is not None
        data = b""
        while len(data) < n:
            chunk = self.conn.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def recv(self) -> bytes:
        (length,) = struct.unpack(">H", self._recv_exact(2))
        return self._recv_exact(length)

    def apdu(self, hex_apdu: str) -> bytes:
        self.send(bytes.fromhex(hex_apdu))
        return self.recv()

    def closed_by_card(self) -> bool:
        """True when the card closed its end (recv returns end of stream)."""
        assert self.conn is not None
        try:
            return self.conn.recv(1) == b""
        except (ConnectionResetError, TimeoutError):
            return False

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.server.close()


@pytest.fixture
def vpcd() -> Iterator[FakeVpcd]:
    fake = FakeVpcd()
    yield fake
    fake.close()


@pytest.fixture
def card(vpcd: FakeVpcd) -> Iterator[VirtualCard]:
    """A card inserted into the stand-in vpcd, key KEY, block 4 holding a card number."""
    virtual = VirtualCard(UID, key=KEY, sectors={4: BLOCK4}, port=vpcd.port)
    virtual.insert()
    vpcd.accept()
    yield virtual
    virtual.remove()


def test_atr_on_request_and_no_answer_to_power_codes(vpcd: FakeVpcd, card: VirtualCard) -> None:
    for code in (1, 0, 1, 2):  # power on, off, on, reset: the card must stay silent
        vpcd.send(bytes([code]))
    vpcd.send(b"\x04")
    assert vpcd.recv() == MIFARE_1K_ATR  # the first answer is the ATR: nothing came before it


def test_uid(vpcd: FakeVpcd, card: VirtualCard) -> None:
    assert vpcd.apdu("FFCA000000") == UID + b"\x90\x00"


def test_a_card_without_uid_answers_63_00(vpcd: FakeVpcd) -> None:
    with VirtualCard(b"", port=vpcd.port):
        vpcd.accept()
        assert vpcd.apdu("FFCA000000") == b"\x63\x00"


def test_sector_read_with_the_right_key(vpcd: FakeVpcd, card: VirtualCard) -> None:
    assert vpcd.apdu("FF82000006" + KEY.hex()) == b"\x90\x00"
    assert vpcd.apdu("FF860000050100046000") == b"\x90\x00"  # block 4, key A, slot 0
    assert vpcd.apdu("FFB0000410") == BLOCK4 + b"\x90\x00"
    assert vpcd.apdu("FFB0000510") == bytes(16) + b"\x90\x00"  # same sector, empty block
    assert vpcd.apdu("FFB0000810") == b"\x69\x82"  # another sector is not open
    # Key B in slot 1 opens it as well.
    assert vpcd.apdu("FF82000106" + KEY.hex()) == b"\x90\x00"
    assert vpcd.apdu("FF860000050100086101") == b"\x90\x00"
    assert vpcd.apdu("FFB0000810") == bytes(16) + b"\x90\x00"


def test_block_zero_holds_the_uid_and_its_check_byte(vpcd: FakeVpcd, card: VirtualCard) -> None:
    vpcd.apdu("FF82000006" + KEY.hex())
    vpcd.apdu("FF860000050100006000")
    block0 = vpcd.apdu("FFB0000010")
    assert block0[:4] == UID and block0[4] == 0x04 ^ 0xA1 ^ 0xB2 ^ 0xC3
    assert block0[-2:] == b"\x90\x00" and len(block0) == 18


def test_wrong_key_fails_authentication_and_the_sector_stays_shut(
    vpcd: FakeVpcd, card: VirtualCard
) -> None:
    assert vpcd.apdu("FF82000006FFFFFFFFFFFF") == b"\x90\x00"  # loading any key works
    assert vpcd.apdu("FF860000050100046000") == b"\x63\x00"
    assert vpcd.apdu("FFB0000410") == b"\x69\x82"


def test_read_without_authentication_is_refused(vpcd: FakeVpcd, card: VirtualCard) -> None:
    assert vpcd.apdu("FFB0000410") == b"\x69\x82"


def test_reset_ends_the_authenticated_session(vpcd: FakeVpcd, card: VirtualCard) -> None:
    vpcd.apdu("FF82000006" + KEY.hex())
    assert vpcd.apdu("FF860000050100046000") == b"\x90\x00"
    vpcd.send(b"\x02")
    assert vpcd.apdu("FFB0000410") == b"\x69\x82"


@pytest.mark.parametrize(
    "apdu",
    [
        "00A4040007A0000000031010",  # SELECT: not a storage card's command
        "FFCA010000",  # ATS / historical bytes
        "FF00480000",  # reader firmware version
        "80CA9F7F00",
    ],
)
def test_unknown_apdu_gets_6d_00(vpcd: FakeVpcd, card: VirtualCard, apdu: str) -> None:
    assert vpcd.apdu(apdu) == b"\x6d\x00"


def test_bad_parameters_are_refused(vpcd: FakeVpcd, card: VirtualCard) -> None:
    assert vpcd.apdu("FF82000206" + KEY.hex()) == b"\x6a\x86"  # no key slot 2
    assert vpcd.apdu("FF820000040102") == b"\x67\x00"  # key too short
    assert vpcd.apdu("FF860000050100406000") == b"\x6a\x86"  # block 64 on a 1K card


def test_insert_connects_and_remove_closes(vpcd: FakeVpcd) -> None:
    virtual = VirtualCard(UID, port=vpcd.port)
    assert not virtual.inserted
    virtual.insert()
    vpcd.accept()
    assert virtual.inserted
    virtual.remove()
    assert not virtual.inserted
    assert vpcd.closed_by_card()


def test_card_knows_when_vpcd_drops_it(vpcd: FakeVpcd) -> None:
    with VirtualCard(UID, port=vpcd.port) as virtual:
        vpcd.accept()
        assert vpcd.conn is not None
        vpcd.conn.close()  # pcscd stopped
        assert virtual.wait_gone(2.0)
        assert not virtual.inserted


def test_insert_without_vpcd_is_a_clear_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    with pytest.raises(DeviceUnavailable) as caught:
        VirtualCard(UID, port=port).insert()
    assert "pcscd" in caught.value.zh and "pcscd" in caught.value.en


@pytest.mark.parametrize(
    ("kwargs", "what"),
    [
        ({"key": b"\x01\x02"}, "6 bytes"),
        ({"sectors": {4: b"short"}}, "16 bytes"),
        ({"sectors": {64: bytes(16)}}, "16 bytes"),
    ],
)
def test_bad_card_data_is_refused(kwargs: dict[str, object], what: str) -> None:
    with pytest.raises(BadCardData) as caught:
        VirtualCard(UID, **kwargs)  # type: ignore[arg-type]
    assert what in caught.value.en and caught.value.zh


def test_uid_from_hex() -> None:
    assert parse_uid("04a1b2c3") == UID
    assert parse_uid("04:A1:B2:C3") == UID
    assert parse_uid("04 A1 B2 C3 D4 E5 F6") == bytes.fromhex("04A1B2C3D4E5F6")
    for bad in ("04A1B2", "not hex", "", "04A1B2C3D4"):
        with pytest.raises(BadCardData):
            parse_uid(bad)


def test_run_virtual_card_removes_after_the_time(vpcd: FakeVpcd) -> None:
    started = time.monotonic()
    runner = threading.Thread(target=run_virtual_card, args=("04A1B2C3", 0.3, vpcd.port))
    runner.start()
    vpcd.accept()
    assert vpcd.apdu("FFCA000000") == UID + b"\x90\x00"
    runner.join(3.0)
    assert not runner.is_alive()
    assert 0.3 <= time.monotonic() - started < 2.0
    assert vpcd.closed_by_card()


def test_run_virtual_card_stops_when_told(vpcd: FakeVpcd) -> None:
    stop = threading.Event()
    runner = threading.Thread(target=run_virtual_card, args=("04A1B2C3", None, vpcd.port, stop))
    runner.start()
    vpcd.accept()
    stop.set()
    runner.join(2.0)
    assert not runner.is_alive()
    assert vpcd.closed_by_card()


def test_run_virtual_card_ends_when_vpcd_goes(vpcd: FakeVpcd) -> None:
    runner = threading.Thread(target=run_virtual_card, args=("04A1B2C3", None, vpcd.port))
    runner.start()
    vpcd.accept()
    assert vpcd.conn is not None
    vpcd.conn.close()
    runner.join(2.0)
    assert not runner.is_alive()


def test_run_virtual_card_refuses_a_bad_uid() -> None:
    with pytest.raises(BadCardData):
        run_virtual_card("XYZ", 0.1, 1)


@pytest.mark.pcscd
@pytest.mark.usefixtures("pcscd")
def test_pyscard_reads_the_card_through_pcscd() -> None:
    from smartcard.System import readers

    reader = next(r for r in readers() if str(r) == VPCD_READER)
    with VirtualCard(UID, key=KEY, sectors={4: BLOCK4}, port=VPCD_PORT):
        assert wait_card_state(VPCD_READER, present=True)
        connection = reader.createConnection()
        connection.connect()
        try:
            assert bytes(connection.getATR()) == MIFARE_1K_ATR
            data, sw1, sw2 = connection.transmit([0xFF, 0xCA, 0x00, 0x00, 0x00])
            assert (bytes(data), sw1, sw2) == (UID, 0x90, 0x00)
            assert connection.transmit([0xFF, 0x82, 0x00, 0x00, 0x06, *KEY])[1:] == (0x90, 0x00)
            auth = [0xFF, 0x86, 0x00, 0x00, 0x05, 0x01, 0x00, 0x04, 0x60, 0x00]
            assert connection.transmit(auth)[1:] == (0x90, 0x00)
            data, sw1, sw2 = connection.transmit([0xFF, 0xB0, 0x00, 0x04, 0x10])
            assert (bytes(data), sw1, sw2) == (BLOCK4, 0x90, 0x00)
        finally:
            connection.disconnect()
    assert wait_card_state(VPCD_READER, present=False)
