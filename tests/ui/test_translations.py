"""Every string of the UI has its Chinese, and what ships is compiled from what is in git."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pos_app.ui.translations import QM_FILE, TS_DIR

ROOT = Path(__file__).resolve().parents[2]
UI_DIR = ROOT / "pos_app" / "ui"
BIN = Path(sys.executable).parent


def _ui_modules() -> list[Path]:
    return sorted(UI_DIR.glob("*.py"))


def _sources(ts: Path) -> set[tuple[str, str]]:
    root = ET.parse(ts).getroot()
    return {
        (context.findtext("name") or "", message.findtext("source") or "")
        for context in root.iter("context")
        for message in context.iter("message")
    }


@pytest.mark.parametrize("module", _ui_modules(), ids=lambda p: p.stem)
def test_each_ui_module_has_a_complete_translation_in_step_with_its_code(
    module: Path, tmp_path: Path
) -> None:
    ts = TS_DIR / f"{module.stem}.ts"
    fresh = tmp_path / ts.name
    subprocess.run(
        [
            str(BIN / "pyside6-lupdate"),
            "-silent",
            "-locations",
            "none",
            str(module),
            "-ts",
            str(fresh),
        ],
        check=True,
    )
    if not _sources(fresh):
        assert not ts.exists(), f"{ts.name} is left over: run scripts/update-translations"
        return
    assert ts.exists(), f"run scripts/update-translations {module.relative_to(ROOT)}"
    assert _sources(fresh) == _sources(ts), "strings changed: run scripts/update-translations"
    root = ET.parse(ts).getroot()
    missing = [
        m.findtext("source")
        for m in root.iter("message")
        if m.find("translation") is not None
        and (m.find("translation").get("type") == "unfinished" or not m.findtext("translation"))
    ]
    assert not missing, f"untranslated in {ts.name}: {missing}"


def test_the_shipped_qm_is_compiled_from_the_ts_files(tmp_path: Path) -> None:
    compiled = tmp_path / "check.qm"
    subprocess.run(
        [
            str(BIN / "pyside6-lrelease"),
            "-silent",
            *map(str, sorted(TS_DIR.glob("*.ts"))),
            "-qm",
            str(compiled),
        ],
        check=True,
    )
    assert compiled.read_bytes() == QM_FILE.read_bytes(), "run scripts/update-translations"
