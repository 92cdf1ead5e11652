"""Named counters (member numbers, the day's receipt numbers, held-cart labels).

Callers hold a write transaction (BEGIN IMMEDIATE), so reading and bumping a counter cannot
race another till; a number taken by a transaction that rolls back is simply taken again.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from db.models import Counter


def next_value(session: Session, name: str) -> int:
    """The counter's next value, starting at 1."""
    counter = session.get(Counter, name)
    if counter is None:
        counter = Counter(name=name, value=0)
        session.add(counter)
    counter.value += 1
    return counter.value
