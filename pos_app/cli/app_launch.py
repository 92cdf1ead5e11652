"""Starting the Qt cashier app from the command line (`pos-app`, `pos-app demo`)."""

from __future__ import annotations

from pos_app.cli.invocation import Invocation
from pos_app.domain.errors import DomainError


class NoScreen(DomainError):
    code = "no_screen"


def start_app(inv: Invocation, *, demo: bool) -> int:
    """Run the till on the invocation's store until its window closes; returns the exit
    status. Refuses (exit 1) with a clear message where no window can be shown."""
    # Qt is imported only here: every other command runs without loading it.
    from pos_app.ui.qt_app import has_screen

    if not has_screen():
        raise NoScreen(
            "没有可用的显示器：请在桌面环境中运行（pos-app demo --no-gui 只打印演示说明）",
            "No screen to show the app on: run it from a desktop session (pos-app demo "
            "--no-gui prints the demo's walkthrough only)",
        )
    from pos_app.ui.till_app import run_till

    ctx = inv.store()
    # --lang / POS_LANG chooses the app's language; otherwise settings.toml does.
    language = ("en" if inv.lang == "en" else "zh_CN") if inv.lang_given else None
    return run_till(ctx, inv.data_dir, language=language, demo=demo)
