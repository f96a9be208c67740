"""The parts catalogue's business metrics (deploy/grafana): reads by kind and access, searches and their time,
parts requests sent to dealers."""
from prometheus_client import Counter, Histogram

from services.shared.metrics import FAST

READS = Counter("aos_parts_reads_total", "Parts catalogue reads, by kind and whether numbers were shown",
                ["kind", "access"])
SEARCHES = Counter("aos_parts_searches_total", "Parts searches, by a part number or words", ["by"])
SEARCH_DURATION = Histogram("aos_parts_search_duration_seconds", "Parts search time in the parts service",
                            buckets=FAST)
REQUESTS = Counter("aos_parts_requests_total", "Parts lists sent to a dealer")
for _kind in ("illustration", "part"):
    for _access in ("yes", "no"):
        READS.labels(_kind, _access)
for _by in ("number", "words"):
    SEARCHES.labels(_by)
EXPORTED = Counter("aos_parts_exported_total", "Part lines and tombstones handed to partners' mirrors", ["kind"])
for _kind in ("parts", "tombstones"):
    EXPORTED.labels(_kind)
