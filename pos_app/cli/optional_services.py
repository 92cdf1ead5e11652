"""Services that arrive in their own modules (member import, demo data), imported only when
their command runs, so the rest of the CLI works without them."""

from __future__ import annotations

import importlib
from types import ModuleType

from pos_app.domain.errors import DomainError


def load_service(module: str, feature_zh: str, feature_en: str) -> ModuleType:
    """Import `pos_app.services.<module>`, or refuse clearly if this build lacks it."""
    name = f"pos_app.services.{module}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise  # the module exists but something it needs does not: a real bug
        raise DomainError(
            f"此版本尚不支持{feature_zh}", f"This build cannot {feature_en} yet", code="unavailable"
        ) from None
