"""A programming session's whole life and its clock's money, as plain objects: no database, no broker."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from services.programming.domain import ClockRules, ProgrammingSession, ProgrammingTime, SettledTogether, billable
from services.shared.errors import Conflict, InvalidInput, PaymentRequired

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
RULES = ClockRules(heartbeat_timeout=10, resume_limit=60, reserve_slice=60)
VIN = "WBA7K7109MW240891"
ECUS = [{"address": "0x12", "software_version": "OLD", "hardware_part_number": "86", "state": "APPLICATION"},
        {"address": "0x18", "software_version": "NEW18", "hardware_part_number": "77", "state": "APPLICATION"}]
REGISTRY = [{"address": "0x12", "name": "EGS (transmission control)", "hardware_part_number": "86"},
            {"address": "0x18", "name": "DSC (stability control)", "hardware_part_number": "77"}]
PACKAGES = [SimpleNamespace(id="p12", ecu_address="0x12", hardware_part_numbers=["86"], software_version="NEW",
                            integration_level="G20-26", flash_order=1, size=1000, sha256="ab" * 32),
            SimpleNamespace(id="p18", ecu_address="0x18", hardware_part_numbers=["77"], software_version="NEW18",
                            integration_level="G20-26", flash_order=2, size=10, sha256="cd" * 32)]


def at(seconds):
    return T0 + timedelta(seconds=seconds)


class Book(ProgrammingTime):
    """The workshop's programming seconds, kept in memory."""

    def __init__(self, purchased):
        self.purchased, self.reserved, self.settled = purchased, 0, 0

    def available(self):
        return self.purchased - self.reserved - self.settled

    def reserve(self, seconds):
        take = max(0, min(seconds, self.available()))
        self.reserved += take
        return take

    def settle(self, released, charged):
        self.reserved -= released
        self.settled += charged


def ready_session(volts=12600, vin=VIN):
    session = ProgrammingSession.open("s-1", "op-1", "u-1", "a-1", VIN, T0)
    session.agent_connected()
    assert session.next_job() == "preflight"
    if session.read_vehicle({"vin": vin, "voltage_mv": volts, "ecus": ECUS}, REGISTRY, at(0)):
        session.plan_with(PACKAGES, None, at(0))
        assert session.next_job() == "download"
        session.files_verified(["p12"])
    return session


def running(book, paid_by="time"):
    session = ready_session()
    facts = session.start(paid_by, book, at(0), RULES)
    assert [f.type for f in facts] == ["SessionStarted"] and session.state == "running"
    return session


def test_preflight_plans_only_the_ecus_that_need_new_software():
    session = ready_session()
    assert [step["ecu_address"] for step in session.plan] == ["0x12"]  # 0x18 runs its target already
    assert session.state == "ready" and all(session.preflight[k] for k in ("battery_ok", "vin_matches", "ecus_read",
                                                                           "plan_computed", "binaries_verified"))


@pytest.mark.parametrize("volts, vin, words", [(11800, VIN, "Battery at 11.8 V"),
                                               (12600, "WBA7K7109MW240892", "connected to WBA7K7109MW240892")])
def test_a_car_not_fit_to_program_ends_the_session_on_the_vehicles_side_unbilled(volts, vin, words):
    session = ready_session(volts, vin)
    assert (session.state, session.outcome, session.failure_side) == ("ended", "failed", "vehicle")
    assert words in session.message and session.seconds_billed is None


def test_nothing_to_program_ends_the_session_completed():
    session = ProgrammingSession.open("s-1", "op-1", "u-1", "a-1", VIN, T0)
    session.read_vehicle({"vin": VIN, "voltage_mv": 12600, "ecus": ECUS[1:]}, REGISTRY, at(0))
    session.plan_with(PACKAGES, None, at(0))
    assert (session.state, session.outcome, session.plan) == ("ended", "completed", [])


def test_every_file_of_the_plan_must_be_verified():
    session = ProgrammingSession.open("s-1", "op-1", "u-1", "a-1", VIN, T0)
    with pytest.raises(Conflict):
        session.files_verified(["p12"])  # no plan yet
    session.read_vehicle({"vin": VIN, "voltage_mv": 12600, "ecus": ECUS}, REGISTRY, at(0))
    session.plan_with(PACKAGES, None, at(0))
    with pytest.raises(InvalidInput) as refused:
        session.files_verified([])
    assert refused.value.details["field"] == "package_ids"


def test_the_clock_runs_while_heartbeats_come_pauses_at_the_last_and_resumes():
    book = Book(600)
    session = running(book)
    session.heartbeat(at(5), RULES, book)
    assert session.counted(at(12), RULES) == pytest.approx(12)
    assert session.counted(at(40), RULES) == pytest.approx(15)  # never past the last heartbeat's timeout
    assert session.due(at(16), RULES)
    session.watch(at(16), RULES, book)
    assert session.state == "interrupted" and session.counted(at(50), RULES) == pytest.approx(5)
    session.heartbeat(at(50), RULES, book)  # the agent is back: counting from now
    assert session.state == "running" and session.counted(at(53), RULES) == pytest.approx(8)
    facts = session.end(at(53), RULES, book)
    assert [f.type for f in facts] == ["SessionEnded"]
    assert facts[0].data["seconds_used"] == 8 and session.seconds_billed == 8
    assert (book.reserved, book.settled) == (0, 8)  # the rest of the reservation went back


def test_an_interruption_past_the_resume_limit_ends_the_session_billing_only_what_ran():
    book = Book(600)
    session = running(book)
    session.heartbeat(at(4), RULES, book)
    session.watch(at(15), RULES, book)
    assert not session.due(at(70), RULES)
    facts = session.watch(at(75.5), RULES, book)
    assert session.state == "ended" and session.outcome == "failed" and facts[0].data["seconds_used"] == 4
    assert book.settled == 4


def test_near_its_end_a_session_is_due_only_with_more_to_reserve_and_always_at_its_end():
    book = Book(60)  # one slice: the workshop has nothing more to reserve
    session = running(book)
    for second in range(2, 60, 2):
        session.heartbeat(at(second), RULES, book)
    assert not session.due(at(59.5), RULES, available=0)  # nothing the timer could do yet: not locked for it
    assert session.due(at(59.5), RULES, available=30)  # more to reserve before the slice runs out
    assert session.due(at(60), RULES, available=0)  # at its end: expired by the timer
    facts = session.watch(at(60), RULES, book)
    assert session.state == "expired" and [f.type for f in facts] == ["SessionExpired"]


class CountedBook(Book):
    def __init__(self, purchased):
        super().__init__(purchased)
        self.writes = 0

    def settle(self, released, charged):
        self.writes += 1
        super().settle(released, charged)


def beating(sessions, book, until):
    for second in range(2, until, 2):
        for session in sessions:
            session.heartbeat(at(second), RULES, book)


def test_the_timer_settles_a_workshops_sessions_in_one_write():
    book = CountedBook(120)
    first, second = running(book), running(book)  # 60 s reserved each: nothing left
    beating((first, second), book, 60)
    together = SettledTogether(book)
    for session in (first, second):
        session.watch(at(60), RULES, together)
        assert together.available() == 0  # what is not written yet is counted all the same
    assert (first.state, second.state, book.writes) == ("expired", "expired", 0)
    together.write()
    assert (book.writes, book.reserved, book.settled) == (1, 0, 120)


def test_a_reservation_in_the_timers_batch_counts_the_unwritten_settlements_and_writes_them_first():
    book = CountedBook(100)
    book.reserve(60)  # one session's reservation
    together = SettledTogether(book)
    together.settle(60, 20)  # it ended having used 20 s: 40 go back, not written yet
    assert together.available() == 80 and book.writes == 0
    assert together.reserve(100) == 80  # another session takes what there is, once the settlement is written
    assert book.writes == 1 and book.available() == 0 and together.reserve(10) == 0


def test_no_time_no_start():
    session = ready_session()
    with pytest.raises(PaymentRequired):
        session.start("time", Book(0), at(0), RULES)
    assert session.state == "ready"


def test_time_is_reserved_a_slice_at_a_time_and_expiry_caps_the_bill_at_what_was_paid():
    book = Book(90)
    session = running(book)
    assert session.reserved_seconds == 60 and book.available() == 30
    for t in range(2, 60, 2):
        session.heartbeat(at(t), RULES, book)
    assert session.reserved_seconds == 60  # a slice lasts until its last second
    session.heartbeat(at(60), RULES, book)
    assert session.reserved_seconds == 90  # the next slice came before the first ran out
    for t in range(62, 90, 2):
        session.heartbeat(at(t), RULES, book)
    facts = session.watch(at(90.4), RULES, book)
    assert session.state == "expired" and facts[0].type == "SessionExpired"
    assert session.seconds_billed == 90 and book.settled == 90 and book.available() == 0
    assert facts[0].measured["expiry_lag"] == pytest.approx(0.4)


def test_a_flash_in_progress_finishes_free_when_paid_time_runs_out():
    book = Book(60)
    session = running(book)
    session.flash_started("0x12")
    for t in range(2, 64, 2):
        session.heartbeat(at(t), RULES, book)
    assert session.state == "running" and session.in_grace
    facts = session.flash_completed("0x12", "NEW", 60, at(65), RULES, book)
    assert [f.type for f in facts] == ["FlashCompleted", "SessionEnded"]  # the plan is done
    assert session.outcome == "completed" and session.seconds_billed == 60


def test_our_failure_costs_nothing_and_the_vehicles_costs_what_ran():
    book = Book(600)
    ours = running(book)
    ours.heartbeat(at(9), RULES, book)
    facts = ours.flash_failed("0x12", "sha256", None, True, at(9), RULES, book)
    assert [f.type for f in facts] == ["FlashFailed", "SessionEnded"]
    assert facts[1].data["failure_side"] == "platform" and ours.seconds_billed == 0 and book.settled == 0
    theirs = running(book)
    theirs.heartbeat(at(9), RULES, book)
    theirs.flash_failed("0x12", "connection_lost", "link dropped", None, at(9), RULES, book)
    assert theirs.failure_side == "vehicle" and theirs.seconds_billed == 9 and book.settled == 9
    assert "link dropped" in theirs.message


def test_a_claim_about_our_file_the_server_finds_untrue_is_charged_and_said_so():
    book = Book(600)
    claimed = running(book)
    claimed.heartbeat(at(9), RULES, book)
    facts = claimed.flash_failed("0x12", "sha256", None, False, at(9), RULES, book)
    assert facts[1].data["failure_side"] == "vehicle" and claimed.seconds_billed == 9 and book.settled == 9
    assert "found it intact" in claimed.message and "charged" in claimed.message
    rejected = running(book)
    rejected.heartbeat(at(5), RULES, book)
    rejected.file_rejected(rejected.plan[0]["package_id"], "signature", False, at(5), RULES, book)
    assert rejected.failure_side == "vehicle" and rejected.seconds_billed == 5
    with pytest.raises(InvalidInput) as outside:
        running(book).file_rejected("0x40-OTHER", "sha256", True, at(5), RULES, book)
    assert outside.value.details["field"] == "package_id"


def test_a_vin_pass_session_bills_no_seconds():
    book = Book(0)
    session = running(book, paid_by="vin_pass")
    session.heartbeat(at(8), RULES, book)
    assert session.left(at(8), RULES, 0) is None
    facts = session.end(at(8), RULES, book)
    assert facts[0].data["seconds_used"] == 8 and session.seconds_billed == 0


def test_reports_for_an_ecu_outside_the_plan_name_the_field():
    session = running(Book(600))
    with pytest.raises(InvalidInput) as refused:
        session.flash_started("0x63")
    assert refused.value.details["field"] == "ecu_address"


def test_transitions_out_of_their_state_are_refused():
    session = ready_session()
    with pytest.raises(Conflict):
        session.flash_started("0x12")  # not running
    session.end(at(1), RULES, Book(0))
    assert (session.state, session.outcome) == ("ended", "cancelled")
    with pytest.raises(Conflict):
        session.end(at(2), RULES, Book(0))


def test_billable_rounds_half_down():
    assert [billable(x) for x in (0.49, 0.5, 0.51, 59.5, 60.4)] == [0, 0, 1, 59, 60]


def test_a_request_read_before_a_later_one_never_moves_the_clock_back():
    """Two replicas: the user's end was read at 20 s, but a heartbeat read at 20.4 s took the row lock first. The
    session ends at 20.4 s, billed what ran, never more than from start to end."""
    book = Book(600)
    session = running(book)
    for second in (5, 10, 15, 20.4):
        session.heartbeat(at(second), RULES, book)
    facts = session.end(at(20.0), RULES, book)
    assert session.ended_at == at(20.4) and session.active_seconds == pytest.approx(20.4)
    assert session.active_seconds <= (session.ended_at - session.started_at).total_seconds()
    assert facts[-1].data["seconds_used"] == 20 and book.settled == 20



# ---- where programming meets SERMI: the plan is what the workshop may do ----

CAR = [{"address": "0x12", "name": "DME (engine control)", "hardware_part_number": "86"},
       {"address": "0x40", "name": "BDC (body domain controller)", "hardware_part_number": "55"},
       {"address": "0x60", "name": "KOMBI (instrument cluster)", "hardware_part_number": "60"}]
CAR_READ = [{"address": e["address"], "software_version": "OLD", "hardware_part_number": e["hardware_part_number"],
             "state": "APPLICATION"} for e in CAR]
CAR_PACKAGES = [SimpleNamespace(id=f"p{e['address'][2:]}", ecu_address=e["address"],
                                hardware_part_numbers=[e["hardware_part_number"]], software_version="NEW",
                                integration_level="G20-26", flash_order=i, size=100, sha256="ab" * 32)
                for i, e in enumerate(CAR)]


def planned(security_job=None, readings=CAR_READ):
    session = ProgrammingSession.open("s-1", "op-1", "u-1", "a-1", VIN, T0)
    assert session.read_vehicle({"vin": VIN, "voltage_mv": 12600, "ecus": readings}, CAR, at(0))
    session.plan_with(CAR_PACKAGES, security_job, at(0))
    return session


def test_without_a_security_job_theft_relevant_ecus_are_left_out_in_words_and_the_rest_is_planned():
    session = planned()
    assert [s["ecu_address"] for s in session.plan] == ["0x60"]
    left = session.preflight["left_out"]
    assert [(x["ecu_address"], x["reason"]) for x in left] == [("0x12", "SECURITY_JOB_REQUIRED"),
                                                              ("0x40", "SECURITY_JOB_REQUIRED")]
    assert "DME (engine control)" in left[0]["message"] and "security job" in left[0]["message"]
    assert "DME (engine control) at 0x12" in session.message and "BDC" in session.message


def test_with_a_security_job_they_are_in_and_bound_to_it_at_start():
    session = planned("job-1")
    assert [(s["ecu_address"], s["security_job_id"]) for s in session.plan] == [
        ("0x12", "job-1"), ("0x40", "job-1"), ("0x60", None)]
    session.files_verified(["p12", "p40", "p60"])
    with pytest.raises(Conflict) as refused:  # the job closed before the start: no start on a plan we would refuse
        session.start("time", Book(600), at(1), RULES, None)
    assert refused.value.code == "SECURITY_JOB_REQUIRED" and refused.value.details["ecus"] == ["0x12", "0x40"]
    assert session.state == "ready"
    session.start("time", Book(600), at(1), RULES, "job-2")
    assert session.key_type("0x12") == "86" and session.plan[0]["security_job_id"] == "job-2"


def test_a_key_type_is_the_registry_s_and_a_theft_relevant_ecu_needs_its_bound_job():
    session = planned()
    session.files_verified(["p60"])
    session.start("time", Book(600), at(1), RULES)
    assert session.key_type("0x60") == "60"
    with pytest.raises(InvalidInput):
        session.key_type("0x12")  # left out: not in the plan
    session.plan = session.plan + [dict(session.plan[0], ecu_address="0x40", security_job_id=None)]
    with pytest.raises(Exception) as refused:
        session.key_type("0x40")
    assert refused.value.code == "SECURITY_JOB_REQUIRED"


@pytest.mark.parametrize("readings, code, words", [
    (CAR_READ + [dict(CAR_READ[1], address="0x60")], "ECU_READ_TWICE", "0x60 is in the pre-flight reading twice"),
    ([dict(CAR_READ[2], hardware_part_number="55")] + CAR_READ[:2], "HARDWARE_MISMATCH", "answered hardware number "
     "55, but the vehicle registry lists 60 (KOMBI (instrument cluster))"),
    (CAR_READ + [dict(CAR_READ[0], address="0x77")], "ECU_NOT_IN_CAR", "lists no ECU at 0x77"),
])
def test_an_ecu_is_what_the_registry_and_its_own_answer_say_never_the_agent_s_label(readings, code, words):
    session = ProgrammingSession.open("s-1", "op-1", "u-1", "a-1", VIN, T0)
    with pytest.raises(InvalidInput) as refused:
        session.read_vehicle({"vin": VIN, "voltage_mv": 12600, "ecus": readings}, CAR, at(0))
    assert refused.value.code == code and words in refused.value.message


def test_a_refusal_ends_the_session_billing_nothing_when_it_is_ours_and_what_ran_when_not():
    for side, billed in (("platform", 0), ("vehicle", 20)):
        book = Book(600)
        session = running(book)
        session.heartbeat(at(8), RULES, book)
        session.heartbeat(at(16), RULES, book)
        facts = session.refused("Not in the plan.", side, at(20), RULES, book)
        assert [f.type for f in facts] == ["SessionEnded"] and facts[0].data["failure_side"] == side
        assert (session.state, session.outcome, session.seconds_billed) == ("ended", "failed", billed)
        assert "the agent stopped" in session.message
        assert session.refused("again", side, at(30), RULES, book) == []  # ended: nothing more


def test_a_deactivated_user_s_session_stops_now_billing_what_ran_and_nothing_after():
    book = Book(600)
    session = running(book)
    session.heartbeat(at(8), RULES, book)
    facts = session.stopped("Stopped.", at(8), RULES, book)
    assert (session.state, session.outcome, session.seconds_billed) == ("ended", "cancelled", 8)
    assert facts[0].data["failure_side"] == "none" and book.settled == 8 and book.reserved == 0


def test_a_security_task_is_done_only_where_aos_opened_the_car_for_it():
    from services.programming.domain import task_report_refusal
    assert task_report_refusal("program_key", "done", granted=True) is None
    assert task_report_refusal("program_key", "failed", granted=False) is None
    refused = task_report_refusal("program_key", "done", granted=False)
    assert refused.code == "TASK_NOT_GRANTED" and "no security key" in refused.message
