"""The car on the lift, through the gateway, with the workshop agent diagnosing the simulated car over DoIP from
the ECU types' ODX files: a job opened with the customer's complaint, a quick test finding P0301 with its freeze
frame, its documents and repair instructions from AIR, live data against the test plan's limits, an actuator
test, the operation picked with its labour time, the repair, clear and retest, and the job closed with its
service record and PDF report; every run billed the seconds its clock ran."""
import io
import json
import subprocess
import sys
import threading

import pytest
import requests
from pypdf import PdfReader

from agent.cli import Agent
from deploy import odx, software, vehicles
from services.air import content
from services.programming.settings import ProgrammingSettings
from services.shared import blobs
from services.shared.config import build
from services.shared.database import make_engine
from simulator import doip
from tests.e2e.conftest import Workshop, buy, error, fill_registry, import_parts, top_up
from tests.e2e.test_air import DOCUMENTS, package  # noqa: F401  (the demo library, made once for the module)
from tests.e2e.test_parts import NEW_COIL, OLD_COIL
from tests.helpers import eventually

FEED = vehicles.generate(20, seed=5)
CAR = FEED["vehicles"][0]
LIVE = ["engine_speed", "coolant_temperature", "battery_voltage", "engine_load", "intake_air_temperature",
        "fuel_rail_pressure", "misfires_cylinder_1", "misfires_cylinder_2", "misfires_cylinder_3",
        "misfires_cylinder_4"]


@pytest.fixture
def lift(system, package, parts_package, tmp_path):
    """The registry, the library and the parts catalogue in AOS; the car, its coil dead, on the simulator answering
    from the ODX."""
    fill_registry(system, FEED)
    import_parts(system, parts_package)
    engine = make_engine(system["DATABASE_URLS"]["air"])
    store = blobs.from_config(system)
    store.ensure_bucket()
    assert content.import_package(package, engine, store).created == DOCUMENTS
    engine.dispose()
    descriptions = tmp_path / "odx"
    odx.write_all(descriptions)
    settings = build(ProgrammingSettings, system["ENVIRONMENT"])
    car = doip.Vehicle.demo(CAR["vin"], settings.ecu_secret, CAR["ecus"], descriptions, ["ignition_coil_1"])
    with doip.Simulator(car) as simulator:
        yield {"car": car, "port": simulator.port, "odx": descriptions, "tmp": tmp_path}


def diagnosing_agent(api, workshop, lift):
    registered = api("POST", "/api/v1/agents", workshop.token, json={"name": "bay 1"})
    assert registered.status_code == 201, registered.text
    body = registered.json()
    agent = Agent(api.base, body["id"], body["credential"], f"127.0.0.1:{lift['port']}",
                  software.new_key().public_key(), lift["tmp"] / "agent", odx=lift["odx"])
    stop = threading.Event()
    threading.Thread(target=agent.run, kwargs={"stop": stop.is_set, "idle": 0.1}, daemon=True).start()
    return body["id"], stop


def run(api, workshop, job_id, **body):
    """A run queued and waited for; its final state."""
    queued = api("POST", f"/api/v1/jobs/{job_id}/runs", workshop.token, json=body)
    assert queued.status_code == 201, queued.text

    def finished():
        found = next(r for r in job(api, workshop, job_id)["runs"] if r["id"] == queued.json()["id"])
        return found if found["state"] not in ("queued", "running") else None
    return eventually(finished, timeout=60, what=f"the {body['kind']} run")


def job(api, workshop, job_id):
    answer = api("GET", f"/api/v1/jobs/{job_id}", workshop.token)
    assert answer.status_code == 200, answer.text
    return answer.json()


def faults(fault_memory):
    return {d["code"]: d for ecu in fault_memory for d in ecu.get("dtcs", [])}


def test_from_complaint_to_service_record(api, lift):
    workshop = Workshop(api)
    eventually(lambda: top_up(api, workshop, 20000).status_code == 201, what="billing to know the workshop")
    agent_id, stop = diagnosing_agent(api, workshop, lift)
    try:
        opening = {"vin": CAR["vin"], "agent_id": agent_id, "complaint": "engine shakes at idle",
                   "odometer_km": 48213}
        # no diagnosis time and no VIN pass: 402 with what to buy, and nothing opened
        refused = api("POST", "/api/v1/jobs", workshop.token, json=opening)
        assert refused.status_code == 402 and error(refused)["code"] == "DIAGNOSIS_TIME_REQUIRED"
        assert {"diag-30", "diag-60", "vin-1d"} <= set(error(refused)["details"]["tariffs"])
        assert api("GET", "/api/v1/jobs", workshop.token).json() == {"jobs": []}
        assert buy(api, workshop, "diag-30").status_code == 201
        assert buy(api, workshop, "air-1d").status_code == 201
        opened = eventually(lambda: (lambda a: a if a.status_code == 201 else None)(
            api("POST", "/api/v1/jobs", workshop.token, json=opening)), what="programming to hear of the pack")
        job_id = opened.json()["id"]
        assert opened.json()["state"] == "open" and opened.json()["before"] is None

        # the quick test: every ECU's fault memory, P0301 with its freeze frame, decoded through the ODX
        quick = run(api, workshop, job_id, kind="quick_test")
        assert quick["state"] == "done" and quick["paid_by"] == "time"
        found = job(api, workshop, job_id)
        assert len(found["before"]) == len(CAR["ecus"]) and all(e["reachable"] for e in found["before"])
        misfire = faults(found["before"])["P0301"]
        assert misfire["text"] == "Cylinder 1 misfire detected" and misfire["confirmed"] and misfire["test_failed"]
        assert misfire["occurrences"] == 1
        frame = {r["name"]: r for r in misfire["freeze_frame"]}
        assert set(frame) == {"engine_speed", "coolant_temperature", "battery_voltage", "engine_load"}
        assert frame["engine_speed"]["unit"] == "1/min" and 600 <= frame["engine_speed"]["value"] <= 900
        assert found["faults"] == ["P0301"]
        # the code's documents for this car: its description, and cylinder 1's repairs ranked first
        finding = next(f for f in found["findings"] if f["code"] == "P0301")
        assert finding["document"]["id"] == "DTC-P0301"
        coil = next(h for h in finding["repairs"] if "ignition coil, cylinder 1" in h["title"].lower()
                    and h["title"].lower().startswith("replace"))
        assert all("cylinder 1" in h["title"] for h in finding["repairs"][:3])
        # its test plan: the live data to check, not read yet
        plan = {c["name"]: c for c in finding["checks"]}
        assert list(plan) == ["engine_speed", "engine_load", "misfires_cylinder_1", "misfires_cylinder_2",
                              "misfires_cylinder_3", "misfires_cylinder_4"]
        assert plan["engine_speed"] == {"name": "engine_speed", "label": "Engine speed", "value": None,
                                        "unit": "1/min", "in_limits": None}

        # live data: ten identifiers, five samples a second, against the test plan's limits; cylinder 1 misfires
        live = run(api, workshop, job_id, kind="live_data", ecu_address="0x12", identifiers=LIVE, rate=5, seconds=3)
        assert live["state"] == "done" and len(live["samples"]) >= 10
        first, last = live["samples"][0]["values"], live["samples"][-1]["values"]
        assert [v["name"] for v in first] == LIVE
        speed = first[0]
        assert speed["unit"] == "1/min" and (speed["min"], speed["max"]) == (600, 900)
        assert last[6]["value"] > first[6]["value"] and last[7]["value"] == 0  # cylinder 1 counts, 2 does not
        assert last[6]["in_limits"] is False  # past the test plan's maximum: highlighted
        plan = {c["name"]: c for c in next(f for f in job(api, workshop, job_id)["findings"]
                                           if f["code"] == "P0301")["checks"]}
        assert plan["misfires_cylinder_1"]["in_limits"] is False and plan["misfires_cylinder_2"]["in_limits"]
        assert (plan["engine_speed"]["min"], plan["engine_speed"]["max"]) == (600, 900)
        # the actuator test of cylinder 1's coil fails
        test = run(api, workshop, job_id, kind="routine", ecu_address="0x12", routine="ignition_coil_test_cylinder_1")
        assert test["state"] == "done" and test["result"] == {"result": "failed"}

        # the operation picked: its labour time is the document's own
        document = api("GET", f"/api/v1/air/documents/{coil['id']}", workshop.token, params={"vin": CAR["vin"]})
        hours = float(next(d["value"] for d in document.json()["body"]["data"] if d["item"] == "Labour time"))
        chosen = api("PUT", f"/api/v1/jobs/{job_id}/operations", workshop.token, json={"document_ids": [coil["id"]]})
        assert chosen.status_code == 200, chosen.text
        estimate = chosen.json()["estimate"]
        assert chosen.json()["operations"] == [{"document_id": coil["id"], "title": coil["title"], "hours": hours}]
        assert estimate["net_cents"] == round(hours * 9500) and estimate["vat_rate"] == "19"
        assert estimate["gross_cents"] == estimate["net_cents"] + (estimate["net_cents"] * 19 + 50) // 100  # half up
        # the operation brought its part, the coil its instruction names: unpriced without parts access
        assert [(p["number"], p["quantity"], p["net_cents"]) for p in chosen.json()["parts"]] == [(OLD_COIL, 1, None)]
        assert estimate["parts_unpriced"] == 1 and estimate["parts_net_cents"] == 0
        # with parts access, four coils on the job from the catalogue: one line, the current number, priced
        refused = api("POST", f"/api/v1/jobs/{job_id}/parts", workshop.token,
                      json={"number": "12 13 8 616 153", "quantity": 4})
        assert refused.status_code == 402 and error(refused)["code"] == "PARTS_ACCESS_REQUIRED"
        assert buy(api, workshop, "parts-1d").status_code == 201
        added = eventually(lambda: (lambda a: a if a.status_code == 200 else None)(api(
            "POST", f"/api/v1/jobs/{job_id}/parts", workshop.token, json={"number": "12 13 8 616 153", "quantity": 4})),
            what="parts to hear of the access")
        [coils] = added.json()["parts"]
        assert (coils["number"], coils["asked"], coils["quantity"]) == (NEW_COIL, "12 13 8 616 153", 4)
        assert coils["net_cents"] == 4 * coils["unit_net_cents"] and coils["document_id"] == coil["id"]
        estimate = added.json()["estimate"]
        labour = round(hours * 9500)
        assert (estimate["labour_net_cents"], estimate["parts_net_cents"], estimate["parts_unpriced"]) == (
            labour, coils["net_cents"], 0)
        assert estimate["net_cents"] == labour + coils["net_cents"]
        assert estimate["gross_cents"] == estimate["net_cents"] + estimate["vat_cents"]
        assert estimate["vat_cents"] == (labour * 19 + 50) // 100 + coils["vat_cents"]  # 19 %, half a cent up
        unknown = api("POST", f"/api/v1/jobs/{job_id}/parts", workshop.token, json={"number": "99999999999",
                                                                                   "quantity": 1})
        assert unknown.status_code == 404 and job(api, workshop, job_id)["parts"] == added.json()["parts"]
        not_a_repair = api("PUT", f"/api/v1/jobs/{job_id}/operations", workshop.token,
                           json={"document_ids": ["DTC-P0301"]})
        assert not_a_repair.status_code == 422 and error(not_a_repair)["details"]["field"] == "document_ids.0"

        # the coil replaced; the memory cleared and tested again: no fault comes back
        lift["car"].condition.repair("ignition_coil_1")
        assert run(api, workshop, job_id, kind="clear")["state"] == "done"
        assert run(api, workshop, job_id, kind="quick_test")["state"] == "done"
        after = job(api, workshop, job_id)
        assert after["after"] is not None and faults(after["after"]) == {}
        assert "P0301" in faults(after["before"])  # as found stays on the card

        closed = api("POST", f"/api/v1/jobs/{job_id}/close", workshop.token)
        assert closed.status_code == 200, closed.text
        assert closed.json()["state"] == "closed" and closed.json()["report"]
        history = api("GET", f"/api/v1/vehicles/{CAR['vin']}/service-records", workshop.token).json()
        record = next(r for r in history["records"] if r["record_id"] == closed.json()["service_record_id"])
        assert record["odometer_km"] == 48213 and [i["code"] for i in record["items"]] == ["DIAGNOSIS", "REPAIR"]
        assert "P0301" in record["items"][0]["text"] and coil["title"] in record["items"][1]["text"]
        link = api("GET", f"/api/v1/jobs/{job_id}/report", workshop.token).json()["url"]
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(requests.get(link, timeout=30).content)).pages)
        for words in ("engine shakes at idle", "P0301", "Cylinder 1 misfire detected", "freeze frame",
                      coil["title"], f"{hours} h", "No fault stored", "4 x 12 13 8 643 360 Ignition coil",
                      "(replaces 12 13 8 616 153)", "Parts:", "VAT 19 %"):
            assert words in text, words
        assert api("POST", f"/api/v1/jobs/{job_id}/runs", workshop.token,
                   json={"kind": "quick_test"}).status_code == 409  # closed

        # billed: exactly the seconds the runs' clocks ran, from the diagnosis pack
        runs = job(api, workshop, job_id)["runs"]
        used = sum(r["seconds"] for r in runs)
        eventually(lambda: api("GET", "/api/v1/entitlements", workshop.token).json()["diagnosis_seconds"]
                   == 1800 - used, what="billing to debit the runs")
        assert used >= 3  # the live data ran three seconds
    finally:
        stop.set()


def test_a_vin_pass_pays_for_its_car_and_bad_runs_are_refused_in_words(api, lift):
    workshop = Workshop(api)
    eventually(lambda: top_up(api, workshop, 20000).status_code == 201, what="billing to know the workshop")
    assert buy(api, workshop, "vin-1d", vin=CAR["vin"]).status_code == 201
    agent_id, stop = diagnosing_agent(api, workshop, lift)
    try:
        opened = eventually(lambda: (lambda a: a if a.status_code == 201 else None)(api(
            "POST", "/api/v1/jobs", workshop.token, json={"vin": CAR["vin"], "agent_id": agent_id,
                                                          "complaint": "warning light", "odometer_km": 1000})),
            what="programming to hear of the pass")
        job_id = opened.json()["id"]
        bad = [({"kind": "live_data"}, "ecu_address"),
               ({"kind": "live_data", "ecu_address": "0x12", "identifiers": ["engine_speed"], "rate": 100,
                 "seconds": 2}, "rate"),
               ({"kind": "routine", "ecu_address": "0x99", "routine": "x"}, "ecu_address"),
               ({"kind": "clear"}, "kind"),  # before a first quick test
               ({"kind": "teleport"}, "kind")]
        for body, field in bad:
            answer = api("POST", f"/api/v1/jobs/{job_id}/runs", workshop.token, json=body)
            assert answer.status_code in (409, 422) and field in str(error(answer)["details"]), (body, answer.text)
        unknown = run(api, workshop, job_id, kind="live_data", ecu_address="0x12", identifiers=["boost_pressure"],
                      rate=1, seconds=1)
        assert unknown["state"] == "failed" and "not described" in unknown["detail"]
        quick = run(api, workshop, job_id, kind="quick_test")
        assert quick["paid_by"] == "vin_pass" and quick["seconds"] == 0
        assert api("POST", f"/api/v1/jobs/{job_id}/close", workshop.token).status_code == 200
        assert api("GET", "/api/v1/entitlements", workshop.token).json()["diagnosis_seconds"] == 0
        stranger = Workshop(api, email="nachbar@werkstatt-nord.de", vat_id=None)
        assert api("GET", f"/api/v1/jobs/{job_id}", stranger.token).status_code == 404
    finally:
        stop.set()


@pytest.mark.config(AOS_HEARTBEAT_TIMEOUT_SECONDS=3)  # the silence that interrupts a run, short for the test
def test_an_agent_dropping_mid_read_stops_the_clock_and_the_job_keeps_what_came(api, lift):
    """The agent's process killed while it reads live data: the run is interrupted once its silence passes the
    timeout, billed to the agent's last word, its samples kept; an ECU that does not answer is reported as such,
    and a negative response is named in words."""
    workshop = Workshop(api)
    eventually(lambda: top_up(api, workshop, 20000).status_code == 201, what="billing to know the workshop")
    assert buy(api, workshop, "diag-30").status_code == 201
    registered = api("POST", "/api/v1/agents", workshop.token, json={"name": "bay 4"}).json()
    config = lift["tmp"] / "agent.json"
    config.write_text(json.dumps({"api": api.base, **registered}))
    key = lift["tmp"] / "manufacturer.pem"
    key.write_text(software.public_pem(software.new_key()))
    command = [sys.executable, "-m", "agent", "run", "--config", str(config), "--vehicle",
               f"127.0.0.1:{lift['port']}", "--manufacturer-key", str(key), "--workdir", str(lift["tmp"] / "files"),
               "--odx", str(lift["odx"])]
    agent = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        opened = eventually(lambda: (lambda a: a if a.status_code == 201 else None)(api(
            "POST", "/api/v1/jobs", workshop.token, json={"vin": CAR["vin"], "agent_id": registered["id"],
                                                          "complaint": "dies when warm", "odometer_km": 90210})),
            what="programming to hear of the pack")
        job_id = opened.json()["id"]
        # the transmission control gone quiet, the body controller refusing: both told in words
        del lift["car"].ecus[0x18]
        lift["car"].ecus[0x40].faults.refuse.add(0x19)
        found = run(api, workshop, job_id, kind="quick_test")
        ecus = {e["address"]: e for e in job(api, workshop, job_id)["before"]}
        assert found["state"] == "done" and not ecus["0x18"]["reachable"]
        assert ecus["0x18"]["error"] == ("read fault memory: the ECU does not answer: the car's gateway says unknown "
                                         "target address (DoIP 0x03)")
        assert ecus["0x40"]["error"] == "read fault memory: conditions not correct (0x22)"
        assert "P0301" in faults(ecus.values())

        queued = api("POST", f"/api/v1/jobs/{job_id}/runs", workshop.token, json={
            "kind": "live_data", "ecu_address": "0x12", "identifiers": ["engine_speed"], "rate": 5, "seconds": 120})
        run_id = queued.json()["id"]

        def reading():
            found = api("GET", f"/api/v1/jobs/{job_id}/runs/{run_id}", workshop.token).json()
            return found if len(found["samples"]) >= 10 else None
        reading_now = eventually(reading, timeout=30, what="live data to come")
        assert reading_now["state"] == "running" and reading_now["clock_running"]
        agent.kill()
        agent.wait(timeout=10)
        stopped = eventually(lambda: (lambda r: r if r["state"] == "interrupted" else None)(
            api("GET", f"/api/v1/jobs/{job_id}/runs/{run_id}", workshop.token).json()), timeout=30,
            what="the run to be interrupted")
        assert len(stopped["samples"]) >= len(reading_now["samples"])  # what came is kept
        assert "silent" in stopped["detail"]
        last_word = stopped["samples"][-1]["t"]
        assert last_word - 1.5 <= stopped["seconds"] <= last_word + 1.5  # billed to the last word, not the silence
        total = sum(r["seconds"] for r in job(api, workshop, job_id)["runs"])
        eventually(lambda: api("GET", "/api/v1/entitlements", workshop.token).json()["diagnosis_seconds"]
                   == 1800 - total, what="billing to debit what the clock ran")
    finally:
        agent.kill()
