"""The till's state shared by every screen: the store, who is signed in, the open shift, the
language and the devices. Screens read it and listen to its signals; they never keep their
own copy of who is signed in."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from pos_app.services.auth import Actor
from pos_app.services.context import StoreContext
from pos_app.services.shifts import ShiftView
from pos_app.sync.agent import AgentState, SyncAgent
from pos_app.sync.status import SyncStatus
from pos_app.ui.device_hub import DeviceHub
from pos_app.ui.translations import service_lang


class TillSession(QObject):
    """One till: a store context, the operator, the shift, the language and the devices."""

    sig_signed_in = Signal(object)
    """An operator signed in (the Actor)."""

    sig_signed_out = Signal()
    """The operator signed out: the sign-in screen comes back."""

    sig_locked = Signal(bool)
    """The till was locked (True) or unlocked (False) by the same operator."""

    sig_shift_changed = Signal(object)
    """The open shift changed (a ShiftView, or None once it is closed)."""

    sig_language_changed = Signal(str)
    """The UI language changed ("zh_CN" or "en")."""

    sig_sync_status = Signal(object, object)
    """The sync agent's report (SyncStatus, AgentState), emitted from the agent's thread and
    delivered on the GUI thread (a queued connection: the session lives there)."""

    def __init__(
        self,
        ctx: StoreContext,
        data_dir: Path,
        devices: DeviceHub,
        language: str,
        *,
        demo: bool = False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.data_dir = data_dir
        self.devices = devices
        self.language = language
        self.demo = demo
        self.actor: Actor | None = None
        self.shift: ShiftView | None = None
        self.locked = False
        # The background pusher (started by the app) and its last report, kept for a window
        # built again after a change of language.
        self.sync_agent: SyncAgent | None = None
        self.sync_report: tuple[SyncStatus, AgentState] | None = None
        self.sig_sync_status.connect(self._keep_sync_report)

    @Slot(object, object)
    def _keep_sync_report(self, status: SyncStatus, state: AgentState) -> None:
        self.sync_report = (status, state)

    def sync_now(self) -> None:
        """A person asked to sync now (the status bar's indicator)."""
        if self.sync_agent is not None:
            self.sync_agent.sync_now()

    @property
    def lang(self) -> str:
        """The services' message language: "zh" or "en"."""
        return service_lang(self.language)

    def require_actor(self) -> Actor:
        """The signed-in operator; screens that need one are shown only after sign-in."""
        if self.actor is None:
            raise RuntimeError("no operator is signed in")
        return self.actor

    def signed_in(self, actor: Actor, shift: ShiftView | None) -> None:
        self.actor = actor
        self.shift = shift
        self.locked = False
        self.devices.set_language(self.lang)
        self.sig_signed_in.emit(actor)
        self.sig_shift_changed.emit(shift)

    def sign_out(self) -> None:
        self.actor = None
        self.shift = None
        self.locked = False
        self.sig_signed_out.emit()

    def set_locked(self, locked: bool) -> None:
        self.locked = locked
        self.sig_locked.emit(locked)

    def set_shift(self, shift: ShiftView | None) -> None:
        self.shift = shift
        self.sig_shift_changed.emit(shift)

    def set_language(self, language: str) -> None:
        if language != self.language:
            self.language = language
            self.devices.set_language(self.lang)
            self.sig_language_changed.emit(language)
