"""`make run`'s system as production runs it on the broker: every process connected as its own user, granted only
what its code needs (deploy/broker.py), and the staff console too."""
import time
from urllib.parse import unquote, urlsplit

import requests

from deploy.processes import NAMES
from tests.browser.conftest import MANAGEMENT


def test_make_run_puts_each_process_on_the_broker_as_its_own_user(system):
    vhost = unquote(urlsplit(system.env["AOS_AMQP_URI"]).path[1:])
    wanted = {f"aos-{vhost}-{process}" for process in NAMES}
    deadline = time.monotonic() + 30  # the management API lists a connection once its stats come in (5 s)
    while True:
        connections = requests.get(MANAGEMENT.replace("vhosts/", f"vhosts/{vhost}/connections"),
                                   auth=("guest", "guest"), timeout=10).json()
        users = {c["user"] for c in connections}
        if users >= wanted or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert users >= wanted, users
    assert "guest" not in users, "no process shares the administrator"
    grants = requests.get(MANAGEMENT.replace("vhosts/", f"users/aos-{vhost}-gateway/topic-permissions"),
                          auth=("guest", "guest"), timeout=10).json()
    [rpc] = [g for g in grants if g["exchange"] == "nameko-rpc"]
    assert "billing\\.purchase" in rpc["write"] and "billing\\.check_books" not in rpc["write"]
