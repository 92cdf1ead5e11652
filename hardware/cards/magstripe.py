"""Magnetic stripe data as keyboard-emulation and serial readers send it (ISO 7813 tracks).

A reader sends the tracks it read one after the other, each between its sentinels, then Enter:

    %B<PAN>^<NAME>^<YYMM><service code><discretionary>?     track 1, up to 79 characters
    ;<PAN>=<YYMM><service code><discretionary>?              track 2, up to 40 characters
    +<data>?                                                 track 3, up to 107 characters

A track the reader could not decode comes as `E` between the sentinels (`%E?`). The maximum
lengths count both sentinels and the LRC, which keyboard output leaves out. Some readers send
track 3 with `;` as its start sentinel; a second `;` track is taken as track 3.

The card number the app looks up is the PAN (digits), from track 2 when it can be read, else
from track 1. Member cards often carry only track 2, sometimes without a `=` field separator.

Nothing here logs: the PAN and the tracks are card data and are kept out of `repr`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hardware.errors import DeviceError

# Track lengths from ISO 7811/7813, counting start sentinel, end sentinel and LRC.
TRACK_MAX = {1: 79, 2: 40, 3: 107}
_FRAME = 3  # start sentinel + end sentinel + LRC
START_SENTINELS = "%;+"
END_SENTINEL = "?"
FAILED_TRACK = "E"
# ISO 7811: track 1 is 6-bit alphanumeric (0x20-0x5F); tracks 2 and 3 are 4-bit numeric
# (0x30-0x3F), of which digits and '=' carry data.
_TRACK1_CHARS = frozenset(chr(c) for c in range(0x20, 0x60))
_NUMERIC_CHARS = frozenset("0123456789=<>:")
_PAN_MAX = 19  # ISO/IEC 7812
_BARE_TRACK2 = re.compile(r"\d{1,37}(=\d{0,36})?").fullmatch


class MagstripeError(DeviceError, ValueError):
    """A swipe gave no usable card number; the message says why and asks for another swipe."""

    code = "bad_swipe"


@dataclass(frozen=True)
class Swipe:
    """What one swipe gave.

    `track1`..`track3` are the contents between the sentinels (None when the reader sent no
    such track or reported it failed); `failed` are the tracks the reader marked `E`;
    `invalid` are tracks that came but break the format (too long, wrong characters, no end
    sentinel), so their data was not used. `pan` is the card number (digits).
    """

    pan: str = field(repr=False)
    track1: str | None = field(default=None, repr=False)
    track2: str | None = field(default=None, repr=False)
    track3: str | None = field(default=None, repr=False)
    name: str | None = field(default=None, repr=False)
    expiry: str | None = None  # YYMM
    service_code: str | None = None
    failed: tuple[int, ...] = ()
    invalid: tuple[int, ...] = ()
    garbage: bool = False  # characters outside any track were ignored

    @property
    def tracks_read(self) -> tuple[int, ...]:
        """The track numbers that were read and used."""
        tracks = (self.track1, self.track2, self.track3)
        return tuple(n for n, t in enumerate(tracks, start=1) if t is not None)


@dataclass
class _Pieces:
    tracks: dict[int, str] = field(default_factory=dict)
    failed: list[int] = field(default_factory=list)
    invalid: list[int] = field(default_factory=list)
    garbage: bool = False


def looks_like_magstripe(text: str) -> bool:
    """True when `text` starts like track data (`%` + letter, `;` + digit or E): a reader in
    auto mode or a keyboard wedge uses this to tell a swipe from a barcode."""
    body = text.lstrip()
    if len(body) < 2:
        return False
    head, second = body[0], body[1]
    if head == "%":
        return second.isalpha() or second == END_SENTINEL
    if head == ";":
        return second.isdigit() or second in (FAILED_TRACK, END_SENTINEL)
    return False


def _split_tracks(text: str) -> _Pieces:
    """Cut the reader's output into tracks by their sentinels."""
    pieces = _Pieces()
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch not in START_SENTINELS:
            if not ch.isspace():
                pieces.garbage = True
            i += 1
            continue
        if ch == "%":
            track = 1
            # Track 1 may hold ';' or '+' in its data only in theory; a ';' before any '?'
            # is the next track starting after a lost end sentinel.
            stops = END_SENTINEL + ";"
        elif ch == ";":
            track = 3 if 2 in pieces.tracks or 2 in pieces.failed or 2 in pieces.invalid else 2
            stops = END_SENTINEL + START_SENTINELS
        else:
            track = 3
            stops = END_SENTINEL + START_SENTINELS
        j = i + 1
        while j < n and text[j] not in stops:
            j += 1
        content = text[i + 1 : j].rstrip("\r\n")
        if track == 1:
            content = content.upper()  # Caps Lock on a keyboard wedge flips the letters
        terminated = j < n and text[j] == END_SENTINEL
        i = j + 1 if terminated else j
        if track in pieces.tracks or track in pieces.failed or track in pieces.invalid:
            pieces.garbage = True  # a repeated track: keep the first
            continue
        if content == FAILED_TRACK or (terminated and content == ""):
            pieces.failed.append(track)
        elif not terminated or not _valid_track(track, content):
            pieces.invalid.append(track)
        else:
            pieces.tracks[track] = content
    return pieces


def _valid_track(track: int, content: str) -> bool:
    if len(content) > TRACK_MAX[track] - _FRAME:
        return False
    allowed = _TRACK1_CHARS if track == 1 else _NUMERIC_CHARS
    return all(c in allowed for c in content)


def _bare_track2(text: str) -> bool:
    return _BARE_TRACK2(text) is not None and _valid_track(2, text)


def _expiry(text: str) -> str | None:
    """YYMM when `text` starts with a plausible one (month 01-12)."""
    yymm = text[:4]
    if len(yymm) == 4 and yymm.isdigit() and 1 <= int(yymm[2:]) <= 12:
        return yymm
    return None


def _service_code(text: str) -> str | None:
    code = text[4:7]
    return code if len(code) == 3 and code.isdigit() else None


@dataclass(frozen=True)
class _TrackFields:
    pan: str | None
    name: str | None = None
    expiry: str | None = None
    service_code: str | None = None


def _track2_fields(content: str) -> _TrackFields:
    pan, sep, rest = content.partition("=")
    if not pan.isdigit():
        return _TrackFields(pan=None)
    if sep and len(pan) > _PAN_MAX:
        return _TrackFields(pan=None)
    if not sep:
        return _TrackFields(pan=pan)  # a proprietary (member) card: the whole track is the number
    return _TrackFields(pan=pan, expiry=_expiry(rest), service_code=_service_code(rest))


def _track1_fields(content: str) -> _TrackFields:
    """Format B (`B<PAN>^<NAME>^<YYMM><svc>…`); other formats give no PAN."""
    parts = content.upper().split("^")
    if len(parts) < 3 or parts[0][:1] != "B":
        return _TrackFields(pan=None)
    pan = parts[0][1:].replace(" ", "")  # some issuers space the PAN as embossed
    if not pan.isdigit() or len(pan) > _PAN_MAX:
        return _TrackFields(pan=None)
    name = parts[1].strip() or None
    rest = "^".join(parts[2:])
    return _TrackFields(pan=pan, name=name, expiry=_expiry(rest), service_code=_service_code(rest))


def _no_number(pieces: _Pieces) -> MagstripeError:
    bad = sorted(pieces.failed + pieces.invalid)
    if not pieces.tracks and not bad:
        return MagstripeError(
            "刷卡失败：不是磁条卡数据，请重新刷卡",
            "Swipe failed: this is not magnetic stripe data; please swipe again",
        )
    if bad:
        listed = "、".join(str(t) for t in bad)
        return MagstripeError(
            f"刷卡失败：磁道 {listed} 读取错误，未读到卡号，请重新刷卡",
            f"Swipe failed: track{'s' if len(bad) > 1 else ''} {', '.join(str(t) for t in bad)} "
            "could not be read and "
            "no card number was found; please swipe again",
        )
    return MagstripeError(
        "刷卡失败：磁道中没有卡号，请重新刷卡或改用其他方式",
        "Swipe failed: the tracks hold no card number; please swipe again or use another way",
    )


def parse_swipe(text: str) -> Swipe:
    """Parse a reader's output into tracks and the card number.

    Tolerates a missing track, a failed track (`E`), a lost end sentinel (that track is then
    not used), stray characters and a trailing CR/LF. Raises MagstripeError (Chinese and
    English) when no track gives a card number.
    """
    pieces = _split_tracks(text)
    bare = text.strip()
    if not pieces.tracks and not pieces.failed and not pieces.invalid and _bare_track2(bare):
        # Readers can be set to leave the sentinels out: digits[=digits] is track 2 alone.
        pieces = _Pieces(tracks={2: bare})
    t1 = _track1_fields(pieces.tracks[1]) if 1 in pieces.tracks else _TrackFields(None)
    t2 = _track2_fields(pieces.tracks[2]) if 2 in pieces.tracks else _TrackFields(None)
    pan = t2.pan or t1.pan
    if not pan:
        raise _no_number(pieces)
    return Swipe(
        pan=pan,
        track1=pieces.tracks.get(1),
        track2=pieces.tracks.get(2),
        track3=pieces.tracks.get(3),
        name=t1.name,
        expiry=t2.expiry or t1.expiry,
        service_code=t2.service_code or t1.service_code,
        failed=tuple(sorted(pieces.failed)),
        invalid=tuple(sorted(pieces.invalid)),
        garbage=pieces.garbage,
    )
