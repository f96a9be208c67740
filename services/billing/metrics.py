"""Billing's business metrics (deploy/grafana dashboards): counted once per committed purchase."""
from prometheus_client import Counter, Gauge

PURCHASES = Counter("aos_purchases_total", "Purchases by tariff", ["tariff"])
REVENUE = Counter("aos_revenue_net_cents_total", "Net revenue by tariff, in euro cents", ["tariff"])
ENTITLEMENTS_ACTIVE = Gauge("aos_entitlements_active", "Open access windows and packs by kind", ["kind"])
