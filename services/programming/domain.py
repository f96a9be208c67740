"""Programming's rules in plain Python: who may program, which ECUs a car needs and in what order, whose fault
a failure was, and the whole life of a programming session with its clock.

A session moves preflight → ready → running ⇄ interrupted → ended (or expired, when paid time runs out).
Each transition is a method of ProgrammingSession that changes the session and returns the facts to publish.
The clock counts only while the session runs and its agent's heartbeats come; its arithmetic (accrual up to the
last heartbeat, reservation of paid time a slice at a time, grace for a flash in progress, settlement in whole
seconds) is here too, over instants it is given. What a session takes from the workshop's programming time goes
through a `ProgrammingTime` the caller supplies (reserve, settle): the decision is here, the bookkeeping there.
"""
import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from automotive.security import is_theft_relevant
from automotive.uds import BOOTLOADER, MIN_PROGRAMMING_VOLTAGE_MV
from services.shared.errors import Conflict, Forbidden, PaymentRequired, invalid_field
from services.shared.facts import Fact
from services.shared.vat import price

STEP_UP_SECONDS = 15 * 60
PROGRAMMERS = ("owner", "technician")
AGENT_KEEPERS = ("owner", "admin")  # who renames, revokes and renews the workshop's agents
MIN_BATTERY_MV = MIN_PROGRAMMING_VOLTAGE_MV
# what the agent reports as the cause of a failed flash, and whose it is: a flash file we served that is not
# genuine, or could not be downloaded, is ours; everything the car answered or did is the vehicle's
PLATFORM_CAUSES = {"signature", "sha256", "size", "download"}
CAUSES = ("refused", "connection_lost", "timeout", "low_voltage", "verification_failed", "version_mismatch",
          *sorted(PLATFORM_CAUSES))
LIVE = ("preflight", "ready", "running", "interrupted")
DEACTIVATED = ("Stopped: the workshop deactivated the user who started this. The clock stopped then; what ran "
               "before is charged, nothing after.")
CLOCKED = ("running", "interrupted")  # started: the books must be closed when it ends
CHECKLIST = ("agent_connected", "battery_ok", "vin_matches", "ecus_read", "plan_computed", "binaries_verified")
ONLINE_SECONDS = 30  # an agent heard from within this is online


def require_agent_keeper(actor):
    if actor.get("role") not in AGENT_KEEPERS:
        raise Forbidden("ROLE_NOT_ALLOWED", "The workshop's owner or an admin manages its agents.",
                        {"required_role": list(AGENT_KEEPERS)})


def require_step_up(actor, now):
    """A technician or owner whose login passed the second factor within the last 15 minutes."""
    if actor.get("role") not in PROGRAMMERS:
        raise Forbidden("ROLE_NOT_ALLOWED", "Programming is for technicians and owners.", {"role": actor.get("role")})
    fresh = now.timestamp() - (actor.get("auth_time") or 0) <= STEP_UP_SECONDS
    if not (fresh and ({"otp", "rec", "hwk"} & set(actor.get("amr") or ()))):
        raise Forbidden("STEP_UP_REQUIRED", "Programming needs a login with your second factor within the last "
                        "15 minutes: sign in again with your code, then start.", {"max_age_seconds": STEP_UP_SECONDS})


def failure_side(cause, confirmed=True):
    """A failure is ours only for a cause about our file (signature, hash, size, download) that the server found
    true of the stored file itself: the agent's word alone does not decide who pays."""
    return "platform" if cause in PLATFORM_CAUSES and confirmed else "vehicle"


def claim_message(package_id, check, confirmed):
    """What the workshop reads of its agent's claim that a file of ours failed a check."""
    if confirmed:
        return (f"Flash file {package_id} failed its {check} check, and AOS found the stored file bad too: the "
                "failure is ours, this session is not charged, and the file is withdrawn for everyone until the "
                "manufacturer replaces it.")
    return (f"Your agent reported that flash file {package_id} failed its {check} check, but AOS checked the "
            "stored file against the manufacturer's signature and found it intact: the failure is not ours, so "
            "the time used is charged. The claim is recorded; look at the workshop PC's download and disk.")


def checked_readings(readings, registry):
    """The pre-flight's readings as the server takes them: one per address, each of an ECU the registry lists for
    the car, with the registry's hardware number for that address; each carries the registry's name and whether it
    is theft-relevant. What an ECU is comes from the registry and the ECU's own answers, never from the agent's
    label: a second reading of an address, or a hardware number the registry contradicts, is refused by name."""
    listed = {e["address"]: e for e in registry}
    checked, seen = [], set()
    for index, reading in enumerate(readings):
        address, field = reading["address"], f"vehicle.ecus.{index}"
        if address in seen:
            raise invalid_field("ECU_READ_TWICE", f"{field}.address", "one_reading_per_address",
                                f"ECU {address} is in the pre-flight reading twice: each address is read once.")
        seen.add(address)
        record = listed.get(address)
        if record is None:
            raise invalid_field("ECU_NOT_IN_CAR", f"{field}.address", "an_ecu_of_the_car",
                                f"The vehicle registry lists no ECU at {address} for this car.")
        if reading["hardware_part_number"] != record["hardware_part_number"]:
            raise invalid_field("HARDWARE_MISMATCH", f"{field}.hardware_part_number", "the_registry's_hardware",
                                f"ECU {address} answered hardware number {reading['hardware_part_number']}, but the "
                                f"vehicle registry lists {record['hardware_part_number']} ({record['name']}) at "
                                f"{address} in this car: the unit is not the one the car was built or serviced "
                                "with. Nothing was programmed.")
        checked.append(reading | {"name": record["name"], "theft_relevant": is_theft_relevant(record["name"])})
    return checked


def plan(readout, packages):
    """Which installed ECUs need which package: for each ECU the car reported (checked_readings), the newest
    integration level's package that fits its hardware, if the ECU does not run it already (or sits in its
    bootloader); in the manufacturer's flash order. A theft-relevant ECU's step needs a SERMI security job."""
    steps = []
    for ecu in readout:
        fitting = [p for p in packages if p.ecu_address == ecu["address"]
                   and ecu["hardware_part_number"] in p.hardware_part_numbers]
        if not fitting:
            continue
        target = max(fitting, key=lambda p: p.integration_level)
        if target.software_version == ecu["software_version"] and ecu.get("state") != BOOTLOADER:
            continue
        steps.append({"ecu_address": ecu["address"], "ecu_name": ecu.get("name"), "package_id": target.id,
                      "from_version": ecu["software_version"], "to_version": target.software_version,
                      "size": target.size, "sha256": target.sha256, "flash_order": target.flash_order,
                      "needs_security_job": bool(ecu.get("theft_relevant")), "security_job_id": None,
                      "status": "pending"})
    return sorted(steps, key=lambda s: (s["flash_order"], s["ecu_address"]))


def left_out(step):
    """A step of the update the plan leaves out because no SERMI security job is open on the car, in words."""
    name = step.get("ecu_name") or step["ecu_address"]
    return {"ecu_address": step["ecu_address"], "ecu_name": step.get("ecu_name"), "to_version": step["to_version"],
            "reason": "SECURITY_JOB_REQUIRED",
            "message": f"{name} at {step['ecu_address']} is theft-relevant: programming it needs a SERMI security "
                       "job on this car. Link your SERMI authorisation, open a security job on the car, then open a "
                       "new session to include it; the other ECUs can be programmed now."}


def names(steps):
    return ", ".join(f"{s.get('ecu_name') or 'ECU'} at {s['ecu_address']}" for s in steps)


def billable(seconds):
    """Whole seconds, rounded half down: a session is billed what it used, never a second it did not."""
    return int(math.floor(seconds + 0.5 - 1e-9))


def agent_online(last_seen_at, now):
    return last_seen_at is not None and (now - last_seen_at).total_seconds() < ONLINE_SECONDS


def agent_seen_due(last_seen_at, now):
    """Online is a matter of tens of seconds: a write every few seconds per agent says it, not one per call."""
    return last_seen_at is None or (now - last_seen_at).total_seconds() >= ONLINE_SECONDS / 6


def no_programming_time():
    return PaymentRequired("PROGRAMMING_TIME_REQUIRED", "Your workshop has no programming time left: buy a "
                           "programming pack or a VIN pass for this car.", {"scope": "programming"})


@dataclass(frozen=True)
class ClockRules:
    """The clock's settings: silence that interrupts, an interruption that ends, the slice reserved at a time."""
    heartbeat_timeout: float = 10.0
    resume_limit: float = 300.0
    reserve_slice: int = 60


class ProgrammingTime:
    """The workshop's programming seconds as a session sees them. The caller's implementation does the
    bookkeeping (a conditional update, so racing sessions never take more than was bought)."""

    def available(self):
        raise NotImplementedError

    def reserve(self, seconds):
        """Up to `seconds` more for this session; what was granted (0 when none is left)."""
        raise NotImplementedError

    def settle(self, released, charged):
        """The session's reservation (`released` seconds) ends; `charged` of it is spent for good."""
        raise NotImplementedError


class SettledTogether(ProgrammingTime):
    """One workshop's time for the timer's batch: its sessions' settlements added up and written in one update
    at the end (300 sessions of 30 workshops running out: 30 updates, not 300). What is available counts the
    settlements not yet written, and a reservation writes them first, so nothing is reserved that is not there."""

    def __init__(self, time):
        self.time, self.released, self.charged = time, 0, 0

    def available(self):
        return self.time.available() + self.released - self.charged

    def reserve(self, seconds):
        if self.available() <= 0:
            return 0
        self.write()
        return self.time.reserve(seconds)

    def settle(self, released, charged):
        self.released, self.charged = self.released + released, self.charged + charged

    def write(self):
        if self.released or self.charged:
            self.time.settle(self.released, self.charged)
            self.released = self.charged = 0


class ProgrammingSession:
    """A programming session's state, checklist, plan and clock; each method is one transition."""

    def __init__(self, **values):
        for name, value in values.items():
            setattr(self, name, value)

    @classmethod
    def open(cls, id, operator_id, user_id, agent_id, vin, now):
        """Pre-flight begins with the clock stopped: the agent is asked to read the car, the plan follows."""
        return cls(id=id, operator_id=operator_id, user_id=user_id, agent_id=agent_id, vin=vin, state="preflight",
                   preflight={k: False for k in CHECKLIST}, plan=[], created_at=now, active_seconds=0.0,
                   reserved_seconds=0, paid_by=None, started_at=None, ended_at=None, clock_mark=None,
                   last_heartbeat_at=None, interrupted_at=None, flashing=False, in_grace=False, outcome=None,
                   failure_side=None, seconds_billed=None, message=None)

    # ---- the clock ----

    def require(self, *states, action):
        if self.state not in states:
            raise Conflict("SESSION_STATE", f"The session is {self.state}; {action} needs it "
                           f"{' or '.join(states)}.", {"state": self.state, "allowed": list(states)})

    def counted(self, now, rules):
        """Seconds used so far: what was counted, plus the time since, as long as the agent's heartbeats keep
        coming (never past the last heartbeat's timeout)."""
        if self.state != "running" or self.clock_mark is None:
            return self.active_seconds
        alive_until = self.last_heartbeat_at + timedelta(seconds=rules.heartbeat_timeout)
        return self.active_seconds + max(0.0, (min(now, alive_until) - self.clock_mark).total_seconds())

    def left(self, now, rules, available):
        """Paid seconds left: the rest of the reservation and what the workshop has not reserved; none for a pass."""
        if self.paid_by == "vin_pass":
            return None
        return max(0, self.reserved_seconds - self.counted(now, rules)) + max(0, available)

    def _accrue(self, now, rules):
        now = self._later(now)
        self.active_seconds = self.counted(now, rules)
        self.clock_mark = now

    def _later(self, now):
        """A request handled after a later one (two replicas, two workers: `now` is read before the row lock)
        never moves the clock back: no moment before one the session has counted to already."""
        return max([now] + [m for m in (self.clock_mark, self.last_heartbeat_at, self.started_at) if m is not None])

    def _close(self, now, outcome, side, message=None):
        """The end of a session whose clock never ran: nothing to bill."""
        self.state, self.outcome, self.failure_side, self.ended_at = "ended", outcome, side, now
        if message is not None:
            self.message = message
        return []

    def _settle(self, now, outcome, side, time, expired=False):
        """Close the books of a started session: bill whole seconds used (never more than reserved, nothing for
        our failures or a VIN pass), give back the rest of the reservation, and say so in one fact."""
        used = billable(self.active_seconds)
        if self.paid_by == "time":
            used = min(used, self.reserved_seconds)
        charged = 0 if side == "platform" or self.paid_by != "time" else used
        if self.paid_by == "time":
            time.settle(self.reserved_seconds, charged)
        self.reserved_seconds = 0
        self.state = "expired" if expired else "ended"
        self.outcome, self.failure_side, self.ended_at, self.seconds_billed = outcome, side, now, charged
        self.flashing = False
        facts = {"session_id": self.id, "operator_id": self.operator_id, "vin": self.vin, "seconds_used": used}
        measured = {"seconds_active": self.active_seconds, "seconds_billed": charged}
        if expired:
            self.message = ("Programming session timeout: the paid programming time is used up. Buy a programming "
                            "pack and open a new session to go on.")
            return [Fact("SessionExpired", facts | {"expired_at": now}, measured)]
        return [Fact("SessionEnded", facts | {"outcome": outcome, "failure_side": side, "ended_at": now}, measured)]

    def _expire(self, now, time):
        """Paid time is used up: the clock is capped at what was reserved."""
        lag = max(0.0, self.active_seconds - self.reserved_seconds)
        self.active_seconds = min(self.active_seconds, self.reserved_seconds)
        facts = self._settle(now, "cancelled", "none", time, expired=True)
        facts[0].measured["expiry_lag"] = lag
        return facts

    def _keep_paid(self, now, rules, time):
        """Reserve the next slice before the current one is used up; with none left, a flash in progress finishes
        (grace) and the session then stops; otherwise it stops now."""
        if self.paid_by != "time" or self.state != "running":
            return []
        used = self.counted(now, rules)
        if used < self.reserved_seconds - 1:
            return []
        more = time.reserve(rules.reserve_slice)
        if more:
            self.reserved_seconds += more
            self.in_grace = False
            return []
        if used < self.reserved_seconds:
            return []
        if self.flashing:
            if not self.in_grace:
                self.in_grace = True
                self.message = ("Paid programming time is used up; the ECU being written finishes first (at no "
                                "charge), then the session stops. A top-up now lets it go on.")
            return []
        self._accrue(now, rules)
        return self._expire(now, time)

    # ---- the workshop's side ----

    def start(self, paid_by, time, now, rules, security_job=None):
        """The clock starts: paid by a VIN pass for the car, or from programming time reserved a slice at a time;
        only on a plan whose every step the server will answer (admit)."""
        self.require("ready", action="starting")
        self.admit(security_job)
        if paid_by == "time":
            got = time.reserve(rules.reserve_slice)
            if got == 0:
                raise no_programming_time()
            self.reserved_seconds = got
        self.paid_by, self.state = paid_by, "running"
        self.started_at = self.clock_mark = self.last_heartbeat_at = now
        return [Fact("SessionStarted", {"session_id": self.id, "operator_id": self.operator_id, "vin": self.vin,
                                        "agent_id": self.agent_id, "started_at": now})]

    def end(self, now, rules, time):
        """The user closes the session: what ran is billed, the rest of the reservation goes back."""
        now = self._later(now)
        self.require(*LIVE, action="ending")
        if self.state not in CLOCKED:
            return self._close(now, "cancelled", None)
        self._accrue(now, rules)
        done = all(step["status"] == "done" for step in self.plan)
        return self._settle(now, "completed" if done else "cancelled", "none", time)

    # ---- the agent's side ----

    def agent_connected(self):
        if not self.preflight["agent_connected"]:
            self.preflight = self.preflight | {"agent_connected": True}

    def next_job(self):
        """What the agent should do now: read the car, download and verify the plan's files, flash, or nothing."""
        if self.state == "preflight" and not self.preflight["ecus_read"]:
            return "preflight"
        if self.state == "preflight" and not self.preflight["binaries_verified"]:
            return "download"
        if self.state in CLOCKED:
            return "flash"
        return "none"

    def heartbeat(self, now, rules, time, progress=None):
        """The agent is alive: the clock counts up to now; an interrupted session resumes; more time is reserved
        when the reservation runs low."""
        now = self._later(now)
        if self.state == "interrupted":
            self.state, self.clock_mark, self.interrupted_at = "running", now, None
        elif self.state == "running":
            self._accrue(now, rules)
        if self.state != "running":
            return []
        self.last_heartbeat_at = now
        if progress:
            self._step(progress["ecu_address"], bytes_done=progress["bytes_done"])
        return self._keep_paid(now, rules, time)

    def read_vehicle(self, reading, registry, now):
        """The pre-flight reading, each ECU held against the registry's record of the car (checked_readings, which
        refuses a contradiction by name): True when the plan can be computed, else the session ends on the car's
        side."""
        self.require("preflight", action="a pre-flight report")
        ecus = checked_readings(reading["ecus"], registry)
        checks = dict(self.preflight, ecus_read=True, battery_ok=reading["voltage_mv"] >= MIN_BATTERY_MV,
                      vin_matches=reading["vin"] == self.vin)
        self.preflight = checks | {"voltage_mv": reading["voltage_mv"], "ecus": ecus}
        if not checks["vin_matches"]:
            self._close(now, "failed", "vehicle", f"The agent is connected to {reading['vin']}, not {self.vin}.")
            return False
        if not checks["battery_ok"]:
            self._close(now, "failed", "vehicle", f"Battery at {reading['voltage_mv'] / 1000:.1f} V: connect a "
                        f"charger ({MIN_BATTERY_MV / 1000:.1f} V at least) and open the session again.")
            return False
        return True

    def plan_with(self, packages, security_job, now):
        """The plan: what the workshop may do, decided before the clock. A step whose ECU needs a SERMI security job
        is in only with one open on the car (`security_job`, its id, or None); without, it is left out with the
        reason in words and the rest is still programmed. Nothing to do ends the session at once."""
        steps = plan(self.preflight["ecus"], packages)
        waiting = [s for s in steps if s["needs_security_job"] and security_job is None]
        self.plan = [s | {"security_job_id": security_job if s["needs_security_job"] else None}
                     for s in steps if s not in waiting]
        self.preflight = self.preflight | {"plan_computed": True, "left_out": [left_out(s) for s in waiting]}
        if waiting:
            self.message = (f"Left out of this plan: {names(waiting)}, theft-relevant, need a SERMI security job on "
                            "this car. Link SERMI and open a security job, then open a new session to include "
                            f"{'it' if len(waiting) == 1 else 'them'}" + ("; the rest can be programmed now."
                                                                          if self.plan else "."))
        if not self.plan:
            if waiting:
                self._close(now, "cancelled", None)
            else:
                self._close(now, "completed", None, "Every ECU runs its target software already: nothing to program.")

    def admit(self, security_job):
        """No session starts on a plan the server would refuse a step of: each step that needs a SERMI security job
        is bound to one open on the car now (`security_job`, its id, or None)."""
        needing = [s for s in self.plan if s.get("needs_security_job")]
        if needing and security_job is None:
            raise Conflict("SECURITY_JOB_REQUIRED", f"The plan holds {names(needing)}, theft-relevant: programming "
                           "needs a SERMI security job open on this car, and none is open now (a job closes with "
                           "the sign-in at the trust centre, after 15 minutes). Open a security job again and "
                           "start, or end this session and open a new one, which leaves them out.",
                           {"field": "session_id", "ecus": [s["ecu_address"] for s in needing]})
        self.plan = [s | {"security_job_id": security_job} if s.get("needs_security_job") else s for s in self.plan]

    def files_verified(self, package_ids):
        self.require("preflight", action="verified files")
        if not self.preflight["plan_computed"]:
            raise Conflict("PLAN_NOT_READY", "The plan is not computed yet: report the pre-flight reading first.", {})
        missing = {step["package_id"] for step in self.plan} - set(package_ids)
        if missing:
            raise invalid_field("FILES_MISSING", "package_ids", "every_file_of_the_plan",
                                f"Verify every file of the plan; missing: {', '.join(sorted(missing))}.")
        self.preflight = self.preflight | {"binaries_verified": True}
        self.state = "ready"
        return []

    def file_rejected(self, package_id, check, confirmed, now, rules, time):
        """A file of ours failed its check on the agent: nothing touched the car. Ours only if the server
        `confirmed` the stored file is bad (claim_message)."""
        now = self._later(now)
        if package_id not in {step["package_id"] for step in self.plan}:
            raise invalid_field("FILE_NOT_IN_PLAN", "package_id", "in_the_plan",
                                f"{package_id} is not a file of this session's plan.")
        self.preflight = self.preflight | {"binaries_verified": False}
        side, message = failure_side(check, confirmed), claim_message(package_id, check, confirmed)
        if self.state not in CLOCKED:
            return self._close(now, "failed", side, message)
        self._accrue(now, rules)
        self.message = message
        return self._settle(now, "failed", side, time)

    def _step(self, address, **changes):
        self.plan = [step | changes if step["ecu_address"] == address else step for step in self.plan]

    def step_of(self, address):
        found = next((step for step in self.plan if step["ecu_address"] == address), None)
        if found is None:
            raise invalid_field("ECU_NOT_IN_PLAN", "ecu_address", "in_the_plan",
                                f"ECU {address} is not in this session's plan.")
        return found

    def claimed_package(self, report):
        """The package of this plan an agent's report says a check of ours failed for, or None for any other
        report (and for a file outside the plan, which file_rejected refuses by name)."""
        if report["kind"] == "file_rejected":
            planned = {step["package_id"] for step in self.plan}
            return report["package_id"] if report["package_id"] in planned else None
        if report["kind"] == "flash_failed" and report["cause"] in PLATFORM_CAUSES:
            return self.step_of(report["ecu_address"])["package_id"]
        return None

    def key_type(self, address):
        """The ECU type (hardware part number) a security key may be answered for: only an ECU of this car in the
        running session's plan, not yet flashed, as the registry records it (checked at pre-flight: the ECU's own
        answer matched it). A theft-relevant ECU's key also needs the security job its step was started under."""
        self.require("running", action="a security key")
        step = self.step_of(address)
        if step["status"] == "done":
            raise Conflict("ECU_ALREADY_FLASHED", f"ECU {address} is flashed already: it needs no key in this "
                           "session.", {"field": "ecu_address"})
        ecu = self.ecu(address)
        if ecu.get("theft_relevant", is_theft_relevant(ecu.get("name", ""))) and not step.get("security_job_id"):
            raise Forbidden("SECURITY_JOB_REQUIRED", f"ECU {address} ({ecu.get('name')}) is theft-relevant: its "
                            "security access needs the SERMI security job the session was started under.",
                            {"field": "ecu_address"})
        return ecu["hardware_part_number"]

    def ecu(self, address):
        """The pre-flight's checked record of the ECU at `address` (one per address)."""
        return next(e for e in self.preflight["ecus"] if e["address"] == address)

    def refused(self, message, side, now, rules, time):
        """The server refused the agent a step of this session: final. The session ends with the refusal in words;
        a started one bills what ran, nothing when the refusal is ours (`side` "platform": the server refused a
        step of the plan it made itself)."""
        now = self._later(now)
        if self.state not in LIVE:
            return []
        message = (f"{message} AOS refused the agent this step: the session ended and the agent stopped. "
                   + ("This is on our side: nothing is charged." if side == "platform" else
                      "What ran before is charged."))[:500]
        if self.state not in CLOCKED:
            return self._close(now, "failed", side, message)
        self._accrue(now, rules)
        self.message = message
        return self._settle(now, "failed", side, time)

    def stopped(self, message, now, rules, time):
        """The workshop's user who opened the session can no longer act (deactivated): the clock stops now, what ran
        is billed, nothing after; a session not started ends unbilled."""
        now = self._later(now)
        if self.state not in LIVE:
            return []
        if self.state not in CLOCKED:
            return self._close(now, "cancelled", None, message)
        self._accrue(now, rules)
        self.message = message
        return self._settle(now, "cancelled", "none", time)

    def flash_started(self, address):
        self.require("running", action="flashing")
        self.step_of(address)
        self.flashing = True
        self._step(address, status="flashing")
        return []

    def flash_completed(self, address, software_version, duration_seconds, now, rules, time):
        now = self._later(now)
        self.require(*CLOCKED, action="a flash result")
        step = self.step_of(address)
        self._step(address, status="done", software_version=software_version)
        self.flashing = False
        facts = [Fact("FlashCompleted", {"session_id": self.id, "operator_id": self.operator_id, "vin": self.vin,
                                         "ecu_address": address, "software_version": software_version,
                                         "duration_seconds": duration_seconds},
                      {"bytes": step["size"], "seconds": duration_seconds})]
        self._accrue(now, rules)
        if all(s["status"] == "done" for s in self.plan):
            return facts + self._settle(now, "completed", "none", time)
        if self.in_grace:
            return facts + self._expire(now, time)
        return facts

    def flash_failed(self, address, cause, detail, confirmed, now, rules, time):
        """`confirmed`: for a cause about our file, whether the server found the stored file bad."""
        now = self._later(now)
        self.require(*CLOCKED, action="a flash result")
        step = self.step_of(address)
        side = failure_side(cause, confirmed)
        self._step(address, status="failed", cause=cause)
        facts = [Fact("FlashFailed", {"session_id": self.id, "operator_id": self.operator_id, "vin": self.vin,
                                      "ecu_address": address, "cause": cause, "failure_side": side})]
        self._accrue(now, rules)
        self.message = f"ECU {address}: {detail or cause}. " + (
            claim_message(step["package_id"], cause, confirmed) if cause in PLATFORM_CAUSES else
            "The ECU can be programmed again in a new session.")
        return facts + self._settle(now, "failed", side, time)

    def agent_revoked(self, now, rules):
        """The workshop revoked this session's agent: a running clock stops at once (the session is interrupted
        and ends at the resume limit, billing what ran); a session not started yet ends, unbilled."""
        now = self._later(now)
        message = "The agent was revoked: it can no longer act for this session."
        if self.state == "running":
            self._accrue(now, rules)
            self.clock_mark = None
            self.state, self.interrupted_at, self.message = "interrupted", now, message
            return []
        if self.state in ("preflight", "ready"):
            return self._close(now, "cancelled", None, message)
        return []

    # ---- the timer ----

    def due(self, now, rules, available=1):
        """Whether the timer must look at this session: silent, given up, or near the end of its paid time with
        more to reserve (`available` seconds the workshop has not reserved), or at its end. A session near its end
        with nothing more to reserve waits for the end: the timer does not lock it four times a second for
        nothing (300 sessions of 30 workshops running out together would hold up their heartbeats)."""
        if self.state == "interrupted":
            return self.interrupted_at <= now - timedelta(seconds=rules.resume_limit)
        if self.state != "running":
            return False
        if self.last_heartbeat_at <= now - timedelta(seconds=rules.heartbeat_timeout):
            return True
        if self.paid_by != "time":
            return False
        used = self.counted(now, rules)
        return used >= self.reserved_seconds or (used >= self.reserved_seconds - 1 and available > 0)

    def watch(self, now, rules, time):
        """Silence interrupts a running session (its clock stops at the last heartbeat); an interruption past
        the resume limit ends it; paid time running out expires it (after the flash in progress)."""
        now = self._later(now)  # the timer read its moment before a heartbeat took the row lock
        if self.state == "running" and self.last_heartbeat_at <= now - timedelta(seconds=rules.heartbeat_timeout):
            self.clock_mark = None  # counted up to the last heartbeat: the silence is not billed
            self.state, self.interrupted_at = "interrupted", now
            return []
        if self.state == "interrupted" and self.interrupted_at <= now - timedelta(seconds=rules.resume_limit):
            self.message = "The agent stayed silent past the resume limit: the session ended."
            return self._settle(now, "failed", "vehicle", time)
        if self.state == "running":
            return self._keep_paid(now, rules, time)
        return []


# ---- security-related work (SERMI) --------------------------------------------------------------------------------

def task_report_refusal(kind, outcome, granted):
    """Why an agent's report on a security task is not taken (None when it is): done only where AOS opened the car
    for it (`granted`: the security key for a key, the unlock token for a gateway), since neither can be done
    without."""
    if outcome != "done" or granted:
        return None
    what = {"program_key": "no security key for the immobiliser", "pair_ecu": "no pairing token for the unit"}.get(
        kind, "no unlock token for the gateway")
    return Conflict("TASK_NOT_GRANTED", f"The agent reported the task done, but AOS gave {what} in it: it cannot "
                    "have been done. The task is recorded failed.", {"field": "outcome", "final": True})


def document_hash(salt, number):
    """An ID document's number as the trail keeps it: a salted SHA-256 of its letters and digits, upper case."""
    compact = "".join(ch for ch in number.upper() if ch.isalnum())
    return hashlib.sha256(f"{salt}:{compact}".encode()).hexdigest()


# ---- diagnosis and the job card -----------------------------------------------------------------------------------

DIAGNOSTICIANS = PROGRAMMERS  # who opens jobs and diagnoses: technicians and owners
from services.programming.schemas import RUN_KINDS  # noqa: E402,F401  (the contract's words, the domain's rules)
# work on what the car's units hold (coding, a replacement's backup and restore): paid as programming is
CODING_RUNS = ("read_coding", "write_coding", "backup_ecu", "restore_ecu")
RUN_FINAL = ("done", "failed", "interrupted", "cancelled")
RUN_SECONDS = {"quick_test": 60, "routine": 30, "clear": 30,  # reserved for a run; live data: its length + 10
               "read_coding": 60, "write_coding": 120, "backup_ecu": 60, "restore_ecu": 120}
LIVE_MAX_SECONDS, LIVE_MAX_RATE, LIVE_MAX_IDENTIFIERS = 300, 20.0, 16
QUEUE_SECONDS = 600  # a run no agent took in this long is cancelled, its reservation given back
MAX_OPERATIONS = 30


def require_diagnostician(actor):
    if actor.get("role") not in DIAGNOSTICIANS:
        raise Forbidden("ROLE_NOT_ALLOWED", "Jobs and diagnosis are for technicians and owners.",
                        {"role": actor.get("role")})


def no_diagnosis_time():
    return PaymentRequired("DIAGNOSIS_TIME_REQUIRED", "Your workshop has no remote-diagnosis time left and no VIN "
                           "pass for this car: buy diagnosis time or a VIN day pass.", {"scope": "diagnosis"})


# what each kind of run needs besides its kind
RUN_FIELDS = {"quick_test": (), "clear": (), "live_data": ("ecu_address", "identifiers", "rate", "seconds"),
              "routine": ("ecu_address", "routine"), "read_coding": (), "write_coding": (),
              "backup_ecu": ("ecu_address",), "restore_ecu": ("ecu_address",)}


def run_scope(kind):
    """What pays a run besides a VIN pass: programming time for coding, remote-diagnosis time for the rest."""
    return "programming" if kind in CODING_RUNS else "diagnosis"
LABOUR = "Labour time"  # the data item of a repair instruction that states its labour time, in hours
MAX_SAMPLES = 3000  # live data kept per run: 5 minutes at 10 a second


def run_params(kind, payload):
    """The fields a run of `kind` takes, each of them required."""
    params = {name: payload.get(name) for name in RUN_FIELDS[kind]}
    for name, value in params.items():
        if value is None:
            raise invalid_field("FIELD_REQUIRED", name, "required_for_kind", f"A {kind} run needs {name}.")
    return params


def labour_hours(document, field):
    """A repair instruction's labour time, from the document itself (never from the client)."""
    stated = next((item["value"] for item in document["body"].get("data", []) if item["item"] == LABOUR), None)
    try:
        hours = float(stated)
    except (TypeError, ValueError):
        hours = None
    if hours is None or not 0 < hours < 1000:
        raise invalid_field("NO_LABOUR_TIME", field, "document_with_labour_time",
                            f"{document['id']} states no labour time in hours: pick a repair instruction.")
    return hours


def run_seconds(kind, params):
    """What a run may take of paid time at most: its reservation."""
    if kind == "live_data":
        return int(params["seconds"]) + 10
    return RUN_SECONDS[kind]


class DiagnosisRun:
    """One piece of diagnosis at the car (a quick test, live data, a routine, a clear) and its clock: it runs from
    when the agent takes the run to its last word (a report, a batch of samples, a heartbeat), never across a
    silence, never past what was reserved for it; a VIN pass pays no seconds."""

    def __init__(self, **values):
        for name, value in values.items():
            setattr(self, name, value)

    @classmethod
    def queue(cls, id, job, kind, params, paid_by, reserved, now):
        return cls(id=id, job_id=job.id, operator_id=job.operator_id, agent_id=job.agent_id, vin=job.vin,
                   kind=kind, params=params, state="queued", paid_by=paid_by, reserved_seconds=reserved,
                   result=None, samples=[], detail=None, created_at=now, started_at=None, last_contact_at=None,
                   finished_at=None, seconds_used=None)

    def take(self, now):
        if self.state == "queued":
            self.state, self.started_at, self.last_contact_at = "running", now, now

    def budget_left(self, now):
        """Seconds of the reservation left (None for a pass): live data stops when none is left."""
        if self.paid_by != "time" or self.started_at is None:
            return None
        return max(0.0, self.reserved_seconds - (now - self.started_at).total_seconds())

    def contact(self, now):
        """The agent was heard for this run: the clock counts up to now (within the reservation)."""
        self.require_running()
        self.last_contact_at = max(now, self.last_contact_at)  # a word read earlier never moves the clock back

    def sampled(self, samples, now):
        """A batch of live data from the agent: kept (the newest MAX_SAMPLES), the clock counts to now."""
        if self.kind != "live_data":
            raise Conflict("NOT_LIVE_DATA", f"This run is a {self.kind}: it takes no live data.", {"kind": self.kind})
        self.contact(now)
        self.samples = (self.samples + samples)[-MAX_SAMPLES:]

    def require_running(self):
        if self.state != "running":
            raise Conflict("RUN_NOT_RUNNING", f"This diagnosis run is {self.state}.", {"state": self.state})

    def finish(self, outcome, result, detail, now, time):
        """The agent's report: the run is done (or failed at the car) and billed what it used."""
        self.require_running()
        self.last_contact_at = max(now, self.last_contact_at)
        self.result, self.detail = result, detail
        return self._settle(outcome, now, time)

    def _settle(self, outcome, now, time):
        used = 0
        if self.started_at is not None:
            used = billable((self.last_contact_at - self.started_at).total_seconds())
        charged = min(used, self.reserved_seconds) if self.paid_by == "time" else 0
        if self.paid_by == "time":
            time.settle(self.reserved_seconds, charged)
        self.state, self.finished_at, self.seconds_used, self.reserved_seconds = outcome, now, charged, 0
        return [Fact("DiagnosisRunEnded", {"run_id": self.id, "job_id": self.job_id, "operator_id": self.operator_id,
                                           "vin": self.vin, "kind": self.kind, "outcome": outcome,
                                           "time": run_scope(self.kind), "paid_by": self.paid_by,
                                           "seconds_used": charged, "ended_at": now},
                     {"seconds": charged})]

    def stopped(self, detail, now, time):
        """The user who opened its job can no longer act (deactivated): a queued run is cancelled unbilled, a
        running one stops, billed up to the agent's last word and nothing after."""
        if self.state not in ("queued", "running"):
            return []
        self.detail = detail
        return self._settle("cancelled", now, time)

    def due(self, now, rules):
        if self.state == "queued":
            return (now - self.created_at).total_seconds() >= QUEUE_SECONDS
        return self.state == "running" and (
            (now - self.last_contact_at).total_seconds() >= rules.heartbeat_timeout)

    def watch(self, now, rules, time):
        """Silence interrupts a run (the clock stopped at the agent's last word; the job keeps what came); a run
        no agent took is cancelled, unbilled."""
        if not self.due(now, rules):
            return []
        if self.state == "queued":
            self.detail = "No agent took this run: it was cancelled and nothing is charged."
            return self._settle("cancelled", now, time)
        self.detail = "The agent went silent: the run stopped, its clock at the agent's last word."
        return self._settle("interrupted", now, time)


def _digits(written):
    return written.replace(" ", "") if written else None


def restore_problems(params, unit):
    """What the new unit's read-back says it does not hold of what the restore wrote, in words ([] when whole)."""
    problems = [] if unit.get("vin") == params["vin"] else [f"the VIN reads {unit.get('vin') or 'blank'}"]
    for identifier, values in params["coding"].items():
        held = (unit.get("coding") or {}).get(identifier) or {}
        problems += [f"{identifier}.{p} reads {held.get(p)!r}, not {v!r}" for p, v in values.items()
                     if held.get(p) != v]
    held = unit.get("adaptations") or {}
    return problems + [f"{name} reads {held.get(name)!r}, not {value!r}"
                       for name, value in params["adaptations"].items() if held.get(name) != value]


class JobCard:
    """A car's job: the complaint and odometer, the fault memory before and after the repair, the operations
    picked with their labour times, the estimate; closing it writes the service record."""

    def __init__(self, **values):
        for name, value in values.items():
            setattr(self, name, value)

    @classmethod
    def open(cls, id, actor, vin, agent_id, complaint, odometer_km, labour_rate_cents, vat_country, ecus, now):
        return cls(id=id, operator_id=actor["operator_id"], user_id=actor["user_id"], vin=vin, agent_id=agent_id,
                   complaint=complaint, odometer_km=odometer_km, labour_rate_cents=labour_rate_cents,
                   vat_country=vat_country, state="open", ecus=ecus, before=None, after=None, cleared_at=None,
                   operations=[], parts=[], opened_at=now, closed_at=None, service_record_id=None, report_key=None,
                   coding=None, replacements=None)

    def require_open(self):
        if self.state != "open":
            raise Conflict("JOB_CLOSED", "This job is closed: open a new one for more work on the car.",
                           {"state": self.state})

    def tested(self, fault_memory):
        """A quick test's result: the fault memory before the repair, or after it once the memory was cleared."""
        if self.cleared_at is None:
            self.before = fault_memory
        else:
            self.after = fault_memory

    def require_ecu(self, address):
        if address not in {e["address"] for e in self.ecus}:
            raise invalid_field("ECU_NOT_IN_CAR", "ecu_address", "an_ecu_of_the_car", f"The car has no ECU {address}.")

    def require_tested(self):
        """A job closes on a record of the car: its fault memory as found, the coding it read, or a unit it
        backed up or restored."""
        if self.before is None and self.coding is None and not self.replacements:
            raise Conflict("QUICK_TEST_FIRST", "Run a quick test (or read the coding) before closing: the job "
                           "records the car as found.", {"field": "job_id"})

    def cleared(self, now):
        if self.before is None:
            raise Conflict("QUICK_TEST_FIRST", "Run a quick test before clearing: the fault memory as found is "
                           "part of the job's record.", {"field": "kind"})
        self.cleared_at, self.after = now, None

    def choose(self, operations):
        self.require_open()
        self.operations = operations

    def parts_wanted(self):
        """The job's parts as the catalogue is asked to price them: [{number, quantity}]."""
        return [{"number": line.get("asked_number") or line["number"], "quantity": line["quantity"]}
                for line in self.parts]

    def brought(self, operations):
        """The parts the operations' repair instructions use, for the lines the job does not hold yet (what the
        technician put on the job stays as they put it)."""
        held = {line["number"] for line in self.parts} | {line.get("asked_number") for line in self.parts}
        lines = []
        for operation in operations:
            for used in operation.get("parts", []):
                if used["number"] not in held:
                    held.add(used["number"])
                    lines.append({"number": used["number"], "quantity": used["quantity"],
                                  "document_id": operation["document_id"]})
        return lines

    def put_part(self, number, asked, quantity):
        """A part put on the job at this quantity (again: the quantity changes; a line of the number it
        superseded, `asked`, becomes this one); the lines as the catalogue is to price them."""
        self.require_open()
        same = {number, asked}
        wanted = [w for w, line in zip(self.parts_wanted(), self.parts)
                  if line["number"] not in same and line.get("asked_number") not in same]
        return wanted + [{"number": asked, "quantity": quantity}]

    def priced(self, quote, sources=None):
        """The job's parts as the catalogue priced them (a line keyed by the current number; `sources`: where a
        number as asked came from, an operation's document)."""
        self.require_open()
        sources = sources or {}
        before = {}  # the operation a line came from, by its number and the number it was asked as
        for line in self.parts:
            before[line["number"]] = before[line.get("asked_number") or line["number"]] = line.get("document_id")
        merged = {}
        for line in quote["lines"]:  # two numbers that lead to one part are one line
            asked = _digits(line.get("asked")) or line["number"]
            held = merged.get(line["number"])
            if held is not None:
                line = line | {key: held[key] + line[key] for key in ("quantity", "net_cents", "vat_cents",
                                                                      "gross_cents")}
            merged[line["number"]] = line | {"asked_number": asked, "document_id": sources.get(
                asked, before.get(asked, before.get(line["number"])))}
        self.parts = list(merged.values())

    def unpriced(self, lines):
        """Parts the catalogue would not price for the workshop (no parts access): kept by number, unpriced."""
        self.require_open()
        held = {line["number"] for line in self.parts}
        self.parts = self.parts + [{"number": line["number"], "asked_number": line["number"], "name": None,
                                    "quantity": line["quantity"], "unit_net_cents": None, "net_cents": None,
                                    "vat_cents": None, "gross_cents": None, "document_id": line.get("document_id")}
                                   for line in lines if line["number"] not in held]

    def estimate(self):
        """Labour (the operations' hours at the job's rate) and parts (as the catalogue priced them), each with the
        VAT of the workshop's country, and their sums."""
        hours = sum((Decimal(str(o["hours"])) for o in self.operations), Decimal(0))
        net = int((hours * self.labour_rate_cents).to_integral_value(ROUND_HALF_UP))
        labour = price(net, self.vat_country, self.vat_country, None)
        priced = [line for line in self.parts if line.get("net_cents") is not None]
        parts_net = sum(line["net_cents"] for line in priced)
        parts_vat = sum(line["vat_cents"] for line in priced)
        return {"hours": float(hours), "labour_rate_cents": self.labour_rate_cents,
                "labour_net_cents": labour.net_cents, "parts_net_cents": parts_net,
                "parts_unpriced": len(self.parts) - len(priced), "vat_rate": str(labour.vat_rate),
                "net_cents": labour.net_cents + parts_net, "vat_cents": labour.vat_cents + parts_vat,
                "gross_cents": labour.gross_cents + parts_net + parts_vat}

    def close(self, record_id, report_key, now):
        self.require_open()
        self.require_tested()
        self.state, self.closed_at, self.service_record_id, self.report_key = "closed", now, record_id, report_key
        return [Fact("JobClosed", {"job_id": self.id, "operator_id": self.operator_id, "user_id": self.user_id,
                                   "vin": self.vin, "service_record_id": record_id,
                                   "gross_cents": self.estimate()["gross_cents"], "closed_at": now})]

    def work_items(self):
        """The service record's items: the diagnosis, each operation by its document, the coding written."""
        found = sorted({d["code"] for ecu in self.before or [] for d in ecu.get("dtcs", [])})
        items = [{"code": "DIAGNOSIS", "text": (f"{self.complaint} — found: {', '.join(found)}" if found
                                                 else f"{self.complaint} — no fault stored")[:500]}]
        items += [{"code": "REPAIR", "text": f"{o['title']} ({o['hours']} h)"[:500]} for o in self.operations]
        items += self.replacement_items()
        written = [c for w in (self.coding or {}).get("written", []) for c in w["changes"] if c["verified"]]
        if written:
            items.append({"code": "CODING", "text": ("Coded to the vehicle order: " + "; ".join(
                f"{c['ecu'].split(' ')[0]} {c['label']}: {c['from']} → {c['to']}" for c in written))[:500]})
        return items

    # ---- coding: what was read, the target, what differs, what was written (services.programming.coding) ----

    def coding_read(self, run_id, actual, wanted, changes, order_version, now):
        self.coding = {"state": "read", "run_id": run_id, "read_at": now.isoformat(), "order_version": order_version,
                       "actual": actual, "target": wanted, "differences": changes,
                       "written": (self.coding or {}).get("written", [])}

    def coding_state(self, run_state):
        """read | writing | unverified (a write that did not end with its read-back: what the ECUs hold is not
        known until read again) | None (never read)."""
        if self.coding is None:
            return None
        if self.coding["state"] == "writing" and run_state in RUN_FINAL:
            return "unverified"
        return self.coding["state"]

    def coding_writes(self, order_version, run_state):
        """What a write run writes: each identifier with a difference, with all its target values. Refused in
        words: the coding not read (or not read back since a write), the order changed since, nothing differs."""
        state = self.coding_state(run_state)
        if state != "read":
            raise Conflict("CODING_NOT_READ", "Read the car's coding first: what its ECUs hold is never assumed"
                           + (" (the last write did not end with a read-back)." if state == "unverified" else "."),
                           {"state": state})
        if self.coding["order_version"] != order_version:
            raise Conflict("CODING_STALE", "The car's order changed since its coding was read (a retrofit): read "
                           "the coding again for the new target.", {"read_for": self.coding["order_version"],
                                                                    "order_version": order_version})
        if not self.coding["differences"]:
            raise Conflict("CODING_MATCHES", "The car's coding already matches its order: nothing is written.",
                           {"state": state})
        wanted = sorted({(d["ecu_address"], d["identifier"]) for d in self.coding["differences"]})
        return [{"ecu_address": a, "identifier": i, "values": self.coding["target"][a][i]} for a, i in wanted]

    def coding_writing(self, run_id):
        self.coding = {**self.coding, "state": "writing", "run_id": run_id}

    def coding_written(self, run_id, results, now):
        """A write run's report: what each ECU read back becomes what it holds (one not read back is unknown
        until read again); each change is verified against the read-back. Returns the changes."""
        actual = {a: dict(v) for a, v in self.coding["actual"].items()}
        changes, complete = [], True
        for result in results:
            address, identifier = result["address"], result["identifier"]
            before = [d for d in self.coding["differences"]
                      if d["ecu_address"] == address and d["identifier"] == identifier]
            back = result.get("read_back")
            if back is None:
                complete = False
                actual.get(address, {}).pop(identifier, None)
            else:
                actual.setdefault(address, {})[identifier] = back
            changes += [d | {"verified": back is not None and back.get(d["parameter"]) == d["to"],
                             "detail": result.get("error")} for d in before]
        self.coding = {**self.coding, "state": "read" if complete else "unverified", "run_id": run_id,
                       "actual": actual,
                       "written": self.coding["written"] + [{"run_id": run_id, "at": now.isoformat(),
                                                             "changes": changes}]}
        return changes

    # ---- a unit replaced: backed up, swapped, restored (then, theft-relevant, paired in a SERMI security job) ----

    def backed_up(self, address, unit, now):
        self.replacements = {**(self.replacements or {}), address: {
            "state": "backed_up", "backup": unit, "backed_up_at": now.isoformat(), "restored": None}}

    def restore_params(self, address, vin, target):
        """What the restore writes into the new unit at `address`: the car's VIN, the old unit's coding and
        carried-over values from its backup, or, with no backup, the coding the order says (said so) and nothing
        carried over."""
        backup = ((self.replacements or {}).get(address) or {}).get("backup")
        if backup is None and not target:
            raise Conflict("NOTHING_TO_RESTORE", "This unit has no backup and no coding layout to restore it from.",
                           {"field": "ecu_address"})
        return {"ecu_address": address, "vin": vin,
                "coding": backup["coding"] if backup else target, "coding_from": "backup" if backup else "target",
                "adaptations": backup["adaptations"] if backup else {},
                "old_serial": backup["serial_number"] if backup else None}

    def restored(self, address, params, unit, now):
        """The restore's read-back, checked against what it was to write: the VIN, the coding, the carried-over
        values. Returns whether the new unit holds all of it."""
        problems = restore_problems(params, unit)
        entry = dict((self.replacements or {}).get(address) or {"backup": None, "backed_up_at": None})
        entry |= {"state": ("restored" if unit["paired"] is not False else "needs_pairing") if not problems else
                  "restore_incomplete", "restored": {k: unit[k] for k in (
                      "hardware_part_number", "software_version", "serial_number", "vin", "paired")},
                  "coding_from": params["coding_from"], "problems": problems, "restored_at": now.isoformat()}
        self.replacements = {**(self.replacements or {}), address: entry}
        return not problems

    def paired(self, address, now):
        """A replacement waiting to be paired was paired in a SERMI security job (UnitPaired)."""
        entry = (self.replacements or {}).get(address)
        if entry and entry["state"] == "needs_pairing":
            self.replacements = {**self.replacements, address: {
                **entry, "state": "restored", "restored": {**entry["restored"], "paired": True},
                "paired_at": now.isoformat()}}

    def replacement_items(self):
        out = []
        for address, r in sorted((self.replacements or {}).items()):
            if r.get("restored") is None:
                continue
            old = r["backup"]["serial_number"] if r.get("backup") else "unknown (no backup)"
            out.append({"code": "ECU_REPLACED", "text": (
                f"{address}: unit {r['restored']['hardware_part_number']} serial {r['restored']['serial_number']} "
                f"fitted (was serial {old}); coding from the {r['coding_from']}"
                + ("" if r["state"] == "restored" else f" — {r['state'].replace('_', ' ')}"))[:500]})
        return out

    def coding_failed(self):
        """A write run the agent reported failed: nothing it says of the ECUs is believed until read again."""
        self.coding = {**self.coding, "state": "unverified"}
