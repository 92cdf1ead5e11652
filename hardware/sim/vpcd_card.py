"""A virtual MIFARE Classic 1K card for the vpcd virtual reader of a real pcscd.

vpcd (Debian package vsmartcard-vpcd) makes pcscd show the readers "Virtual PCD 00 00" and
"Virtual PCD 00 01", listening on 127.0.0.1:35963 and :35964. A card is a TCP client of
that port: connecting inserts it, closing removes it. Messages both ways are a 2-byte
big-endian length and a payload. From vpcd, a 1-byte payload is a control code (0 power
off, 1 power on, 2 reset: no answer; 4: answer with the ATR); a longer one is an APDU,
answered with the response data and SW1 SW2.

The card answers the pseudo-APDUs that ACS-style contactless readers offer for MIFARE
Classic (the reader and the card are one here):

    FF CA 00 00 00                     UID (63 00 when the card has none to give)
    FF 82 00 <slot> 06 <key>           load a key into slot 0 or 1
    FF 86 00 00 05 01 00 <blk> <60|61> <slot>   authenticate the block's sector (63 00: wrong key)
    FF B0 00 <blk> 10                  read a 16-byte block (69 82 without authentication)

Anything else gets 6D 00 (instruction not supported).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time
from types import TracebackType

from hardware.errors import DeviceError, DeviceUnavailable
from hardware.events import mask_number

log = logging.getLogger(__name__)

# Every MIFARE Classic 1K card answers with this ATR (PC/SC part 3 storage-card ATR).
MIFARE_1K_ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
DEFAULT_KEY = b"\xff" * 6
VPCD_HOST = "127.0.0.1"
VPCD_PORT = 35963  # "Virtual PCD 00 00"; 35964 is "Virtual PCD 00 01"

CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4
SW_OK = b"\x90\x00"
SW_FAILED = b"\x63\x00"  # UID not available, authentication failed
SW_NOT_ALLOWED = b"\x69\x82"  # security status not satisfied: read without authentication
SW_WRONG_PARAMS = b"\x6a\x86"  # bad P1/P2 (key slot, block number)
SW_WRONG_LENGTH = b"\x67\x00"
SW_UNSUPPORTED = b"\x6d\x00"
KEY_SLOTS = 2
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)
BLOCKS = 64  # MIFARE Classic 1K: 16 sectors of 4 blocks


class BadCardData(DeviceError, ValueError):
    """A virtual card was given data it cannot hold (UID not hex, a block not 16 bytes)."""

    code = "bad_card_data"


def manufacturer_block(uid: bytes) -> bytes:
    """Block 0 of a card with a 4-byte UID: UID, BCC (XOR of the UID), then filler."""
    bcc = 0
    for b in uid:
        bcc ^= b
    head = uid + bytes([bcc]) if len(uid) == 4 else uid
    return (head + bytes.fromhex("0804006263646566676869"))[:16].ljust(16, b"\x00")


class VirtualCard:
    """A MIFARE Classic 1K card that can be inserted into and removed from a vpcd reader.

    `uid` is what `FF CA` returns (an empty UID makes the card answer 63 00, as a reader
    does that cannot read it); `sectors` maps block numbers to 16 bytes of data; `key`
    opens every sector, with key A or key B.
    """

    def __init__(
        self,
        uid: bytes,
        *,
        atr: bytes = MIFARE_1K_ATR,
        sectors: dict[int, bytes] | None = None,
        key: bytes = DEFAULT_KEY,
        host: str = VPCD_HOST,
        port: int = VPCD_PORT,
    ) -> None:
        if len(key) != 6:
            raise BadCardData("密钥应为 6 字节", "A MIFARE key is 6 bytes")
        blocks = dict(sectors or {})
        for block, data in blocks.items():
            if not 0 <= block < BLOCKS or len(data) != 16:
                raise BadCardData(
                    f"块 {block} 的数据应为 16 字节（块号 0–{BLOCKS - 1}）",
                    f"Block {block} must hold 16 bytes (blocks 0–{BLOCKS - 1})",
                )
        if uid:
            blocks.setdefault(0, manufacturer_block(uid))
        self.uid = uid
        self.atr = atr
        self.key = key
        self.host = host
        self.port = port
        self._blocks = blocks
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._gone = threading.Event()
        self._gone.set()
        # Card state, touched only by the card's own thread.
        self._keys: list[bytes | None] = [None] * KEY_SLOTS
        self._open_sector: int | None = None

    # -- inserting and removing ------------------------------------------------------------

    def insert(self, timeout: float = 2.0) -> None:
        """Put the card into the reader (connect to vpcd); it answers on its own thread.

        Raises DeviceUnavailable when nothing listens on the port (pcscd or vpcd not there).
        """
        if self.inserted:
            return
        try:
            sock = socket.create_connection((self.host, self.port), timeout=timeout)
        except OSError as exc:
            raise DeviceUnavailable(
                f"无法连接虚拟读卡器 vpcd（{self.host}:{self.port}）：{exc}；请先启动 pcscd",
                f"Cannot reach the vpcd virtual reader at {self.host}:{self.port}: {exc}; "
                "is pcscd running with the vpcd driver?",
            ) from None
        sock.settimeout(None)
        # Small request/response messages: send each at once.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._keys = [None] * KEY_SLOTS
        self._open_sector = None
        self._sock = sock
        self._gone.clear()
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), name=f"vpcd-card-{self.port}", daemon=True
        )
        self._thread.start()
        log.debug("virtual card %s inserted at port %d", mask_number(self.uid.hex()), self.port)

    def remove(self) -> None:
        """Take the card out of the reader (close the connection); waits for its thread."""
        sock, thread = self._sock, self._thread
        self._sock = self._thread = None
        if sock is not None:
            # shutdown() wakes the card's thread out of recv() before the socket goes away.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)
        self._gone.set()

    @property
    def inserted(self) -> bool:
        """True while the card is connected to vpcd."""
        return not self._gone.is_set()

    def wait_gone(self, timeout: float | None = None) -> bool:
        """Wait until the card is out (removed, or vpcd closed the connection)."""
        return self._gone.wait(timeout)

    def __enter__(self) -> VirtualCard:
        self.insert()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.remove()

    # -- the vpcd protocol ------------------------------------------------------------------

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                message = _recv_message(sock)
                if message is None:
                    break
                reply = self.answer(message)
                if reply is not None:
                    sock.sendall(struct.pack(">H", len(reply)) + reply)
        except OSError:
            pass  # removed (socket shut down) or vpcd went away (pcscd stopped)
        finally:
            self._gone.set()

    def answer(self, message: bytes) -> bytes | None:
        """The card's answer to one vpcd message (None for control codes that get none)."""
        if len(message) == 1:
            code = message[0]
            if code == CTRL_ATR:
                return self.atr
            if code in (CTRL_OFF, CTRL_ON, CTRL_RESET):
                # Power cycling ends the authenticated session, as on a real card.
                self._open_sector = None
            return None
        return self._apdu(message)

    def _apdu(self, apdu: bytes) -> bytes:
        if len(apdu) < 4 or apdu[0] != 0xFF:
            return SW_UNSUPPORTED
        ins, p1, p2, body = apdu[1], apdu[2], apdu[3], apdu[5:]
        if ins == 0xCA and p1 == 0x00:
            return self.uid + SW_OK if self.uid else SW_FAILED
        if ins == 0x82:
            if p2 >= KEY_SLOTS:
                return SW_WRONG_PARAMS
            if len(body) != 6:
                return SW_WRONG_LENGTH
            self._keys[p2] = bytes(body)
            return SW_OK
        if ins == 0x86:
            # Body: version 01, block MSB 00, block, key type 60 (A) / 61 (B), key slot.
            if len(body) != 5 or body[0] != 0x01 or body[3] not in (0x60, 0x61):
                return SW_WRONG_LENGTH if len(body) != 5 else SW_WRONG_PARAMS
            block, slot = body[2], body[4]
            if block >= BLOCKS or slot >= KEY_SLOTS:
                return SW_WRONG_PARAMS
            if self._keys[slot] != self.key:
                self._open_sector = None
                return SW_FAILED
            self._open_sector = block // 4
            return SW_OK
        if ins == 0xB0:
            block = p2
            if block >= BLOCKS:
                return SW_WRONG_PARAMS
            if self._open_sector != block // 4:
                return SW_NOT_ALLOWED
            return self._blocks.get(block, bytes(16)) + SW_OK
        return SW_UNSUPPORTED


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        # vpcd writes the length and the payload separately; with Nagle on its side, the
        # payload waits for our ACK of the length, which delayed ACK holds back ~40 ms.
        # Quick ACK (Linux; cleared by the kernel after use, so set before every read).
        if _QUICKACK is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _recv_message(sock: socket.socket) -> bytes | None:
    """One length-prefixed vpcd message, or None at end of connection."""
    head = _recv_exact(sock, 2)
    if head is None:
        return None
    (length,) = struct.unpack(">H", head)
    return _recv_exact(sock, length) if length else b""


def parse_uid(uid_hex: str) -> bytes:
    """A UID given in hex ("04A1B2C3", spaces and colons allowed); BadCardData otherwise."""
    text = uid_hex.replace(" ", "").replace(":", "")
    try:
        uid = bytes.fromhex(text)
    except ValueError:
        uid = b""
    if len(uid) not in (4, 7, 10):
        raise BadCardData(
            f"UID 应为 4、7 或 10 字节的十六进制：{uid_hex}",
            f"A UID is 4, 7 or 10 bytes in hex: {uid_hex}",
        )
    return uid


def run_virtual_card(
    uid_hex: str,
    remove_after: float | None,
    port: int = VPCD_PORT,
    stop: threading.Event | None = None,
) -> None:
    """Insert a card with this UID into vpcd and keep it there until `remove_after` seconds
    pass, `stop` is set, or vpcd drops it (pcscd stopped); then remove it.

    Raises BadCardData for a bad UID and DeviceUnavailable when vpcd is not reachable.
    """
    card = VirtualCard(parse_uid(uid_hex), port=port)
    stop = stop or threading.Event()
    deadline = None if remove_after is None else time.monotonic() + remove_after
    card.insert()
    try:
        while not stop.is_set() and card.inserted:
            left = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if left <= 0:
                break
            # Wakes at once when vpcd drops the card, within 0.2 s of `stop`.
            card.wait_gone(left)
    finally:
        card.remove()
