"""Partners' business metrics (deploy/grafana): API key checks by outcome, keys issued and revoked."""
from prometheus_client import Counter

KEY_CHECKS = Counter("aos_partners_key_checks_total", "API key checks, by outcome", ["outcome"])
DELIVERIES = Counter("aos_partners_webhook_deliveries_total", "Webhook delivery tries, by outcome", ["outcome"])
KEYS = Counter("aos_partners_keys_total", "API keys issued and revoked", ["event"])
for _outcome in ("admitted", "invalid", "revoked", "expired", "scope", "throttled"):
    KEY_CHECKS.labels(_outcome)
for _outcome in ("delivered", "retried", "failed"):
    DELIVERIES.labels(_outcome)
for _event in ("issued", "revoked"):
    KEYS.labels(_event)
