"""Starting the till: `pos-app` (the configured store) and `pos-app demo` (the demo store).

Builds the session (store, devices, language) and the window, opens the devices off the GUI
thread, runs Qt's event loop, and closes everything in order at exit.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QApplication

from hardware.errors import DeviceError
from pos_app.device_settings import DeviceSettings, load_device_settings
from pos_app.services.context import StoreContext
from pos_app.settings_file import load_app_settings
from pos_app.sync.agent import SyncAgent
from pos_app.ui.device_hub import DeviceHub
from pos_app.ui.main_window import MainWindow
from pos_app.ui.operations import ServiceOp, shutdown_workers
from pos_app.ui.qt_app import make_application
from pos_app.ui.till_session import TillSession
from pos_app.ui.translations import install_translators, normalize_language

log = logging.getLogger(__name__)


class TillController(QObject):
    """Owns the session and the devices for the app's life and the window on them: a change
    of language builds the window again in the new language (Qt widgets keep the text they
    were made with), with the operator still signed in."""

    def __init__(self, app: QApplication, session: TillSession) -> None:
        super().__init__(None)
        self.app = app
        self.session = session
        self.window = self._new_window()
        session.sig_language_changed.connect(self._on_language_changed)

    def _new_window(self) -> MainWindow:
        window = MainWindow(self.session)
        window.controller = self
        return window

    @Slot(str)
    def _on_language_changed(self, language: str) -> None:
        old = self.window
        empty = getattr(old.checkout_screen, "cart_is_empty", None)
        if callable(empty) and not empty():
            old.show_message(
                old.tr("The language changes once the open sale is finished: start the app again."),
                "warning",
            )
            return
        install_translators(self.app, language)
        new = self._new_window()
        new.setGeometry(old.geometry())
        if old.isVisible():
            new.show()
        if self.session.actor is not None and not self.session.locked:
            new.show_screen(new.settings_screen)
        old.discard()
        self.window = new


def build_till(
    ctx: StoreContext,
    data_dir: Path,
    *,
    language: str | None = None,
    demo: bool = False,
) -> MainWindow:
    """The till's window on `ctx`, with its devices opening in the background. `language`
    None: the one in settings.toml (zh_CN by default). The window is not shown yet; after a
    change of language the current window is `window.controller.window`."""
    chosen = normalize_language(language or load_app_settings(data_dir).language)
    app = make_application(chosen)
    settings_error: DeviceError | None = None
    try:
        settings = load_device_settings(data_dir)
    except DeviceError as exc:  # a bad settings file must not keep the till from selling
        settings_error = exc
        settings = DeviceSettings(source=str(data_dir))
    hub = DeviceHub(data_dir, settings)
    session = TillSession(ctx, data_dir, hub, chosen, demo=demo)
    controller = TillController(app, session)
    window = controller.window
    hub.install_wedge(app)
    if settings_error is not None:
        window.show_error(settings_error)
    ServiceOp(window, hub.open_all, kind="io").run()
    start_sync_agent(session)
    return window


def start_sync_agent(session: TillSession) -> SyncAgent:
    """Push to HQ in the background from now on: after each local commit, on the back-off
    timer while HQ is away, and when asked; its reports reach the status bar."""
    agent = SyncAgent(session.ctx, on_status=session.sig_sync_status.emit)
    session.sync_agent = agent
    session.ctx.commit_listeners.append(agent.nudge)
    agent.start()
    return agent


def stop_sync_agent(session: TillSession) -> None:
    """Stop pushing (at exit): at once while the agent waits, after the request in flight
    otherwise (each has a timeout)."""
    agent = session.sync_agent
    if agent is None:
        return
    if agent.nudge in session.ctx.commit_listeners:
        session.ctx.commit_listeners.remove(agent.nudge)
    if not agent.stop():
        log.warning("sync: the agent did not stop in time; leaving it to end with the app")
    session.sync_agent = None


def close_till(window: MainWindow) -> None:
    """Stop the sync agent, close the devices and let queued database and print work
    finish."""
    stop_sync_agent(window.session)
    window.session.devices.close()
    shutdown_workers()


def run_till(ctx: StoreContext, data_dir: Path, *, language: str | None, demo: bool) -> int:
    """Show the till and run until its window is closed; returns the exit status."""
    window = build_till(ctx, data_dir, language=language, demo=demo)
    assert window.controller is not None
    app = window.controller.app
    window.show()
    try:
        return app.exec()
    finally:
        close_till(window.controller.window if window.controller else window)
