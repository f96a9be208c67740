"""Vehicle data's business metrics: what workshops read of cars, and the service records they write."""
from prometheus_client import Counter

VEHICLE_READS = Counter("aos_vehicle_reads_total", "A car's data read by a workshop with access, by what", ["view"])
SERVICE_RECORDS = Counter("aos_service_records_total", "Service records written, new or a correction", ["kind"])
for _view in ("build_data", "service_history", "maintenance", "campaigns"):  # on the dashboard from the start
    VEHICLE_READS.labels(_view)
for _kind in ("new", "correction"):
    SERVICE_RECORDS.labels(_kind)
