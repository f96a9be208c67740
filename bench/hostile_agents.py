"""Fault campaign: a hostile agent fleet. The workshop runs its own agent, so the campaign plays agents that lie:
each brings a session to running with the car's true reading, lets the clock run, then claims a failure of ours
(signature, sha256, size, download) on a file that is intact, replays its reports, and asks security keys for
ECUs outside the plan and for other workshops' sessions. One car's sessions are paid with a VIN pass, claimed
failed, and opened again. Then one file of ours really is bad in the object store, and an honest claim about it
comes in.

Prints counts, per rule: seconds used but not billed (0), sessions a VIN pass paid beyond its one (0), keys
issued outside a plan (0), claims recorded (all), and how long the bad file took to be withdrawn after the
claim that confirmed it (within a second). Exits 1 if a rule fails.

    python -m bench.hostile_agents [--cars 4] [--database-url ...]
"""
import time
import uuid
from collections import Counter

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench import system, watcher
from bench.programming_faults import prepare
from deploy.ports import wait_for
from services.programming.domain import PLATFORM_CAUSES
from services.programming.models import Claim, IssuedKey, Package
from services.programming.use_cases import package_key
from services.shared import blobs
from services.shared.database import make_engine
from deploy import vehicles

SECONDS = 10800  # prog-180
CLOCK = 1.5  # seconds each hostile session's clock runs before its claim
STRANGER = "keys asked by another workshop's agent for these sessions, answered"


class Agent:
    """An agent over HTTP, played by the campaign: it says what it likes."""

    def __init__(self, base, user, name):
        body = requests.post(f"{base}/api/v1/agents", json={"name": name}, headers=user, timeout=30).json()
        self.base, self.id = base, body["id"]
        self.headers = {"Authorization": f"Agent {body['id']}:{body['credential']}"}

    def call(self, method, path, **body):
        return requests.request(method, f"{self.base}/api/v1/agents{path}", json=body or None,
                                headers=self.headers, timeout=30)


def running_session(base, user, agent, car):
    """A session brought to running with the car's true reading: its id and plan."""
    sid = requests.post(f"{base}/api/v1/programming/sessions", headers=user, timeout=30,
                        json={"vin": car["vin"], "agent_id": agent.id}).json()["id"]
    assert agent.call("GET", "/jobs").json()["kind"] == "preflight"
    reading = {"vin": car["vin"], "voltage_mv": 12700,
               "ecus": [{"address": e["address"], "software_version": "OLD", "state": "APPLICATION",
                         "hardware_part_number": e["hardware_part_number"]} for e in car["ecus"]]}
    agent.call("POST", f"/sessions/{sid}/report", sequence=1, kind="preflight", vehicle=reading).raise_for_status()
    files = agent.call("GET", "/jobs").json()["files"]
    agent.call("POST", f"/sessions/{sid}/report", sequence=2, kind="files_verified",
               package_ids=[f["package_id"] for f in files]).raise_for_status()
    started = requests.post(f"{base}/api/v1/programming/sessions/{sid}/start", headers=user, timeout=30)
    started.raise_for_status()
    return sid, started.json()


def lie(agent, sid, plan, cause, counts):
    """Run the clock, flash the first ECU, claim a failure of ours on the second; replay; ask keys outside."""
    time.sleep(CLOCK)
    agent.call("POST", f"/sessions/{sid}/heartbeat")
    first, second = plan[0]["ecu_address"], plan[1]["ecu_address"]
    for address in ("0x7E", "0x01", "0xF0"):
        counts["keys asked outside the plan"] += 1
        counts["  ... answered"] += agent.call("POST", f"/sessions/{sid}/security-key", ecu_address=address,
                                               seed="1a2b3c4d").status_code == 200
    agent.call("POST", f"/sessions/{sid}/report", sequence=3, kind="flash_started", ecu_address=first)
    agent.call("POST", f"/sessions/{sid}/report", sequence=4, kind="flash_completed", ecu_address=first,
               software_version=plan[0]["to_version"])
    claim = {"sequence": 5, "kind": "flash_failed", "ecu_address": second, "cause": cause, "detail": "it was you"}
    if cause != "download":  # the other shape of the same claim: the file refused before writing
        claim = {"sequence": 5, "kind": "file_rejected", "package_id": plan[1]["package_id"], "check": cause}
    answered = agent.call("POST", f"/sessions/{sid}/report", **claim)
    counts["claims of our failure made"] += answered.status_code == 200
    rewritten = {"sequence": 5, "kind": "flash_failed", "ecu_address": first, "cause": "signature"}
    for _ in range(2):  # replays: the same report again, and the same number with another claim
        counts["claims replayed"] += 2
        # not taken: answered as a duplicate, or refused (a rewritten claim ends the session: refusals are final)
        again = agent.call("POST", f"/sessions/{sid}/report", **claim)
        counts["  ... taken again"] += again.status_code == 200 and again.json().get("duplicate") is not True
        counts["  ... taken again"] += agent.call("POST", f"/sessions/{sid}/report", **rewritten).status_code == 200


def main(argv=None):
    parser = system.parser(__doc__)
    parser.add_argument("--cars", type=int, default=4)
    opts = parser.parse_args(argv)
    document = vehicles.generate(opts.cars + 1, seed=47)
    cars, pass_car = document["vehicles"][:opts.cars], document["vehicles"][opts.cars]
    with system.running(opts.database_url) as running:
        config = running.config()
        prepare(running, config, document)
        deliveries = running.watch("PackageWithdrawn")
        token, _ = system.workshop(running.base, 400000)
        user = {"Authorization": f"Bearer {token}"}
        buy = lambda body: requests.post(f"{running.base}/api/v1/purchases", json=body, timeout=30,  # noqa: E731
                                         headers=user | {"Idempotency-Key": str(uuid.uuid4())})
        buy({"tariff_code": "prog-180"}).raise_for_status()
        view = lambda sid: requests.get(f"{running.base}/api/v1/programming/sessions/{sid}",  # noqa: E731
                                        headers=user, timeout=30).json()
        system.wait_until_true(lambda: requests.get(f"{running.base}/api/v1/entitlements", headers=user,
                                                    timeout=30).json()["programming_seconds"] == SECONDS, 30, "time")
        counts, sessions, causes = Counter(), [], sorted(PLATFORM_CAUSES)
        stranger, _ = system.workshop(running.base)
        outsider = Agent(running.base, {"Authorization": f"Bearer {stranger}"}, "elsewhere")
        for i, car in enumerate(cars):
            agent = Agent(running.base, user, f"hostile {i}")
            sid, started = running_session(running.base, user, agent, car)
            counts[STRANGER] += outsider.call(
                "POST", f"/sessions/{sid}/security-key", ecu_address=started["plan"][0]["ecu_address"],
                seed="1a2b3c4d").status_code == 200
            lie(agent, sid, started["plan"], causes[i % len(causes)], counts)
            sessions.append(sid)

        # a VIN pass includes one session: a false claim must not give it back
        buy({"tariff_code": "vin-1d", "vin": pass_car["vin"]}).raise_for_status()
        by_pass = 0
        for attempt in range(3):
            agent = Agent(running.base, user, f"pass {attempt}")
            sid, started = running_session(running.base, user, agent, pass_car)
            by_pass += started["paid_by"] == "vin_pass"
            lie(agent, sid, started["plan"], "sha256", counts)
            sessions.append(sid)
        finals = [view(s) for s in sessions]
        unbilled = sum(max(0, round(f["used_seconds"] - 1e-9) - f["seconds_billed"]) for f in finals
                       if f["paid_by"] == "time")

        # and one file of ours really is bad: the first claim about it withdraws it for everyone
        agent = Agent(running.base, user, "honest")
        sid, started = running_session(running.base, user, agent, cars[0])
        bad = started["plan"][1]
        blobs.from_config(config).put(package_key(bad["sha256"]), bytes(bad["size"]), "application/octet-stream")
        claimed = time.time()
        agent.call("POST", f"/sessions/{sid}/report", sequence=3, kind="file_rejected",
                   package_id=bad["package_id"], check="sha256").raise_for_status()
        wait_for(lambda: watcher.deliveries(deliveries), 30, "the partner to hear of the withdrawal")
        heard = watcher.deliveries(deliveries)[0]["received"] - claimed
        honest = view(sid)

        engine = make_engine(config["DATABASE_URLS"]["programming"])
        with Session(engine) as db:
            claims = db.scalars(select(Claim)).all()
            keys = db.scalars(select(IssuedKey)).all()
            withdrawn = db.get(Package, bad["package_id"])
        engine.dispose()
        plans = {f["id"]: {s["ecu_address"] for s in f["plan"]} for f in finals + [honest]}
        outside = [k for k in keys if k.ecu_address not in plans.get(k.session_id, set())]
        confirmed = [c for c in claims if c.confirmed]
        lag = ((withdrawn.withdrawn_at - confirmed[0].claimed_at).total_seconds()
               if confirmed and withdrawn.withdrawn_at else None)
    results = {
        f"seconds used but not billed over {len(sessions)} sessions with a false claim": (unbilled == 0,
                                                                                         f"{unbilled}"),
        "sessions a VIN pass paid beyond its one (3 opened, each claimed failed)": (by_pass == 1, f"{by_pass - 1}"),
        "keys issued outside a plan or for another workshop's session": (
            not outside and not counts["  ... answered"] and not counts[STRANGER],
            f"{len(outside)} recorded, {counts['  ... answered'] + counts[STRANGER]} answered"),
        "replayed or rewritten claims taken again": (counts["  ... taken again"] == 0,
                                                     f"{counts['  ... taken again']}"),
        "false claims refuted and every claim recorded": (
            len(claims) == counts["claims of our failure made"] + 1 and len(confirmed) == 1
            and all(f["failure_side"] == "vehicle" for f in finals), f"{len(claims)} recorded"),
        "the bad file withdrawn within a second of the claim that confirmed it": (
            lag is not None and lag <= 1.0 and honest["failure_side"] == "platform",
            f"withdrawn {lag:.3f} s after the claim in the database; the partner heard {heard:.3f} s after it"
            if lag is not None else "not withdrawn"),
    }
    system.report_rules(f"Hostile agent campaign: {opts.cars} cars + 1 on a VIN pass, "
                        f"{'PostgreSQL' if opts.database_url else 'SQLite'}", counts, results)


if __name__ == "__main__":
    main()
