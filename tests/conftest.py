"""Fixtures every tier shares: an empty, migrated database per test (PostgreSQL, and SQLite too where a test
asks for both), a vhost per test (nameko's `rabbit_config`), token keys, and the config dict services run with."""
import os
import shutil
import uuid
from contextlib import contextmanager

import psycopg2
import pytest

from deploy.ports import free_port
from deploy.processes import SERVICES
from services.shared import config as settings
from services.shared.migrate import upgrade
from services.shared.tokens import generate_keypair

PG_SERVER = os.environ.get("AOS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
RUN = uuid.uuid4().hex[:8]  # this run's names, apart from any other run's
DATABASES = [d for d in os.environ.get("AOS_TEST_DATABASES", "sqlite,postgresql").split(",") if d]


def pytest_generate_tests(metafunc):
    """A test that needs databases runs on PostgreSQL, what production runs; a module marked `both_databases`
    (where the two behave apart: locking, the clock, money, odd input) runs on SQLite too, what `make run` uses.
    Running every e2e test on both doubled `make test` for little: the services' SQL is the same."""
    chosen_here = any(m.args and m.args[0] == "database_urls" for m in metafunc.definition.iter_markers("parametrize"))
    if "database_urls" in metafunc.fixturenames and not chosen_here:
        both = metafunc.definition.get_closest_marker("both_databases") is not None
        chosen = DATABASES if both else (["postgresql"] if "postgresql" in DATABASES else DATABASES[:1])
        metafunc.parametrize("database_urls", chosen, indirect=True)


def key_pair(tmp_path_factory, name):
    """A fresh Ed25519 pair for the run: (private, public) PEM files."""
    folder = tmp_path_factory.mktemp(name)
    private, public = folder / f"{name}.pem", folder / f"{name}.pub.pem"
    generate_keypair(private, public)
    return private, public


@pytest.fixture(scope="session")
def token_keys(tmp_path_factory):
    """Identity's key pair for access tokens."""
    return key_pair(tmp_path_factory, "token-signing")


@pytest.fixture(scope="session")
def staff_keys(tmp_path_factory):
    """Operations' key pair for staff tokens: services get the public half, tests sign with the private one."""
    return key_pair(tmp_path_factory, "staff-signing")


@pytest.fixture(scope="session")
def audit_keys(tmp_path_factory):
    """The audit trail's checkpoint-signing pair."""
    return key_pair(tmp_path_factory, "audit-signing")


@pytest.fixture(scope="session")
def key_proof_keys(tmp_path_factory):
    """Partners' pair for an API key's proof: partners signs, the gateway and services verify."""
    return key_pair(tmp_path_factory, "key-token-signing")


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory):
    """A SoftHSM2 token for the run, this process able to reach it: the AOS_HSM_* settings."""
    from deploy import softhsm as hsm
    if hsm.module() is None:
        pytest.fail("softhsm2 is missing: apt-get install softhsm2 (.ci/run installs it)")
    env = hsm.token(tmp_path_factory.mktemp("hsm"), label="aos-test")
    os.environ["SOFTHSM2_CONF"] = env["SOFTHSM2_CONF"]  # read when the library loads, once per process
    return {k: v for k, v in env.items() if k.startswith("AOS_")}


@pytest.fixture(scope="session")
def staff_pass(staff_keys):
    """A platform staff member's token, as `python -m deploy.staff` signs it."""
    from services.shared.tokens import staff_token
    return staff_token(staff_keys[0].read_bytes(), "anna.berger@aos.example", 3600)


class Postgres:
    """One migrated database per service for the run, emptied before each test back to what its migrations left:
    every row deleted, the rows the migrations seed (billing's tariffs) put back from a copy, the sequences where
    they were. A database per test cost most of a second to create and, on DROP DATABASE, a checkpoint each:
    minutes of a run."""

    SEED = "aos_seed"  # the seeded rows' copies, beside the service's tables

    def __init__(self):
        self.databases = {}  # service: (url, its tables, those the migrations seeded)

    def fresh(self, service):
        if service not in self.databases:
            name = f"aos_t{RUN}_{service}"
            self._admin(f'CREATE DATABASE "{name}"')
            url = f"{PG_SERVER}/{name}"
            upgrade(service, url)
            self.databases[service] = (url, *self._keep_seed(url))
        else:
            self._empty(*self.databases[service])
        return self.databases[service][0]

    def _keep_seed(self, url):
        with self._connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                        " ORDER BY tablename")
            tables = [row[0] for row in cur.fetchall()]
            seeded = []
            for table in tables:
                cur.execute(f'SELECT EXISTS (SELECT FROM public."{table}")')
                if cur.fetchone()[0]:
                    seeded.append(table)
            cur.execute(f"CREATE SCHEMA {self.SEED}")
            for table in seeded:
                cur.execute(f'CREATE TABLE {self.SEED}."{table}" AS SELECT * FROM public."{table}"')
            cur.execute("SELECT sequencename, last_value, last_value IS NOT NULL FROM pg_sequences "
                        "WHERE schemaname = 'public'")
            sequences = [(name, value or 1, called) for name, value, called in cur.fetchall()]
        return tables, seeded, sequences

    def _empty(self, url, tables, seeded, sequences):
        """DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE makes new files for every table and index
        (half a second a test). Foreign keys are not checked meanwhile (session_replication_role)."""
        with self._connect(url) as conn, conn.cursor() as cur:
            # what the last test's services left connected holds no lock on the next test's rows
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            cur.execute("SET LOCAL session_replication_role = replica;"
                        + "".join(f'DELETE FROM public."{t}";' for t in tables)
                        + "".join(f'INSERT INTO public."{t}" SELECT * FROM {self.SEED}."{t}";' for t in seeded)
                        + "".join(f"SELECT setval('public.\"{name}\"', {value}, {called});"
                                  for name, value, called in sequences))

    @staticmethod
    @contextmanager
    def _connect(url):
        """One transaction on `url`, committed at the end, and the connection closed."""
        conn = psycopg2.connect(url)
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def drop_all(self):
        for url, *_ in self.databases.values():
            self._admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')

    @staticmethod
    def _admin(sql):
        conn = psycopg2.connect(f"{PG_SERVER}/postgres")
        conn.autocommit = True
        try:
            conn.cursor().execute(sql)
        finally:
            conn.close()


@pytest.fixture(scope="session")
def postgres():
    pg = Postgres()
    yield pg
    pg.drop_all()


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory):
    """Every service's SQLite file migrated once for the run: a test gets copies (as PostgreSQL's templates),
    not the 7 migrations again (most of a second per test)."""
    folder = tmp_path_factory.mktemp("sqlite-templates")
    for service in SERVICES:
        upgrade(service, f"sqlite:///{folder / (service + '.sqlite')}")
    return folder


@pytest.fixture
def database_urls(request, tmp_path):
    """A fresh, migrated database for every service: SQLite files, or PostgreSQL databases (which of the two:
    pytest_generate_tests)."""
    if request.param == "sqlite":
        templates = request.getfixturevalue("sqlite_templates")
        urls = {}
        for service in SERVICES:
            shutil.copyfile(templates / f"{service}.sqlite", tmp_path / f"{service}.sqlite")
            urls[service] = f"sqlite:///{tmp_path / (service + '.sqlite')}"
        return urls
    pg = request.getfixturevalue("postgres")
    return {service: pg.fresh(service) for service in SERVICES}


@pytest.fixture(scope="session")
def blob_keys():
    """This run's object-store credentials, as AOS's settings (made fresh: none is written in code)."""
    from deploy import seaweedfs
    return seaweedfs.new_keys()


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory, blob_keys):
    """SeaweedFS for the whole run, access keys enforced; each test gets a bucket of its own."""
    from deploy import seaweedfs
    port = free_port()
    process = seaweedfs.start_with(tmp_path_factory.mktemp("seaweedfs"), port, blob_keys)
    yield process, f"127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="session")
def object_store(seaweed):
    return seaweed[1]


@pytest.fixture
def blob_config(object_store, blob_keys):
    return {"endpoint": object_store, "access_key": blob_keys["AOS_BLOB_ACCESS_KEY"],
            "secret_key": blob_keys["AOS_BLOB_SECRET_KEY"], "link_access_key": blob_keys["AOS_BLOB_LINK_ACCESS_KEY"],
            "link_secret_key": blob_keys["AOS_BLOB_LINK_SECRET_KEY"], "region": "us-east-1", "secure": False,
            "bucket": f"aos-{uuid.uuid4().hex[:12]}"}


@pytest.fixture
def store(blob_config):
    """This test's bucket, made, behind the BlobStore port."""
    from services.shared import blobs
    bucket = blobs.from_config({"BLOB_STORE": blob_config})
    bucket.ensure_bucket()
    return bucket


@pytest.fixture(scope="session")
def mail_catcher(tmp_path_factory):
    """A real SMTP server for the whole run that keeps every mail as a file: (folder, port)."""
    from deploy import mailcatcher
    folder, port = tmp_path_factory.mktemp("mail"), free_port()
    process = mailcatcher.start(folder, port)
    yield folder, port
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="session")
def proven(token_keys):
    """An actor as the gateway hands it to a service: with an access token identity's key signed for it."""
    from datetime import datetime, timezone
    from types import SimpleNamespace

    from services.shared.tokens import TokenSigner
    signer = TokenSigner(token_keys[0].read_bytes(), 600)

    def prove(actor):
        user = SimpleNamespace(id=actor["user_id"], operator_id=actor["operator_id"], role=actor["role"])
        extra = {"ev": actor.get("email_verified", True)} | ({"buy": actor["spending"]} if "spending" in actor else {})
        return actor | {"token": signer.access_token(user, "api", "s-1", actor.get("amr") or ["pwd", "otp"],
                                                     datetime.now(timezone.utc), extra=extra)}
    return prove


WORKSHOP_VAT_ID = "DE136695976"  # the e2e workshop's (tests/e2e/conftest.registration)


@pytest.fixture(scope="session")
def trust_centre(tmp_path_factory):
    """The demo SERMI trust centre for the whole run: (its folder, its issuer URL); a test may rewrite its
    technicians (deploy.trust_centre.write_technicians)."""
    from deploy import trust_centre as centre
    folder, port = tmp_path_factory.mktemp("trust-centre"), free_port()
    process, issuer = centre.start(folder, port, ["http://portal.test/api/v1/sermi/callback"], TECHNICIANS)
    yield folder, issuer
    process.terminate()
    process.wait(timeout=10)


def _technicians():
    from deploy.trust_centre import technician
    return {"tech-anna": technician(WORKSHOP_VAT_ID, "SERMI-DE-0001"),
            "tech-bernd-revoked": technician(WORKSHOP_VAT_ID, "SERMI-DE-0002", revoked=True),
            "tech-foreign": technician("FR40303265045", "SERMI-FR-0003", workshop="Garage Dupont", country="FR")}


TECHNICIANS = _technicians()

VALID_VAT_IDS = {"FR40303265045": "Garage Dupont", "DE136695976": "Werkstatt Müller GmbH"}


@pytest.fixture(scope="session")
def vies_stand_in(tmp_path_factory):
    """The local VIES for the whole run: (its folder, its URL); a test may rewrite its registry."""
    from deploy import vies
    folder, port = tmp_path_factory.mktemp("vies"), free_port()
    process = vies.start(folder, port, {"valid": VALID_VAT_IDS})
    yield folder, f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def vies_registry(vies_stand_in):
    """Write the stand-in's registry for this test; the run's is back afterwards."""
    from deploy import vies
    yield lambda registry: vies.write_registry(vies_stand_in[0], registry)
    vies.write_registry(vies_stand_in[0], {"valid": VALID_VAT_IDS})


@pytest.fixture
def config(rabbit_config, database_urls, token_keys, staff_keys, audit_keys, key_proof_keys, tmp_path, blob_config,
           blob_keys, mail_catcher, vies_stand_in, trust_centre):
    """The config dict of a whole AOS process, as `services.shared.config.load` builds it, on this test's
    vhost and databases."""
    private, public = token_keys
    conf = settings.load({
        "AOS_PROFILE": "development",  # the demo secrets (the ECU's) for the simulated car
        "AOS_DATA_DIR": str(tmp_path),
        "AOS_JWT_PRIVATE_KEY_FILE": str(private),
        "AOS_JWT_PUBLIC_KEY_FILE": str(public),
        "AOS_STAFF_PUBLIC_KEY_FILE": str(staff_keys[1]),
        "AOS_AUDIT_SIGNING_KEY_FILE": str(audit_keys[0]),
        "AOS_AUDIT_PUBLIC_KEY_FILE": str(audit_keys[1]),
        "AOS_KEY_TOKEN_PRIVATE_KEY_FILE": str(key_proof_keys[0]),
        "AOS_KEY_TOKEN_PUBLIC_KEY_FILE": str(key_proof_keys[1]),
        "AOS_GATEWAY_ADDRESS": f"127.0.0.1:{free_port()}",
        "AOS_AIR_SYNC_SECONDS": "0.2",
        "AOS_SMTP_PORT": str(mail_catcher[1]),
        "AOS_PORTAL_URL": "http://portal.test",
        "AOS_VIES_URL": vies_stand_in[1],
        "AOS_VIES_RETRY_SECONDS": "0.5",
        "AOS_SERMI_ISSUER": trust_centre[1],
    } | blob_keys)
    conf["MAIL_FOLDER"] = str(mail_catcher[0])  # tests only: where the catcher keeps what went over SMTP
    conf["STAFF_PRIVATE_KEY_FILE"] = str(staff_keys[0])  # tests only: operations' key, to sign staff tokens
    conf.update(rabbit_config)
    conf["AMQP_URI"] = rabbit_config["AMQP_URI"]
    conf["DATABASE_URLS"] = database_urls
    conf["METRICS_ADDRESSES"] = {}
    conf["BLOB_STORE"] = blob_config
    return conf
