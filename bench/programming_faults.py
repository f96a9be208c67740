"""Fault campaign: remote programming while things break. Six cars on the vehicle simulator, six agents (each a
process of its own beside its car), one workshop; all six sessions flash slowly (two seconds per ECU) while the
programming service is SIGKILLed and restarted twice and two agents are SIGKILLed mid-transfer and started again
after their heartbeats have been missed.

Prints what was checked, per rule: every session completed with each ECU flashed exactly once to its target;
no session billed more than its clock ran nor more than its wall time; billing's balance equals what
programming billed; one SessionStarted and one SessionEnded per session reached a partner system (duplicates
on the wire are dropped by id); interruptions were seen and the silence not billed. Exits 1 if a rule fails.

    python -m bench.programming_faults [--cars 6] [--database-url ...]
"""
import json
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import datetime

import requests

from bench import system, watcher
from deploy.ports import wait_for
from services.programming.settings import ProgrammingSettings
from services.shared.config import build
from deploy import software
from services.programming import catalog
from services.shared import blobs
from services.shared.database import make_engine
from deploy import vehicles
from services.vehicle_data import feed
from simulator import doip

SECONDS = 10800  # prog-180
BYTES = 64 * 1024
LINK = 32 * 1024  # bytes/s: two seconds per ECU


def main(argv=None):
    parser = system.parser(__doc__)
    parser.add_argument("--cars", type=int, default=6)
    opts = parser.parse_args(argv)
    document = vehicles.generate(opts.cars, seed=31)
    cars = document["vehicles"]
    env = {"AOS_HEARTBEAT_TIMEOUT_SECONDS": "3", "AOS_RESUME_LIMIT_SECONDS": "120"}
    with system.running(opts.database_url, env, replicas=opts.replicas) as running:
        config = running.config()
        key = prepare(running, config, document)
        deliveries = running.watch("SessionStarted", "SessionEnded", "SessionExpired")
        simulators = [doip.Simulator(doip.Vehicle.demo(c["vin"], build(ProgrammingSettings, config["ENVIRONMENT"]).ecu_secret,
                                                       c["ecus"])).start() for c in cars]
        for sim in simulators:
            for ecu in sim.vehicle.ecus.values():
                ecu.bytes_per_second = LINK
        token, _ = system.workshop(running.base, 200000, vat_id=system.VAT_ID)
        system.security_jobs(running.base, token, [c["vin"] for c in cars])  # DME and BDC are theft-relevant
        user = {"Authorization": f"Bearer {token}"}
        requests.post(f"{running.base}/api/v1/purchases", json={"tariff_code": "prog-180"}, timeout=30,
                      headers=user | {"Idempotency-Key": str(uuid.uuid4())}).raise_for_status()
        pem = running.data / "manufacturer.pub.pem"
        pem.write_text(software.public_pem(key))
        agents = [register(running, user, i, sim.port, pem) for i, sim in enumerate(simulators)]
        sessions = [requests.post(f"{running.base}/api/v1/programming/sessions", headers=user, timeout=30,
                                  json={"vin": c["vin"], "agent_id": a["id"]}).json()["id"]
                    for c, a in zip(cars, agents)]
        view = lambda sid: requests.get(f"{running.base}/api/v1/programming/sessions/{sid}",  # noqa: E731
                                        headers=user, timeout=30).json()
        system.wait_until_true(lambda: all(view(s)["state"] == "ready" for s in sessions), 120, "pre-flight")
        system.wait_until_true(lambda: requests.get(f"{running.base}/api/v1/entitlements", headers=user,
                                                    timeout=30).json()["programming_seconds"] == SECONDS, 30, "time")
        for sid in sessions:
            requests.post(f"{running.base}/api/v1/programming/sessions/{sid}/start", headers=user,
                          timeout=30).raise_for_status()
        seen = {sid: Counter() for sid in sessions}
        stop = threading.Event()
        threading.Thread(target=observe, args=(view, sessions, seen, stop), daemon=True).start()
        faults = campaign(running, agents)
        system.wait_until_true(lambda: all(view(s)["state"] in ("ended", "expired") for s in sessions), 300,
                               "every session to end")
        stop.set()
        finals = [view(s) for s in sessions]
        balance = lambda: requests.get(f"{running.base}/api/v1/entitlements", headers=user,  # noqa: E731
                                       timeout=30).json()["programming_seconds"]
        billed = sum(f["seconds_billed"] for f in finals)
        wait_for(lambda: balance() == SECONDS - billed, 30, "billing to settle")
        wait_for(lambda: len([d for d in watcher.deliveries(deliveries) if d["type"] == "SessionEnded"])
                 >= len(sessions), 30, "the partner to hear of every end")
        results = check(finals, simulators, seen, watcher.deliveries(deliveries), balance(), billed)
        for agent in agents:
            agent["process"].kill()
        for sim in simulators:
            sim.stop()
    system.report_rules(f"Programming fault campaign: {opts.cars} cars, {opts.cars} agents, {opts.replicas} "
                        f"replica(s) of each service, {'PostgreSQL' if opts.database_url else 'SQLite'}", faults,
                        results)


def prepare(running, config, document):
    from datetime import timezone
    from sqlalchemy.orm import Session
    engine = make_engine(config["DATABASE_URLS"]["vehicle_data"])
    with Session(engine) as session, session.begin():
        feed.import_rows(session, feed.check(document), datetime.now(timezone.utc))
    engine.dispose()
    key = software.new_key()
    pem = build(ProgrammingSettings, config["ENVIRONMENT"]).manufacturer_key_file  # claims are checked with it
    pem.parent.mkdir(parents=True, exist_ok=True)
    pem.write_text(software.public_pem(key))
    software.generate(running.data / "software", key, document["vehicles"], image_bytes=BYTES)
    store = blobs.from_config(config)
    store.ensure_bucket()
    engine = make_engine(config["DATABASE_URLS"]["programming"])
    catalog.import_catalog(running.data / "software", engine, store, key.public_key())
    engine.dispose()
    return key


def register(running, user, index, port, pem):
    body = requests.post(f"{running.base}/api/v1/agents", json={"name": f"bay {index}"}, headers=user,
                         timeout=30).json()
    conf = running.data / f"agent-{index}.json"
    conf.write_text(json.dumps({"api": running.base, "id": body["id"], "credential": body["credential"]}))
    command = [sys.executable, "-m", "agent", "run", "--config", str(conf), "--vehicle", f"127.0.0.1:{port}",
               "--manufacturer-key", str(pem), "--workdir", str(running.data / f"agent-files-{index}")]
    agent = {"id": body["id"], "command": command, "log": running.data / f"agent-{index}.log"}
    start_agent(agent)
    return agent


def start_agent(agent):
    agent["process"] = subprocess.Popen(agent["command"], stdout=open(agent["log"], "a"), stderr=subprocess.STDOUT)


def campaign(running, agents):
    """Kill the programming service twice and two agents once, at moments in the middle of the flashing."""
    rng = random.Random(5)
    faults = Counter()
    time.sleep(4)
    victim = running.kill_one("programming")
    faults["programming service SIGKILLed"] += 1
    time.sleep(2)
    running.start(victim)
    wait_for(lambda: _ready(running), 60, "programming to come back")
    time.sleep(2)
    for agent in rng.sample(agents, 2):
        agent["process"].kill()
        agent["process"].wait()
        faults["agents SIGKILLed mid-job"] += 1
    time.sleep(5)  # longer than the heartbeat timeout: their sessions are interrupted
    for agent in agents:
        if agent["process"].poll() is not None:
            start_agent(agent)
            faults["agents restarted"] += 1
    time.sleep(3)
    victim = running.kill_one("programming")
    faults["programming service SIGKILLed"] += 1
    time.sleep(1)
    running.start(victim)
    return faults


def _ready(running):
    try:
        return requests.get(f"{running.base}/ready", timeout=3).json()["checks"]["programming"] == "ok"
    except (requests.RequestException, ValueError, KeyError):
        return False


def observe(view, sessions, seen, stop):
    while not stop.wait(0.5):
        for sid in sessions:
            try:
                seen[sid][view(sid)["state"]] += 1
            except (requests.RequestException, ValueError, KeyError):
                pass


def check(finals, simulators, seen, deliveries, balance, billed):
    cars = {s.vehicle.vin: s.vehicle for s in simulators}
    flashed = all(f["outcome"] == "completed" and all(
        cars[f["vin"]].ecus[int(step["ecu_address"], 16)].software_version == step["to_version"]
        and cars[f["vin"]].ecus[int(step["ecu_address"], 16)].flashes == 1 for step in f["plan"]) for f in finals)
    def wall(f):
        return (datetime.fromisoformat(f["ended_at"]) - datetime.fromisoformat(f["started_at"])).total_seconds()
    # the view gives the clock to the millisecond (rounded), the wall time is to the microsecond
    dishonest = [f"{f['id'][:8]}: billed {f['seconds_billed']} s, clock {f['used_seconds']} s, wall {wall(f):.4f} s"
                 for f in finals if abs(f["seconds_billed"] - f["used_seconds"]) > 0.5005
                 or f["used_seconds"] > wall(f) + 0.0005]
    per_session = Counter((d["type"], d["data"]["session_id"]) for d in {d["id"]: d for d in deliveries}.values())
    once = all(per_session[("SessionStarted", f["id"])] == 1 and per_session[("SessionEnded", f["id"])] == 1
               for f in finals)
    interrupted = sum(1 for c in seen.values() if c["interrupted"])
    return {
        f"sessions completed, every ECU flashed once to its target ({len(finals)} sessions)": (flashed, ""),
        "billed = the clock's seconds, and never more than the wall time": (not dishonest, "; ".join(dishonest)),
        f"billing's balance = {SECONDS} - what programming billed ({billed} s)": (balance == SECONDS - billed,
                                                                                f"balance {balance}"),
        "one SessionStarted and one SessionEnded per session at the partner": (once,
                                                                                f"{len(deliveries)} deliveries"),
        "sessions seen interrupted while their agent was down": (interrupted >= 2, f"{interrupted}"),
    }


if __name__ == "__main__":
    main()
