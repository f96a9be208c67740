"""The audit service on a real broker and database: each fact once in its workshop's chain however often it is
delivered, every chain signed, the trail filtered for a workshop and for staff, pruning past the retention under
a checkpoint the chain still verifies from, and the service killed in a burst of facts losing none."""
from datetime import datetime, timedelta, timezone

import pytest
from nameko.testing.services import entrypoint_hook
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.audit import use_cases
from services.audit.models import Checkpoint, Entry
from services.audit.service import AuditService
from services.catalogue import CATALOGUE
from services.shared import events
from services.shared.database import make_engine
from services.shared.errors import Forbidden
from tests.helpers import eventually, publish_fact

VIN = "WBA8E9C50GK643215"
OWNER = {"user_id": "u-1", "operator_id": "op-1", "role": "owner"}
TECHNICIAN = {"user_id": "u-2", "operator_id": "op-1", "role": "technician"}


def viewed(config, user_id="u-1", operator_id="op-1", view="build_data"):
    return publish_fact(config, "VehicleViewed", operator_id=operator_id, user_id=user_id, vin=VIN, view=view,
                        viewed_at=datetime.now(timezone.utc))


def count(engine, *where):
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(Entry).where(*where))


def signed(engine):
    with Session(engine) as s:
        return s.scalar(select(func.count(Checkpoint.id)))


@pytest.fixture
def audit(container_factory, config):
    config["ENVIRONMENT"]["AOS_AUDIT_CHECKPOINT_SECONDS"] = "0.2"
    container = container_factory(AuditService, config)
    container.start()
    return container


@pytest.fixture
def engine(config):
    engine = make_engine(config["DATABASE_URLS"]["audit"])
    yield engine
    engine.dispose()


def test_each_fact_once_in_its_workshop_s_chain_and_every_chain_signed(audit, config, engine, proven, staff_pass):
    first = viewed(config)
    publish_fact(config, "VehicleViewed", body=first)  # redelivered: recorded once
    viewed(config, user_id="u-2", view="service_history")
    viewed(config, operator_id="op-2", user_id="u-9")
    publish_fact(config, "PackageWithdrawn", package_id="p-1", ecu_address="0x12", software_version="1.2",
                 check="sha256", session_id="s-1", withdrawn_at=datetime.now(timezone.utc))
    eventually(lambda: count(engine) == 4, what="four facts recorded")
    with Session(engine) as s:
        assert sorted(s.execute(select(Entry.chain, Entry.seq)).all()) == [
            ("op-1", 1), ("op-1", 2), ("op-2", 1), ("platform", 1)]
    eventually(lambda: signed(engine) >= 3, what="each chain signed")

    with entrypoint_hook(audit, "trail") as call:
        assert [e["user_id"] for e in call(proven(OWNER), {})["entries"]] == ["u-2", "u-1"]
        assert [e["user_id"] for e in call(proven(TECHNICIAN), {})["entries"]] == ["u-2"], "a technician: own"
        assert [e["summary"] for e in call(proven(OWNER), {"user_id": "u-1"})["entries"]] == [
            "Vehicle data read: build_data"]
    with entrypoint_hook(audit, "staff_trail") as call:
        assert len(call(staff_pass, {})["entries"]) == 4
        assert [e["kind"] for e in call(staff_pass, {"operator_id": "platform"})["entries"]] == ["PackageWithdrawn"]
        with pytest.raises(Forbidden):
            call(proven(OWNER)["token"], {})
    with entrypoint_hook(audit, "verify") as call:
        found = call(staff_pass)
    assert (found["verified"], found["chains"], found["entries"], found["problems"]) == (True, 3, 4, [])
    assert found["checkpoints"] >= 3


def test_pruning_past_the_retention_keeps_a_checkpoint_the_chain_verifies_from(audit, config, engine, staff_pass):
    for view in ("build_data", "service_history", "maintenance"):
        viewed(config, view=view)
    eventually(lambda: count(engine) == 3, what="three facts recorded")
    with Session(engine) as s, s.begin():  # the first two were recorded long ago
        s.execute(update(Entry).where(Entry.seq <= 2).values(recorded_at=datetime.now(timezone.utc)
                                                                  - timedelta(days=400)))
    ctx = use_cases.Context(audit_store(audit), audit_keys(audit), datetime.now(timezone.utc))
    assert use_cases.prune(ctx, retention_days=365) == 2
    assert count(engine) == 1
    with entrypoint_hook(audit, "verify") as call:
        assert call(staff_pass)["verified"] is True
    viewed(config, view="campaigns")  # the chain goes on after the pruned part
    eventually(lambda: count(engine) == 2, what="the next fact")
    with entrypoint_hook(audit, "verify") as call:
        assert call(staff_pass)["verified"] is True


def test_facts_are_each_appended_once_in_order_a_redelivery_adding_nothing(
        audit, engine, staff_pass):
    """Deliveries in a row, then a batch that holds one of them twice and one seen before."""
    def fact(operator_id, view):
        return events.parse(events.envelope(CATALOGUE["VehicleViewed"], {
            "operator_id": operator_id, "user_id": "u-1", "vin": VIN, "view": view,
            "viewed_at": datetime.now(timezone.utc)}, subject=operator_id), CATALOGUE["VehicleViewed"])

    ctx = use_cases.Context(audit_store(audit), audit_keys(audit), datetime.now(timezone.utc))
    seen_before, first, second, other = (fact("op-1", "build_data"), fact("op-1", "maintenance"),
                                         fact("op-1", "campaigns"), fact("op-2", "service_history"))
    use_cases.record(ctx, [seen_before])
    use_cases.record(ctx, [first, other, seen_before, second, first])
    with Session(engine) as s:
        assert s.execute(select(Entry.chain, Entry.seq, Entry.event_id).order_by(Entry.chain, Entry.seq)).all() == [
            ("op-1", 1, seen_before.id), ("op-1", 2, first.id), ("op-1", 3, second.id), ("op-2", 1, other.id)]
    with entrypoint_hook(audit, "verify") as call:
        assert call(staff_pass)["verified"] is True


def audit_store(container):
    from sqlalchemy.orm import sessionmaker

    from services.audit.models import OutboxMessage, ProcessedEvent
    from services.shared.database import Store
    db = next(d for d in container.dependencies if d.attr_name == "db")
    return Store(sessionmaker(db.engine), OutboxMessage, ProcessedEvent, on_commit=lambda emitted: None)


def audit_keys(container):
    return next(d for d in container.dependencies if d.attr_name == "keys").keys


def test_the_audit_service_killed_in_a_burst_of_facts_loses_and_repeats_none(container_factory, config, engine,
                                                                            staff_pass):
    first = container_factory(AuditService, config)
    first.start()
    sent = [viewed(config, user_id=f"u-{i}") for i in range(60)]
    eventually(lambda: count(engine) >= 5, what="the burst under way")
    first.kill()  # what it had not acknowledged goes back on its queue
    second = container_factory(AuditService, config)
    second.start()
    eventually(lambda: count(engine) == len(sent), timeout=30, what="every fact recorded after the restart")
    with Session(engine) as s:
        assert sorted(s.scalars(select(Entry.event_id))) == sorted(body["id"] for body in sent)
        assert sorted(s.scalars(select(Entry.seq))) == list(range(1, len(sent) + 1))
    with entrypoint_hook(second, "verify") as call:
        assert call(staff_pass)["verified"] is True
