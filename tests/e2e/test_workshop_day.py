"""A new workshop's whole day, across every feature, with its own agent beside the simulated car: register, confirm
the address, enrol, buy; diagnose the car; program it without SERMI (the theft-relevant ECUs left out with the
reason, the rest flashed, billed to the second); link SERMI, open a security job and program those; a tool and a
key blank from the shop (the key blank refused before SERMI, sold after); the invoices; a technician invited,
then deactivated mid-job (refused within a second, their running work stopped, nothing billed after); the dealer
system's API key, reading as far as the workshop's access opens; a tow hitch retrofitted and coded on the same job
from the same programming pack as the flash. Each seam found between two features goes here."""
import threading

import pytest

from agent.cli import Agent
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from deploy import coding, odx, vehicles
from services.programming import catalog, descriptions as manufacturer_descriptions
from services.shared import blobs
from services.shared.database import make_engine
from simulator import doip
from tests.e2e.conftest import Workshop, buy, error, fill_registry, key, staff, staff_token, top_up
from tests.e2e.test_programming import software_for
from tests.e2e.test_sermi import link
from tests.e2e.test_shop import CABLE
from tests.e2e.test_users import invite, join
from tests.helpers import eventually

pytestmark = pytest.mark.both_databases  # the clock, money and the locks: SQLite and PostgreSQL

FEED = vehicles.generate(4, seed=41)
CAR = FEED["vehicles"][0]
THEFT_RELEVANT = {e["address"] for e in CAR["ecus"] if e["name"].split(" ")[0] in ("DME", "BDC")}
KEY_BLANK = {"sku": "KEY-ID49-BLANK", "name": "Remote key blank with ID49 transponder", "net_cents": 3900,
             "description": "A blank remote key for key programming.", "needed_for": ["security"],
             "theft_relevant": True}
LIVE = ["engine_speed", "coolant_temperature"]


@pytest.fixture
def floor(system, tmp_path):
    """The manufacturer's side: the registry, the signed software for the car, the ODX descriptions, the shop's
    catalogue; the car on the simulator, its coil dead."""
    fill_registry(system, FEED)
    manufacturer, _, settings = software_for(system, CAR, tmp_path / "software", 32 * 1024)
    with staff(system) as aos:
        for product, stock in ((CABLE, 5), (KEY_BLANK, 10)):
            aos.shop.save_product(staff_token(system), product)
            aos.shop.receive_stock(staff_token(system), {"sku": product["sku"], "quantity": stock})
    descriptions = tmp_path / "odx"
    files = odx.write_all(descriptions)
    engine = make_engine(system["DATABASE_URLS"]["programming"])
    store = blobs.from_config(system)
    manufacturer_descriptions.import_files(files, engine, store)
    coding.write(tmp_path)
    with Session(engine) as session, session.begin():
        catalog.import_rules(tmp_path, session, datetime.now(timezone.utc))
    engine.dispose()
    car = doip.Vehicle.demo(CAR["vin"], settings.ecu_secret, coding.delivered(CAR["ecus"], CAR, descriptions),
                            descriptions, ["ignition_coil_1"])
    with doip.Simulator(car) as simulator:
        yield {"car": car, "port": simulator.port, "key": manufacturer, "odx": descriptions, "tmp": tmp_path}


def the_agent(api, workshop, floor):
    """The workshop's own agent, registered through the API and started beside the car."""
    body = api("POST", "/api/v1/agents", workshop.token, json={"name": "bay 1"}).json()
    agent = Agent(api.base, body["id"], body["credential"], f"127.0.0.1:{floor['port']}", floor["key"].public_key(),
                  floor["tmp"] / "agent", odx=floor["odx"])
    stop = threading.Event()
    threading.Thread(target=agent.run, kwargs={"stop": stop.is_set, "idle": 0.1}, daemon=True).start()
    return body["id"], stop


def session(api, workshop, session_id):
    return api("GET", f"/api/v1/programming/sessions/{session_id}", workshop.token).json()


def in_state(api, workshop, session_id, *states, timeout=60):
    return eventually(lambda: (lambda s: s if s["state"] in states else None)(session(api, workshop, session_id)),
                      timeout=timeout, what=f"the session to be {' or '.join(states)}")


def program(api, workshop, agent_id, token=None):
    """A session opened, its pre-flight passed, started, and run to its end: (the ready session, the ended one)."""
    opened = api("POST", "/api/v1/programming/sessions", token or workshop.token,
                 json={"vin": CAR["vin"], "agent_id": agent_id})
    assert opened.status_code == 201, opened.text
    ready = in_state(api, workshop, opened.json()["id"], "ready", "ended", timeout=30)
    assert ready["state"] == "ready", ready
    started = api("POST", f"/api/v1/programming/sessions/{ready['id']}/start", token or workshop.token)
    assert started.status_code == 200, started.text
    return ready, in_state(api, workshop, ready["id"], "ended", "expired")


def entitlements(api, workshop):
    return api("GET", "/api/v1/entitlements", workshop.token).json()


def order(api, who, sku):
    return api("POST", "/api/v1/shop/orders", who.token if hasattr(who, "token") else who,
               headers={"Idempotency-Key": key()}, json={"lines": [{"sku": sku, "quantity": 1}]})


def run_of(api, token, job_id, run_id):
    return api("GET", f"/api/v1/jobs/{job_id}/runs/{run_id}", token).json()


def test_a_new_workshop_s_day_holds_where_the_features_meet(api, system, floor):
    # morning: a new workshop registers, confirms its address from the mail, enrols TOTP and buys time
    workshop = Workshop(api)
    eventually(lambda: top_up(api, workshop, 60000).status_code == 201, what="billing to know the workshop")
    for tariff in ("prog-30", "diag-30"):
        assert buy(api, workshop, tariff).status_code == 201
    eventually(lambda: entitlements(api, workshop)["programming_seconds"] == 1800, what="the programming pack")
    agent_id, stop = the_agent(api, workshop, floor)
    try:
        # the car came in shaking: a job, the quick test finds P0301, live data
        opened = eventually(lambda: (lambda a: a if a.status_code == 201 else None)(api(
            "POST", "/api/v1/jobs", workshop.token, json={"vin": CAR["vin"], "agent_id": agent_id,
                                                          "complaint": "engine shakes at idle",
                                                          "odometer_km": 48213})), what="the diagnosis pack")
        job_id = opened.json()["id"]
        runs = []
        for body in ({"kind": "quick_test"}, {"kind": "live_data", "ecu_address": "0x12", "identifiers": LIVE,
                                              "rate": 5, "seconds": 2}):
            queued = api("POST", f"/api/v1/jobs/{job_id}/runs", workshop.token, json=body)
            assert queued.status_code == 201, queued.text
            runs.append(eventually(lambda: (lambda r: r if r["state"] == "done" else None)(
                run_of(api, workshop.token, job_id, queued.json()["id"])), timeout=60, what=f"the {body['kind']}"))
        found = api("GET", f"/api/v1/jobs/{job_id}", workshop.token).json()
        assert "P0301" in found["faults"] and len(runs[1]["samples"]) >= 5

        # programming without SERMI: the theft-relevant ECUs left out in words, the rest flashed and billed
        ready, ended = program(api, workshop, agent_id)
        left = {x["ecu_address"]: x for x in ready["preflight"]["left_out"]}
        assert set(left) == THEFT_RELEVANT and all("SERMI security job" in x["message"] for x in left.values())
        assert {s["ecu_address"] for s in ready["plan"]} == {e["address"] for e in CAR["ecus"]} - THEFT_RELEVANT
        assert (ended["state"], ended["outcome"], ended["failure_side"]) == ("ended", "completed", "none")
        for address in THEFT_RELEVANT:  # never touched
            assert floor["car"].ecus[int(address, 16)].flashes == 0
        assert abs(ended["seconds_billed"] - ended["used_seconds"]) <= 0.5005  # billed to the second
        billed = ended["seconds_billed"]
        eventually(lambda: entitlements(api, workshop)["programming_seconds"] == 1800 - billed,
                   what="billing to debit exactly the seconds used")

        # a key blank is for SERMI-authorised technicians: refused before the link, sold after
        refused = order(api, workshop, "KEY-ID49-BLANK")
        assert refused.status_code == 403 and error(refused)["code"] == "SERMI_NOT_LINKED"
        assert order(api, workshop, "ENET-CABLE-OBD").status_code == 201  # a tool needs none

        # SERMI linked and a security job open on the car: the theft-relevant ECUs are programmed too
        assert link(api, workshop, "tech-anna")[0] == "/#/sermi?linked=1"
        job = api("POST", "/api/v1/security/jobs", workshop.token, json={
            "vin": CAR["vin"], "owner_name": "Jana Nowak", "owner_document_number": "L01X00T47"}).json()
        ready, ended = program(api, workshop, agent_id)
        assert {s["ecu_address"]: s["security_job_id"] for s in ready["plan"]} == {a: job["id"] for a in THEFT_RELEVANT}
        assert ready["preflight"]["left_out"] == [] and ended["outcome"] == "completed"
        for address in THEFT_RELEVANT:
            assert floor["car"].ecus[int(address, 16)].flashes == 1
        billed += ended["seconds_billed"]
        eventually(lambda: entitlements(api, workshop)["programming_seconds"] == 1800 - billed,
                   what="billing to debit the second session")
        sold = order(api, workshop, "KEY-ID49-BLANK")
        assert sold.status_code == 201, sold.text

        # the invoices: every purchase and order has one, with its PDF
        eventually(lambda: len(api("GET", "/api/v1/invoices", workshop.token).json()["invoices"]) >= 4,
                   what="the invoices of two purchases and two orders")
        for invoice in api("GET", "/api/v1/invoices", workshop.token).json()["invoices"]:
            pdf = api("GET", f"/api/v1/invoices/{invoice['id']}", workshop.token, headers={"Accept": "application/pdf"})
            assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

        # a technician joins, starts live data on the car, and is deactivated mid-run
        technician = join(api, invite(api, workshop, "tom@werkstatt-mueller.de", "technician").json())
        tom = api("GET", "/api/v1/me", technician["access_token"]).json()["user"]["id"]
        their_job = api("POST", "/api/v1/jobs", technician["access_token"], json={
            "vin": CAR["vin"], "agent_id": agent_id, "complaint": "check again", "odometer_km": 48214}).json()
        live = api("POST", f"/api/v1/jobs/{their_job['id']}/runs", technician["access_token"], json={
            "kind": "live_data", "ecu_address": "0x12", "identifiers": LIVE, "rate": 5, "seconds": 60}).json()
        eventually(lambda: run_of(api, workshop.token, their_job["id"], live["id"])["state"] == "running",
                   timeout=30, what="the technician's live data to run")
        deactivated = api("PATCH", f"/api/v1/operators/{workshop.operator_id}/users/{tom}", workshop.token,
                          json={"active": False})
        assert deactivated.status_code == 200
        eventually(lambda: api("GET", "/api/v1/me", technician["access_token"]).status_code == 401, timeout=1.0,
                   what="the technician's token refused within a second")
        stopped = eventually(lambda: (lambda r: r if r["state"] == "cancelled" else None)(
            run_of(api, workshop.token, their_job["id"], live["id"])), timeout=5, what="their run to stop")
        assert "deactivated" in stopped["detail"] and stopped["seconds"] < 60
        samples = len(stopped["samples"])
        diagnosis = sum(r["seconds"] for r in runs) + stopped["seconds"]
        eventually(lambda: entitlements(api, workshop)["diagnosis_seconds"] == 1800 - diagnosis,
                   what="billing to debit what ran, nothing after the stop")
        assert len(run_of(api, workshop.token, their_job["id"], live["id"])["samples"]) == samples  # it stays stopped

        # the workshop's dealer system reads with an API key as far as the workshop's access opens, no further: its
        # programming and diagnosis time open no vehicle data; a VIN pass opens this car, not the registry's export
        made = api("POST", "/api/v1/keys", workshop.token, json={"name": "dealer DMS", "scopes": ["vehicles"]}).json()
        car = lambda: api("GET", f"/api/v1/vehicles/{CAR['vin']}", made["key"]).json()  # noqa: E731
        assert car()["access"] is False and car()["build"] is None
        assert buy(api, workshop, "vin-1d", vin=CAR["vin"]).status_code == 201
        eventually(lambda: car()["build"], what="vehicle data to hear of the VIN pass")
        registry = api("GET", "/api/v1/exports/vehicles", made["key"])
        assert registry.status_code == 402 and error(registry)["code"] == "VEHICLE_DATA_ACCESS_REQUIRED"
        assert api("GET", "/api/v1/me", made["key"]).status_code == 403  # a key reaches no route of a user
        assert api("DELETE", f"/api/v1/keys/{made['id']}", workshop.token).status_code == 200
        revoked = api("GET", f"/api/v1/vehicles/{CAR['vin']}", made["key"])
        assert revoked.status_code == 401 and error(revoked)["code"] == "API_KEY_REVOKED"  # at once

        # the customer wants a tow hitch: into the order and coded on the morning's job; the VIN pass bought for the
        # car opens its order and pays the coding, so the programming pack is not touched
        before = entitlements(api, workshop)["programming_seconds"]
        fitted = api("POST", f"/api/v1/vehicles/{CAR['vin']}/retrofits", workshop.token, json={"option": "S3AC"})
        assert fitted.status_code == 201, fitted.text
        coded = []
        for kind in ("read_coding", "write_coding"):
            queued = api("POST", f"/api/v1/jobs/{job_id}/runs", workshop.token, json={"kind": kind})
            assert queued.status_code == 201, queued.text
            coded.append(eventually(lambda: (lambda r: r if r["state"] == "done" else None)(
                run_of(api, workshop.token, job_id, queued.json()["id"])), timeout=60, what=f"the {kind}"))
        assert {r["paid_by"] for r in coded} == {"vin_pass"}
        written = api("GET", f"/api/v1/jobs/{job_id}", workshop.token).json()["coding"]["written"][-1]["changes"]
        assert len(written) == 3 and all(c["verified"] for c in written)
        assert entitlements(api, workshop)["programming_seconds"] == before
    finally:
        stop.set()
