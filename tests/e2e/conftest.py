"""The system as a client sees it: the services and the gateway on a real broker and database, spoken to over
HTTP."""
import time
import uuid
from pathlib import Path

import pyotp
import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from deploy import parts as demo_parts
from deploy.processes import PROCESSES
from services.parts import package
from services.shared import blobs
from services.shared.database import make_engine
from tests.helpers import Mailbox

STRONG = "Bremsscheibe-Drehmoment-42"


class Api:
    def __init__(self, base, mailbox=None):
        self.base = base
        self.http = requests.Session()
        self.mailbox = mailbox  # the mails the system sent, read back over SMTP

    def __call__(self, method, path, token=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.base + path, headers=headers, timeout=30, **kwargs)


@pytest.fixture
def system(request, runner_factory, config):
    """Every service and the gateway running; `@pytest.mark.config(AOS_VARIABLE=value)` changes settings first."""
    marker = request.node.get_closest_marker("config")
    config["ENVIRONMENT"].update({name: str(value) for name, value in (marker.kwargs if marker else {}).items()})
    runner = runner_factory(config, *(p.service_class() for p in PROCESSES))
    runner.start()
    return config


@pytest.fixture
def api(system):
    return Api(f"http://{system['WEB_SERVER_ADDRESS']}", Mailbox(system["MAIL_FOLDER"]))


def registration(email="meister@werkstatt-mueller.de", vat_id="DE136695976", country="DE",
                 legal_name="Werkstatt Müller", city="München", kind="workshop", **owner):
    return {
        "operator": {"legal_name": legal_name, "legal_form": "GmbH", "kind": kind, "country": country, "vat_id": vat_id,
                     "address": {"street": "Hauptstraße 1", "postal_code": "80331", "city": city}},
        "owner": {"email": email, "name": "Anna Müller", "password": STRONG, **owner},
    }


def register(api, email="meister@werkstatt-mueller.de", vat_id="DE136695976", country="DE", password=STRONG,
             **company):
    """A workshop registered and its address confirmed from the mailed link, as a new owner does it; then the
    password's sign-in, which leads to enrolment. Returns the enrolment token."""
    started = time.time_ns()
    answer = api("POST", "/api/v1/operators", json=registration(email, vat_id, country, password=password, **company))
    assert answer.status_code == 202, answer.text
    assert answer.json()["sent_to"] == email
    mail = api.mailbox.latest(email, since_ns=started)  # the owner confirms the address from the mail
    verified = api("POST", "/api/v1/auth/email/verify", json={"token": api.mailbox.token(mail, "verify-email")})
    assert verified.status_code == 200, verified.text
    first = api("POST", "/api/v1/auth/login", json={"email": email, "password": password})
    assert first.status_code == 200 and first.json()["next"] == "enrol", first.text
    return first.json()["enrolment_token"]


class Workshop:
    """A registered workshop whose owner has enrolled TOTP, with what the tests need to act as them."""

    def __init__(self, api, email="meister@werkstatt-mueller.de", vat_id="DE136695976", country="DE", **company):
        enrolment_token = register(api, email, vat_id, country, **company)
        self.api, self.email = api, email
        enrolment = api("POST", "/api/v1/auth/totp/enrol", enrolment_token).json()
        self.totp = pyotp.TOTP(enrolment["secret"])
        confirmed = api("POST", "/api/v1/auth/totp/confirm", enrolment_token, json={"code": self.totp.now()})
        assert confirmed.status_code == 200, confirmed.text
        self.recovery_codes = confirmed.json()["recovery_codes"]
        self.tokens = confirmed.json()
        me = api("GET", "/api/v1/me", self.token).json()
        self.operator_id, self.user_id = me["operator"]["id"], me["user"]["id"]

    @property
    def token(self):
        return self.tokens["access_token"]

    def code(self, offset=0):
        """A code of a step not yet used (each step's code works once)."""
        import time
        return self.totp.at(time.time() + 30 * offset)

    def login(self, code_offset=1):
        first = self.api("POST", "/api/v1/auth/login", json={"email": self.email, "password": STRONG})
        assert first.status_code == 200, first.text
        second = self.api("POST", "/api/v1/auth/totp",
                          json={"challenge": first.json()["challenge"], "code": self.code(code_offset)})
        assert second.status_code == 200, second.text
        return second.json()


@pytest.fixture
def workshop(api):
    return Workshop(api)


def error(answer):
    return answer.json()["error"]


def key():
    return str(uuid.uuid4())


def top_up(api, workshop, cents, token="tok_visa", idempotency_key=None):
    return api("POST", "/api/v1/credit/top-ups", workshop.token, json={"amount_cents": cents, "card_token": token},
               headers={"Idempotency-Key": idempotency_key or key()})


def buy(api, workshop, tariff_code, idempotency_key=None, **extra):
    return api("POST", "/api/v1/purchases", workshop.token, json={"tariff_code": tariff_code, **extra},
               headers={"Idempotency-Key": idempotency_key or key()})


def credit(api, workshop):
    return api("GET", "/api/v1/credit", workshop.token).json()["balance_cents"]


def fill_registry(system, document):
    """The manufacturer's vehicle registry filled from a feed document, as its import does it."""
    from datetime import datetime, timezone

    from sqlalchemy.orm import Session

    from services.shared.database import make_engine
    from services.vehicle_data import feed
    engine = make_engine(system["DATABASE_URLS"]["vehicle_data"])
    with Session(engine) as session, session.begin():
        feed.import_rows(session, feed.check(document), datetime.now(timezone.utc))
    engine.dispose()


def staff(system):
    """Platform staff's RPC access to the running services (each staff RPC takes `staff_token(system)` first)."""
    return ClusterRpcProxy({"AMQP_URI": system["AMQP_URI"]}, timeout=30)


def staff_token(system, who="anna.berger@aos.example", ttl=600):
    """A staff member's token, signed with operations' key as `python -m deploy.staff` signs it."""
    from services.shared.tokens import staff_token as sign
    return sign(Path(system["STAFF_PRIVATE_KEY_FILE"]).read_bytes(), who, ttl)


@pytest.fixture(scope="module")
def parts_package(tmp_path_factory):
    """The demo parts package, as `make run` imports it, written once per module."""
    folder = tmp_path_factory.mktemp("parts") / "demo-parts"
    demo_parts.write(folder)
    return folder


def import_parts(system, folder):
    engine = make_engine(system["DATABASE_URLS"]["parts"])
    store = blobs.from_config(system)
    store.ensure_bucket()
    try:
        return package.import_package(folder, engine, store)
    finally:
        engine.dispose()
