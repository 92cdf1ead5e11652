"""The till's device settings: settings.toml in the data folder, overridden by the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from hardware.errors import DeviceUriError
from pos_app.device_settings import SETTINGS_FILE, load_device_settings

EXAMPLE = """
[devices]
card_sources = ["pcsc:ACR", "wedge"]
printer = "tcp://192.168.1.50:9100"
paper_mm = 58
encoding = "gbk"
image = true
drawer = true
drawer_pin = 5
display = "serial:/dev/ttyUSB1?baud=9600"
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / SETTINGS_FILE).write_text(text, encoding="utf-8")
    return tmp_path


def test_no_file_means_no_devices(tmp_path: Path) -> None:
    settings = load_device_settings(tmp_path, {})
    assert settings.configured() == []
    assert (settings.profile.paper_mm, settings.profile.encoding) == (80, "gb18030")


def test_file_is_read_and_checked(tmp_path: Path) -> None:
    settings = load_device_settings(write(tmp_path, EXAMPLE), {})
    assert settings.configured() == [
        ("card_source", "pcsc:ACR"),
        ("card_source", "wedge"),
        ("printer", "tcp://192.168.1.50:9100"),
        ("drawer", "tcp://192.168.1.50:9100"),
        ("display", "serial:/dev/ttyUSB1?baud=9600"),
    ]
    assert settings.profile.columns == 32 and settings.profile.encoding == "gbk"
    assert settings.profile.image and settings.drawer_pin == 5


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    env = {
        "POS_PRINTER": "sim:printer",
        "POS_CARD_SOURCES": "sim:card, wedge",
        "POS_PAPER_MM": "80",
    }
    settings = load_device_settings(write(tmp_path, EXAMPLE), env)
    assert settings.printer == "sim:printer"
    assert settings.card_sources == ("sim:card", "wedge")
    assert settings.paper_mm == 80


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[devices]\nprinter = "lpt1"', "printer"),
        ("[devices]\npaper_mm = 76", "paper_mm"),
        ('[devices]\nencoding = "latin-1"', "encoding"),
        ("[devices]\ndrawer_pin = 3", "drawer_pin"),
        ('[devices]\ncard_sources = "pcsc:,tcp:"', "card_sources"),
        ("[devices\n", "cannot be read"),
        ('[devices]\nimage = "yes"', "image"),
    ],
)
def test_a_bad_setting_is_reported_before_any_device_is_used(
    tmp_path: Path, text: str, needle: str
) -> None:
    with pytest.raises(DeviceUriError) as caught:
        load_device_settings(write(tmp_path, text), {})
    assert needle in caught.value.en
    assert SETTINGS_FILE in caught.value.zh


@pytest.mark.parametrize("width", ["²", "٨٠", "8_0", "80.0", "-80"])
def test_a_paper_width_from_the_environment_is_read_strictly(tmp_path: Path, width: str) -> None:
    # "²".isdigit() is true and int("²") raised ValueError: a traceback before any device.
    with pytest.raises(DeviceUriError) as caught:
        load_device_settings(write(tmp_path, EXAMPLE), {"POS_PAPER_MM": width})
    assert "paper_mm" in caught.value.en
