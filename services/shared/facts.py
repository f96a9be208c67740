"""What a domain object's transition returns: the facts to publish, each an event type with its data, and
what only the service's own metrics want to know of it (never published)."""
from dataclasses import dataclass, field


@dataclass
class Fact:
    type: str
    data: dict
    measured: dict = field(default_factory=dict)


def publish(uow, facts, subject):
    """Every fact into the unit of work's outbox, committed with the change that caused it."""
    for fact in facts:
        uow.emit(fact.type, fact.data, subject=subject)
