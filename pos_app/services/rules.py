"""Loading a rules file as a new version, and showing the rules in force."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import func, select

from db.engine import read_session
from db.models import RulesVersion
from pos_app.domain.permissions import Permission
from pos_app.domain.rules import Rules, parse_rules
from pos_app.services.audit import record
from pos_app.services.auth import Actor
from pos_app.services.context import StoreContext
from pos_app.services.rules_store import current_rules
from pos_app.services.use_case import use_case


@dataclass(frozen=True)
class LoadedRules:
    version: int
    label: str
    rules: Rules


def load_rules(ctx: StoreContext, actor: Actor, text: str, source: str = "") -> LoadedRules:
    """Validate a rules file and make it the rules in force, as a new version."""
    rules = parse_rules(text)  # refuse a bad file before taking any lock
    with use_case(ctx, actor, Permission.RULES_LOAD, target=source) as uc:
        version = (uc.session.scalar(select(func.max(RulesVersion.version))) or 0) + 1
        digest = hashlib.sha256(text.encode()).hexdigest()
        uc.session.add(
            RulesVersion(
                version=version,
                label=rules.label,
                source_text=text,
                sha256=digest,
                loaded_at=uc.now_iso,
                loaded_by_id=actor.operator_id,
            )
        )
        record(
            uc.session,
            uc.now_iso,
            actor.operator_id,
            "rules.load",
            target=source,
            detail={"version": version, "sha256": digest},
        )
    return LoadedRules(version, rules.label, rules)


def show_rules(ctx: StoreContext) -> LoadedRules:
    with read_session(ctx.engine) as session:
        version, rules = current_rules(session)
    return LoadedRules(version, rules.label, rules)
