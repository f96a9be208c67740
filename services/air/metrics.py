"""AIR's business metrics (deploy/grafana, deploy/prometheus alerts): searches, their time and misses, documents."""
from prometheus_client import Counter, Histogram

from services.air.domain import DOCUMENT_TYPES
from services.shared.metrics import FAST

SEARCHES = Counter("aos_searches_total", "AIR searches, by whether the workshop had access", ["access"])
SEARCH_ZERO = Counter("aos_search_zero_results_total", "AIR searches that found nothing")
SEARCH_DURATION = Histogram("aos_search_duration_seconds", "AIR search time in the air service", buckets=FAST)
EXPORTED = Counter("aos_air_exported_total", "Documents and tombstones handed to partners' mirrors", ["kind"])
DOCUMENTS_VIEWED = Counter("aos_documents_viewed_total", "Technical documents opened, by type", ["type"])
for _type in DOCUMENT_TYPES:  # every type on the dashboard from the start, at zero
    DOCUMENTS_VIEWED.labels(_type)
for _kind in ("documents", "tombstones"):
    EXPORTED.labels(_kind)
for _access in ("yes", "no"):
    SEARCHES.labels(_access)
