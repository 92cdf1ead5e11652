"""`--xlsx FILE` and `--csv FILE` on every report: the report's tables written to a file,
atomically, with progress on stderr for a long one. The printed report still goes to
stdout, so `--json` and the file can be had from one run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from pos_app.cli.invocation import Invocation
from pos_app.cli.path_params import FilePath
from pos_app.cli.progress_display import StderrProgress
from pos_app.services.report_export import Sheet, export_sheets


def export_options(f: Any) -> Any:
    """Add --xlsx and --csv; the command gets them as `xlsx` and `csv_path`."""
    f = click.option(
        "--csv",
        "csv_path",
        type=FilePath(dir_okay=False, path_type=Path),
        metavar="FILE",
        help="导出 CSV 文件 Also write the report to a CSV file",
    )(f)
    return click.option(
        "--xlsx",
        type=FilePath(dir_okay=False, path_type=Path),
        metavar="FILE",
        help="导出 Excel 文件 Also write the report to an XLSX file",
    )(f)


def export_if_asked(
    inv: Invocation, sheets: Sequence[Sheet], xlsx: Path | None, csv_path: Path | None
) -> None:
    """Write the sheets to each file asked for, and say where on stderr."""
    for path, fmt in ((xlsx, "xlsx"), (csv_path, "csv")):
        if path is None:
            continue
        with StderrProgress("导出 Exporting:") as bar:
            written = export_sheets(path, sheets, fmt, bar)
        inv.out.note(f"已导出 Exported: {written}")
