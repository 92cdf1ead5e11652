"""Reading the rules in force. Parsed rules are cached by content hash, so a top-up costs one
small query for the rules rather than a TOML parse."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import RulesVersion
from pos_app.domain.rules import DEFAULT_RULES, Rules, parse_rules

_parsed: dict[str, Rules] = {}


def current_rules(session: Session) -> tuple[int, Rules]:
    """(version, rules) in force; version 0 means the built-in defaults (nothing loaded yet)."""
    row = session.execute(
        select(RulesVersion.version, RulesVersion.sha256)
        .order_by(RulesVersion.version.desc())
        .limit(1)
    ).first()
    if row is None:
        return 0, DEFAULT_RULES
    version, digest = row
    return version, rules_by_digest(
        digest,
        lambda: session.scalar(
            select(RulesVersion.source_text).where(RulesVersion.version == version)
        ),
    )


def rules_by_digest(digest: str, source_text: Callable[[], str | None]) -> Rules:
    """The parsed rules with this content hash; `source_text()` is read and parsed only the
    first time a hash is seen (for callers that read the version row themselves)."""
    rules = _parsed.get(digest)
    if rules is None:
        # Read as it was loaded: checks added since then do not apply to a stored version.
        rules = _parsed[digest] = parse_rules(source_text() or "", strict=False)
    return rules
