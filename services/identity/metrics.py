"""Identity's metrics (deploy/grafana, deploy/prometheus alerts): sign-ins that failed or were throttled."""
from prometheus_client import Counter

LOGIN_FAILURES = Counter("aos_login_failures_total", "Failed sign-ins (wrong password or code)")
LOGIN_THROTTLED = Counter("aos_login_throttled_total", "Sign-ins refused by throttling")
