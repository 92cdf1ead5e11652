"""Device errors a person can act on: every one carries a Chinese and an English message.

A missing device, library or daemon is an error value shown as a status, never a crash; the
drivers raise these and the callers (CLI, app) show `message(lang)`.
"""

from __future__ import annotations


class DeviceError(Exception):
    """A device could not do what was asked; `code` is stable for scripts and tests."""

    code = "device_error"

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en

    def message(self, lang: str = "zh") -> str:
        """The message in the operator's language ("zh" or "en")."""
        return self.en if lang == "en" else self.zh


class DeviceUriError(DeviceError, ValueError):
    """A device URI in the settings or on the command line does not parse."""

    code = "bad_device_uri"


class DeviceUnavailable(DeviceError):
    """The device, its driver library or its daemon is not there (unplugged, not installed)."""

    code = "device_unavailable"


class DeviceTimeout(DeviceError):
    """The device did not answer in time."""

    code = "device_timeout"


class DeviceRefused(DeviceError):
    """The device answered but cannot do it now (paper out, cover open, offline)."""

    code = "device_refused"
