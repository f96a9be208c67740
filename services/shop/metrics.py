"""The shop's business metrics: orders placed and cancelled, by why, and the units sold."""
from prometheus_client import Counter

ORDERS = Counter("aos_shop_orders_total", "Shop orders placed, and cancelled by why", ["outcome"])
UNITS = Counter("aos_shop_units_ordered_total", "Units of tools ordered")
for _outcome in ("placed", "by_customer", "payment_refused", "payment_timeout"):
    ORDERS.labels(_outcome)
