"""Demo data, loaded through the public API exactly as a workshop would: a registered workshop whose owner has
enrolled TOTP. Its login (with the TOTP secret) is kept in <data dir>/demo-login.json for the next `make run`.

`python -m deploy.demo code` prints the demo owner's current TOTP code, as an authenticator app would."""
import functools
import json
import os
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

import pyotp
import requests

from deploy import coding, odx
from services.shared import config as settings

DEMO_VAT_ID = "DE136695976"  # the demo workshop's; the demo trust centre's technicians work for it
DEMO = {
    "operator": {"legal_name": "Autohaus Demo Werkstatt", "legal_form": "GmbH", "country": "DE",
                 "vat_id": DEMO_VAT_ID,
                 "address": {"street": "Werkstattweg 7", "postal_code": "80331", "city": "München"}},
    "owner": {"email": "demo@aos.example", "name": "Demo Meister", "password": "Drehmoment-Schluessel-2026"},
}


DEMO_VEHICLES = 5000
DEMO_DOCUMENTS = 5000  # the demo library: every generic OBD-II code and the misfire set of every car


def ready(base):
    try:
        return requests.get(f"{base}/ready", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def register_and_enrol(base, registration, mail_folder):
    """A workshop registered, its owner's address confirmed with the link from the mail (read from the SMTP
    catcher's `mail_folder`), its owner signed in with the password and TOTP enrolled, through the public API.
    Returns the owner's /me (user and workshop), the TOTP secret and the confirmation (recovery codes, tokens)."""
    from deploy import mailcatcher
    started = time.time_ns()
    owner = registration["owner"]
    requests.post(f"{base}/api/v1/operators", json=registration, timeout=30).raise_for_status()
    token = mailcatcher.link_token(mail_folder, owner["email"], "verify-email", started)
    requests.post(f"{base}/api/v1/auth/email/verify", json={"token": token}, timeout=30).raise_for_status()
    first = requests.post(f"{base}/api/v1/auth/login", json={"email": owner["email"], "password": owner["password"]},
                          timeout=30)
    first.raise_for_status()
    headers = {"Authorization": f"Bearer {first.json()['enrolment_token']}"}
    secret = requests.post(f"{base}/api/v1/auth/totp/enrol", headers=headers, timeout=30).json()["secret"]
    confirmed = requests.post(f"{base}/api/v1/auth/totp/confirm", headers=headers,
                              json={"code": pyotp.TOTP(secret).now()}, timeout=30)
    confirmed.raise_for_status()
    me = requests.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {confirmed.json()['access_token']}"},
                      timeout=30)
    me.raise_for_status()
    return me.json(), secret, confirmed.json()


def top_up_demo_credit(base, access_token, cents=10000, idempotency_key="demo-initial-credit"):
    """100 EUR on the demo workshop's credit account, by the sandbox card. Billing learns of a new workshop
    from OperatorRegistered a moment after registration, so it is asked again for a few seconds."""
    headers = {"Authorization": f"Bearer {access_token}", "Idempotency-Key": idempotency_key}
    for _ in range(40):
        answer = requests.post(f"{base}/api/v1/credit/top-ups", headers=headers,
                               json={"amount_cents": cents, "card_token": "tok_visa"}, timeout=30)
        if answer.status_code != 503:
            answer.raise_for_status()
            return
        time.sleep(0.25)
    answer.raise_for_status()


def load(base, data_dir):
    """Register and enrol the demo owner unless a previous run did; returns the demo login."""
    path = data_dir / "demo-login.json"
    if path.exists():
        return json.loads(path.read_text())
    _, secret, confirmed = register_and_enrol(base, DEMO, data_dir / "mail")
    top_up_demo_credit(base, confirmed["access_token"])
    login = {"email": DEMO["owner"]["email"], "password": DEMO["owner"]["password"], "totp_secret": secret,
             "recovery_codes": confirmed["recovery_codes"]}
    path.write_text(json.dumps(login, indent=2))
    path.chmod(0o600)
    return login


def load_vehicles(config, count=DEMO_VEHICLES):
    """The manufacturer's registry, as its feed would fill it: `count` generated vehicles across the demo
    series, with ECUs and campaigns, imported once. Returns the vehicles; the first is the demo car (a recall is
    open for it, and the vehicle simulator plays it)."""
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from services.shared.database import make_engine
    from deploy import vehicles
    from services.vehicle_data import feed
    from services.vehicle_data.models import ServiceRecord, Workshop
    document = vehicles.generate(count)
    engine = make_engine(config["DATABASE_URLS"]["vehicle_data"])
    try:
        if not feed.registry_size(engine):
            with Session(engine) as session, session.begin():
                feed.import_rows(session, feed.check(document), datetime.now(timezone.utc))
                # a lived-in history for the first few hundred cars, the demo VIN among them
                session.add(Workshop(**vehicles.HISTORY_WORKSHOP))
                session.execute(insert(ServiceRecord), vehicles.history(document["vehicles"][:300], date.today()))
    finally:
        engine.dispose()
    return document["vehicles"]


def _delivered(config, name, database, write, import_package):
    """A package as the manufacturer would deliver it: generated once into the data folder, imported with its
    CLI's own code into `database`; the service indexes it as it starts. What the import said."""
    from services.shared import blobs
    from services.shared.database import make_engine
    folder = Path(config["DATA_DIR"]) / name
    if not (folder / "manifest.json").exists():
        write(folder)
    store = blobs.from_config(config)
    store.ensure_bucket()
    engine = make_engine(config["DATABASE_URLS"][database])
    try:
        return folder, import_package(folder, engine, store)
    finally:
        engine.dispose()


def load_library(config, count=DEMO_DOCUMENTS):
    """The demo library: a content package for AIR."""
    from deploy import corpus
    from services.air import content
    folder, report = _delivered(config, "demo-library", "air", lambda f: corpus.write(f, count),
                                content.import_package)
    if report.created or report.updated:
        print(f"demo library: {report.created} documents imported ({folder})")


DEMO_PARTS = 4000  # the demo catalogue: every group of the demo series, and a long tail of brackets and trim


def load_parts(config, count=DEMO_PARTS):
    """The demo parts catalogue: a parts package for the parts service."""
    from deploy import parts
    from services.parts import package
    folder, (_, said) = _delivered(config, "demo-parts", "parts", lambda f: parts.write(f, count),
                                   package.import_package)
    if said != "unchanged":
        print(f"demo parts catalogue: {said} ({folder})")


# the vehicle simulator's DoIP port, as a car's (another one lets a second system run beside `make run`)
DEMO_CAR_PORT = int(os.environ.get("AOS_DEMO_CAR_PORT", "13400"))
DEMO_CAR_CONTROL_PORT = int(os.environ.get("AOS_DEMO_CAR_CONTROL_PORT", str(DEMO_CAR_PORT + 1)))
DEMO_CAR_FAULTS = ("ignition_coil_1",)  # the demo car came in shaking at idle: cylinder 1's coil is dead


def demo_odx(config):
    """The demo manufacturer's diagnostic descriptions (deploy.odx), written into the data folder."""
    folder = Path(config["DATA_DIR"]) / "odx"
    odx.write_all(folder)
    return folder


def load_descriptions(config):
    """The diagnostic descriptions on the platform too, for tool makers' mirrors (services.programming.descriptions)."""
    from services.programming import descriptions
    from services.shared import blobs
    from services.shared.database import make_engine
    store = blobs.from_config(config)
    store.ensure_bucket()
    engine = make_engine(config["DATABASE_URLS"]["programming"])
    try:
        counts = descriptions.import_files(sorted(demo_odx(config).glob("*.pdx")), engine, store)
    finally:
        engine.dispose()
    if counts["created"] or counts["updated"]:
        print(f"diagnostic descriptions: {counts['created']} new, {counts['updated']} changed")


def _programming(config):
    from services.programming.settings import ProgrammingSettings
    return settings.build(ProgrammingSettings, config["ENVIRONMENT"])


def load_software(config, vehicles):
    """The software catalogue: the demo plays the manufacturer too, so it makes a signing key once (on the HSM's
    token when there is one, else in the data folder), signs a new integration level for the registry's series
    with it, and imports it."""
    from deploy import software
    from automotive import manifest
    from services.programming import catalog
    from services.shared import blobs
    from services.shared.database import make_engine
    from cryptography.hazmat.primitives import serialization
    private = Path(config["DATA_DIR"]) / "keys" / "manufacturer-software.pem"
    public = _programming(config).manufacturer_key_file
    folder = Path(config["DATA_DIR"]) / "demo-software"
    from services.programming.settings import ProgrammingSettings
    # the HSM's settings as the launcher set them after loading the configuration (launcher.ensure_hsm)
    programming = settings.build(ProgrammingSettings, os.environ)
    if programming.hsm_module:  # the signing key on the HSM's token: it never leaves it
        from services.programming.hsm import HsmSigningKey, from_settings
        key = HsmSigningKey(from_settings(programming), "manufacturer-software")
        public.parent.mkdir(parents=True, exist_ok=True)
        public.write_text(software.public_pem(key))
        folder = folder.with_name("demo-software-hsm")
    else:
        if not private.exists():
            key = software.new_key()
            private.parent.mkdir(parents=True, exist_ok=True)
            private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
            private.chmod(0o600)
            public.write_text(software.public_pem(key))
        key = serialization.load_pem_private_key(private.read_bytes(), password=None)
    if not (folder / "catalog.json").exists():
        software.generate(folder, key, vehicles, image_bytes=64 * 1024)
    coding.write(folder)  # the coding rules ship with the catalogue
    store = blobs.from_config(config)
    store.ensure_bucket()
    engine = make_engine(config["DATABASE_URLS"]["programming"])
    try:
        stored = catalog.import_catalog(folder, engine, store, manifest.load_public(public.read_text()))
    finally:
        engine.dispose()
    if stored:
        print(f"software catalogue: {stored} signed packages imported ({folder})")
    return public


def demo_car(config, vehicle):
    """The command that starts the vehicle simulator as the demo car, with the ECUs the registry lists."""
    plan = Path(config["DATA_DIR"]) / "demo-car.json"
    plan.write_text(json.dumps(coding.delivered(vehicle["ecus"], vehicle, demo_odx(config)), indent=1))
    return [sys.executable, "-m", "simulator.doip", "--port", str(DEMO_CAR_PORT), "--vin", vehicle["vin"],
            "--ecus", str(plan), "--secret-hex", _programming(config).ecu_secret.hex(),
            "--odx", str(demo_odx(config)), "--faults", ",".join(DEMO_CAR_FAULTS),
            "--control-port", str(DEMO_CAR_CONTROL_PORT)]


@functools.cache
def signed_in(base, email, password, totp_secret):
    """The demo owner's access token, signed in once per run (a TOTP step works once: two sign-ins in the same
    half minute would need two)."""
    first = requests.post(f"{base}/api/v1/auth/login", json={"email": email, "password": password}, timeout=30)
    first.raise_for_status()
    code = pyotp.TOTP(totp_secret).at(time.time() + 30)  # the step after the one enrolment used
    tokens = requests.post(f"{base}/api/v1/auth/totp", json={"challenge": first.json()["challenge"], "code": code},
                           timeout=30)
    tokens.raise_for_status()
    return tokens.json()["access_token"]


def _owner(base, login):
    return {"Authorization": "Bearer " + signed_in(base, login["email"], login["password"], login["totp_secret"])}


DEMO_RECEIVER_PORT = int(os.environ.get("AOS_DEMO_RECEIVER_PORT", "8492"))
DEMO_WEBHOOK_EVENTS = ["AccessPurchased", "SessionEnded", "JobClosed", "PartsRequested", "ServiceRecordAdded"]


def demo_webhook(base, login, config):
    """The demo workshop's webhook endpoint at the demo partner receiver (deploy.receiver), made once through the
    API, its secret handed to the receiver."""
    folder = Path(config["DATA_DIR"]) / "receiver"
    path = folder / "endpoint.json"
    if not path.exists():
        made = requests.post(f"{base}/api/v1/webhooks", headers=_owner(base, login), timeout=30, json={
            "url": f"http://127.0.0.1:{DEMO_RECEIVER_PORT}/aos", "event_types": DEMO_WEBHOOK_EVENTS,
            "description": "the demo partner receiver"})
        made.raise_for_status()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "secrets").write_text(made.json()["secret"] + "\n")
        path.write_text(json.dumps(made.json(), indent=2, default=str))
        path.chmod(0o600)
    return folder


def demo_agent(base, login, config, manufacturer_key):
    """The demo workshop's agent, registered once through the API; the command that runs it beside the car."""
    path = Path(config["DATA_DIR"]) / "demo-agent.json"
    if not path.exists():
        agent = requests.post(f"{base}/api/v1/agents", json={"name": "demo workshop PC"}, timeout=30,
                              headers=_owner(base, login))
        agent.raise_for_status()
        path.write_text(json.dumps({"api": base, **agent.json()}, indent=2))
        path.chmod(0o600)
    return [sys.executable, "-m", "agent", "run", "--config", str(path), "--vehicle", f"127.0.0.1:{DEMO_CAR_PORT}",
            "--manufacturer-key", str(manufacturer_key), "--workdir", str(Path(config["DATA_DIR"]) / "agent-files"),
            "--odx", str(demo_odx(config))]


def load_shop(config):
    """The demo catalogue (services/shop/catalogue.json), put on sale through the shop's staff RPCs as platform
    staff would, once, with a drawn picture of each product in object storage."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from deploy import staff
    catalogue = json.loads((Path(__file__).parents[1] / "services/shop/catalogue.json").read_text())
    signed = staff.token(config["ENVIRONMENT"], "demo-staff@aos.example", minutes=10)
    if requests.get(f"http://{config['WEB_SERVER_ADDRESS']}/api/v1/shop/products", timeout=30).json()["products"]:
        return
    # as platform staff's console: its own broker user when the launcher made one
    console = os.environ.get("AOS_OPERATIONS_AMQP_URI") or config["AMQP_URI"]
    with ClusterRpcProxy({"AMQP_URI": console}, timeout=60) as aos:
        for product in catalogue["products"]:
            stock = product.pop("stock")
            aos.shop.save_product(signed, product | {"image_svg": product_picture(product["name"])})
            aos.shop.receive_stock(signed, {"sku": product["sku"], "quantity": stock})


def product_picture(name):
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="320" height="200" viewBox="0 0 320 200">'
            f'<rect width="320" height="200" rx="12" fill="#e8eef5"/><rect x="40" y="50" width="240" height="90" '
            f'rx="8" fill="#2b4c7e"/><text x="160" y="175" font-family="sans-serif" font-size="14" '
            f'text-anchor="middle" fill="#1a1a1a">{name.replace("&", "&amp;").replace("<", "&lt;")}</text></svg>')


def banner(base, login, config, demo_vin, agent_id):
    metrics = ", ".join(f"{s} http://{a}/metrics" for s, a in config["METRICS_ADDRESSES"].items())
    trust_centre = config["ENVIRONMENT"].get("AOS_SERMI_ISSUER") or "not started"
    return f"""
AOS is running.
  Portal:     {base}/   (the web portal: register a workshop, or sign in with the demo login below)
  API:        {base}/api/v1   (OpenAPI: {base}/api/v1/openapi.json; health: {base}/health, {base}/ready)
  Metrics:    {metrics}
  Mail:       every mail AOS sends is kept in {Path(config["DATA_DIR"]) / "mail"} (the SMTP catcher)
  Demo login: {login['email']} / {login['password']}   (100 EUR credit to buy access with)
              TOTP secret {login['totp_secret']} (add it to an authenticator app, or run
              `.venv/bin/python -m deploy.demo code` for the current code)
  Demo VIN:   {demo_vin}   ({DEMO_VEHICLES} vehicles in the registry; a recall is open for this one)
  AIR:        {DEMO_DOCUMENTS} documents; try {base}/api/v1/air/search?q=misfire+cylinder+1&vin={demo_vin}
  Parts:      the demo catalogue ({DEMO_PARTS} parts); the demo car's ignition coils: #/parts (portal), or
              {base}/api/v1/parts/illustrations/F44-12_13-01?vin={demo_vin} (numbers and prices with parts access)
  Programming: the demo car runs on the vehicle simulator (DoIP 127.0.0.1:{DEMO_CAR_PORT}) with the demo agent
              {agent_id} beside it: in the portal, buy programming time and open a session; or POST {base}/api/v1/programming/sessions
              {{"vin": "{demo_vin}", "agent_id": "{agent_id}"}} and start it when pre-flight is ready
  SERMI:      its engine control and immobiliser are theft-relevant: without a security job on the car a session
              leaves them out (and programs the rest); to include them, link SERMI in the portal (#/sermi) as
              tech-anna at the demo trust centre ({trust_centre}; any password) and open a security job on
              the car (#/security), where its gateway unlocks and keys are programmed too
  Diagnosis:  the demo car came in shaking at idle (a dead coil, P0301): buy diagnosis time, open a job (#/jobs)
              with the demo agent; `.venv/bin/python -m deploy.demo car repair ignition_coil_1` replaces the coil,
              `... car deliver` puts the car back as delivered for the next visitor
  Partners:   API keys and webhooks (#/keys); the demo workshop's purchases, sessions, jobs and parts requests
              go signed to the demo partner receiver (127.0.0.1:{DEMO_RECEIVER_PORT}), which keeps them in
              {Path(config["DATA_DIR"]) / "receiver" / "received.jsonl"}; mirror the library with a key:
              curl -H "Authorization: Bearer aos_..." {base}/api/v1/exports/air?series=F44
  Logs:       {Path(config['DATA_DIR']) / 'logs'}
Ctrl-C stops everything.
"""


USAGE = ("usage: python -m deploy.demo code | car state | car deliver | car repair FAULT | car inject FAULT | "
         "car swap ADDRESS\n"
         "  car deliver: the demo car back as delivered (software levels, faults, units), for the next visitor\n"
         "  car repair ignition_coil_1: the workshop replaced the part (the fault stops after a clear)\n"
         "  car swap 0x60: a factory-new unit fitted at that address (no VIN, a new unit's coding)")


def car(action, what=None):
    """The demo car's control (the simulator's loopback HTTP port): its state, a repair, a unit swapped,
    delivery."""
    url = f"http://127.0.0.1:{DEMO_CAR_CONTROL_PORT}/{action}"
    body = {"ecu": what} if action == "swap" else {"fault": what}
    answer = requests.get(url, timeout=10) if action == "state" else requests.post(url, json=body, timeout=10)
    if answer.status_code != 200:
        raise SystemExit(answer.json().get("error", answer.text))
    return answer.json()


def main(argv):
    if argv[:1] == ["car"] and len(argv) in (2, 3) and argv[1] in ("state", "deliver", "repair", "inject", "swap"):
        print(json.dumps(car(argv[1], argv[2] if len(argv) == 3 else None), indent=1))
        return
    if argv[:1] != ["code"]:
        raise SystemExit(USAGE)
    path = Path(settings.load()["DATA_DIR"]) / "demo-login.json"
    if not path.exists():
        raise SystemExit("no demo login yet: run `make run` first")
    print(pyotp.TOTP(json.loads(path.read_text())["totp_secret"]).now())


if __name__ == "__main__":
    main(sys.argv[1:])
