"""Programming's clock and money, by the use cases on a real database with time under the test's control: the
clock runs only while heartbeats come, pauses at the last one, resumes; concurrent sessions never reserve more
than was bought; paid time running out never cuts a flash; reports are taken once and in order."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from services.programming import use_cases
from services.programming.contracts import FACTS as PROGRAMMING
from services.programming.settings import ProgrammingSettings
from services.shared.config import build
from services.programming.models import Account, OutboxMessage, Package, ProcessedEvent
from services.shared.database import Store, make_engine
from services.shared.errors import Conflict, Forbidden, NotFound, PaymentRequired

pytestmark = pytest.mark.both_databases  # the clock and its locks

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
VIN = "WBA7K7109MW240891"
OWNER = {"user_id": "u-1", "operator_id": "op-1", "role": "owner", "amr": ["pwd", "otp"],
         "auth_time": T0.timestamp()}
ECUS = [{"address": "0x12", "software_version": "OLD", "hardware_part_number": "86", "state": "APPLICATION"}]


class Desk:
    """The use cases with a clock the test moves."""

    def __init__(self, url):
        self.engine = make_engine(url)
        self.store = Store(sessionmaker(self.engine, expire_on_commit=False), OutboxMessage, ProcessedEvent,
                           lambda emitted: None, facts=PROGRAMMING)
        self.now = T0
        self.settings = build(ProgrammingSettings, {
            "AOS_HEARTBEAT_TIMEOUT_SECONDS": "10", "AOS_RESUME_LIMIT_SECONDS": "60", "AOS_RESERVE_SLICE_SECONDS": "60",
            "AOS_ECU_SECRET": "test-ecu-secret"})

    def ctx(self):
        def no_pass(claim):
            raise PaymentRequired("NO_VIN_PASS_SESSION", "none", {})
        return use_cases.Context(self.store, self.now, self.settings, blobs=Links(),
                                 describe=lambda vin: {"vin": vin, "series": "G20", "ecus": [
                                     {"address": "0x12", "name": "EGS (transmission control)", "hardware_part_number": "86"}]},
                                 claim_vin_session=no_pass, offer=lambda scope: ["prog-30"])

    def at(self, seconds):
        self.now = T0 + timedelta(seconds=seconds)
        return self.ctx()

    def events(self, event_type):
        import json
        with self.store.read() as s:
            return [json.loads(m.body)["data"] for m in s.scalars(
                select(OutboxMessage).where(OutboxMessage.event_type == event_type)).all()]


class Links:
    def signed_url(self, key, seconds):
        return f"http://objects/{key}"


@pytest.fixture
def desk(database_urls):
    d = Desk(database_urls["programming"])
    with d.store.transaction() as uow:
        uow.session.add(Package(id="0x12-NEW", series="G20", ecu_address="0x12", hardware_part_numbers=["86"],
                                software_version="NEW", integration_level="G20-26", flash_order=1, size=10,
                                sha256="ab" * 32, manifest={}, signature="x", imported_at=T0))
    yield d
    d.engine.dispose()


def buy(desk, seconds, operator="op-1"):
    with desk.store.transaction() as uow:
        use_cases.record_purchase(uow, {"operator_id": operator, "scopes": ["programming"], "seconds": seconds})


def ready_session(desk, actor=OWNER, at=0):
    ctx = desk.at(at)
    agent = use_cases.register_agent(ctx, actor, {"name": "bay"})
    creds = (agent["id"], agent["credential"])
    session = use_cases.open_session(ctx, actor, {"vin": VIN, "agent_id": agent["id"]})
    use_cases.report(ctx, creds, session["id"], {"sequence": 1, "kind": "preflight",
                                                 "vehicle": {"vin": VIN, "voltage_mv": 12600, "ecus": ECUS}})
    use_cases.report(ctx, creds, session["id"], {"sequence": 2, "kind": "files_verified", "package_ids": ["0x12-NEW"]})
    return session["id"], creds


def beat(desk, at, creds, session_id):
    return use_cases.heartbeat(desk.at(at), creds, session_id, {"progress": None})


def test_the_clock_runs_with_heartbeats_pauses_at_the_last_one_and_resumes(desk):
    buy(desk, 1800)
    session_id, creds = ready_session(desk)
    assert use_cases.start(desk.at(0), OWNER, session_id)["state"] == "running"
    for t in range(2, 21, 2):
        beat(desk, t, creds, session_id)
    use_cases.watch_clocks(desk.at(25))
    assert use_cases.get_session(desk.at(25), OWNER, session_id)["state"] == "running"
    use_cases.watch_clocks(desk.at(31))  # 11 s of silence: interrupted, counted up to the last heartbeat
    paused = use_cases.get_session(desk.at(45), OWNER, session_id)
    assert paused["state"] == "interrupted" and paused["used_seconds"] == 20 and not paused["clock_running"]
    assert beat(desk, 50, creds, session_id)["state"] == "running"  # the same agent resumes within the limit
    beat(desk, 55, creds, session_id)
    ended = use_cases.end(desk.at(57), OWNER, session_id)
    assert (ended["state"], ended["outcome"], ended["seconds_billed"]) == ("ended", "cancelled", 27)
    assert desk.events("SessionEnded")[0]["seconds_used"] == 27
    with desk.store.read() as s:
        account = s.get(Account, "op-1")
        assert (account.settled_seconds, account.reserved_seconds) == (27, 0)


def test_silence_past_the_resume_limit_ends_the_session_and_bills_what_ran(desk):
    buy(desk, 1800)
    session_id, creds = ready_session(desk)
    use_cases.start(desk.at(0), OWNER, session_id)
    beat(desk, 5, creds, session_id)
    use_cases.watch_clocks(desk.at(16))
    use_cases.watch_clocks(desk.at(77))
    ended = use_cases.get_session(desk.at(80), OWNER, session_id)
    assert (ended["state"], ended["outcome"], ended["failure_side"], ended["seconds_billed"]) == (
        "ended", "failed", "vehicle", 5)


def test_concurrent_sessions_never_reserve_more_than_was_bought(desk):
    buy(desk, 90)
    first, first_creds = ready_session(desk)
    second, second_creds = ready_session(desk)
    third, _ = ready_session(desk)
    use_cases.start(desk.at(0), OWNER, first)  # 60 reserved
    use_cases.start(desk.at(0), OWNER, second)  # the last 30
    with pytest.raises(PaymentRequired) as refused:
        use_cases.start(desk.at(0), OWNER, third)
    assert refused.value.code == "PROGRAMMING_TIME_REQUIRED"
    with desk.store.read() as s:
        assert s.get(Account, "op-1").reserved_seconds == 90
    # the second runs out at 30 s: no flash in progress, it expires, exactly at its paid time
    for t in range(2, 31, 2):
        beat(desk, t, second_creds, second)
        beat(desk, t, first_creds, first)
    use_cases.watch_clocks(desk.at(30.5))
    expired = use_cases.get_session(desk.at(31), OWNER, second)
    assert expired["state"] == "expired" and expired["seconds_billed"] == 30
    assert "Programming session timeout" in expired["message"]
    assert desk.events("SessionExpired")[0]["seconds_used"] == 30


def test_a_flash_in_progress_finishes_when_time_runs_out_and_a_top_up_lets_a_session_go_on(desk):
    buy(desk, 20)
    session_id, creds = ready_session(desk)
    use_cases.start(desk.at(0), OWNER, session_id)
    use_cases.report(desk.at(1), creds, session_id, {"sequence": 3, "kind": "flash_started", "ecu_address": "0x12"})
    for t in range(2, 31, 2):
        beat(desk, t, creds, session_id)
        use_cases.watch_clocks(desk.at(t + 0.5))
    graced = use_cases.get_session(desk.at(30), OWNER, session_id)
    assert graced["state"] == "running" and graced["in_grace"]
    done = use_cases.report(desk.at(33), creds, session_id, {"sequence": 4, "kind": "flash_completed",
                                                             "ecu_address": "0x12", "software_version": "NEW",
                                                             "duration_seconds": 32})
    assert done["state"] == "ended" and done["outcome"] == "completed" and done["seconds_billed"] == 20

    buy(desk, 10)
    later, creds2 = ready_session(desk, at=100)
    use_cases.start(desk.at(100), OWNER, later)
    beat(desk, 105, creds2, later)
    buy(desk, 600)  # a top-up while it runs: the next slice is there when the first is used up
    for t in range(106, 131, 2):
        beat(desk, t, creds2, later)
        use_cases.watch_clocks(desk.at(t + 0.5))
    going = use_cases.get_session(desk.at(131), OWNER, later)
    assert going["state"] == "running" and going["used_seconds"] > 10


def test_reports_are_taken_once_in_order_and_only_from_the_sessions_agent(desk):
    buy(desk, 1800)
    session_id, creds = ready_session(desk)
    use_cases.start(desk.at(0), OWNER, session_id)
    body = {"sequence": 3, "kind": "flash_started", "ecu_address": "0x12"}
    assert use_cases.report(desk.at(1), creds, session_id, body)["duplicate"] is False
    assert use_cases.report(desk.at(2), creds, session_id, body)["duplicate"] is True
    with pytest.raises(Conflict) as reused:
        use_cases.report(desk.at(2), creds, session_id, dict(body, ecu_address="0x18"))
    assert reused.value.code == "REPORT_SEQUENCE_REUSED"
    with pytest.raises(Conflict) as gap:
        use_cases.report(desk.at(2), creds, session_id, {"sequence": 5, "kind": "flash_started", "ecu_address": "0x12"})
    assert gap.value.code == "REPORT_OUT_OF_ORDER" and gap.value.details["expected"] == 4
    other_session, other_creds = ready_session(desk)
    with pytest.raises(NotFound):
        use_cases.report(desk.at(3), other_creds, session_id, {"sequence": 4, "kind": "flash_started",
                                                                "ecu_address": "0x12"})
    assert len(desk.events("FlashCompleted")) == 0


def test_starting_needs_a_programmer_with_a_fresh_second_factor(desk):
    buy(desk, 1800)
    session_id, _ = ready_session(desk)
    with pytest.raises(Forbidden) as stale:
        use_cases.start(desk.at(16 * 60), OWNER, session_id)
    assert stale.value.code == "STEP_UP_REQUIRED"
    with pytest.raises(Forbidden) as admin:
        use_cases.start(desk.at(0), dict(OWNER, role="admin"), session_id)
    assert admin.value.code == "ROLE_NOT_ALLOWED"
    assert use_cases.start(desk.at(14 * 60), OWNER, session_id)["state"] == "running"
