"""Programming's business metrics (deploy/grafana, deploy/prometheus alerts): counted from the facts a session's
transitions return, once per fact, when they commit."""
from prometheus_client import Counter, Gauge, Histogram

from services.programming.domain import CAUSES, LIVE, failure_side

SESSIONS = Gauge("aos_programming_sessions", "Programming sessions by state", ["state"])
SECONDS_ACTIVE = Counter("aos_programming_seconds_active_total", "Seconds programming clocks ran")
SECONDS_BILLED = Counter("aos_programming_seconds_billed_total", "Programming seconds billed")
FLASH_BYTES = Counter("aos_flash_bytes_total", "Bytes written to ECUs by completed flashes")
FLASH_SECONDS = Counter("aos_flash_seconds_total", "Seconds completed flashes took")
FLASH_FAILURES = Counter("aos_flash_failures_total", "Failed flashes by cause and side", ["cause", "side"])
CLAIMS = Counter("aos_programming_claims_total", "Agents' claims that a file of ours failed, by what the server "
                 "found", ["verdict"])
WITHDRAWN = Counter("aos_packages_withdrawn_total", "Flash files withdrawn: the stored file was found bad")
KEYS_ISSUED = Counter("aos_security_keys_issued_total", "Security keys answered to agents for ECUs of a plan")
HEARTBEATS = Counter("aos_agent_heartbeats_total", "Agent heartbeats received")
EXPIRY_LAG = Histogram("aos_programming_expiry_lag_seconds", "From the end of paid time to the session's expiry",
                       buckets=(.05, .1, .25, .5, 1, 2, 5, 10))
for _state in LIVE:  # every state and cause on the dashboard from the start, at zero
    SESSIONS.labels(_state)
for _cause in CAUSES:
    FLASH_FAILURES.labels(_cause, failure_side(_cause))
for _verdict in ("confirmed", "refuted"):
    CLAIMS.labels(_verdict)


def count(facts):
    """What the committed facts of a transition add to the metrics."""
    for fact in facts:
        measured = fact.measured
        if fact.type in ("SessionEnded", "SessionExpired"):
            SECONDS_ACTIVE.inc(measured["seconds_active"])
            SECONDS_BILLED.inc(measured["seconds_billed"])
            if "expiry_lag" in measured:
                EXPIRY_LAG.observe(measured["expiry_lag"])
        elif fact.type == "FlashCompleted":
            FLASH_BYTES.inc(measured["bytes"])
            FLASH_SECONDS.inc(measured["seconds"])
        elif fact.type == "FlashFailed":
            FLASH_FAILURES.labels(fact.data["cause"], fact.data["failure_side"]).inc()
        elif fact.type == "PackageWithdrawn":
            WITHDRAWN.inc()


def by_state(counts):
    for state in LIVE:
        SESSIONS.labels(state).set(counts.get(state, 0))
