"""Benchmark: how soon a deactivated user is refused on each route, and what the gateway's revocation check costs.

Starts the system (bench.system), registers a workshop whose owner invites and deactivates `--users` colleagues
one after another. Right after each deactivation (the owner's PATCH answered) the leaver's token is tried on six
routes in turn (purchase, top-up, agent, search, vehicle, me) until each refuses it with TOKEN_REVOKED; it prints
per route the time from the PATCH's answer to the first refusal, p50/p99 and the worst. Then GET /api/v1/me at
concurrency 16, first with the gateway's revocation book nearly empty, then after `--book` more revocations
(TokensRevoked events, as identity publishes them) have reached it: requests/s and p50/p99 beside each other.

    python -m bench.revocation [--users 30] [--book 20000] [--seconds 8] [--database-url postgresql://...]
"""
import json
import time
import uuid
from datetime import datetime, timezone

import pyotp
import requests
from kombu import Connection
from nameko.standalone.events import get_event_exchange

from bench import system
from services.catalogue import CATALOGUE
from services.shared import events

PASSWORD = "Zuendkerze-Wechsel-77"
VIN = "WBA7K7109MW240891"


def routes():
    key = lambda: {"Idempotency-Key": str(uuid.uuid4())}  # noqa: E731
    return {"purchase": ("POST", "/api/v1/purchases", {"json": {"tariff_code": "air-1h"}, "headers": key()}),
            "top-up": ("POST", "/api/v1/credit/top-ups",
                       {"json": {"amount_cents": 1000, "card_token": "tok_visa"}, "headers": key()}),
            "agent": ("POST", "/api/v1/agents", {"json": {"name": "leaver's laptop"}}),
            "search": ("GET", "/api/v1/air/search", {"params": {"q": "brake"}}),
            "vehicle": ("GET", f"/api/v1/vehicles/{VIN}", {}),
            "me": ("GET", "/api/v1/me", {})}


def colleague(http, base, owner, operator_id, index):
    """An invited admin who joined and enrolled: (user id, access token)."""
    email = f"leaver-{index}-{uuid.uuid4().hex[:4]}@werkstatt.de"
    invited = http.post(f"{base}/api/v1/operators/{operator_id}/users", headers={"Authorization": f"Bearer {owner}"},
                        json={"email": email, "name": f"Leaver {index}", "role": "admin"}, timeout=30).json()
    accepted = http.post(f"{base}/api/v1/auth/invitations/accept", json={"token": invited["invitation_token"],
                                                                        "password": PASSWORD}, timeout=30).json()
    enrol = {"Authorization": f"Bearer {accepted['enrolment_token']}"}
    secret = http.post(f"{base}/api/v1/auth/totp/enrol", headers=enrol, timeout=30).json()["secret"]
    tokens = http.post(f"{base}/api/v1/auth/totp/confirm", headers=enrol, json={"code": pyotp.TOTP(secret).now()},
                       timeout=30).json()
    return invited["user"]["id"], tokens["access_token"]


def refusal_times(http, base, owner, operator_id, user_id, token):
    """Seconds from the deactivation's answer to each route's first TOKEN_REVOKED."""
    http.patch(f"{base}/api/v1/operators/{operator_id}/users/{user_id}", headers={"Authorization": f"Bearer {owner}"},
               json={"active": False}, timeout=30).raise_for_status()
    answered, found = time.perf_counter(), {}
    while len(found) < 6 and time.perf_counter() - answered < 10:
        for name, (method, path, kw) in routes().items():
            if name in found:
                continue
            kw = dict(kw, headers={**kw.get("headers", {}), "Authorization": f"Bearer {token}"})
            answer = http.request(method, base + path, timeout=30, **kw)
            if answer.status_code == 401 and answer.json()["error"]["code"] == "TOKEN_REVOKED":
                found[name] = time.perf_counter() - answered
    return found


def fill_book(amqp_uri, count):
    """`count` revocations for users of other workshops, as identity announces them."""
    exchange = get_event_exchange("identity", {"AMQP_URI": amqp_uri})
    now = datetime.now(timezone.utc)
    with Connection(amqp_uri) as conn:
        producer = conn.Producer()
        for _ in range(count):
            body = events.envelope(CATALOGUE["TokensRevoked"], {"operator_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()),
                                                     "session_id": None, "reason": "deactivated", "revoked_at": now})
            producer.publish(json.dumps(body), exchange=exchange, routing_key="TokensRevoked",
                             content_type="application/json", content_encoding="utf-8")


def taken_up(running, seconds=180):
    """Wait until every consumer has taken every revocation (the gateway's book, programming's sessions, the audit's
    trail: RabbitMQ's management API says no queue holds one), then until the broker is quiet again (its own
    housekeeping after the burst is not the check's cost)."""
    if not running.wait_for_queues(seconds):
        raise SystemExit(f"the revocations were not all taken within {seconds} s")
    system.wait_until_quiet(system.broker_pids())


def main(argv=None):
    parser = system.parser(__doc__)
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--book", type=int, default=20000)
    parser.add_argument("--seconds", type=int, default=8)
    opts = parser.parse_args(argv)
    with system.running(opts.database_url) as running:
        base, http = running.base, requests.Session()
        owner, _ = system.workshop(base, 100000)
        operator_id = http.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {owner}"}).json()["operator"]["id"]
        leavers = [colleague(http, base, owner, operator_id, i) for i in range(opts.users)]
        per_route = {name: [] for name in routes()}
        for user_id, token in leavers:
            for name, seconds in refusal_times(http, base, owner, operator_id, user_id, token).items():
                per_route[name].append(seconds)
        quiet = system.load("http", base, owner, "/api/v1/me", 16, opts.seconds)
        fill_book(running.amqp_uri, opts.book)
        taken_up(running)
        full = system.load("http", base, owner, "/api/v1/me", 16, opts.seconds)
    print(f"\nRevocation: {opts.users} users deactivated one after another; time from the PATCH's answer to the "
          "first TOKEN_REVOKED on each route")
    print(f"{'route':<10} {'refused':>8} {'p50 ms':>8} {'p99 ms':>8} {'worst ms':>9}")
    for name, times in per_route.items():
        print(f"{name:<10} {len(times):>4}/{opts.users:<3} {system.percentile(times, 50) * 1000:>8.1f} "
              f"{system.percentile(times, 99) * 1000:>8.1f} {max(times, default=float('nan')) * 1000:>9.1f}")
    print("\nGET /api/v1/me at concurrency 16 (the revocation check on every request)")
    for label, figures in ((f"book of {opts.users} revocations", quiet), (f"book of {opts.book + opts.users}", full)):
        print(f"{label:<28} {figures['rate']:>8.1f}/s  p50 {figures['p50_ms']:.1f} ms  p99 {figures['p99_ms']:.1f} ms"
              f"  errors {figures['errors']}")
    print(f"rate with the full book / quiet: {full['rate'] / quiet['rate']:.2f}")
    check = check_cost(opts.book)
    print(f"the check itself, in the gateway's process: {check * 1e6:.2f} µs per request with {opts.book} "
          f"revocations held; {check * full['rate'] * 100:.3f} % of one core at the rate above")


def check_cost(entries, rounds=200_000):
    """Seconds one revocation check takes with `entries` revocations held (what a request pays for it)."""
    import timeit

    from gateway.auth import Revocations
    book = Revocations()
    now = datetime.now(timezone.utc)
    book.load([{"user_id": str(uuid.uuid4()), "session_id": None, "revoked_at": now} for _ in range(entries)])
    claims = {"sub": str(uuid.uuid4()), "sid": str(uuid.uuid4()), "iat_ms": int(now.timestamp() * 1000) + 1}
    return timeit.timeit(lambda: book.refuses(claims), number=rounds) / rounds


if __name__ == "__main__":
    main()
