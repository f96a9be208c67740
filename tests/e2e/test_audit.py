"""The audit trail as the workshop and platform staff see it: every fact of the workshop in its own hash chain,
who read which car; filters and a CSV export; and verification (staff RPC and `python -m services.audit verify`)
that names the first entry edited, deleted or reordered directly in the database."""
import csv
import io
import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from deploy import vehicles
from services.audit.models import Entry
from services.shared.config import ROOT
from services.shared.database import make_engine
from tests.e2e.conftest import Workshop, buy, fill_registry, staff, staff_token, top_up
from tests.helpers import eventually

VIN = vehicles.generate(5, seed=3)["vehicles"][0]["vin"]


def kinds(api, workshop, **params):
    answer = api("GET", "/api/v1/audit/trail", workshop.token, params=params)
    assert answer.status_code == 200, answer.text
    return [e["kind"] for e in answer.json()["entries"]]


def verified(system):
    with staff(system) as aos:
        return aos.audit.verify(staff_token(system))


def verify_command(system):
    """`python -m services.audit verify` against the test's audit database, with the public key alone."""
    env = os.environ | {"AOS_AUDIT_DATABASE_URL": system["DATABASE_URLS"]["audit"], "AOS_AUDIT_PUBLIC_KEY_FILE":
                        system["ENVIRONMENT"]["AOS_AUDIT_PUBLIC_KEY_FILE"], "AOS_PROFILE": "development"}
    done = subprocess.run([sys.executable, "-m", "services.audit", "verify"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    return done.returncode, json.loads(done.stdout)


@pytest.mark.config(AOS_AUDIT_CHECKPOINT_SECONDS="0.2")
def test_the_workshop_sees_its_trail_and_staff_verify_it_and_find_what_was_changed_by_hand(api, system):
    fill_registry(system, vehicles.generate(5, seed=3))
    workshop = Workshop(api, vat_id=None)
    stranger = Workshop(api, email="chef@andere-werkstatt.de", vat_id=None)
    eventually(lambda: top_up(api, workshop, 10000).status_code == 201, what="billing to know the workshop")
    assert buy(api, workshop, "air-1h").status_code == 201
    eventually(lambda: api("GET", f"/api/v1/vehicles/{VIN}", workshop.token).json()["access"], what="access")
    assert api("GET", f"/api/v1/vehicles/{VIN}/service-records", workshop.token).status_code == 200

    eventually(lambda: kinds(api, workshop, vin=VIN) == ["VehicleViewed", "VehicleViewed"],
               what="both reads of the car in the trail")
    everything = kinds(api, workshop)
    assert {"OperatorRegistered", "AccessPurchased", "VehicleViewed"} <= set(everything)
    assert "VehicleViewed" not in kinds(api, stranger), "another workshop's trail holds only its own facts"
    read = api("GET", "/api/v1/audit/trail", workshop.token, params={"vin": VIN, "limit": "1"}).json()["entries"]
    assert read[0]["user_id"] == workshop.user_id and read[0]["summary"] == "Vehicle data read: service_history"
    assert kinds(api, workshop, kind="AccessPurchased") == ["AccessPurchased"]
    refused = api("POST", "/api/v1/auth/login", json={"email": workshop.email, "password": "not the password"})
    assert refused.status_code == 401
    eventually(lambda: "SignInFailed" in kinds(api, workshop), what="the failed sign-in in the trail")
    assert "SignedIn" in kinds(api, workshop), "the owner's sign-in at enrolment"
    assert api("GET", "/api/v1/audit/trail", workshop.token, params={"kind": "Nonsense"}).status_code == 422
    exported = api("GET", "/api/v1/audit/trail", workshop.token, params={"vin": VIN},
                   headers={"Accept": "text/csv"})
    assert exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["kind"] for r in rows] == ["VehicleViewed", "VehicleViewed"] and rows[0]["vin"] == VIN
    exported = kinds(api, workshop, kind="TrailExported")  # the export is in the trail itself
    assert exported == ["TrailExported"]

    eventually(lambda: verified(system)["checkpoints"] >= 2, what="checkpoints signed")
    clean = verified(system)
    assert clean["verified"] is True and clean["problems"] == [] and clean["entries"] >= len(everything)
    assert verify_command(system)[0] == 0

    engine = make_engine(system["DATABASE_URLS"]["audit"])
    try:
        with Session(engine) as s, s.begin():
            chain = [(e.id, e.summary) for e in s.scalars(select(Entry).where(Entry.chain == workshop.operator_id)
                                                               .order_by(Entry.seq))]
            (target, summary), (third, _) = chain[1], chain[2]
            s.execute(update(Entry).where(Entry.id == target).values(summary="nothing happened"))
        status, found = verify_command(system)
        assert status == 1 and found["problems"] == [{"chain": workshop.operator_id, "seq": 2,
                                                      "entry_id": target,
                                                      "problem": "changed after it was recorded"}]
        assert verified(system)["problems"] == found["problems"]

        with Session(engine) as s, s.begin():  # put it back, then delete one
            s.execute(update(Entry).where(Entry.id == target).values(summary=summary))
            s.delete(s.get(Entry, third))
        assert verify_command(system)[1]["problems"][0]["seq"] == 3
        assert "deleted" in verify_command(system)[1]["problems"][0]["problem"]
    finally:
        engine.dispose()


@pytest.mark.config(AOS_AUDIT_CHECKPOINT_SECONDS="0.2")
def test_two_entries_reordered_in_the_database_are_found(api, system):
    workshop = Workshop(api, vat_id=None)
    eventually(lambda: top_up(api, workshop, 10000).status_code == 201, what="billing to know the workshop")
    assert buy(api, workshop, "air-1h").status_code == 201
    eventually(lambda: "AccessPurchased" in kinds(api, workshop), what="the workshop's purchase in its trail")
    engine = make_engine(system["DATABASE_URLS"]["audit"])
    try:
        with Session(engine) as s, s.begin():
            (first, one), (second, two) = s.execute(select(Entry.id, Entry.seq).where(
                Entry.chain == workshop.operator_id).order_by(Entry.seq).limit(2)).all()
            s.execute(update(Entry).where(Entry.id == first).values(seq=-1))
            s.execute(update(Entry).where(Entry.id == second).values(seq=one))
            s.execute(update(Entry).where(Entry.id == first).values(seq=two))
        problems = verified(system)["problems"]
        assert [(p["chain"], p["seq"], p["entry_id"]) for p in problems] == [(workshop.operator_id, 1, second)]
    finally:
        engine.dispose()
