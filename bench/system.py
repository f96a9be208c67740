"""The system under measurement: every service and the gateway as processes of their own (as `make run` starts
them), on a RabbitMQ vhost, data folder and SeaweedFS of this run only. Services can be killed and restarted."""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import goals
from deploy import demo, mailcatcher, seaweedfs, staff, trust_centre
from deploy.ports import free_port, unclaimed_ports, wait_for
from deploy.processes import NAMES, PROCESSES, SERVICES
from services.shared import config as settings
from services.shared.migrate import upgrade
from services.shared.tokens import generate_keypair

RABBIT_API = os.environ.get("AOS_BENCH_RABBIT_API", "http://127.0.0.1:15672/api")
GUEST = ("guest", "guest")


def vhost(name, create):
    method = requests.put if create else requests.delete
    method(f"{RABBIT_API}/vhosts/{name}", auth=GUEST, timeout=10).raise_for_status()
    if create:
        requests.put(f"{RABBIT_API}/permissions/{name}/guest", json={"configure": ".*", "write": ".*", "read": ".*"},
                     auth=GUEST, timeout=10).raise_for_status()


class System:
    def __init__(self, data, env, base, amqp_uri, vhost=None):
        self.data, self.env, self.base, self.amqp_uri, self.vhost = data, env, base, amqp_uri, vhost
        self.processes = {}

    def start(self, name, command=None):
        """A process by name; `billing-1` is billing's second replica (AOS_REPLICA=1)."""
        log = open(self.data / f"{name}.log", "a")
        process, _, replica = name.partition("-")
        env = self.env if not replica.isdigit() else dict(self.env, AOS_REPLICA=replica)
        self.processes[name] = subprocess.Popen(command or [sys.executable, "-m", "deploy.serve", process],
                                                env=env, stdout=log, stderr=subprocess.STDOUT)

    def replicas_of(self, process):
        return [name for name in self.processes if name == process or name.startswith(process + "-")]

    def watch(self, *event_types):
        """A partner system (bench.watcher) subscribed to `event_types` before this returns; the file it writes."""
        path = self.data / "deliveries.jsonl"
        self.start("watcher", [sys.executable, "-m", "bench.watcher", self.amqp_uri, str(path), *event_types])
        wait_for(lambda: Path(f"{path}.ready").exists(), 30, "the event watcher")
        return path

    def load(self, *args):
        """bench.load (in a process of its own) against this system, with its CPU cost per request."""
        return self.measured(lambda: load(*args))

    def measured(self, drive):
        """`drive()`'s figures with what each request cost in CPU: `cpu_ms`, summed over every process of the
        system, the broker and, on PostgreSQL, the database server's processes (read from /proc; the broker's and
        the database's share count whatever else used them meanwhile; the load generator is not counted), and
        `cpu_ms_by` process (replicas together, the broker as `broker`, PostgreSQL as `database`). Read once the
        consumers have taken every message the load set off (on this machine's broker): work that lagged behind
        the answers counts too."""
        before = {name: per_pid(pids) for name, pids in self._groups().items()}
        result = drive()
        self.wait_for_queues()
        requests = max(result["requests"], 1)
        # a connection the database server opened meanwhile counts from its start; one closed meanwhile is lost
        result["cpu_ms_by"] = {name: sum(cpu - before.get(name, {}).get(pid, 0) for pid, cpu in per_pid(pids).items())
                               * 1000 / requests for name, pids in self._groups().items()}
        result["cpu_ms"] = sum(result["cpu_ms_by"].values())
        return result

    def wait_for_queues(self, seconds=60):
        """Until no queue of the run's vhost holds a message, ready or unacknowledged: True, or False when `seconds`
        passed first."""
        if self.vhost is None:
            return True
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            queues = requests.get(f"{RABBIT_API}/queues/{self.vhost}", params={"columns": "name,messages"},
                                  auth=GUEST, timeout=10).json()
            if not any(q.get("messages") for q in queues):
                return True
            time.sleep(0.2)
        return False

    def _groups(self):
        groups = {}
        for name, p in self.processes.items():
            if name != "watcher" and p.poll() is None:
                groups.setdefault(name.partition("-")[0], []).append(p.pid)
        groups["broker"] = broker_pids()
        if any(k.endswith("_DATABASE_URL") and v.startswith("postgresql") for k, v in self.env.items()):
            groups["database"] = pgrep("^postgres")
        return groups

    def tell_why_not_ready(self):
        """What the gateway's /ready said and each process's last lines, before the run's folder (and the logs in
        it) is deleted: a bench that does not start says why."""
        try:
            print(f"{self.base}/ready:", requests.get(f"{self.base}/ready", timeout=5).text, file=sys.stderr)
        except requests.RequestException as exc:
            print(f"{self.base}/ready: {type(exc).__name__}", file=sys.stderr)
        for name, process in self.processes.items():
            state = "running" if process.poll() is None else f"exited {process.returncode}"
            lines = (self.data / f"{name}.log").read_text(errors="replace").splitlines()[-8:]
            print(f"--- {name} ({state}), last lines of its log:", *lines, sep="\n  ", file=sys.stderr)

    def staff_token(self):
        """A platform staff member's token for the staff RPCs (python -m deploy.staff)."""
        return staff.token(self.env, "bench@aos.example")

    def kill(self, name):
        """SIGKILL: no clean-up, no goodbye, as a crash."""
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait()

    def kill_one(self, process):
        """SIGKILL one replica of `process`, picked at random; its name, to start it again."""
        victim = random.choice(self.replicas_of(process))
        self.kill(victim)
        return victim

    def discard(self):
        """Every process SIGKILLed at once: the run's figures are taken and its data is deleted next, so a graceful
        stop would only cost time (2-4 s for each system: kombu's consumers notice a stop once a second; SeaweedFS
        takes 2 s more)."""
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
        for process in self.processes.values():
            process.wait()

    def config(self):
        return settings.load(self.env, processes=PROCESSES)


MAIL_FOLDERS = {}  # a running system's base URL -> where its SMTP catcher keeps the mails


@contextmanager
def running(database_url=None, extra_env=None, replicas=1, broker_uri=None):
    """Yields a System with every service up and ready. `database_url` names a PostgreSQL server; by default
    each service has a SQLite file. `replicas`: processes of each service (the gateway stays one), on PostgreSQL.
    `broker_uri`: a broker of the run's own (a cluster: deploy.rabbitmq_cluster), used whole; by default a fresh
    vhost on this machine's broker."""
    if replicas > 1 and not database_url:
        raise SystemExit("replicas share one PostgreSQL server: give --database-url postgresql://...")
    name = f"aos_bench_{uuid.uuid4().hex[:8]}"
    if broker_uri is None:
        vhost(name, create=True)
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        generate_keypair(data / "keys/token-signing.pem", data / "keys/token-signing.pub.pem")
        staff.ensure_keys({"AOS_DATA_DIR": str(data)})
        generate_keypair(data / "keys/audit-signing.pem", data / "keys/audit-signing.pub.pem")
        generate_keypair(data / "keys/key-token-signing.pem", data / "keys/key-token-signing.pub.pem")
        s3_port = free_port()
        keys = seaweedfs.new_keys()
        store = seaweedfs.start_with(data / "objects", s3_port, keys, log=open(data / "seaweedfs.log", "w"))
        mail_port = free_port()
        catcher = mailcatcher.start(data / "mail", mail_port, log=open(data / "mailcatcher.log", "w"))
        # the gateway's port, then every process's metrics listener, replicas' too (base + each one's metrics_port,
        # a replica REPLICA_PORTS further: services.shared.config): a block checked free as a whole, below the ephemeral range. One free port with
        # the ones after it taken unchecked were in use at times: a process that could not listen exited, and the
        # system never came up
        port, metrics_base = unclaimed_ports(1 + replicas * settings.REPLICA_PORTS)[:2]
        # the demo SERMI trust centre, with the bench workshops' technician (security jobs for theft-relevant ECUs)
        centre, issuer = trust_centre.start(data / "trust-centre", free_port(),
                                            [f"http://127.0.0.1:{port}/api/v1/sermi/callback"],
                                            {TECHNICIAN: trust_centre.technician(VAT_ID, "SERMI-BENCH-0001")},
                                            log=open(data / "trust-centre.log", "w"))
        env = dict(os.environ, AOS_PROFILE="development", AOS_SERMI_ISSUER=issuer,
                   AOS_PORTAL_URL=f"http://127.0.0.1:{port}", AOS_SMTP_PORT=str(mail_port), AOS_DATA_DIR=str(data),
                   AOS_AMQP_URI=broker_uri or f"amqp://guest:guest@127.0.0.1:5672/{name}",
                   AOS_GATEWAY_ADDRESS=f"127.0.0.1:{port}", AOS_METRICS_BASE_PORT=str(metrics_base),
                   AOS_LOGIN_MAX_ADDRESS_FAILURES="10000", AOS_BLOB_ENDPOINT=f"127.0.0.1:{s3_port}",
                   AOS_OUTBOX_POLL_SECONDS="0.2", **keys, **(extra_env or {}))
        databases = fresh_databases(database_url, name) if database_url else {}
        env.update({f"AOS_{service.upper()}_DATABASE_URL": url for service, url in databases.items()})
        for service, url in settings.load(env, processes=PROCESSES)["DATABASE_URLS"].items():
            upgrade(service, url)
        system = System(data, env, f"http://127.0.0.1:{port}", env["AOS_AMQP_URI"], None if broker_uri else name)
        MAIL_FOLDERS[system.base] = data / "mail"
        try:
            for process in NAMES:
                system.start(process)
                for replica in range(1, replicas if process in SERVICES else 1):
                    system.start(f"{process}-{replica}")
            try:
                wait_for(lambda: demo.ready(system.base), 60, "the gateway and its services")
            except BaseException:
                system.tell_why_not_ready()
                raise
            yield system
        finally:  # every process killed at once, then waited for: the run's data is deleted next
            for helper in (catcher, centre, store):
                helper.kill()
            system.discard()
            for helper in (catcher, centre, store):
                helper.wait()
            if broker_uri is None:
                vhost(name, create=False)
            if database_url:
                drop_databases(database_url, databases)


def fresh_databases(server_url, run):
    """A database per service on the PostgreSQL server, for this run only."""
    databases = {service: make_url(server_url).set(database=f"{run}_{service}").render_as_string(False)
                 for service in SERVICES}
    _on_server(server_url, [f'CREATE DATABASE "{make_url(url).database}"' for url in databases.values()])
    return databases


def drop_databases(server_url, databases):
    _on_server(server_url, [f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'
                            for url in databases.values()])


def _on_server(server_url, statements):
    engine = create_engine(make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


VAT_ID, TECHNICIAN = "DE136695976", "tech-bench"  # one workshop a run may have it: the SERMI technician's


def workshop(base, credit_cents=0, vat_id=None):
    """A registered, enrolled workshop; returns (access token, user id), with `credit_cents` topped up."""
    registered, _, confirmed = enrolled(base, f"bench-{uuid.uuid4().hex[:6]}@werkstatt.de", vat_id)
    token = confirmed["access_token"]
    while credit_cents > 0:
        amount = min(credit_cents, 500000)
        demo.top_up_demo_credit(base, token, amount, idempotency_key=str(uuid.uuid4()))
        credit_cents -= amount
    return token, registered["user"]["id"]


def enrolled(base, email, vat_id=None):
    return demo.register_and_enrol(base, {
        "operator": {"legal_name": "Bench Werkstatt", "legal_form": "GmbH", "country": "DE", "vat_id": vat_id,
                     "address": {"street": "Teststr. 1", "postal_code": "10115", "city": "Berlin"}},
        "owner": {"email": email, "name": "Bench", "password": "Lastprofil-Messung-2026"}}, MAIL_FOLDERS[base])


def owner_of(base):
    """A registered, enrolled workshop's owner: their email."""
    email = f"bench-{uuid.uuid4().hex[:6]}@werkstatt.de"
    enrolled(base, email)
    return email


def security_jobs(base, token, vins):
    """The workshop's technician (of a workshop registered with VAT_ID) links SERMI at the trust centre and opens
    a security job on each car: the theft-relevant ECUs' keys need one."""
    user = {"Authorization": f"Bearer {token}"}
    browser = requests.Session()  # the link finishes in the browser that started it (its cookie)
    started = browser.post(f"{base}/api/v1/sermi/link", json={}, headers=user, timeout=30)
    started.raise_for_status()
    back = trust_centre.sign_in(started.json()["authorization_url"], TECHNICIAN)
    linked = browser.get(back, allow_redirects=False, timeout=30)
    if linked.headers.get("Location") != "/#/sermi?linked=1":
        raise SystemExit(f"SERMI link refused: {linked.headers.get('Location')}")
    for vin in vins:
        requests.post(f"{base}/api/v1/security/jobs", headers=user, timeout=30, json={
            "vin": vin, "owner_name": "Bench Owner", "owner_document_number": "BENCH0001"}).raise_for_status()


def purchase(http, base, token, key, tariff_code="air-1h"):
    """POST /purchases as a client does it; returns the response, whatever it is."""
    return http.post(f"{base}/api/v1/purchases", json={"tariff_code": tariff_code, "quantity": 1}, timeout=30,
                     headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})


def gross_cents(base, tariff_code, country="DE"):
    tariffs = requests.get(f"{base}/api/v1/tariffs", params={"country": country}, timeout=10).json()["tariffs"]
    return next(t["gross_cents"] for t in tariffs if t["code"] == tariff_code)


def side_by_side(make, items, at_once=8):
    """`make(item)` for every item, `at_once` at a time on green threads (setup that is not measured: the caller
    has monkey-patched), in the items' order."""
    import eventlet
    return list(eventlet.GreenPool(at_once).imap(make, items))


def wait_until_true(check, seconds, what):
    """wait_for, with a check that may fail with an exception while the condition is not yet true."""
    def safe():
        try:
            return check()
        except Exception:
            return False
    wait_for(safe, seconds, what)


def wait_until_quiet(pids, share=0.1, seconds=15):
    """Until `pids` together use less than `share` of a core over a second (at most `seconds`)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        before = sum(per_pid(pids).values())
        time.sleep(1)
        if sum(per_pid(pids).values()) - before < share:
            return


def per_pid(pids):
    """The user and system CPU seconds each process has used so far, from /proc/<pid>/stat."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime: proc(5)
    return found


def pgrep(pattern):
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def broker_pids():
    """RabbitMQ's Erlang VM on this machine, if it runs here."""
    return pgrep("beam.smp")


def table(results, width=28):
    """The paths' figures, a line each: rate, latency, and CPU ms per request where it was measured."""
    print(f"{'path':{width}} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'CPU ms':>7} {'errors':>7} "
          f"{'requests':>9}")
    for path, r in results.items():
        cpu = f"{r['cpu_ms']:7.2f}" if "cpu_ms" in r else f"{'-':>7}"
        print(f"{path:{width}} {r['rate']:8.1f} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['p99_ms']:8.1f} {cpu} "
              f"{r['errors']:7d} {r['requests']:9d}")
    print("CPU ms: per request, summed over the gateway, the services, the broker and PostgreSQL when used (/proc)")
    for path, r in results.items():
        if r.get("cpu_ms_by"):
            split = ", ".join(f"{name} {ms:.2f}" for name, ms in sorted(r["cpu_ms_by"].items(), key=lambda x: -x[1])
                              if ms >= 0.01)
            print(f"  {path}: {split}")


def load(*args):
    """Runs bench.load in a process of its own (see its usage) and returns its figures."""
    out = subprocess.run([sys.executable, "-m", "bench.load", *map(str, args)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def parser(doc):
    """A bench's command line, with the option every bench has: where its databases live."""
    arguments = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    arguments.add_argument("--database-url", default=None,
                           help="a PostgreSQL server for fresh databases of this run (default: SQLite files)")
    arguments.add_argument("--replicas", type=int, default=1,
                           help="processes of each service (on PostgreSQL: needs --database-url)")
    return arguments


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def report_rules(title, counts, results):
    """A fault campaign's printout: what it did (counts), each rule checked with its detail; exits 1 if one
    failed."""
    print(f"\n{title}")
    for what, n in counts.items():
        print(f"  {what}: {n}")
    for rule, (ok, detail) in results.items():
        print(f"  [{'ok' if ok else 'FAILED'}] {rule}{f' ({detail})' if detail else ''}")
    passed = all(ok for ok, _ in results.values())
    goals.campaign(title, {**counts, "rules held": f"{sum(ok for ok, _ in results.values())} of {len(results)}"},
                   passed)
    sys.exit(0 if passed else 1)
