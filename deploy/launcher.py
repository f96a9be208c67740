"""`make run`: the whole system on one machine, with demo data, on embedded defaults.

Starts what is missing (RabbitMQ, when this machine has it), creates development token keys, migrates each
service's database, starts every service and the gateway as processes of their own, loads the demo workshop
through the public API, and prints where to go. Ctrl-C stops everything it started.
"""
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

from deploy.ports import reachable, wait_for
from deploy.processes import NAMES, PROCESSES, SERVICES
from services.shared import config as settings
from services.shared.migrate import upgrade
from services.shared.tokens import generate_keypair


class Launcher:
    def __init__(self, config):
        self.config = config
        self.children = []
        self.started_rabbitmq = False
        self.seaweedfs = None
        self.mailcatcher = None
        self.receiver = None
        self.vies = None
        self.trust_centre = None

    def ensure_broker(self):
        uri = urlparse(self.config["AMQP_URI"])
        host, port = uri.hostname or "127.0.0.1", uri.port or 5672
        if reachable(host, port):
            return
        if host in ("127.0.0.1", "localhost") and shutil.which("rabbitmq-server"):
            print(f"RabbitMQ is not running on {host}:{port}; starting it (rabbitmq-server -detached) ...")
            subprocess.run(["rabbitmq-server", "-detached"], check=True)
            self.started_rabbitmq = True
            wait_for(lambda: reachable(host, port), 60, "RabbitMQ")
            return
        raise SystemExit(
            f"AOS needs RabbitMQ at {host}:{port} and cannot reach it.\n"
            "  On Debian or Ubuntu:  sudo apt-get install rabbitmq-server && sudo rabbitmq-server -detached\n"
            "  With Docker:          docker run -d -p 5672:5672 -p 15672:15672 rabbitmq:3-management\n"
            "  Elsewhere:            set AOS_AMQP_URI=amqp://user:password@host:5672/ to a broker you have.")

    def ensure_broker_users(self):
        """Each process on the broker as its own user with only what its code needs, as in production
        (deploy/broker.py), when the broker's management API answers (`rabbitmq-plugins enable
        rabbitmq_management`); else every process shares AOS_AMQP_URI's user. The passwords are generated once into
        the data folder; the users are named after the vhost, so several systems share one broker."""
        uri = urlparse(self.config["AMQP_URI"])
        host, port = uri.hostname or "127.0.0.1", uri.port or 5672
        if any(os.environ.get(f"AOS_{p.upper()}_AMQP_URI") for p in NAMES) or not reachable(host, 15672):
            print("the broker's management API is not reachable: every process uses AOS_AMQP_URI's user")
            return None
        vhost = unquote(uri.path[1:]) or "/"
        prefix = "aos-" if vhost == "/" else f"aos-{vhost}-"
        path = Path(self.config["DATA_DIR"]) / "keys" / "broker.json"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(json.dumps({u: secrets.token_urlsafe(18) for u in ("operations",) + NAMES}))
        passwords = json.loads(path.read_text())
        admin = f"http://{quote(uri.username or 'guest')}:{quote(uri.password or 'guest')}@{host}:15672"
        subprocess.run([sys.executable, "-m", "deploy.broker", "apply", "--vhost", vhost, "--prefix", prefix],
                       check=True, env=os.environ | {"AOS_BROKER_ADMIN_URL": admin, "AOS_BROKER_PASSWORD_PARTNER":
                                                     secrets.token_urlsafe(18)}
                       | {f"AOS_BROKER_PASSWORD_{u.upper()}": pw for u, pw in passwords.items()})
        for user, password in passwords.items():  # the processes started after this inherit them
            os.environ[f"AOS_{user.upper()}_AMQP_URI"] = (f"amqp://{prefix}{user}:{quote(password)}@{host}:{port}/"
                                                          f"{quote(vhost, safe='')}")
        return prefix

    def ensure_object_store(self):
        """SeaweedFS on this machine when the configured S3 endpoint is local and not answering."""
        blob = self.config["BLOB_STORE"]
        host, _, port = blob["endpoint"].rpartition(":")
        if reachable(host, int(port)):
            return
        if host not in ("127.0.0.1", "localhost"):
            raise SystemExit(f"AOS needs the S3 object store at {blob['endpoint']} and cannot reach it; "
                             "set AOS_BLOB_ENDPOINT to one you have, or leave it local for SeaweedFS.")
        from deploy import seaweedfs
        folder = Path(self.config["DATA_DIR"]) / "objects"
        log = open(Path(self.config["DATA_DIR"]) / "logs" / "seaweedfs.log", "ab")
        self.seaweedfs = seaweedfs.start(folder, int(port), blob["access_key"], blob["secret_key"],
                                         links=(blob["link_access_key"], blob["link_secret_key"]), log=log)
        print(f"started SeaweedFS (S3 on {blob['endpoint']}, data in {folder})")

    def ensure_mail(self):
        """The SMTP catcher on this machine when the configured relay is local and not answering: every mail is
        kept in var/mail for a person to read."""
        from services.shared.mail import MailSettings
        mail = settings.build(MailSettings, self.config["ENVIRONMENT"])
        if reachable(mail.host, mail.port):
            return None
        if mail.host not in ("127.0.0.1", "localhost"):
            raise SystemExit(f"AOS sends mail through {mail.host}:{mail.port} and cannot reach it; set "
                             "AOS_SMTP_HOST to a relay you have, or leave it local for the catcher.")
        from deploy import mailcatcher
        folder = Path(self.config["DATA_DIR"]) / "mail"
        log = open(Path(self.config["DATA_DIR"]) / "logs" / "mailcatcher.log", "ab")
        self.mailcatcher = mailcatcher.start(folder, mail.port, log=log)
        print(f"started the SMTP catcher on {mail.host}:{mail.port}: mails in {folder}")
        return folder

    def ensure_vies(self):
        """The VIES stand-in on this machine when the configured VIES is local and not answering: it confirms
        every well-formed VAT id (var/vies/registry.json says so; edit it to try an unknown or a VIES outage)."""
        from services.billing.settings import BillingSettings
        url = urlparse(settings.build(BillingSettings, self.config["ENVIRONMENT"]).vies_url)
        if url.hostname not in ("127.0.0.1", "localhost") or reachable(url.hostname, url.port or 80):
            return
        from deploy import vies
        folder = Path(self.config["DATA_DIR"]) / "vies"
        registry = None if (folder / "registry.json").exists() else {"valid": {}, "accept_well_formed": True}
        self.vies = vies.start(folder, url.port or 80, registry)
        print(f"started the VIES stand-in on {url.hostname}:{url.port}: its registry in {folder}")

    def ensure_receiver(self):
        """The demo partner receiver (deploy.receiver): where the demo workshop's webhooks go, kept in a file."""
        from deploy import demo, receiver
        folder = Path(self.config["DATA_DIR"]) / "receiver"
        log = open(Path(self.config["DATA_DIR"]) / "logs" / "receiver.log", "ab")
        self.receiver = receiver.start(folder, demo.DEMO_RECEIVER_PORT, log=log)
        print(f"started the demo partner receiver on 127.0.0.1:{demo.DEMO_RECEIVER_PORT}: what it gets in {folder}")

    def ensure_trust_centre(self):
        """The demo SERMI trust centre (a real OpenID provider) when the configured one is local and not answering:
        technicians of the demo workshop (tech-anna authorised, tech-bernd revoked) and of another (tech-foreign),
        in var/trust-centre/technicians.json, read at every sign-in."""
        from deploy import demo, trust_centre
        from services.identity.settings import IdentitySettings
        found = settings.build(IdentitySettings, self.config["ENVIRONMENT"])
        url = urlparse(found.sermi_issuer)
        if url.hostname not in ("127.0.0.1", "localhost") or reachable(url.hostname, url.port or 80):
            return
        if shutil.which("node") is None or not (trust_centre.SERVER / "node_modules").exists():
            print("no demo trust centre (needs Node.js and `make install`): security-related work is not offered")
            return
        folder = Path(self.config["DATA_DIR"]) / "trust-centre"
        vat = demo.DEMO_VAT_ID
        technicians = None if (folder / "technicians.json").exists() else {
            "tech-anna": trust_centre.technician(vat, "SERMI-DE-0001"),
            "tech-bernd": trust_centre.technician(vat, "SERMI-DE-0002", revoked=True),
            "tech-foreign": trust_centre.technician("FR40303265045", "SERMI-FR-0003", workshop="Garage Dupont",
                                                    country="FR")}
        self.trust_centre, _ = trust_centre.start(folder, url.port or 80,
                                                  [f"{found.portal_url.rstrip('/')}/api/v1/sermi/callback"],
                                                  technicians, log=open(folder.parent / "logs" / "trust-centre.log",
                                                                        "ab"))
        print(f"started the demo SERMI trust centre at {found.sermi_issuer}: technicians in {folder}")

    def ensure_keys(self):
        from services.identity.settings import IdentitySettings
        from services.shared.caller import ProofSettings
        env = self.config["ENVIRONMENT"]
        private = settings.build(IdentitySettings, env).private_key_file
        public = settings.build(ProofSettings, env).public_key_file
        if not private.exists():
            generate_keypair(private, public)
            print(f"created development token keys in {private.parent}")
        from services.audit.settings import AuditSettings
        audit = settings.build(AuditSettings, env)
        if not audit.signing_key_file.exists():
            generate_keypair(audit.signing_key_file, audit.public_key_file)
            print(f"created the audit trail's checkpoint key in {audit.signing_key_file.parent}")
        from services.partners.settings import PartnersSettings
        keys = settings.build(PartnersSettings, env).key_token_private_key_file
        if not keys.exists():
            generate_keypair(keys, settings.build(ProofSettings, env).key_token_key_file)
            print(f"created partners' key-proof keys in {keys.parent}")
        from deploy import staff
        if staff.ensure_keys(env):
            print(f"created development staff-token keys in {private.parent} (python -m deploy.staff)")

    def ensure_hsm(self, vehicles):
        """SoftHSM2 as programming's KeyStore when Debian's softhsm2 is installed (else the secrets derived in
        programming): a token in the data folder, the demo car's ECU types provisioned into it as the factory
        provisioned them into the car (the simulator plays that car; the fleet's other types are not needed)."""
        from deploy import softhsm
        if os.environ.get("AOS_HSM_MODULE") or softhsm.module() is None:
            print("no HSM (apt-get install softhsm2): programming derives the ECU secrets itself")
            return
        os.environ.update(softhsm.token(Path(self.config["DATA_DIR"]) / "hsm"))  # the processes after this
        types = sorted({e["hardware_part_number"] for e in vehicles[0]["ecus"]})
        subprocess.run([sys.executable, "-m", "services.programming.hsm", "provision", *types], check=True,
                       capture_output=True)
        print(f"SoftHSM2 holds the secrets of {len(types)} ECU types (token in {self.config['DATA_DIR']}/hsm)")

    def migrate(self):
        for service, url in self.config["DATABASE_URLS"].items():
            upgrade(service, url)
        print("databases migrated: " + ", ".join(self.config["DATABASE_URLS"]))

    def start(self, name, command=None, replica=0):
        log_dir = Path(self.config["DATA_DIR"]) / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        label = name if not replica else f"{name}-{replica}"
        log = open(log_dir / f"{label}.log", "ab")
        env = dict(os.environ, AOS_REPLICA=str(replica)) if replica else None
        child = subprocess.Popen(command or [sys.executable, "-m", "deploy.serve", name], stdout=log,
                                 stderr=subprocess.STDOUT, start_new_session=True, env=env)
        self.children.append((label, child))

    def stop(self):
        for name, child in reversed(self.children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for name, child in reversed(self.children):
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        for helper in (self.seaweedfs, self.mailcatcher, self.vies, self.trust_centre, self.receiver):
            if helper is not None:
                helper.terminate()
                helper.wait(timeout=15)
        if self.started_rabbitmq:
            subprocess.run(["rabbitmqctl", "stop"], check=False, capture_output=True)
        print("stopped everything `make run` started")

    def watch(self):
        while True:
            for name, child in self.children:
                if child.poll() is not None:
                    raise SystemExit(f"{name} stopped (exit {child.returncode}); see its log in "
                                     f"{Path(self.config['DATA_DIR']) / 'logs' / (name + '.log')}")
            time.sleep(1)


def replica_count(environ, config):
    """AOS_REPLICAS: processes of each service (2 or more on PostgreSQL: replicas share their database)."""
    replicas = settings.read("AOS_REPLICAS", int, environ, default=1, rule=settings.between(1, 8))
    if replicas > 1 and any(url.startswith("sqlite") for url in config["DATABASE_URLS"].values()):
        raise SystemExit("AOS_REPLICAS=2 and more run on PostgreSQL: set AOS_DATABASE_URL=postgresql://... "
                         "(one database per service on that server)")
    return replicas


def ensure_object_store_keys(environ):
    """The object store's keys, unless configured: generated on the first start into the data folder (readable by
    this user only), as the token keys are, and the same ones on every start after. No key is written in code."""
    if environ.get("AOS_BLOB_ACCESS_KEY"):
        return
    from deploy import seaweedfs
    path = settings.data_dir(environ) / "keys" / "object-store.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(seaweedfs.new_keys(), indent=1))
        print(f"created the object store's keys in {path}")
    for name, value in json.loads(path.read_text()).items():
        environ.setdefault(name, value)


def main():
    # make run is the development profile: demo secrets (the demo car's ECU secret)
    os.environ.setdefault("AOS_PROFILE", "development")
    ensure_object_store_keys(os.environ)
    os.environ.setdefault("AOS_VIES_URL", "http://127.0.0.1:8490")  # the local stand-in (ensure_vies)
    os.environ.setdefault("AOS_SERMI_ISSUER", "http://127.0.0.1:8491")  # the demo trust centre (ensure_trust_centre)
    # links in mails lead to this machine's portal
    os.environ.setdefault("AOS_PORTAL_URL", f"http://{os.environ.get('AOS_GATEWAY_ADDRESS', '127.0.0.1:8000')}")
    config = settings.load(processes=PROCESSES)
    replicas = replica_count(os.environ, config)
    launcher = Launcher(config)
    # Ctrl-C and SIGTERM both stop everything; SIGINT is set explicitly because a shell that starts us in the
    # background hands it over ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        launcher.ensure_broker()
        launcher.ensure_broker_users()
        (Path(config["DATA_DIR"]) / "logs").mkdir(parents=True, exist_ok=True)
        launcher.ensure_object_store()
        launcher.ensure_mail()
        launcher.ensure_vies()
        launcher.ensure_trust_centre()
        launcher.ensure_keys()
        launcher.migrate()
        from deploy import demo
        vehicles = demo.load_vehicles(config)
        launcher.ensure_hsm(vehicles)
        demo_vin = vehicles[0]["vin"]
        demo.load_library(config)
        demo.load_parts(config)
        demo.load_descriptions(config)  # before the software: its coding rules are checked against them
        manufacturer_key = demo.load_software(config, vehicles)
        for name in NAMES:
            for replica in range(replicas if name in SERVICES else 1):  # one gateway: its port is one
                launcher.start(name, replica=replica)
        base = f"http://{config['WEB_SERVER_ADDRESS']}"
        wait_for(lambda: demo.ready(base), 60, "the gateway and its services")
        login = demo.load(base, Path(config["DATA_DIR"]))
        demo.load_shop(config)
        launcher.start("vehicle-simulator", demo.demo_car(config, vehicles[0]))
        launcher.ensure_receiver()
        demo.demo_webhook(base, login, config)
        agent = demo.demo_agent(base, login, config, manufacturer_key)
        launcher.start("agent", agent)
        agent_id = json.loads(Path(agent[agent.index("--config") + 1]).read_text())["id"]
        print(demo.banner(base, login, config, demo_vin, agent_id))
        launcher.watch()
    except KeyboardInterrupt:
        pass
    finally:
        launcher.stop()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
