"""Operations: a real Prometheus (Debian's `prometheus`) scrapes a running system with the scrape configuration
of deploy/prometheus, evaluates the alert rules, and answers every query of every Grafana dashboard with
series, after a workshop has done what workshops do."""
import json
import re
import subprocess
from pathlib import Path

import pytest
import requests
import yaml
from prometheus_client import REGISTRY

from deploy.ports import free_port
from services.air import content
from deploy import corpus
from deploy.processes import NAMES
from services.shared import blobs, metrics
from services.shared.database import make_engine
from tests.e2e.conftest import STRONG, Workshop, buy, top_up
from tests.helpers import eventually

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))


def panel_queries():
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel["targets"]:
                yield f"{path.stem}: {panel['title']}", target["expr"]


@pytest.fixture
def metrics_addresses(config):
    """Every service serves /metrics on a port of its own, as in production. Here they all serve this process's
    registry, which holds the series of every test before this one: emptied first, or eight copies of it scraped
    every second starve the system under test."""
    forget_earlier_series()
    config["METRICS_ADDRESSES"] = {p: f"127.0.0.1:{free_port()}" for p in NAMES}


def forget_earlier_series():
    metrics._CHILDREN.clear()  # labelled()'s children: some are about to leave the registry
    for collector, kept in AT_IMPORT.items():
        for values in set(collector._metrics) - kept:
            collector.remove(*values)


# the series each labelled metric has before any test runs (those a module starts at zero, as flash failures by
# cause): they stay, what earlier tests added goes
AT_IMPORT = {collector: set(collector._metrics) for collector in list(REGISTRY._collector_to_names)
             if getattr(collector, "_labelnames", None)}


@pytest.fixture
def prometheus(system, tmp_path):
    conf = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    conf["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    conf["rule_files"] = [str(DEPLOY / "prometheus" / "alerts.yml")]
    addresses = system["METRICS_ADDRESSES"]
    assert {job["job_name"] for job in conf["scrape_configs"]} == set(addresses)  # every service is scraped
    for job in conf["scrape_configs"]:
        job["static_configs"] = [{"targets": [addresses[job["job_name"]]]}]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(conf))
    port = free_port()
    process = subprocess.Popen(["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
                                f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=open(tmp_path / "prometheus.log", "w"))
    base = f"http://127.0.0.1:{port}/api/v1"
    eventually(lambda: _ok(f"http://127.0.0.1:{port}/-/ready"), timeout=30, what="Prometheus to start")
    yield base
    process.terminate()
    process.wait(timeout=20)


def _ok(url):
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def query(base, expr):
    answer = requests.get(f"{base}/query", params={"query": expr}, timeout=10).json()
    assert answer["status"] == "success", (expr, answer)
    return answer["data"]["result"]


@pytest.mark.parametrize("database_urls", ["sqlite"], indirect=True)
def test_every_dashboard_query_and_alert_rule_evaluates_on_a_running_system(metrics_addresses, api, system,
                                                                            prometheus, tmp_path):
    # what a workshop does: registers, mistypes its password, buys, searches (once in vain), opens a document
    library = tmp_path / "library"
    corpus.write(library, 60)
    store = blobs.from_config(system)
    store.ensure_bucket()
    engine = make_engine(system["DATABASE_URLS"]["air"])
    content.import_package(library, engine, store)
    engine.dispose()
    workshop = Workshop(api, vat_id=None)
    assert api("POST", "/api/v1/auth/login", json={"email": workshop.email, "password": STRONG + "x"}).status_code == 401
    eventually(lambda: top_up(api, workshop, 5000).status_code == 201, what="billing to know the workshop")
    assert buy(api, workshop, "air-1h").status_code == 201
    found = eventually(lambda: api("GET", "/api/v1/air/search", workshop.token, params={"q": "misfire"}).json()
                       .get("hits"), what="AIR to index and hear of the purchase")
    assert api("GET", "/api/v1/air/search", workshop.token, params={"q": "zzqxv"}).json()["total"] == 0
    assert api("GET", f"/api/v1/air/documents/{found[0]['id']}", workshop.token).status_code in (200, 402)

    def scraped():
        up = query(prometheus, "up")
        return len(up) == len(NAMES) and all(r["value"][1] == "1" for r in up) and query(
            prometheus, "sum(rate(aos_purchases_total[5m]))")
    eventually(scraped, timeout=60, what="Prometheus to scrape every service twice after the traffic")

    names = set(requests.get(f"{prometheus}/label/__name__/values", timeout=10).json()["data"])
    for where, expr in panel_queries():
        for name in re.findall(r"\baos_[a-z_]+", expr):
            assert name in names, f"{where}: {name} is not exported by any service"

    def without_series():
        return [f"{where}: {expr}" for where, expr in panel_queries() if not query(prometheus, expr)]
    # the gauges are set by the services' timers (billing measures every 10 s) and scraped every second
    try:
        eventually(lambda: not without_series(), timeout=30, interval=1.0, what="every dashboard query to have series")
    except AssertionError:
        pass
    empty = without_series()
    assert not empty, "queries without series:\n" + "\n".join(empty)

    def evaluated():
        groups = requests.get(f"{prometheus}/rules", timeout=10).json()["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        return rules if rules and all(r.get("lastEvaluation", "").startswith("20") for r in rules) else None
    rules = eventually(evaluated, timeout=30, what="every alert rule to be evaluated")
    assert len(rules) == 8 and all(r["health"] == "ok" for r in rules), [(r["name"], r.get("lastError")) for r in rules]
    assert not [r["name"] for r in rules if r["state"] == "firing"]  # a healthy system pages nobody


@pytest.mark.parametrize("configuration", ["prometheus.yml", "prometheus-compose.yml"])
def test_promtool_accepts_the_configuration_and_the_rules(configuration):
    checked = subprocess.run(["promtool", "check", "config", str(DEPLOY / "prometheus" / configuration)],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 8 rules found" in checked.stdout


def test_grafana_provisioning_points_every_panel_at_the_provisioned_datasource():
    datasource = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    boards = [json.loads(p.read_text()) for p in DASHBOARDS]
    assert {b["uid"] for b in boards} == {"aos-business", "aos-api", "aos-programming", "aos-search", "aos-parts"}
    for board in boards:
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == uid and panel["targets"], (board["title"], panel["title"])


def test_a_request_id_follows_a_purchase_through_rpc_into_its_event(api, system):
    workshop = Workshop(api, vat_id=None)
    eventually(lambda: top_up(api, workshop, 5000).status_code == 201, what="billing to know the workshop")
    bought = api("POST", "/api/v1/purchases", workshop.token, json={"tariff_code": "air-1h"},
                 headers={"Idempotency-Key": "k-req-1", "X-Request-Id": "bay2-req-0001"})
    assert bought.status_code == 201 and bought.headers["X-Request-Id"] == "bay2-req-0001"
    # the id went with the RPC to billing, which wrote it into the fact it committed
    engine = make_engine(system["DATABASE_URLS"]["billing"])
    try:
        with engine.connect() as connection:
            bodies = [json.loads(b) for (b,) in connection.exec_driver_sql(
                "SELECT body FROM outbox WHERE event_type = 'AccessPurchased'")]
    finally:
        engine.dispose()
    assert [b["correlationid"] for b in bodies] == ["bay2-req-0001"]
    # an id that is not a sane one is replaced, and every answer says which one it got
    odd = api("GET", "/api/v1/me", workshop.token, headers={"X-Request-Id": "<script>"})
    assert odd.headers["X-Request-Id"] != "<script>" and len(odd.headers["X-Request-Id"]) == 36
