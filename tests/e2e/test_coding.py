"""Coding through the gateway, with the workshop agent at the simulated car over DoIP: a workshop retrofits a
trailer tow hitch to the car's order; the coding job reads every ECU's coding, shows the three parameters the order
now wants changed, writes them in the session the ODX names and reads them back; a car that matches is told so and
nothing is written or charged; an agent killed between a write and its read-back leaves the coding unverified
until it is read again, and the next read says what the ECUs hold; the job closes with the coding in the service
record, and the retrofit and each ECU's coding are in the audit trail."""
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy.orm import Session

from agent.cli import Agent

from deploy import coding as demo_coding, odx, software, vehicles
from services.programming import catalog, descriptions
from services.programming.settings import ProgrammingSettings
from services.shared import blobs
from services.shared.config import build
from services.shared.database import make_engine
from simulator import doip
from tests.e2e.conftest import Workshop, buy, error, fill_registry, top_up
from tests.e2e.test_job_card import job, run
from tests.helpers import eventually

FEED = vehicles.generate(20, seed=5)
CAR = next(v for v in FEED["vehicles"] if {"0x29", "0x40", "0x60"} <= {e["address"] for e in v["ecus"]})
TRAILER = [("0x29", "Trailer stability control", "off", "on"), ("0x40", "Trailer module", "not fitted", "fitted"),
           ("0x60", "Trailer display", "off", "on")]


@pytest.fixture
def garage(system, tmp_path):
    """The registry, the ECU types' descriptions and the coding rules in AOS; the car on the simulator, coded as
    its order was when it left the factory."""
    fill_registry(system, FEED)
    folder = tmp_path / "odx"
    files = odx.write_all(folder)
    engine = make_engine(system["DATABASE_URLS"]["programming"])
    store = blobs.from_config(system)
    store.ensure_bucket()
    descriptions.import_files(files, engine, store)
    demo_coding.write(tmp_path)
    with Session(engine) as session, session.begin():
        catalog.import_rules(tmp_path, session, datetime.now(timezone.utc))
    engine.dispose()
    settings = build(ProgrammingSettings, system["ENVIRONMENT"])
    car = doip.Vehicle.demo(CAR["vin"], settings.ecu_secret, demo_coding.delivered(CAR["ecus"], CAR, folder), folder)
    with doip.Simulator(car) as simulator:
        yield {"car": car, "port": simulator.port, "odx": folder, "tmp": tmp_path}


def changes(found):
    return [(c["ecu_address"], c["label"], c["from"], c["to"]) for c in found]


def paid_seconds(api, workshop):
    return api("GET", "/api/v1/entitlements", workshop.token).json()["programming_seconds"]


def coding_agent(api, workshop, garage):
    """The workshop's agent at the car, as its process runs it (a thread here), and how to start it again."""
    registered = api("POST", "/api/v1/agents", workshop.token, json={"name": "bay 3"}).json()
    agent = Agent(api.base, registered["id"], registered["credential"], f"127.0.0.1:{garage['port']}",
                  software.new_key().public_key(), garage["tmp"] / "agent", odx=garage["odx"])

    def start():
        stop = threading.Event()
        threading.Thread(target=agent.run, kwargs={"stop": stop.is_set, "idle": 0.1}, daemon=True).start()
        return stop
    return agent, start


def killed():
    raise SystemExit("the agent's process is gone")  # ends its thread with no report, as a killed process would


@pytest.mark.config(AOS_HEARTBEAT_TIMEOUT_SECONDS=3)  # the silence that interrupts a run, short for the test
def test_a_retrofit_is_coded_written_read_back_and_recorded(api, system, garage):
    workshop = Workshop(api)
    eventually(lambda: top_up(api, workshop, 20000).status_code == 201, what="billing to know the workshop")
    assert buy(api, workshop, "prog-30").status_code == 201
    assert buy(api, workshop, "air-1d").status_code == 201  # the car's order is vehicle data
    agent, start = coding_agent(api, workshop, garage)
    stop = start()
    try:
        opened = eventually(lambda: (lambda a: a if a.status_code == 201 else None)(api(
            "POST", "/api/v1/jobs", workshop.token, json={"vin": CAR["vin"], "agent_id": agent.http.headers[
                "Authorization"].split(" ")[1].split(":")[0], "complaint": "retrofit: trailer tow hitch",
                "odometer_km": 41000})), what="programming to hear of the pack")
        job_id = opened.json()["id"]
        nothing = api("POST", f"/api/v1/jobs/{job_id}/runs", workshop.token, json={"kind": "write_coding"})
        assert nothing.status_code == 409 and error(nothing)["code"] == "CODING_NOT_READ"

        # as delivered, the car matches its order: told so, nothing written, nothing charged
        assert run(api, workshop, job_id, kind="read_coding")["state"] == "done"
        coded = job(api, workshop, job_id)["coding"]
        assert coded["state"] == "read" and coded["differences"] == [] and coded["order_version"] == 0
        assert coded["actual"]["0x40"]["lighting"]["trailer_module"] == "not fitted"
        before = paid_seconds(api, workshop)
        matches = api("POST", f"/api/v1/jobs/{job_id}/runs", workshop.token, json={"kind": "write_coding"})
        assert matches.status_code == 409 and error(matches)["code"] == "CODING_MATCHES"
        assert paid_seconds(api, workshop) == before

        # the hitch fitted: the order's next version, and the coding read for it
        fitted = api("POST", f"/api/v1/vehicles/{CAR['vin']}/retrofits", workshop.token, json={"option": "S3AC"})
        assert fitted.status_code == 201, fitted.text
        assert fitted.json()["order_version"] == 1 and "S3AC" in fitted.json()["options"]
        again = api("POST", f"/api/v1/vehicles/{CAR['vin']}/retrofits", workshop.token, json={"option": "S3AC"})
        assert again.status_code == 409 and error(again)["code"] == "OPTION_IN_ORDER"
        bad = api("POST", f"/api/v1/vehicles/{CAR['vin']}/retrofits", workshop.token, json={"option": "tow"})
        assert bad.status_code == 422 and "option" in str(error(bad)["details"])
        stale = api("POST", f"/api/v1/jobs/{job_id}/runs", workshop.token, json={"kind": "write_coding"})
        assert stale.status_code == 409 and error(stale)["code"] == "CODING_STALE"
        run(api, workshop, job_id, kind="read_coding")
        coded = job(api, workshop, job_id)["coding"]
        assert changes(coded["differences"]) == TRAILER and coded["order_version"] == 1

        # the agent killed after its first write, before the read-back: nothing it did is assumed
        agent.after_coding_write = killed
        written = api("POST", f"/api/v1/jobs/{job_id}/runs", workshop.token, json={"kind": "write_coding"})
        assert written.status_code == 201, written.text
        assert [w["ecu_address"] for w in written.json()["params"]["writes"]] == ["0x29", "0x40", "0x60"]
        eventually(lambda: job(api, workshop, job_id)["coding"]["state"] == "unverified", timeout=30,
                   what="the write to be interrupted")
        unverified = api("POST", f"/api/v1/jobs/{job_id}/runs", workshop.token, json={"kind": "write_coding"})
        assert unverified.status_code == 409 and error(unverified)["code"] == "CODING_NOT_READ"
        assert "read-back" in error(unverified)["message"]
        assert garage["car"].ecus[0x29].coding_values()["stability_functions"]["trailer_stability_control"] == "on"
        agent.after_coding_write = lambda: None
        stop = start()  # the agent's process started again
        run(api, workshop, job_id, kind="read_coding")
        assert changes(job(api, workshop, job_id)["coding"]["differences"]) == TRAILER[1:]  # what the car holds

        done = run(api, workshop, job_id, kind="write_coding")
        assert done["state"] == "done" and done["paid_by"] == "time"
        coded = job(api, workshop, job_id)["coding"]
        assert coded["state"] == "read" and coded["differences"] == []
        assert [(c["ecu_address"], c["verified"]) for c in coded["written"][-1]["changes"]] == [
            ("0x40", True), ("0x60", True)]
        assert garage["car"].ecus[0x60].coding_values()["display"]["trailer_display"] == "on"
        # every coding run billed the seconds its clock ran, once, from the programming pack
        eventually(lambda: paid_seconds(api, workshop) == 1800 - sum(
            r["seconds"] for r in job(api, workshop, job_id)["runs"]), what="the runs' seconds to be billed")
        closed = api("POST", f"/api/v1/jobs/{job_id}/close", workshop.token)
        assert closed.status_code == 200, closed.text
        record = api("GET", f"/api/v1/vehicles/{CAR['vin']}/service-records", workshop.token).json()["records"][0]
        coding_item = next(i for i in record["items"] if i["code"] == "CODING")
        assert "BDC Trailer module: not fitted → fitted" in coding_item["text"]
        eventually(lambda: {"OptionRetrofitted", "CodingWritten"} <= {e["kind"] for e in api(
            "GET", "/api/v1/audit/trail", workshop.token, params={"vin": CAR["vin"]}).json()["entries"]},
            what="the retrofit and the coding in the trail")
    finally:
        stop.set()


def test_units_are_replaced_restored_and_a_theft_relevant_one_paired_only_in_a_sermi_job(api, system, garage):
    """The instrument cluster swapped for a factory-new one: backed up first, restored after (its VIN, coding and
    odometer), the registry records the new unit; the body controller, dead (no backup), restored from the order's
    coding (said so) and paired by a SERMI-linked technician only; the job's record says what was replaced."""
    from tests.e2e.test_sermi import link
    workshop = Workshop(api)
    eventually(lambda: top_up(api, workshop, 20000).status_code == 201, what="billing to know the workshop")
    assert buy(api, workshop, "prog-60").status_code == 201
    assert buy(api, workshop, "air-1d").status_code == 201
    agent, start = coding_agent(api, workshop, garage)
    agent_id = agent.http.headers["Authorization"].split(" ")[1].split(":")[0]
    stop = start()
    car = garage["car"]
    try:
        opened = eventually(lambda: (lambda a: a if a.status_code == 201 else None)(api(
            "POST", "/api/v1/jobs", workshop.token, json={"vin": CAR["vin"], "agent_id": agent_id,
                                                          "complaint": "cluster dark, body controller dead",
                                                          "odometer_km": 41000})), what="programming to hear")
        job_id = opened.json()["id"]
        old = car.ecus[0x60]
        assert run(api, workshop, job_id, kind="backup_ecu", ecu_address="0x60")["state"] == "done"
        backup = job(api, workshop, job_id)["replacements"]["0x60"]
        assert backup["state"] == "backed_up" and backup["backup"]["serial_number"] == old.serial
        assert backup["backup"]["vin"] == CAR["vin"] and backup["backup"]["adaptations"]["odometer"] > 0
        assert backup["backup"]["coding"] == old.coding_values()

        too_soon = run(api, workshop, job_id, kind="restore_ecu", ecu_address="0x60")
        assert too_soon["state"] == "failed" and "swap it first" in too_soon["detail"]
        new = car.swap(0x60)  # the technician fits a factory-new cluster
        assert new.vin is None and new.serial != old.serial and new.coding_values() != old.coding_values()
        restored = run(api, workshop, job_id, kind="restore_ecu", ecu_address="0x60")
        assert restored["state"] == "done", restored["detail"]
        entry = job(api, workshop, job_id)["replacements"]["0x60"]
        assert entry["state"] == "restored" and entry["coding_from"] == "backup" and entry["problems"] == []
        assert new.vin == CAR["vin"] and new.coding_values() == old.coding_values()
        assert new.adaptations == old.adaptations  # the odometer carried over
        listed = api("GET", f"/api/v1/vehicles/{CAR['vin']}", workshop.token).json()["ecus"]
        assert next(e for e in listed if e["address"] == "0x60")["serial_number"] == new.serial

        # the body controller is dead: no backup; restored from the order, and it waits to be paired
        body = car.swap(0x40)
        restored = run(api, workshop, job_id, kind="restore_ecu", ecu_address="0x40")
        assert restored["state"] == "done", restored["detail"]
        entry = job(api, workshop, job_id)["replacements"]["0x40"]
        assert (entry["state"], entry["coding_from"], body.paired) == ("needs_pairing", "target", False)

        # pairing is security-related work: without SERMI refused in words; with it, in a security job only
        owner = {"owner_name": "Jana Nowak", "owner_document_number": "L01X00T47"}
        refused = api("POST", "/api/v1/security/jobs", workshop.token, json={"vin": CAR["vin"], **owner})
        assert refused.status_code == 403 and error(refused)["code"] == "SERMI_NOT_LINKED"
        link(api, workshop, "tech-anna")
        security = api("POST", "/api/v1/security/jobs", workshop.token, json={"vin": CAR["vin"], **owner}).json()
        not_theft = api("POST", f"/api/v1/security/jobs/{security['id']}/pairing", workshop.token,
                        json={"agent_id": agent_id, "ecu_address": "0x60"})
        assert not_theft.status_code == 422 and error(not_theft)["code"] == "NOT_A_THEFT_RELEVANT_UNIT"
        task = api("POST", f"/api/v1/security/jobs/{security['id']}/pairing", workshop.token,
                   json={"agent_id": agent_id, "ecu_address": "0x40"})
        assert task.status_code == 201, task.text
        done = eventually(lambda: (lambda t: t if t["state"] in ("done", "failed") else None)(
            api("GET", f"/api/v1/security/tasks/{task.json()['id']}", workshop.token).json()), what="the pairing")
        assert done["state"] == "done", done["detail"]
        assert body.paired is True
        assert job(api, workshop, job_id)["replacements"]["0x40"]["state"] == "restored"

        assert api("POST", f"/api/v1/jobs/{job_id}/close", workshop.token).status_code == 200
        record = api("GET", f"/api/v1/vehicles/{CAR['vin']}/service-records", workshop.token).json()["records"][0]
        replaced = [i["text"] for i in record["items"] if i["code"] == "ECU_REPLACED"]
        assert len(replaced) == 2 and any(f"was serial {old.serial}" in text for text in replaced)
        assert any("no backup" in text and "coding from the target" in text for text in replaced)
        eventually(lambda: {"EcuReplaced", "UnitPaired"} <= {e["kind"] for e in api(
            "GET", "/api/v1/audit/trail", workshop.token, params={"vin": CAR["vin"]}).json()["entries"]},
            what="the replacement and the pairing in the trail")
    finally:
        stop.set()
