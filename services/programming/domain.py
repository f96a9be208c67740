"""Programming's rules in plain Python: who may program, which ECUs a car needs and in what order, whose fault
a failure was, and the clock."""
import math
from datetime import timedelta

from services.shared.errors import Conflict, Forbidden

STEP_UP_SECONDS = 15 * 60
PROGRAMMERS = ("owner", "technician")
BOOTLOADER = "BOOTLOADER"
# what the agent reports as the cause of a failed flash, and whose it is: a flash file we served that is not
# genuine, or could not be downloaded, is ours; everything the car answered or did is the vehicle's
PLATFORM_CAUSES = {"signature", "sha256", "size", "download"}
CAUSES = ("refused", "connection_lost", "timeout", "low_voltage", "verification_failed", "version_mismatch",
          *sorted(PLATFORM_CAUSES))
LIVE = ("preflight", "ready", "running", "interrupted")


def require_step_up(actor, now):
    """A technician or owner whose login passed the second factor within the last 15 minutes."""
    if actor.get("role") not in PROGRAMMERS:
        raise Forbidden("ROLE_NOT_ALLOWED", "Programming is for technicians and owners.", {"role": actor.get("role")})
    fresh = now.timestamp() - (actor.get("auth_time") or 0) <= STEP_UP_SECONDS
    if not (fresh and ({"otp", "rec"} & set(actor.get("amr") or ()))):
        raise Forbidden("STEP_UP_REQUIRED", "Programming needs a login with your second factor within the last "
                        "15 minutes: sign in again with your code, then start.", {"max_age_seconds": STEP_UP_SECONDS})


def failure_side(cause):
    return "platform" if cause in PLATFORM_CAUSES else "vehicle"


def plan(readout, packages):
    """Which installed ECUs need which package: for each ECU the car reported, the newest integration level's
    package that fits its hardware, if the ECU does not run it already (or sits in its bootloader); in the
    manufacturer's flash order."""
    steps = []
    for ecu in readout:
        fitting = [p for p in packages if p.ecu_address == ecu["address"]
                   and ecu["hardware_part_number"] in p.hardware_part_numbers]
        if not fitting:
            continue
        target = max(fitting, key=lambda p: p.integration_level)
        if target.software_version == ecu["software_version"] and ecu.get("state") != BOOTLOADER:
            continue
        steps.append({"ecu_address": ecu["address"], "package_id": target.id, "from_version": ecu["software_version"],
                      "to_version": target.software_version, "size": target.size, "sha256": target.sha256,
                      "flash_order": target.flash_order, "status": "pending"})
    return sorted(steps, key=lambda s: (s["flash_order"], s["ecu_address"]))


def require_state(session, *states, action):
    if session.state not in states:
        raise Conflict("SESSION_STATE", f"The session is {session.state}; {action} needs it "
                       f"{' or '.join(states)}.", {"state": session.state, "allowed": list(states)})


# ---- the clock --------------------------------------------------------------------------------------------------

def counted(session, now, heartbeat_timeout):
    """Seconds used so far: what was counted, plus the time since, as long as the agent's heartbeats keep
    coming (never past the last heartbeat's timeout)."""
    if session.state != "running" or session.clock_mark is None:
        return session.active_seconds
    alive_until = session.last_heartbeat_at + timedelta(seconds=heartbeat_timeout)
    return session.active_seconds + max(0.0, (min(now, alive_until) - session.clock_mark).total_seconds())


def billable(seconds):
    """Whole seconds, rounded half down: a session is billed what it used, never a second it did not."""
    return int(math.floor(seconds + 0.5 - 1e-9))
