"""Remote programming through the gateway, with the workshop agent running against the vehicle simulator: a
workshop with a programming pack registers an agent, opens a session for a car, passes pre-flight, starts,
watches its ECUs flash, and is billed exactly the seconds the clock ran; a failure on our side costs nothing."""
import json
import subprocess
import sys
import threading
import time
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.cli import Agent
from agent.flash import Ecu
from services.programming.settings import ProgrammingSettings
from services.shared.config import build
from services.billing.models import Credit
from deploy import software
from services.programming import catalog
from services.programming.models import Claim, IssuedKey, OutboxMessage, Session as ProgrammingSessionRow
from services.programming.use_cases import package_key
from services.shared import blobs
from services.shared.database import make_engine
from deploy import vehicles
from simulator import doip
from tests.e2e.conftest import Workshop, buy, error, fill_registry, top_up
from tests.helpers import eventually

pytestmark = pytest.mark.both_databases  # the clock and its locks: SQLite's one writer and PostgreSQL's row locks

FEED = vehicles.generate(20, seed=5)
CAR = FEED["vehicles"][0]


def softhsm_module():
    from deploy import softhsm
    return softhsm.module() or "/usr/lib/softhsm/libsofthsm2.so"


def software_for(system, car, folder, image_bytes):
    """The manufacturer's signed software for `car`, imported into AOS's catalogue, AOS told the manufacturer's key
    to check it with: (the manufacturer's key, the object store, programming's settings)."""
    manufacturer = software.new_key()
    settings = build(ProgrammingSettings, system["ENVIRONMENT"])
    settings.manufacturer_key_file.parent.mkdir(parents=True, exist_ok=True)  # what the catalogue is checked with
    settings.manufacturer_key_file.write_text(software.public_pem(manufacturer))
    software.generate(folder, manufacturer, [car], image_bytes=image_bytes)
    store = blobs.from_config(system)
    store.ensure_bucket()
    engine = make_engine(system["DATABASE_URLS"]["programming"])
    assert catalog.import_catalog(folder, engine, store, manufacturer.public_key()) == len(car["ecus"])
    engine.dispose()
    return manufacturer, store, settings


@pytest.fixture
def workshop_floor(system, tmp_path):
    """The registry with the car, the manufacturer's signed catalogue in AOS, and the car on the simulator."""
    fill_registry(system, FEED)
    manufacturer, store, settings = software_for(system, CAR, tmp_path / "software", 96 * 1024)
    car = doip.Vehicle.demo(CAR["vin"], settings.ecu_secret, CAR["ecus"])
    with doip.Simulator(car) as simulator:
        yield {"car": car, "port": simulator.port, "key": manufacturer, "store": store, "tmp": tmp_path}


def workshop_with_time(api, tariff="prog-30", security_job=True):
    """A workshop with programming time; with `security_job`, its technician SERMI-linked and a security job open
    on the car (the engine control and the immobiliser are theft-relevant: their keys need it)."""
    workshop = Workshop(api)
    eventually(lambda: top_up(api, workshop, 20000).status_code == 201, what="billing to know the workshop")
    assert buy(api, workshop, tariff).status_code == 201
    if security_job:
        open_security_job(api, workshop)
    return workshop


def open_security_job(api, workshop, vin=CAR["vin"]):
    from tests.e2e.test_sermi import link
    link(api, workshop, "tech-anna")
    opened = api("POST", "/api/v1/security/jobs", workshop.token, json={
        "vin": vin, "owner_name": "Jana Nowak", "owner_document_number": "L01X00T47"})
    assert opened.status_code == 201, opened.text
    return opened.json()


def running_agent(api, workshop, floor, name="bay 2"):
    registered = api("POST", "/api/v1/agents", workshop.token, json={"name": name})
    assert registered.status_code == 201, registered.text
    body = registered.json()
    agent = Agent(api.base, body["id"], body["credential"], f"127.0.0.1:{floor['port']}",
                  floor["key"].public_key(), floor["tmp"] / f"agent-{body['id']}")
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, kwargs={"stop": stop.is_set, "idle": 0.1}, daemon=True)
    thread.start()
    return body["id"], stop


def session_of(api, workshop, session_id):
    return api("GET", f"/api/v1/programming/sessions/{session_id}", workshop.token).json()


def test_a_workshop_flashes_a_car_and_is_billed_the_seconds_the_clock_ran(api, workshop_floor):
    floor = workshop_floor
    workshop = workshop_with_time(api)
    agent_id, stop = running_agent(api, workshop, floor)
    try:
        opened = api("POST", "/api/v1/programming/sessions", workshop.token,
                     json={"vin": CAR["vin"], "agent_id": agent_id})
        assert opened.status_code == 201, opened.text
        session_id = opened.json()["id"]
        assert opened.json()["state"] == "preflight" and not opened.json()["clock_running"]
        ready = eventually(lambda: (lambda s: s if s["state"] == "ready" else None)(
            session_of(api, workshop, session_id)), timeout=30, what="pre-flight to pass")
        assert all(ready["preflight"][k] for k in ("agent_connected", "battery_ok", "vin_matches", "ecus_read",
                                                   "plan_computed", "binaries_verified"))
        assert [s["ecu_address"] for s in ready["plan"]][0] == "0x10"  # the gateway first, as the catalogue orders
        assert len(ready["plan"]) == len(CAR["ecus"]) and ready["used_seconds"] == 0
        eventually(lambda: api("GET", "/api/v1/entitlements", workshop.token).json()["programming_seconds"] == 1800,
                   what="programming to hear of the pack")
        started = api("POST", f"/api/v1/programming/sessions/{session_id}/start", workshop.token)
        assert started.status_code == 200, started.text
        assert started.json()["state"] == "running" and started.json()["paid_by"] == "time"
        done = eventually(lambda: (lambda s: s if s["state"] == "ended" else None)(
            session_of(api, workshop, session_id)), timeout=60, what="the flash to finish")
        assert done["outcome"] == "completed" and done["failure_side"] == "none"
        assert all(step["status"] == "done" for step in done["plan"])
        for step in done["plan"]:
            ecu = floor["car"].ecus[int(step["ecu_address"], 16)]
            assert ecu.software_version == step["to_version"] and ecu.flashes == 1
        assert abs(done["seconds_billed"] - done["used_seconds"]) <= 0.5005  # whole seconds, rounded half down
        eventually(lambda: api("GET", "/api/v1/entitlements", workshop.token).json()["programming_seconds"]
                   == 1800 - done["seconds_billed"], what="billing to debit the session")
        # the workshop's list of sessions has it; another workshop's has nothing
        listed = api("GET", "/api/v1/programming/sessions", workshop.token).json()["sessions"]
        assert [(x["id"], x["state"], x["outcome"], x["seconds_billed"]) for x in listed] == [
            (session_id, "ended", "completed", done["seconds_billed"])]
        stranger = Workshop(api, email="nachbar@werkstatt-nord.de", vat_id=None)
        assert api("GET", "/api/v1/programming/sessions", stranger.token).json() == {"sessions": []}
    finally:
        stop.set()


def test_a_flash_file_of_ours_that_fails_its_check_costs_nothing(api, system, workshop_floor):
    floor = workshop_floor
    workshop = workshop_with_time(api)
    agent_id, stop = running_agent(api, workshop, floor)
    try:
        session_id = api("POST", "/api/v1/programming/sessions", workshop.token,
                         json={"vin": CAR["vin"], "agent_id": agent_id}).json()["id"]
        ready = eventually(lambda: (lambda s: s if s["state"] == "ready" else None)(
            session_of(api, workshop, session_id)), timeout=30, what="pre-flight to pass")
        # after pre-flight, object storage serves other bytes for the second ECU's file: our fault
        second = ready["plan"][1]
        floor["store"].put(package_key(second["sha256"]), bytes(second["size"]), "application/octet-stream")
        for cached in floor["tmp"].glob(f"agent-{agent_id}/{second['sha256']}.bin"):
            cached.unlink()
        ended = started_to_its_end(api, workshop, session_id)
        assert (ended["outcome"], ended["failure_side"], ended["seconds_billed"]) == ("failed", "platform", 0)
        assert [s["status"] for s in ended["plan"][:2]] == ["done", "pending"]
        assert floor["car"].ecus[int(second["ecu_address"], 16)].flashes == 0  # nothing touched that ECU
        # billing heard of it, booked nothing, and recorded why
        billing = make_engine(system["DATABASE_URLS"]["billing"])
        try:
            credit = eventually(lambda: _credit_for(billing, session_id), what="billing's credit for our failure")
        finally:
            billing.dispose()
        assert "failed on our side" in credit.reason
        # and the workshop reads it on its credit account, with the reason
        received = api("GET", "/api/v1/credit", workshop.token).json()["credits"]
        assert [(c["session_id"], c["reason"]) for c in received] == [(session_id, credit.reason)]
        assert api("GET", "/api/v1/entitlements", workshop.token).json()["programming_seconds"] == 1800
        # the server found the stored file bad too: withdrawn for everyone in the same transaction, and said so
        assert "withdrawn for everyone" in ended["message"]
        claims, withdrawn = claims_and_withdrawals(system)
        assert [(c.session_id, c.package_id, c.found, c.confirmed) for c in claims] == [
            (session_id, second["package_id"], "sha256", True)]
        assert [(w["package_id"], w["check"], w["session_id"]) for w in withdrawn] == [
            (second["package_id"], "sha256", session_id)]
        assert datetime.fromisoformat(withdrawn[0]["withdrawn_at"]) == claims[0].claimed_at
        # the next session for the car plans without it
        again = api("POST", "/api/v1/programming/sessions", workshop.token,
                    json={"vin": CAR["vin"], "agent_id": agent_id}).json()["id"]
        replanned = eventually(lambda: (lambda s: s if s["state"] in ("ready", "ended") else None)(
            session_of(api, workshop, again)), timeout=30, what="pre-flight of the next session")
        assert second["package_id"] not in {s["package_id"] for s in replanned["plan"]}
    finally:
        stop.set()


def started_to_its_end(api, workshop, session_id):
    """Once programming has heard of the workshop's 30-minute pack: the session started, and as it ended."""
    eventually(lambda: api("GET", "/api/v1/entitlements", workshop.token).json()["programming_seconds"] == 1800,
               what="programming to hear of the pack")
    assert api("POST", f"/api/v1/programming/sessions/{session_id}/start", workshop.token).status_code == 200
    return eventually(lambda: (lambda s: s if s["state"] == "ended" else None)(
        session_of(api, workshop, session_id)), timeout=60, what="the session to end")


def claims_and_withdrawals(system):
    """The claims programming recorded, and the PackageWithdrawn events it committed with them."""
    engine = make_engine(system["DATABASE_URLS"]["programming"])
    try:
        with Session(engine) as session:
            claims = session.scalars(select(Claim).order_by(Claim.id)).all()
            withdrawn = [json.loads(m.body)["data"] for m in session.scalars(
                select(OutboxMessage).where(OutboxMessage.event_type == "PackageWithdrawn")).all()]
    finally:
        engine.dispose()
    return claims, withdrawn


def test_a_claim_that_our_file_failed_is_charged_when_the_stored_file_is_intact(api, system, workshop_floor):
    """The workshop runs its own agent: claiming a failure of ours on a good file wins nothing."""
    workshop = workshop_with_time(api)
    agent, session_id = running_by_hand(api, workshop, "bay 6")
    time.sleep(1.2)
    assert agent_call(api, agent, "POST", f"/sessions/{session_id}/heartbeat", json={}).status_code == 200
    claimed = agent_call(api, agent, "POST", f"/sessions/{session_id}/report", json={
        "sequence": 3, "kind": "flash_failed", "ecu_address": "0x12", "cause": "sha256", "detail": "hash differs"})
    assert claimed.status_code == 200, claimed.text
    ended = session_of(api, workshop, session_id)
    assert (ended["outcome"], ended["failure_side"]) == ("failed", "vehicle") and ended["seconds_billed"] >= 1
    assert "found it intact" in ended["message"] and "charged" in ended["message"]
    eventually(lambda: api("GET", "/api/v1/entitlements", workshop.token).json()["programming_seconds"]
               == 1800 - ended["seconds_billed"], what="billing to debit the session")
    # a replay of the claim changes nothing; a claim about a file outside the plan is refused by name
    replay = agent_call(api, agent, "POST", f"/sessions/{session_id}/report", json={
        "sequence": 3, "kind": "flash_failed", "ecu_address": "0x12", "cause": "sha256", "detail": "hash differs"})
    assert replay.status_code == 200 and replay.json()["duplicate"] is True
    outside = agent_call(api, agent, "POST", f"/sessions/{session_id}/report", json={
        "sequence": 4, "kind": "file_rejected", "package_id": "0x99-NOT-PLANNED", "check": "signature"})
    assert outside.status_code == 422 and error(outside)["details"]["field"] == "package_id"
    claims, withdrawn = claims_and_withdrawals(system)
    assert [(c.session_id, c.claimed, c.found, c.confirmed) for c in claims] == [(session_id, "sha256", None, False)]
    assert withdrawn == []


def _credit_for(engine, session_id):
    with Session(engine) as session:
        return session.scalar(select(Credit).where(Credit.session_id == session_id))


def test_starting_needs_pre_flight_time_and_a_fresh_second_factor(api, workshop_floor):
    workshop = Workshop(api, vat_id=None)
    refused = api("POST", "/api/v1/programming/sessions", workshop.token,
                  json={"vin": CAR["vin"], "agent_id": "no-such-agent"})
    assert refused.status_code == 404 and error(refused)["code"] == "AGENT_NOT_FOUND"
    agent = api("POST", "/api/v1/agents", workshop.token, json={"name": "bay 1"}).json()
    unknown_car = api("POST", "/api/v1/programming/sessions", workshop.token,
                      json={"vin": "WBA7K7109MW999999", "agent_id": agent["id"]})
    assert unknown_car.status_code == 404
    opened = api("POST", "/api/v1/programming/sessions", workshop.token,
                 json={"vin": CAR["vin"], "agent_id": agent["id"]}).json()
    early = api("POST", f"/api/v1/programming/sessions/{opened['id']}/start", workshop.token)
    assert early.status_code == 409 and error(early)["code"] == "SESSION_STATE"
    busy = api("POST", "/api/v1/programming/sessions", workshop.token,
               json={"vin": CAR["vin"], "agent_id": agent["id"]})
    assert busy.status_code == 409 and error(busy)["code"] == "AGENT_BUSY"
    wrong = api("GET", "/api/v1/agents/jobs", headers={"Authorization": f"Agent {agent['id']}:wrong"})
    assert wrong.status_code == 401
    other = Workshop(api, email="chef@autohaus-beispiel.de", vat_id=None)
    assert api("GET", f"/api/v1/programming/sessions/{opened['id']}", other.token).status_code == 404


@pytest.fixture
def quick_clock(config):
    """Heartbeats missed for 1.5 s interrupt a session (10 s in production)."""
    config["ENVIRONMENT"]["AOS_HEARTBEAT_TIMEOUT_SECONDS"] = "1.5"


def agent_process(tmp, registered, port, manufacturer):
    conf = tmp / "agent.json"
    conf.write_text(json.dumps({"api": registered["api"], "id": registered["id"],
                                "credential": registered["credential"]}))
    key = tmp / "manufacturer.pub.pem"
    key.write_text(software.public_pem(manufacturer))
    return subprocess.Popen([sys.executable, "-m", "agent", "run", "--config", str(conf), "--vehicle",
                             f"127.0.0.1:{port}", "--manufacturer-key", str(key), "--workdir", str(tmp / "files")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_an_agent_killed_mid_transfer_resumes_and_the_silence_is_not_billed(quick_clock, api, workshop_floor):
    floor = workshop_floor
    workshop = workshop_with_time(api)
    registered = api("POST", "/api/v1/agents", workshop.token, json={"name": "bay 3"}).json() | {"api": api.base}
    agent = agent_process(floor["tmp"], registered, floor["port"], floor["key"])
    try:
        session_id = api("POST", "/api/v1/programming/sessions", workshop.token,
                         json={"vin": CAR["vin"], "agent_id": registered["id"]}).json()["id"]
        ready = eventually(lambda: (lambda s: s if s["state"] == "ready" else None)(
            session_of(api, workshop, session_id)), timeout=30, what="pre-flight to pass")
        third = ready["plan"][2]["ecu_address"]
        slow = floor["car"].ecus[int(third, 16)]
        slow.bytes_per_second = 24 * 1024  # four seconds for its file: time to pull the plug
        eventually(lambda: api("GET", "/api/v1/entitlements", workshop.token).json()["programming_seconds"] == 1800,
                   what="programming to hear of the pack")
        assert api("POST", f"/api/v1/programming/sessions/{session_id}/start", workshop.token).status_code == 200
        eventually(lambda: session_of(api, workshop, session_id)["plan"][2]["status"] == "flashing", timeout=30,
                   what="the third ECU to be written")
        time.sleep(1.0)
        agent.kill()  # SIGKILL mid-transfer: no goodbye
        agent.wait()
        killed_at = time.monotonic()
        paused = eventually(lambda: (lambda s: s if s["state"] == "interrupted" else None)(
            session_of(api, workshop, session_id)), timeout=10, what="the session to be interrupted")
        time.sleep(1.0)
        assert session_of(api, workshop, session_id)["used_seconds"] == paused["used_seconds"]  # the clock stands
        with Ecu("127.0.0.1", floor["port"], int(third, 16), lambda *a: b"") as ecu:
            assert ecu.identification()["state"] == "BOOTLOADER"  # half written: the application is gone
        slow.bytes_per_second = None
        agent = agent_process(floor["tmp"], registered, floor["port"], floor["key"])
        resumed_at = time.monotonic()
        done = eventually(lambda: (lambda s: s if s["state"] == "ended" else None)(
            session_of(api, workshop, session_id)), timeout=60, what="the resumed session to finish")
        assert done["outcome"] == "completed" and all(s["status"] == "done" for s in done["plan"])
        for step in done["plan"]:
            ecu = floor["car"].ecus[int(step["ecu_address"], 16)]
            assert ecu.software_version == step["to_version"] and ecu.flashes == 1
        wall = (datetime.fromisoformat(done["ended_at"]) - datetime.fromisoformat(done["started_at"])).total_seconds()
        silence = resumed_at - killed_at
        assert done["used_seconds"] <= wall - silence + 1.0
        assert abs(done["seconds_billed"] - done["used_seconds"]) <= 0.5005  # whole seconds, rounded half down
    finally:
        agent.kill()
        agent.wait()


def agent_call(api, agent, method, path, **kw):
    return api(method, "/api/v1/agents" + path, headers={"Authorization": f"Agent {agent['id']}:{agent['credential']}"},
               **kw)


def test_the_owner_renames_renews_and_revokes_agents(api, workshop):
    agent = api("POST", "/api/v1/agents", workshop.token, json={"name": "bay 1"}).json()
    renamed = api("PATCH", f"/api/v1/agents/{agent['id']}", workshop.token, json={"name": "bay 1, left"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "bay 1, left"
    renewed = api("POST", f"/api/v1/agents/{agent['id']}/credential", workshop.token)
    assert renewed.status_code == 200 and renewed.json()["credential"] != agent["credential"]
    old = agent_call(api, agent, "GET", "/jobs")
    assert old.status_code == 401 and error(old)["code"] == "AGENT_CREDENTIAL_INVALID"
    agent = agent | {"credential": renewed.json()["credential"]}
    assert agent_call(api, agent, "GET", "/jobs").json() == {"kind": "none"}
    revoked = api("POST", f"/api/v1/agents/{agent['id']}/revoke", workshop.token)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] and not revoked.json()["online"]
    refused = agent_call(api, agent, "GET", "/jobs")
    assert refused.status_code == 401 and error(refused)["code"] == "AGENT_REVOKED"
    again = api("POST", f"/api/v1/agents/{agent['id']}/credential", workshop.token)
    assert again.status_code == 409 and error(again)["code"] == "AGENT_REVOKED"
    listed = api("GET", "/api/v1/agents", workshop.token).json()["agents"]
    assert [(a["name"], bool(a["revoked_at"])) for a in listed] == [("bay 1, left", True)]
    other = Workshop(api, email="nachbar@werkstatt-nord.de", vat_id=None)
    for method, path in (("PATCH", ""), ("POST", "/credential"), ("POST", "/revoke")):
        answer = api(method, f"/api/v1/agents/{agent['id']}{path}", other.token,
                     json={"name": "mine"} if method == "PATCH" else None)
        assert answer.status_code == 404 and error(answer)["code"] == "AGENT_NOT_FOUND", path
    trail = lambda: [e["summary"] for e in api("GET", "/api/v1/audit/trail", workshop.token,  # noqa: E731
                                                 params={"kind": "AgentChanged"}).json()["entries"]]
    eventually(lambda: len(trail()) == 3, what="the agent's changes in the trail")
    assert [t.split(": ")[1] for t in trail()] == ["revoked", "credential_renewed", "registered"]


def test_only_the_owner_or_an_admin_manage_agents(api, workshop):
    from tests.e2e.test_users import invite, join
    technician = join(api, invite(api, workshop, "tom@werkstatt-mueller.de", "technician").json())
    agent = api("POST", "/api/v1/agents", technician["access_token"], json={"name": "tom's laptop"})
    assert agent.status_code == 201  # a technician sets up the laptop on the bench
    for method, path in (("PATCH", ""), ("POST", "/credential"), ("POST", "/revoke")):
        answer = api(method, f"/api/v1/agents/{agent.json()['id']}{path}", technician["access_token"],
                     json={"name": "x"} if method == "PATCH" else None)
        assert answer.status_code == 403 and error(answer)["code"] == "ROLE_NOT_ALLOWED", path


def running_by_hand(api, workshop, name):
    """A session brought to running by the test playing its agent over HTTP: (the agent, the session's id)."""
    agent = api("POST", "/api/v1/agents", workshop.token, json={"name": name}).json()
    session_id = api("POST", "/api/v1/programming/sessions", workshop.token,
                     json={"vin": CAR["vin"], "agent_id": agent["id"]}).json()["id"]
    job = agent_call(api, agent, "GET", "/jobs").json()
    assert job["kind"] == "preflight"
    reading = {"vin": CAR["vin"], "voltage_mv": 12700,
               "ecus": [{"address": e["address"], "software_version": "OLD", "state": "APPLICATION",
                         "hardware_part_number": e["hardware_part_number"]} for e in CAR["ecus"]]}
    report = agent_call(api, agent, "POST", f"/sessions/{session_id}/report",
                        json={"sequence": 1, "kind": "preflight", "vehicle": reading})
    assert report.status_code == 200, report.text
    files = agent_call(api, agent, "GET", "/jobs").json()["files"]
    agent_call(api, agent, "POST", f"/sessions/{session_id}/report",
               json={"sequence": 2, "kind": "files_verified", "package_ids": [f["package_id"] for f in files]})
    start = f"/api/v1/programming/sessions/{session_id}/start"
    started = eventually(lambda: (lambda a: a if a.status_code != 402 else None)(api("POST", start, workshop.token)),
                         what="programming to hear of the pack")  # 402 until it has
    assert started.status_code == 200 and started.json()["state"] == "running", started.text
    return agent, session_id


def test_revoking_the_agent_of_a_running_session_stops_its_clock(api, workshop_floor):
    workshop = workshop_with_time(api)
    agent, session_id = running_by_hand(api, workshop, "bay 4")
    time.sleep(1.2)
    assert agent_call(api, agent, "POST", f"/sessions/{session_id}/heartbeat", json={}).status_code == 200
    assert api("POST", f"/api/v1/agents/{agent['id']}/revoke", workshop.token).status_code == 200
    stopped = session_of(api, workshop, session_id)
    assert stopped["state"] == "interrupted" and not stopped["clock_running"] and stopped["used_seconds"] >= 1.2
    time.sleep(1.5)
    assert session_of(api, workshop, session_id)["used_seconds"] == stopped["used_seconds"]  # the clock stands
    refused = agent_call(api, agent, "POST", f"/sessions/{session_id}/heartbeat", json={})
    assert refused.status_code == 401 and error(refused)["code"] == "AGENT_REVOKED"
    ended = api("POST", f"/api/v1/programming/sessions/{session_id}/end", workshop.token).json()
    assert ended["state"] == "ended" and ended["seconds_billed"] == round(stopped["used_seconds"] - 1e-9)


def test_security_keys_only_for_an_ecu_of_the_running_plan_and_each_is_recorded(api, system, workshop_floor):
    """The key route is no oracle: a key comes for an ECU of this car's running plan, by the ECU's type as the
    registry records it, and opens that ECU of the car; none for another agent's session. Any refusal is final:
    the session ends with it in words, and the agent's next ask finds no running session."""
    workshop = workshop_with_time(api)
    agent, session_id = running_by_hand(api, workshop, "bay 5")
    ecus = {e["address"]: e for e in CAR["ecus"]}
    gateway, engine = "0x10", "0x12"

    def key(address, seed, who=agent, session=session_id):
        return agent_call(api, who, "POST", f"/sessions/{session}/security-key",
                          json={"ecu_address": address, "seed": seed.hex()})
    ecu = workshop_floor["car"].ecus[0x12]
    assert ecu.handle(bytes([0x10, 0x02]))[:2] == bytes([0x50, 0x02])
    seed = ecu.handle(bytes([0x27, 0x11]))[2:]
    answered = key(engine, seed)
    assert answered.status_code == 200, answered.text
    assert ecu.handle(bytes([0x27, 0x12]) + bytes.fromhex(answered.json()["key"])) == bytes([0x67, 0x12])
    # the key of one ECU type opens no other: the gateway's key for the same seed differs
    assert ecus[gateway]["hardware_part_number"] != ecus[engine]["hardware_part_number"]
    assert key(gateway, seed).json()["key"] != answered.json()["key"]
    other_workshop = Workshop(api, email="nachbar@werkstatt-nord.de", vat_id=None)
    stranger = api("POST", "/api/v1/agents", other_workshop.token, json={"name": "elsewhere"}).json()
    assert key(engine, seed, who=stranger).status_code == 404  # not its session: nothing changes
    # a flashed ECU needs no key: refused, and the refusal ends the session (the agent's side: what ran is billed)
    agent_call(api, agent, "POST", f"/sessions/{session_id}/report", json={"sequence": 3, "kind": "flash_started",
                                                                          "ecu_address": engine})
    agent_call(api, agent, "POST", f"/sessions/{session_id}/report", json={
        "sequence": 4, "kind": "flash_completed", "ecu_address": engine,
        "software_version": next(s for s in session_of(api, workshop, session_id)["plan"]
                                 if s["ecu_address"] == engine)["to_version"]})
    flashed = key(engine, seed)
    assert flashed.status_code == 409 and error(flashed)["code"] == "ECU_ALREADY_FLASHED"
    assert error(flashed)["details"]["final"] is True
    ended = session_of(api, workshop, session_id)
    assert (ended["state"], ended["outcome"], ended["failure_side"]) == ("ended", "failed", "vehicle")
    assert "is flashed already" in ended["message"] and "the agent stopped" in ended["message"]
    again = key(gateway, seed)
    assert again.status_code == 409 and error(again)["code"] == "SESSION_STATE"
    assert agent_call(api, agent, "GET", "/jobs").json()["kind"] == "none"  # nothing left to ask again for

    # an ECU outside the plan: refused by name, final too
    agent_two, second = running_by_hand(api, workshop, "bay 6")
    outside = key("0x7E", seed, who=agent_two, session=second)
    assert outside.status_code == 422 and error(outside)["code"] == "ECU_NOT_IN_PLAN"
    assert error(outside)["details"]["field"] == "ecu_address" and error(outside)["details"]["final"] is True
    assert session_of(api, workshop, second)["state"] == "ended"

    engine_db = make_engine(system["DATABASE_URLS"]["programming"])
    try:
        with Session(engine_db) as db:
            issued = db.scalars(select(IssuedKey).order_by(IssuedKey.id)).all()
    finally:
        engine_db.dispose()
    assert [(k.session_id, k.operator_id, k.vin, k.ecu_address, k.ecu_type, k.seed) for k in issued] == [
        (session_id, workshop.operator_id, CAR["vin"], engine, ecus[engine]["hardware_part_number"], seed.hex()),
        (session_id, workshop.operator_id, CAR["vin"], gateway, ecus[gateway]["hardware_part_number"], seed.hex())]
    trail = eventually(lambda: (lambda entries: entries if sum(e["kind"] == "AgentRefused" for e in entries) == 2
                                else None)(api("GET", "/api/v1/audit/trail", workshop.token).json()["entries"]),
                       what="both refusals in the trail")
    assert any(e["summary"] == f"Security key issued for ECU {engine} DME (engine control) (type "
               f"{ecus[engine]['hardware_part_number']})" for e in trail)


@pytest.fixture
def hsm_floor(request, config, softhsm):
    """The workshop floor with programming's KeyStore in the HSM, the car's ECU types provisioned into it as the
    factory provisioned them into the car."""
    from services.programming.hsm import from_settings
    from services.programming.keys import DerivedKeys
    config["ENVIRONMENT"].update(softhsm)
    settings = build(ProgrammingSettings, config["ENVIRONMENT"])
    for ecu in CAR["ecus"]:
        from_settings(settings).provision(ecu["hardware_part_number"],
                                          DerivedKeys(settings.ecu_secret).type_secret(ecu["hardware_part_number"]))
    return request.getfixturevalue("workshop_floor")


def test_security_keys_come_from_the_hsm_and_open_the_car(hsm_floor, api):
    workshop = workshop_with_time(api)
    agent, session_id = running_by_hand(api, workshop, "bay 6")
    ecu = hsm_floor["car"].ecus[0x12]
    assert ecu.handle(bytes([0x10, 0x02]))[:2] == bytes([0x50, 0x02])
    seed = ecu.handle(bytes([0x27, 0x11]))[2:]
    answered = agent_call(api, agent, "POST", f"/sessions/{session_id}/security-key",
                          json={"ecu_address": "0x12", "seed": seed.hex()})
    assert answered.status_code == 200, answered.text
    assert ecu.handle(bytes([0x27, 0x12]) + bytes.fromhex(answered.json()["key"])) == bytes([0x67, 0x12])


@pytest.mark.config(AOS_HSM_MODULE=softhsm_module(), AOS_HSM_TOKEN_LABEL="not-there", AOS_HSM_PIN="1234")
def test_without_its_hsm_security_access_answers_503_and_nothing_else_stops(softhsm, api, workshop_floor):
    workshop = workshop_with_time(api)
    agent, session_id = running_by_hand(api, workshop, "bay 7")
    refused = agent_call(api, agent, "POST", f"/sessions/{session_id}/security-key",
                         json={"ecu_address": "0x12", "seed": "1a2b3c4d"})
    assert refused.status_code == 503 and error(refused)["code"] == "HSM_UNAVAILABLE"
    assert agent_call(api, agent, "POST", f"/sessions/{session_id}/heartbeat", json={}).status_code == 200
    assert session_of(api, workshop, session_id)["state"] == "running"


def test_a_key_is_programmed_into_the_immobiliser_by_the_agent_in_a_sermi_security_job(api, workshop_floor):
    """Key programming: the technician (SERMI, owner identified) asks for it; the workshop's agent at the car takes
    it, gets the immobiliser's security key for this job only, writes the key and reports; the car holds it."""
    floor, immobiliser = workshop_floor, next(e for e in CAR["ecus"] if e["name"].startswith("BDC"))
    workshop = Workshop(api)
    job = open_security_job(api, workshop)
    agent_id, stop = running_agent(api, workshop, floor, name="key bench")
    try:
        bad = api("POST", f"/api/v1/security/jobs/{job['id']}/keys", workshop.token,
                  json={"agent_id": "someone-elses", "slot": 3, "key_id": "00" * 8})
        assert bad.status_code == 422 and error(bad)["code"] == "AGENT_UNKNOWN"
        asked = api("POST", f"/api/v1/security/jobs/{job['id']}/keys", workshop.token,
                    json={"agent_id": agent_id, "slot": 3, "key_id": "4a1f00c2d3e4f501"})
        assert asked.status_code == 201, asked.text
        assert asked.json()["ecu_address"] == immobiliser["address"] and asked.json()["state"] == "queued"
        done = eventually(lambda: (lambda k: k if k["state"] in ("done", "failed") else None)(
            api("GET", f"/api/v1/security/tasks/{asked.json()['id']}", workshop.token).json()),
            timeout=30, what="the agent to program the key")
        assert done["state"] == "done", done
    finally:
        stop.set()
    car_immobiliser = floor["car"].ecus[int(immobiliser["address"], 16)]
    assert car_immobiliser.key_slots == {3: bytes.fromhex("4a1f00c2d3e4f501")}
    # the secure gateway unlocked online by the same agent: it reads the challenge, AOS answers, it writes
    agent_id, stop = running_agent(api, workshop, floor, name="gateway bench")
    try:
        online = api("POST", f"/api/v1/security/jobs/{job['id']}/gateway-unlock/agent", workshop.token,
                     json={"agent_id": agent_id})
        assert online.status_code == 201 and online.json()["kind"] == "unlock_gateway", online.text
        unlocked = eventually(lambda: (lambda k: k if k["state"] in ("done", "failed") else None)(
            api("GET", f"/api/v1/security/tasks/{online.json()['id']}", workshop.token).json()),
            timeout=30, what="the agent to unlock the gateway")
        assert unlocked["state"] == "done", unlocked
    finally:
        stop.set()
    gateway = next(e for e in CAR["ecus"] if e["name"].startswith("ZGW"))
    assert floor["car"].ecus[int(gateway["address"], 16)].gateway_unlocked
    # the key job's security key is for its immobiliser only, and not once it is done
    seed = "1a2b3c4d"
    late = api("POST", f"/api/v1/agents/tasks/{asked.json()['id']}/security-key",
               json={"ecu_address": immobiliser["address"], "seed": seed})
    assert late.status_code == 401  # no agent credential
    kinds = lambda: [e["kind"] for e in api("GET", "/api/v1/audit/trail", workshop.token,  # noqa: E731
                                             params={"vin": CAR["vin"]}).json()["entries"]]
    eventually(lambda: {"SecurityJobOpened", "SecurityKeyIssued", "KeyProgrammed", "GatewayUnlockIssued",
                        "GatewayUnlocked"} <= set(kinds()),
               what="the key's steps in the trail")


def test_a_theft_relevant_ecu_is_in_the_plan_only_with_a_sermi_security_job_on_the_car(api, workshop_floor):
    """The engine control and the immobiliser are theft-relevant (SERMI): without an open security job on the car
    the plan leaves them out, in words, and programs the rest; their keys are refused (final); with a job on the
    car, a new session's plan holds them and their keys come. A job on another car opens nothing here."""
    workshop = workshop_with_time(api, security_job=False)
    by_name = {e["name"].split(" ")[0]: e["address"] for e in CAR["ecus"]}
    theft_relevant = {by_name["DME"], by_name["BDC"]}

    def key(agent, session_id, address):
        return agent_call(api, agent, "POST", f"/sessions/{session_id}/security-key",
                          json={"ecu_address": address, "seed": "1a2b3c4d"})

    def planned(session_id):
        session = session_of(api, workshop, session_id)
        return {s["ecu_address"]: s for s in session["plan"]}, session
    agent, session_id = running_by_hand(api, workshop, "bay 8")
    plan, session = planned(session_id)
    assert not theft_relevant & set(plan) and by_name["EGS"] in plan
    left = {x["ecu_address"]: x for x in session["preflight"]["left_out"]}
    assert set(left) == theft_relevant and "needs a SERMI security job" in left[by_name["DME"]]["message"]
    assert "DME (engine control) at 0x12" in session["message"]
    assert key(agent, session_id, by_name["EGS"]).status_code == 200
    refused = key(agent, session_id, by_name["DME"])
    assert refused.status_code == 422 and error(refused)["code"] == "ECU_NOT_IN_PLAN"
    assert session_of(api, workshop, session_id)["state"] == "ended"

    open_security_job(api, workshop, vin=FEED["vehicles"][1]["vin"])  # a job on another car opens nothing here
    agent, session_id = running_by_hand(api, workshop, "bay 9")
    assert not theft_relevant & set(planned(session_id)[0])
    assert api("POST", f"/api/v1/programming/sessions/{session_id}/end", workshop.token).status_code == 200
    job = open_security_job(api, workshop)
    agent, session_id = running_by_hand(api, workshop, "bay 10")
    plan, session = planned(session_id)
    assert {a: plan[a]["security_job_id"] for a in theft_relevant} == {a: job["id"] for a in theft_relevant}
    assert session["preflight"]["left_out"] == []
    assert key(agent, session_id, by_name["DME"]).status_code == 200
    assert key(agent, session_id, by_name["BDC"]).status_code == 200


def test_a_key_the_server_refuses_for_a_step_of_its_own_plan_ends_the_session_at_once_unbilled(api, system,
                                                                                               workshop_floor):
    """Where a plan made before the SERMI rule (its engine step not bound to a security job) meets the rule: the
    key is refused, the refusal is ours, so the session ends in the same answer at no charge, and the agent stops
    asking (one refusal, never a loop)."""
    workshop = workshop_with_time(api, security_job=False)
    engine = next(e["address"] for e in CAR["ecus"] if e["name"].startswith("DME"))
    agent_id, stop = running_agent(api, workshop, workshop_floor, name="bay 11")
    try:
        session_id = api("POST", "/api/v1/programming/sessions", workshop.token,
                         json={"vin": CAR["vin"], "agent_id": agent_id}).json()["id"]
        eventually(lambda: session_of(api, workshop, session_id)["state"] == "ready", timeout=30, what="pre-flight")
        db = make_engine(system["DATABASE_URLS"]["programming"])
        with Session(db) as s, s.begin():  # as an earlier release planned it: the engine in, unbound
            found = s.get(ProgrammingSessionRow, session_id)
            first = found.plan[0]
            step = {"ecu_address": engine, "ecu_name": "DME (engine control)", "package_id": first["package_id"],
                    "from_version": "OLD", "to_version": "NEW", "size": first["size"], "sha256": first["sha256"],
                    "flash_order": 0, "status": "pending"}
            found.plan = [step] + found.plan
        db.dispose()
        ended = started_to_its_end(api, workshop, session_id)
        assert (ended["outcome"], ended["failure_side"], ended["seconds_billed"]) == ("failed", "platform", 0)
        assert "theft-relevant" in ended["message"] and "nothing is charged" in ended["message"]
        time.sleep(2)  # the agent had time to ask again, had it looped
        refusals = [e for e in api("GET", "/api/v1/audit/trail", workshop.token).json()["entries"]
                    if e["kind"] == "AgentRefused"]
        assert len(refusals) == 1 and refusals[0]["detail"]["failure_side"] == "platform"
        assert refusals[0]["detail"]["refused_at"] == ended["ended_at"]  # ended in the refusal's own answer
        eventually(lambda: api("GET", "/api/v1/entitlements", workshop.token).json()["programming_seconds"] == 1800,
                   what="the programming time whole again")
        assert workshop_floor["car"].ecus[int(engine, 16)].flashes == 0
    finally:
        stop.set()
