"""Keyboard wedges: scanners and magstripe readers that type what they read as keystrokes.

`WedgeDetector` is pure logic over (key text, time): it tells a scanner's burst of keys from a
person typing. Scanners type with under 10 ms between keys, people with over 30 ms. Every
printable key is held back until that is decided:

- a burst is a run of keys each at most `gap_ms` after the one before;
- a burst of at least `min_len` characters (after the prefix and suffix are removed; with the
  prefix and suffix present when they are configured) is a scan. It ends on Enter or Tab, on
  the configured suffix, on a key that comes later than `gap_ms`, or when `silence_ms` pass
  without a key (`poll(now)`); Enter or Tab up to `silence_ms` after it still ends it (and is
  swallowed), as does one coming just after a scan ended by its suffix;
- any other burst was typed by a person: its keys are handed back (`WedgeOutcome.release`), in
  order, to be delivered as usual, `gap_ms` after the last of them at the latest.

`WedgeCardSource` wraps the detector as a CardSource for the `wedge` URI:

    wedge
    wedge:?min_len=4&gap_ms=20&silence_ms=80&prefix=..&suffix=..

The UI adapter (pos_app/ui/wedge_filter.py) feeds it every key press. Track data typed by a
magstripe reader (`%…?;…?`) becomes a magstripe card, anything else a barcode or QR scan.
All of it runs on the thread that feeds the keys (the GUI thread): there is no device I/O.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hardware.cards.serial_reader import read_card_text
from hardware.errors import DeviceUriError
from hardware.events import CardEvent, CardPresented, DeviceState, DeviceStatus
from hardware.interfaces import CardSource
from hardware.uri import DeviceUri

log = logging.getLogger(__name__)

TERMINATOR_KEYS = ("\r", "\n", "\t")
DEFAULT_GAP_MS = 20.0  # between scanner (< 10 ms) and people (> 30 ms)
DEFAULT_SILENCE_MS = 80.0
DEFAULT_MIN_LEN = 3


@dataclass(frozen=True)
class HeldKey:
    """A key press the detector held back; `token` is whatever the caller gave with it (the
    UI keeps a copy of the key event there to deliver it later)."""

    text: str
    at: float
    token: object = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Scan:
    """A completed scan: the text with prefix, suffix and terminator removed."""

    text: str = field(repr=False)
    started: float
    ended: float


@dataclass(frozen=True)
class WedgeOutcome:
    """What to do after a key or a poll.

    `held`: the key just fed is held back or swallowed (don't deliver it now). `release`: keys a
    person typed, to deliver now, before the key just fed. `scan`: a scan that just completed.
    """

    held: bool = False
    release: tuple[HeldKey, ...] = ()
    scan: Scan | None = None


class WedgeDetector:
    """Splits key presses into scans and a person's typing; see the module docstring."""

    def __init__(
        self,
        *,
        gap_ms: float = DEFAULT_GAP_MS,
        silence_ms: float = DEFAULT_SILENCE_MS,
        min_len: int = DEFAULT_MIN_LEN,
        prefix: str = "",
        suffix: str = "",
    ) -> None:
        if gap_ms <= 0 or silence_ms <= 0 or min_len < 1:
            raise ValueError("gap_ms and silence_ms must be > 0 and min_len >= 1")
        self.gap = gap_ms / 1000.0
        self.silence = max(silence_ms, gap_ms) / 1000.0
        self.min_len = min_len
        self.prefix = prefix
        self.suffix = suffix
        self._keys: list[HeldKey] = []
        self._scan_ended_at: float | None = None  # a scan ended by its suffix, for its Enter

    @property
    def pending(self) -> int:
        """How many keys are held back now."""
        return len(self._keys)

    @property
    def deadline(self) -> float | None:
        """When `poll` must next be called to settle the held keys (None: nothing held)."""
        if not self._keys:
            return None
        return self._keys[-1].at + (self.silence if self._scan_like() else self.gap)

    def feed(self, text: str, at: float, token: object = None) -> WedgeOutcome:
        """One key press: its text ("" for keys without text, such as arrows or F1, which end
        a burst) and when it was pressed, in seconds."""
        if text in TERMINATOR_KEYS:
            return self._terminator(at)
        self._scan_ended_at = None
        if len(text) != 1 or not text.isprintable():
            # Not typing (function keys, Ctrl+letter): settle the burst, pass the key on.
            scan, release = self._settle(at)
            return WedgeOutcome(held=False, release=release, scan=scan)
        scan, release = (None, ())
        if self._keys and at - self._keys[-1].at > self.gap:
            scan, release = self._settle(at)
        self._keys.append(HeldKey(text, at, token))
        if self.suffix and self._complete():
            # The configured suffix ends the scan without waiting; its Enter may follow.
            scan, _ = self._settle(at)
            self._scan_ended_at = at
        return WedgeOutcome(held=True, release=release, scan=scan)

    def poll(self, now: float) -> WedgeOutcome:
        """Settle the held keys once the time for more keys has passed."""
        deadline = self.deadline
        if deadline is None or now < deadline:
            return WedgeOutcome()
        scan, release = self._settle(now)
        return WedgeOutcome(release=release, scan=scan)

    def release_all(self) -> tuple[HeldKey, ...]:
        """Hand back every held key unjudged (the detector is being switched off)."""
        keys, self._keys = tuple(self._keys), []
        self._scan_ended_at = None
        return keys

    # -- inside -----------------------------------------------------------------------

    def _terminator(self, at: float) -> WedgeOutcome:
        if not self._keys:
            ended = self._scan_ended_at
            self._scan_ended_at = None
            # The Enter a scanner sends after its suffix belongs to that scan.
            swallowed = ended is not None and at - ended <= self.silence
            return WedgeOutcome(held=swallowed)
        last = self._keys[-1].at
        in_time = at - last <= (self.silence if self._scan_like() else self.gap)
        if in_time and self._complete():
            scan, _ = self._settle(at)
            return WedgeOutcome(held=True, scan=scan)
        # Too late to belong to the burst: a scan that ended by its silence (poll was not
        # called in time) is still a scan, and the Enter is the person's.
        scan, release = self._settle(at)
        return WedgeOutcome(held=False, release=release, scan=scan)

    def _body(self) -> str:
        return "".join(k.text for k in self._keys)

    def _strip(self, body: str) -> str | None:
        """The body without prefix/suffix, or None when a configured one is missing."""
        if self.prefix:
            if not body.startswith(self.prefix):
                return None
            body = body[len(self.prefix) :]
        if self.suffix:
            if not body.endswith(self.suffix):
                return None
            body = body[: -len(self.suffix)]
        return body

    def _scan_like(self) -> bool:
        """Could the held burst be a scan (long enough, prefix right so far)?"""
        body = self._body()
        if self.prefix and not body.startswith(self.prefix[: len(body)]):
            return False
        return len(body) - len(self.prefix) >= self.min_len

    def _complete(self) -> bool:
        stripped = self._strip(self._body())
        return stripped is not None and len(stripped) >= self.min_len

    def _settle(self, at: float) -> tuple[Scan | None, tuple[HeldKey, ...]]:
        """End the held burst: a scan when it is one, else the keys to hand back."""
        keys, self._keys = self._keys, []
        if not keys:
            return None, ()
        stripped = self._strip("".join(k.text for k in keys))
        if stripped is not None and len(stripped) >= self.min_len:
            return Scan(stripped, started=keys[0].at, ended=keys[-1].at), ()
        return None, tuple(keys)


def _status(uri: str, state: DeviceState, zh: str, en: str) -> DeviceStatus:
    return DeviceStatus(uri=uri, role="card_source", state=state, detail_zh=zh, detail_en=en)


class WedgeCardSource(CardSource):
    """A scanner or magstripe reader typing into the app, as a card source.

    Not thread-safe by design: feed keys, poll and read `take_released()` on one thread (the
    GUI thread); `on_event` is called there, from inside `feed_key`/`poll`.
    """

    def __init__(self, uri: DeviceUri) -> None:
        if uri.scheme != "wedge":
            raise DeviceUriError(
                f"设备地址 {uri.text} 不是键盘输入设备（应为 wedge 或 wedge:?min_len=4）",
                f"Device {uri.text} is not a keyboard wedge (expected wedge or wedge:?min_len=4)",
            )
        self.uri = uri.text or "wedge"
        try:
            self.detector = WedgeDetector(
                gap_ms=uri.param_float("gap_ms", DEFAULT_GAP_MS),
                silence_ms=uri.param_float("silence_ms", DEFAULT_SILENCE_MS),
                min_len=uri.param_int("min_len", DEFAULT_MIN_LEN),
                prefix=uri.param("prefix", "") or "",
                suffix=uri.param("suffix", "") or "",
            )
        except ValueError as exc:
            if isinstance(exc, DeviceUriError):
                raise
            raise DeviceUriError(
                f"设备地址 {self.uri} 的参数无效：gap_ms、silence_ms 须大于 0，min_len 至少为 1",
                f"Options of {self.uri} are invalid: gap_ms and silence_ms must be > 0, "
                "min_len at least 1",
            ) from None
        self._on_event: Callable[[CardEvent], None] | None = None
        self._released: list[HeldKey] = []
        self._closed = False

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._on_event is not None

    @property
    def deadline(self) -> float | None:
        """When `poll` must next be called (in the clock of the keys' times)."""
        return self.detector.deadline

    def start(self, on_event: Callable[[CardEvent], None]) -> None:
        """Begin detecting scans in the keys fed; `on_event` is called on the feeding thread."""
        if not self._closed:
            self._on_event = on_event

    def stop(self) -> None:
        """Stop detecting; keys still held are handed back through take_released()."""
        self._released.extend(self.detector.release_all())
        self._on_event = None

    def close(self) -> None:
        """Stop; a closed wedge passes every key through."""
        self.stop()
        self._closed = True

    def status(self) -> DeviceStatus:
        """Always ready: the keyboard is there whenever the app has focus."""
        if self._closed:
            return _status(self.uri, DeviceState.UNKNOWN, "已关闭", "closed")
        return _status(
            self.uri,
            DeviceState.READY,
            "键盘输入（扫码枪或刷卡器），需要应用窗口获得焦点",
            "keyboard input (scanner or card reader); the app window must have focus",
        )

    def feed_key(self, text: str, at: float, token: object = None) -> bool:
        """One key press; True when it is held back or was part of a scan (don't deliver it
        now). Keys a person typed that were held come back through take_released()."""
        if self._on_event is None:
            return False
        outcome = self.detector.feed(text, at, token)
        self._apply(outcome)
        return outcome.held

    def poll(self, now: float) -> None:
        """Settle held keys when their time is up (call at `deadline`)."""
        if self._on_event is not None:
            self._apply(self.detector.poll(now))

    def take_released(self) -> list[HeldKey]:
        """The held keys a person typed, in order, to deliver now; clears the list."""
        keys, self._released = self._released, []
        return keys

    def _apply(self, outcome: WedgeOutcome) -> None:
        self._released.extend(outcome.release)
        scan = outcome.scan
        callback = self._on_event
        if scan is None or callback is None:
            return
        # The keys' clock may be the window system's; events carry time.monotonic().
        at = time.monotonic()
        event = read_card_text(scan.text, mode="auto", reader=self.uri, at=at, min_len=1)
        if isinstance(event, CardPresented):
            log.info("card %s %s from %s", event.kind, event.masked, self.uri)
        else:
            log.info("card read failed at %s: %s", self.uri, event.reason_en)
        try:
            callback(event)
        except Exception:  # the app's handler failing must not break the keyboard
            log.exception("card event handler failed for %s", self.uri)
