"""PC/SC IC card readers through pyscard: card present / removed, UID and sector reads.

    pcsc:                              any reader
    pcsc:ACR122                        readers whose name contains "ACR122" (any case)
    pcsc:Virtual PCD 00 00?byte_order=reversed&format=dec
    pcsc:?block=4&key=FFFFFFFFFFFF&key_type=A&number_from=block

Options: `byte_order` normal|reversed (readers that report the UID backwards), `format`
hex|dec (how the UID becomes the card number), `block` (a block to read on every card:
a card whose sector does not open with `key` is refused), `key` (12 hex digits, default
FFFFFFFFFFFF), `key_type` A|B, `number_from` uid|block (the card number is the UID, or
the text the issuer wrote into `block`).

Reads use the pseudo-APDUs of ACS-style contactless readers: get UID `FF CA 00 00 00`,
load key `FF 82 00 <slot> 06 <key>`, authenticate `FF 86 00 00 05 01 00 <block> <60|61>
<slot>`, read block `FF B0 00 <block> 10`.

A UID is easy to clone and MIFARE Classic's cipher is broken: the card identifies a member,
it holds no money. Keys and full card numbers are never logged.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import unquote

from hardware.cards.ic_uid import (
    BYTE_ORDERS,
    NUMBER_FORMATS,
    ByteOrder,
    CardDataError,
    NumberFormat,
    normalize_uid,
    number_from_block,
    uid_hex,
)
from hardware.device_thread import DeviceThread, on_device_thread
from hardware.errors import DeviceUriError
from hardware.events import (
    CardEvent,
    CardPresented,
    CardReadFailed,
    CardRemoved,
    DeviceState,
    DeviceStatus,
    mask_number,
)
from hardware.interfaces import CardSource
from hardware.uri import DeviceUri

log = logging.getLogger(__name__)

ROLE = "card_source"
# How long one SCardGetStatusChange waits. A card event ends the wait at once, so this
# bounds only how soon stop() takes effect, a newly plugged reader is seen, and a queued
# status() call gets its turn on the device thread.
POLL_MS = 100
# How often to try again while pcscd is down or no reader matches.
RETRY_S = 0.5
# How long status() waits for the device thread before saying the reader does not answer.
STATUS_TIMEOUT_S = 3.0
KEY_SLOT = 0

SW_OK = (0x90, 0x00)
APDU_GET_UID = [0xFF, 0xCA, 0x00, 0x00, 0x00]


KeyType = Literal["A", "B"]
KEY_TYPES: tuple[KeyType, ...] = ("A", "B")
NumberSource = Literal["uid", "block"]
NUMBER_SOURCES: tuple[NumberSource, ...] = ("uid", "block")


@dataclass(frozen=True)
class PcscOptions:
    """What a `pcsc:` URI asks for (see the module docstring)."""

    reader_part: str = ""
    byte_order: ByteOrder = "normal"
    number_format: NumberFormat = "hex"
    block: int | None = None
    key: bytes = b"\xff" * 6
    key_type: KeyType = "A"
    number_from: NumberSource = "uid"

    def matches(self, reader: str) -> bool:
        """True when `reader` is one this source listens to."""
        return self.reader_part.casefold() in reader.casefold()


def _sector(block: int) -> int:
    """The sector holding `block`: 4 blocks a sector below block 128, 16 above (4K cards)."""
    return block // 4 if block < 128 else 32 + (block - 128) // 16


def _is_trailer(block: int) -> bool:
    """True for a sector's last block, which holds its keys and access bits, not data."""
    return block % 4 == 3 if block < 128 else block % 16 == 15


def shown_uri(uri: DeviceUri) -> str:
    """The URI as it may be shown and logged: a sector key in it is masked."""
    return re.sub(r"([?&]key=)[^&]*", r"\1******", uri.text)


def _bad_option(
    uri: DeviceUri, name: str, value: str, zh_want: str, en_want: str
) -> DeviceUriError:
    shown = shown_uri(uri)
    return DeviceUriError(
        f"读卡器地址 {shown} 的参数 {name}={value} 无效：应为{zh_want}",
        f"Option {name}={value} of reader {shown} is not valid: use {en_want}",
    )


C = TypeVar("C", bound=str)


def _choice(uri: DeviceUri, name: str, choices: tuple[C, ...], upper: bool = False) -> C:
    """Option `name`, one of `choices` (the first is the default)."""
    value = uri.param(name) or choices[0]
    if upper:
        value = value.upper()
    for choice in choices:
        if value == choice:
            return choice
    zh_want = " 或 ".join(choices)
    raise _bad_option(uri, name, value, f" {zh_want}", " or ".join(choices))


def pcsc_options(uri: DeviceUri) -> PcscOptions:
    """The options of a `pcsc:` URI; DeviceUriError (bilingual) for a bad one."""
    byte_order = _choice(uri, "byte_order", BYTE_ORDERS)
    number_format = _choice(uri, "format", NUMBER_FORMATS)
    block: int | None = None
    block_text = uri.param("block")
    if block_text is not None:
        try:
            block = int(block_text, 0)
        except ValueError:
            block = -1
        if not 0 <= block <= 255 or _is_trailer(block):
            raise _bad_option(
                uri,
                "block",
                block_text,
                "数据块号（0–255，不能是扇区尾块）",
                "a data block number (0–255, not a sector trailer)",
            )
    key_text = (uri.param("key") or "FFFFFFFFFFFF").replace(" ", "").replace(":", "")
    try:
        key = bytes.fromhex(key_text)
    except ValueError:
        key = b""
    if len(key) != 6:
        # The value is not repeated: it may be (most of) a real key.
        raise _bad_option(uri, "key", "…", " 12 位十六进制密钥", "a key of 12 hex digits")
    key_type = _choice(uri, "key_type", KEY_TYPES, upper=True)
    number_from = _choice(uri, "number_from", NUMBER_SOURCES)
    if number_from == "block" and block is None:
        raise DeviceUriError(
            f"读卡器地址 {shown_uri(uri)}：number_from=block 需要同时给出 block=块号",
            f"Reader {shown_uri(uri)}: number_from=block needs block=<block number> too",
        )
    return PcscOptions(
        reader_part=unquote(uri.target).strip(),
        byte_order=byte_order,
        number_format=number_format,
        block=block,
        key=key,
        key_type=key_type,
        number_from=number_from,
    )


def _load_scard() -> Any:
    """pyscard's low-level `scard` module, or None when pyscard (or libpcsclite) is missing."""
    try:
        from smartcard import scard
    except (ImportError, OSError):
        return None
    return scard


NO_PYSCARD = ("未安装 pyscard（Python 智能卡库）", "pyscard not installed")


def _no_service(scard: Any, hresult: int) -> tuple[str, str]:
    reason = scard.SCardGetErrorMessage(hresult)
    return (
        f"智能卡服务 pcscd 未运行（{reason}），正在重试",
        f"pcscd not running ({reason}); retrying",
    )


def _not_found(part: str, readers: list[str]) -> tuple[str, str]:
    if not readers:
        return "没有连接任何 PC/SC 读卡器", "no PC/SC reader connected"
    names = ", ".join(readers)
    return (
        f"没有名称包含“{part}”的读卡器；现有：{names}",
        f"no reader matching {part!r}; readers present: {names}",
    )


def _ready(readers: list[str]) -> tuple[str, str]:
    names = ", ".join(readers)
    return f"读卡器：{names}", f"reader: {names}"


def _list(scard: Any, ctx: Any) -> tuple[int, list[str]]:
    """(hresult, readers); no readers at all is success with []."""
    hresult, readers = scard.SCardListReaders(ctx, [])
    if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
        return scard.SCARD_S_SUCCESS, []
    return hresult, list(readers or [])


def _probe(uri_text: str, options: PcscOptions) -> DeviceStatus:
    """The reader's status from a context of its own; never raises."""
    try:
        scard = _load_scard()
        if scard is None:
            return DeviceStatus(uri_text, ROLE, DeviceState.NO_DRIVER, *NO_PYSCARD)
        hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            return DeviceStatus(uri_text, ROLE, DeviceState.NO_DRIVER, *_no_service(scard, hresult))
        try:
            hresult, readers = _list(scard, ctx)
        finally:
            scard.SCardReleaseContext(ctx)
        if hresult != scard.SCARD_S_SUCCESS:
            return DeviceStatus(uri_text, ROLE, DeviceState.NO_DRIVER, *_no_service(scard, hresult))
        matched = [r for r in readers if options.matches(r)]
        if not matched:
            return DeviceStatus(
                uri_text, ROLE, DeviceState.NOT_FOUND, *_not_found(options.reader_part, readers)
            )
        return DeviceStatus(uri_text, ROLE, DeviceState.READY, *_ready(matched))
    except Exception as exc:  # a status must never take its caller down
        log.debug("PC/SC status of %s failed", uri_text, exc_info=True)
        return DeviceStatus(uri_text, ROLE, DeviceState.ERROR, str(exc), str(exc))


def list_readers() -> list[str]:
    """The PC/SC readers present now; [] when pyscard or pcscd is missing. Never raises."""
    try:
        scard = _load_scard()
        if scard is None:
            return []
        hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            return []
        try:
            hresult, readers = _list(scard, ctx)
        finally:
            scard.SCardReleaseContext(ctx)
        return readers if hresult == scard.SCARD_S_SUCCESS else []
    except Exception:
        log.debug("listing PC/SC readers failed", exc_info=True)
        return []


def pcsc_status(uri: DeviceUri) -> DeviceStatus:
    """The status of the reader a `pcsc:` URI names, without opening it. Never raises:
    NO_DRIVER when pyscard or pcscd is missing, NOT_FOUND (listing the readers there are)
    when no reader matches, ERROR for a bad option."""
    try:
        options = pcsc_options(uri)
    except DeviceUriError as exc:
        return DeviceStatus(shown_uri(uri), ROLE, DeviceState.ERROR, exc.zh, exc.en)
    return _probe(shown_uri(uri), options)


class _ReadFailed(Exception):
    """A card was there but could not be read; carries the bilingual reason."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


@dataclass
class _Seen:
    """What the monitoring loop last saw of one reader."""

    event_state: int  # passed back to SCardGetStatusChange as the "current" state
    present: bool
    counter: int  # pcsclite's card event counter (high 16 bits): changes on insert/remove


def _sw(response: list[int]) -> tuple[int, int]:
    return (response[-2], response[-1]) if len(response) >= 2 else (0, 0)


class PcscCardSource(CardSource):
    """Reports IC cards put on and taken off the PC/SC readers a `pcsc:` URI names.

    Monitoring is our own SCardGetStatusChange loop on the source's DeviceThread rather
    than pyscard's CardMonitor: CardMonitor is a process-wide singleton that calls pcsclite
    from its own thread (all of this device's pcsclite calls must be on its DeviceThread),
    and its thread dies when pcscd restarts (pyscard issue #82) and would have to be
    watched and restarted. The loop waits at most POLL_MS per call, so stop() and status()
    get their turn; on any error it drops the PC/SC context and establishes a new one, every
    RETRY_S while pcscd is down, so a pcscd restart or an unplugged and replugged reader
    heals by itself.
    """

    def __init__(self, uri: DeviceUri) -> None:
        self.uri = shown_uri(uri)  # what statuses and logs show: the key masked
        self.options = pcsc_options(uri)
        self.device_thread = DeviceThread(f"pcsc-{self.options.reader_part or 'any'}")
        self._on_event: Callable[[CardEvent], None] | None = None
        self._generation = 0  # which start() the running loop belongs to
        self._running = False
        self._wake = threading.Event()  # set by stop() to end a retry wait at once
        self._closed = False
        # Loop state: touched only on the device thread.
        self._ctx: Any = None
        self._seen: dict[str, _Seen] = {}
        self._status: DeviceStatus | None = None

    # -- the interface ----------------------------------------------------------------------

    def start(self, on_event: Callable[[CardEvent], None]) -> None:
        """Begin reporting card events to `on_event` (called on the device thread).

        A card already on a reader is reported at once. Calling start() again only changes
        the callback.
        """
        if self._closed:
            raise RuntimeError("PcscCardSource is closed")
        self._on_event = on_event
        if self._running:
            return
        self._running = True
        self._wake.clear()
        self._generation += 1
        self.device_thread.submit(self._loop_pass, self._generation)

    def stop(self) -> None:
        """Stop reporting; waits (briefly) for the loop to let go of pcscd."""
        if not self._running:
            return
        self._running = False
        self._on_event = None
        self._wake.set()
        try:
            self.device_thread.call(self._release, timeout=POLL_MS / 1000 + 2.0)
        except (FutureTimeout, RuntimeError):
            log.warning("PC/SC reader %s did not stop in time", self.uri)

    def status(self) -> DeviceStatus:
        """READY with the reader's name; NO_DRIVER (pyscard or pcscd missing), NOT_FOUND
        (no reader matches; the readers there are listed). Never raises."""
        if self._closed:
            return DeviceStatus(self.uri, ROLE, DeviceState.OFFLINE, "读卡器已关闭", "closed")
        cached = self._status
        if self._running and cached is not None:
            return cached  # the loop refreshes it on every pass
        try:
            return self.device_thread.call(_probe, self.uri, self.options, timeout=STATUS_TIMEOUT_S)
        except (FutureTimeout, RuntimeError):
            return DeviceStatus(
                self.uri, ROLE, DeviceState.OFFLINE, "读卡器没有响应", "the reader is not answering"
            )

    def close(self) -> None:
        """Stop reporting and end the device thread."""
        if self._closed:
            return
        self.stop()
        self._closed = True
        # From a listener (on the device thread itself) the thread cannot wait for itself.
        self.device_thread.shutdown(wait=not self.device_thread.is_current())

    # -- the monitoring loop (device thread) ----------------------------------------------

    @on_device_thread
    def _loop_pass(self, generation: int) -> None:
        """One pass of the loop; queues the next so other calls can run in between."""
        if not self._running or generation != self._generation:
            return
        try:
            self._watch_once()
        except Exception:  # a bug or a pyscard surprise: start over with a fresh context
            log.exception("PC/SC monitoring of %s failed; reconnecting", self.uri)
            self._drop_context(report_removed=True)
            self._wake.wait(RETRY_S)
        if self._running and generation == self._generation:
            # RuntimeError: the thread was shut down (close() while running).
            with contextlib.suppress(RuntimeError):
                self.device_thread.submit(self._loop_pass, generation)

    @on_device_thread
    def _watch_once(self) -> None:
        scard = _load_scard()
        if scard is None:
            self._set_status(DeviceState.NO_DRIVER, *NO_PYSCARD)
            self._wake.wait(RETRY_S)
            return
        if self._ctx is None:
            hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if hresult != scard.SCARD_S_SUCCESS:
                self._set_status(DeviceState.NO_DRIVER, *_no_service(scard, hresult))
                self._wake.wait(RETRY_S)
                return
            self._ctx = ctx
        hresult, readers = _list(scard, self._ctx)
        if hresult != scard.SCARD_S_SUCCESS:
            self._lost_service(scard, hresult)
            return
        matched = [r for r in readers if self.options.matches(r)]
        for gone in [r for r in self._seen if r not in matched]:
            self._reader_gone(gone)
        if not matched:
            self._set_status(DeviceState.NOT_FOUND, *_not_found(self.options.reader_part, readers))
            self._wake.wait(RETRY_S)
            return
        self._set_status(DeviceState.READY, *_ready(matched))
        states = [
            (r, self._seen[r].event_state if r in self._seen else scard.SCARD_STATE_UNAWARE)
            for r in matched
        ]
        hresult, new_states = scard.SCardGetStatusChange(self._ctx, POLL_MS, states)
        if hresult in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_UNKNOWN_READER):
            return  # nothing happened / a reader left between listing and waiting
        if hresult != scard.SCARD_S_SUCCESS:
            self._lost_service(scard, hresult)
            return
        for reader, event_state, _atr in new_states:
            if not self._running:
                return
            self._reader_changed(scard, reader, event_state)

    @on_device_thread
    def _reader_changed(self, scard: Any, reader: str, event_state: int) -> None:
        if event_state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_IGNORE):
            self._reader_gone(reader)
            return
        before = self._seen.get(reader)
        present = bool(event_state & scard.SCARD_STATE_PRESENT)
        counter = (event_state >> 16) & 0xFFFF
        # The same card still there, unless pcsclite counted a removal and an insertion
        # between two of our calls (a quick swap): then report both.
        swapped = before is not None and before.present and present and counter != before.counter
        self._seen[reader] = _Seen(event_state & ~scard.SCARD_STATE_CHANGED, present, counter)
        if before is not None and before.present and (not present or swapped):
            self._emit(CardRemoved(reader, time.monotonic()))
        if present and (before is None or not before.present or swapped):
            self._emit(self._read_card(scard, reader))

    @on_device_thread
    def _read_card(self, scard: Any, reader: str) -> CardEvent:
        """Connect to the card on `reader`, read it, and say what was read."""
        hresult, hcard, protocol = scard.SCardConnect(
            self._ctx,
            reader,
            scard.SCARD_SHARE_SHARED,
            scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
        )
        if hresult != scard.SCARD_S_SUCCESS:
            reason = scard.SCardGetErrorMessage(hresult)
            return self._failed(
                reader,
                f"无法连接卡片（{reason}），请重新放卡",
                f"could not connect to the card ({reason}); present it again",
            )
        pci = scard.SCARD_PCI_T1 if protocol == scard.SCARD_PROTOCOL_T1 else scard.SCARD_PCI_T0

        def transmit(apdu: list[int]) -> list[int]:
            result, response = scard.SCardTransmit(hcard, pci, apdu)
            if result != scard.SCARD_S_SUCCESS:
                reason = scard.SCardGetErrorMessage(result)
                raise _ReadFailed(
                    f"与卡片通信失败（{reason}），请重新放卡",
                    f"talking to the card failed ({reason}); present it again",
                )
            return list(response)

        # One transaction for the whole read: another program on the same reader cannot
        # load its own key between our load-key, authenticate and read.
        in_transaction = scard.SCardBeginTransaction(hcard) == scard.SCARD_S_SUCCESS
        try:
            uid = self._read_uid(transmit)
            raw = uid_hex(uid)
            block_data = self._read_block(transmit) if self.options.block is not None else None
            if block_data is not None and self.options.number_from == "block":
                number = number_from_block(block_data)
            else:
                number = normalize_uid(uid, self.options.byte_order, self.options.number_format)
        except _ReadFailed as exc:
            return self._failed(reader, exc.zh, exc.en)
        except CardDataError as exc:
            return self._failed(reader, exc.zh, exc.en)
        finally:
            if in_transaction:
                scard.SCardEndTransaction(hcard, scard.SCARD_LEAVE_CARD)
            scard.SCardDisconnect(hcard, scard.SCARD_LEAVE_CARD)
        log.info("IC card %s on %s", mask_number(number), reader)
        return CardPresented("ic", raw, number, reader, time.monotonic())

    def _read_uid(self, transmit: Callable[[list[int]], list[int]]) -> bytes:
        response = transmit(APDU_GET_UID)
        sw = _sw(response)
        if sw == SW_OK and len(response) > 2:
            return bytes(response[:-2])
        if sw == (0x6A, 0x81):
            raise _ReadFailed(
                "读卡器不支持读取卡号（UID）", "the reader cannot read the card's UID (SW 6A 81)"
            )
        raise _ReadFailed(
            f"读取卡号（UID）失败（SW {sw[0]:02X} {sw[1]:02X}），请重新放卡",
            f"reading the card's UID failed (SW {sw[0]:02X} {sw[1]:02X}); present it again",
        )

    def _read_block(self, transmit: Callable[[list[int]], list[int]]) -> bytes:
        block = self.options.block
        assert block is not None
        sw = _sw(transmit([0xFF, 0x82, 0x00, KEY_SLOT, 0x06, *self.options.key]))
        if sw != SW_OK:
            raise _ReadFailed(
                f"读卡器不接受密钥（SW {sw[0]:02X} {sw[1]:02X}）",
                f"the reader refused to load the key (SW {sw[0]:02X} {sw[1]:02X})",
            )
        key_code = 0x60 if self.options.key_type == "A" else 0x61
        sw = _sw(transmit([0xFF, 0x86, 0x00, 0x00, 0x05, 0x01, 0x00, block, key_code, KEY_SLOT]))
        if sw != SW_OK:
            raise _ReadFailed(
                f"扇区 {_sector(block)} 密钥验证失败：不是本店的卡或密钥设置错误",
                f"sector {_sector(block)} did not accept the key: not one of our cards, or the "
                "key setting is wrong",
            )
        response = transmit([0xFF, 0xB0, 0x00, block, 0x10])
        sw = _sw(response)
        if sw != SW_OK or len(response) != 18:
            raise _ReadFailed(
                f"读取数据块 {block} 失败（SW {sw[0]:02X} {sw[1]:02X}），请重新放卡",
                f"reading block {block} failed (SW {sw[0]:02X} {sw[1]:02X}); present it again",
            )
        return bytes(response[:-2])

    def _failed(self, reader: str, zh: str, en: str) -> CardReadFailed:
        log.warning("IC card on %s could not be read: %s", reader, en)
        return CardReadFailed(reader, zh, en, time.monotonic())

    @on_device_thread
    def _reader_gone(self, reader: str) -> None:
        seen = self._seen.pop(reader, None)
        log.info("PC/SC reader %s went away", reader)
        if seen is not None and seen.present:
            self._emit(CardRemoved(reader, time.monotonic()))

    @on_device_thread
    def _lost_service(self, scard: Any, hresult: int) -> None:
        log.warning(
            "PC/SC service lost for %s (%s); reconnecting",
            self.uri,
            scard.SCardGetErrorMessage(hresult),
        )
        self._drop_context(report_removed=True)
        if hresult in (
            scard.SCARD_E_NO_SERVICE,
            scard.SCARD_E_SERVICE_STOPPED,
            scard.SCARD_E_INVALID_HANDLE,  # a context from before a pcscd restart
        ):
            self._set_status(DeviceState.NO_DRIVER, *_no_service(scard, hresult))
        else:
            reason = scard.SCardGetErrorMessage(hresult)
            self._set_status(
                DeviceState.ERROR,
                f"PC/SC 错误（{reason}），正在重试",
                f"PC/SC error ({reason}); retrying",
            )
            self._wake.wait(RETRY_S)  # not a restart: do not spin on a lasting error

    @on_device_thread
    def _drop_context(self, report_removed: bool) -> None:
        """Forget the PC/SC context (pcscd restarted or a call failed); cards on the readers
        are reported removed, and reported again once they are seen with the new context."""
        if report_removed:
            for reader in list(self._seen):
                self._reader_gone(reader)
        self._seen.clear()
        ctx, self._ctx = self._ctx, None
        scard = _load_scard()
        if ctx is not None and scard is not None:
            try:
                scard.SCardReleaseContext(ctx)
            except Exception:  # the context died with pcscd; nothing to release
                log.debug("releasing a dead PC/SC context failed", exc_info=True)

    @on_device_thread
    def _release(self) -> None:
        self._drop_context(report_removed=False)
        self._status = None

    def _set_status(self, state: DeviceState, zh: str, en: str) -> None:
        before = self._status
        self._status = DeviceStatus(self.uri, ROLE, state, zh, en)
        if before is None or before.state != state or before.detail_en != en:
            level = logging.INFO if state == DeviceState.READY else logging.WARNING
            log.log(level, "PC/SC %s: %s", self.uri, self._status.text("en"))

    def _emit(self, event: CardEvent) -> None:
        on_event = self._on_event
        if on_event is None:
            return
        try:
            on_event(event)
        except Exception:  # the listener's bug must not end the monitoring
            log.exception("card event listener failed on %s", event)
