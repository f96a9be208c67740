"""The audit trail's metrics: facts appended to the workshops' chains, and checkpoints signed."""
from prometheus_client import Counter

ENTRIES = Counter("aos_audit_entries_total", "Facts appended to the audit trail's chains")
CHECKPOINTS = Counter("aos_audit_checkpoints_total", "Chain heads signed")
