"""Security-related work through the gateway: a SERMI-authorised technician opens a job on one car with its
owner's identity recorded first, and gets one-time unlock tokens for the car's secure gateway from the challenge
it shows; the token opens that gateway of that car, once. Without a fresh authorisation, for another car, a
replayed challenge, a non-gateway ECU: refused, and each step is in the workshop's trail."""
from datetime import timedelta

from sqlalchemy.orm import Session

from deploy import vehicles
from services.identity.models import SermiAuthorisation
from services.programming.models import SecurityJob
from services.programming.settings import ProgrammingSettings
from services.shared.config import build
from services.shared.database import make_engine
from simulator import doip
from tests.e2e.conftest import Workshop, error, fill_registry
from tests.e2e.test_sermi import link
from tests.helpers import eventually

FEED = vehicles.generate(3, seed=11)
CAR, OTHER = FEED["vehicles"][0], FEED["vehicles"][1]
OWNER = {"owner_name": "Jana Nowak", "owner_document_number": "L01X00T47"}


def gateway_of(car):
    return next(e["address"] for e in car["ecus"] if e["name"].startswith("ZGW"))


def test_a_technician_unlocks_the_car_s_secure_gateway_in_a_security_job(api, system):
    fill_registry(system, FEED)
    workshop = Workshop(api)
    refused = api("POST", "/api/v1/security/jobs", workshop.token, json={"vin": CAR["vin"], **OWNER})
    assert refused.status_code == 403 and error(refused)["code"] == "SERMI_NOT_LINKED"
    link(api, workshop, "tech-anna")

    bad = api("POST", "/api/v1/security/jobs", workshop.token, json={"vin": CAR["vin"], "owner_name": "Jana Nowak",
                                                                      "owner_document_number": "x"})
    assert bad.status_code == 422 and "owner_document_number" in str(error(bad)["details"])
    opened = api("POST", "/api/v1/security/jobs", workshop.token, json={"vin": CAR["vin"], **OWNER})
    assert opened.status_code == 201, opened.text
    job = opened.json()
    assert job["open"] and job["authorisation_id"] == "SERMI-DE-0001" and job["owner_name"] == "Jana Nowak"

    secret = build(ProgrammingSettings, system["ENVIRONMENT"]).ecu_secret
    car = doip.Vehicle.demo(CAR["vin"], secret, CAR["ecus"])
    other = doip.Vehicle.demo(OTHER["vin"], secret, OTHER["ecus"])
    address = gateway_of(CAR)
    gateway = car.ecus[int(address, 16)]
    challenge = gateway.handle(bytes([0x31, 0x01, 0x0F, 0x10]))[4:]

    def unlock(challenge, ecu_address=address, job_id=job["id"]):
        return api("POST", f"/api/v1/security/jobs/{job_id}/gateway-unlock", workshop.token,
                   json={"ecu_address": ecu_address, "challenge": challenge.hex()})
    answered = unlock(challenge)
    assert answered.status_code == 200, answered.text
    token = bytes.fromhex(answered.json()["token"])
    assert gateway.handle(bytes([0x31, 0x01, 0x0F, 0x11]) + token) == bytes([0x71, 0x01, 0x0F, 0x11, 0x00])
    again = unlock(challenge)
    assert again.status_code == 409 and error(again)["code"] == "CHALLENGE_ANSWERED"
    other_gateway = other.ecus[int(gateway_of(OTHER), 16)]
    other_challenge = other_gateway.handle(bytes([0x31, 0x01, 0x0F, 0x10]))[4:]
    not_for_it = bytes.fromhex(unlock(other_challenge).json()["token"])  # this job's car, not the other one
    assert other_gateway.handle(bytes([0x31, 0x01, 0x0F, 0x11]) + not_for_it) == bytes([0x7F, 0x31, 0x35])
    engine = next(e["address"] for e in CAR["ecus"] if e["name"].startswith("DME"))
    refused = unlock(gateway.handle(bytes([0x31, 0x01, 0x0F, 0x10]))[4:], ecu_address=engine)
    assert refused.status_code == 422 and error(refused)["code"] == "NOT_A_SECURE_GATEWAY"
    stranger = Workshop(api, email="chef@andere-werkstatt.de", vat_id=None)
    assert api("POST", f"/api/v1/security/jobs/{job['id']}/gateway-unlock", stranger.token,
               json={"ecu_address": address, "challenge": "00" * 8}).status_code == 404

    # the sign-in at the trust centre gets old: the job closes, nothing more is issued
    for service, model, key in (("identity", SermiAuthorisation, workshop.user_id), ("programming", SecurityJob,
                                                                                      job["id"])):
        db = make_engine(system["DATABASE_URLS"][service])
        with Session(db) as s, s.begin():
            found = s.get(model, key)
            for column in ("authenticated_at", "expires_at"):
                if hasattr(found, column):
                    setattr(found, column, getattr(found, column) - timedelta(minutes=16))
        db.dispose()
    closed = unlock(gateway.handle(bytes([0x31, 0x01, 0x0F, 0x10]))[4:])
    assert closed.status_code == 409 and error(closed)["code"] == "SECURITY_JOB_EXPIRED"
    assert api("GET", "/api/v1/security/jobs", workshop.token).json()["jobs"][0]["open"] is False

    kinds = lambda: [e["kind"] for e in api("GET", "/api/v1/audit/trail", workshop.token,  # noqa: E731
                                             params={"vin": CAR["vin"]}).json()["entries"]]
    eventually(lambda: kinds().count("GatewayUnlockIssued") == 2 and "SecurityJobOpened" in kinds()
               and kinds().count("SecurityRefused") == 3, what="the job, both tokens and the 3 refusals in the trail")
