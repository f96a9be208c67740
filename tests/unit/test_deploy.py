"""The deployment files: the compose file is a valid Compose specification whose required settings fail fast,
with a health check on everything; the Kubernetes manifests validate against the Kubernetes schemas (strict),
with probes, resources and autoscalers where the operations issue asks for them; the compose Prometheus
scrapes the same jobs as the local one."""
import re
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from compose_spec import ComposeSpecification, Service

from deploy import broker
from deploy.processes import NAMES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = (DEPLOY / "docker-compose.yml").read_text()
REQUIRED = ("AOS_RABBITMQ_PASSWORD", "AOS_DB_PASSWORD", "AOS_BLOB_SECRET_KEY", "AOS_BLOB_LINK_SECRET_KEY",
            "AOS_ECU_SECRET",
            "GRAFANA_ADMIN_PASSWORD", "AOS_TOKEN_SIGNING_KEY_FILE", "AOS_SMTP_HOST", "AOS_MAIL_FROM", "AOS_PORTAL_URL",
            "AOS_STAFF_SIGNING_PUBLIC_KEY_FILE", "AOS_AUDIT_SIGNING_KEY_FILE",
            *(f"AOS_BROKER_PASSWORD_{u.upper()}" for u in broker.USERS))


def interpolate(text, env):
    """Compose's variable rules: ${VAR:?message} stops with the message when VAR is unset or empty,
    ${VAR:-default} falls back."""
    def value(match):
        name, op, rest = match.group(1), match.group(2), match.group(3) or ""
        if env.get(name):
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {rest}")
        return rest
    return re.sub(r"\$\{(\w+)(:[?-])?([^}]*)\}", value, text)


def compose(env=None):
    names = set(re.findall(r"\$\{(\w+)", COMPOSE))
    return yaml.safe_load(interpolate(COMPOSE, env if env is not None else {n: "x" for n in names}))


def test_the_compose_file_is_a_valid_compose_specification_with_a_health_check_everywhere():
    data = compose()
    ComposeSpecification.model_validate(data)
    allowed = {f.alias or name for name, f in Service.model_fields.items()}
    for name, service in data["services"].items():
        assert set(service) <= allowed, (name, set(service) - allowed)  # a typo is not silently ignored
        assert name in ("migrate", "minio-init", "broker-users") or "healthcheck" in service, name  # these run once
    processes = {p.replace("_", "-") for p in NAMES}
    assert processes | {"rabbitmq", "postgres", "elasticsearch", "minio", "prometheus", "grafana"} <= set(data["services"])
    assert "15672:15672" in data["services"]["rabbitmq"]["ports"]  # with management
    for process in NAMES:  # each on the broker as its own user, granted by broker-users first
        service = data["services"][process.replace("_", "-")]
        assert service["environment"]["AOS_AMQP_URI"].startswith(f"amqp://{process}:"), process
        assert "broker-users" in service["depends_on"], process


@pytest.mark.parametrize("missing", REQUIRED)
def test_compose_stops_at_once_without_a_required_setting(missing):
    env = {n: "x" for n in re.findall(r"\$\{(\w+)", COMPOSE)}
    env[missing] = ""
    with pytest.raises(KeyError, match=missing):
        compose(env)


def kustomize(folder):
    """The manifests kubectl would apply: `kubectl kustomize` (kustomize is built into kubectl)."""
    rendered = subprocess.run(["kubectl", "kustomize", str(folder)], check=True, capture_output=True, text=True)
    return list(yaml.safe_load_all(rendered.stdout))


def test_every_process_is_one_deployment_template_named_by_an_overlay():
    sources = [d for path in (DEPLOY / "k8s").rglob("*.yaml") if path.name != "kustomization.yaml"
               for d in yaml.safe_load_all(path.read_text())]
    assert [d["metadata"]["name"] for d in sources if d["kind"] == "Deployment"] == ["service"]
    overlays = {p.name for p in (DEPLOY / "k8s" / "services").iterdir()}
    assert overlays == {p.replace("_", "-") for p in NAMES}


def test_the_kubernetes_manifests_validate_strictly_and_have_probes_resources_and_autoscalers():
    documents = kustomize(DEPLOY / "k8s")
    for document in documents:
        kubernetes_validate.validate(document, "1.37.0", strict=True)
    deployments = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Deployment"}
    assert set(deployments) == {p.replace("_", "-") for p in NAMES}
    ports = set()
    for name, d in deployments.items():
        container = d["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"] and container["livenessProbe"] and container["resources"]["limits"], name
        assert container["env"] == [{"name": "SERVICE", "value": name.replace("-", "_")}], name
        # on the broker as its own user: its own secret, no other process's
        assert [f["secretRef"]["name"] for f in container["envFrom"] if "secretRef" in f] == [
            "aos-secrets", f"aos-broker-{name}"], name
        assert d["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": name}
        port = container["ports"][0]["containerPort"]
        assert d["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == str(port)
        ports.add(port)
    assert len(ports) == len(deployments)  # each on its own port
    assert {d["metadata"].get("namespace") for d in documents if d["kind"] != "Namespace"} == {"aos"}
    scaled = {d["spec"]["scaleTargetRef"]["name"] for d in documents if d["kind"] == "HorizontalPodAutoscaler"}
    assert scaled == {"gateway", "air", "programming"}
    assert {d["kind"] for d in documents} >= {"ConfigMap", "Secret", "Service", "Job"}
    secrets = {d["metadata"]["name"]: d["stringData"] for d in documents if d["kind"] == "Secret"}
    assert "AOS_AMQP_URI" not in secrets["aos-secrets"]  # no broker user every process shares
    assert set(secrets["aos-broker-passwords"]) == {"AOS_BROKER_ADMIN_URL"} | {
        f"AOS_BROKER_PASSWORD_{u.upper()}" for u in broker.USERS}
    config = next(d for d in documents if d["kind"] == "ConfigMap")["data"]
    assert config["AOS_SEARCH_ENGINE"] == "elasticsearch"  # air scales out only on Elasticsearch


def test_both_prometheus_configurations_scrape_every_process():
    jobs = [{j["job_name"] for j in yaml.safe_load((DEPLOY / "prometheus" / name).read_text())["scrape_configs"]}
            for name in ("prometheus.yml", "prometheus-compose.yml")]
    assert jobs[0] == jobs[1] == set(NAMES)


def test_the_compose_cluster_overlay_makes_three_broker_nodes_and_quorum_queues():
    text = (DEPLOY / "docker-compose.cluster.yml").read_text()
    overlay = yaml.safe_load(interpolate(text, {n: "x" for n in re.findall(r"\$\{(\w+)", text)}))
    base = compose()
    nodes = {name: s for name, s in overlay["services"].items() if name.startswith("rabbitmq")}
    assert sorted(s["hostname"] for s in nodes.values()) == ["rabbitmq-1", "rabbitmq-2", "rabbitmq-3"]
    assert all(s["networks"]["default"]["aliases"] == ["rabbitmq"] for s in nodes.values())  # the URIs stay
    assert all(s["environment"]["RABBITMQ_ERLANG_COOKIE"] == "x" and "healthcheck" in s for s in nodes.values())
    for process in NAMES:
        name = process.replace("_", "-")
        assert name in base["services"] and overlay["services"][name]["environment"] == {"AOS_QUORUM_QUEUES": "true"}
    with pytest.raises(KeyError, match="AOS_RABBITMQ_COOKIE"):
        interpolate(text, {"AOS_RABBITMQ_PASSWORD": "x"})
    cluster = yaml.safe_load((DEPLOY / "k8s" / "data" / "rabbitmq-cluster.yaml").read_text())
    assert cluster["kind"] == "RabbitmqCluster" and cluster["spec"]["replicas"] == 3
