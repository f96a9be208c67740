"""What partners' use cases stand on besides the database: the signer of an API key's proof, which hands the same
proof to a key for half its life (the services' verifiers then check its signature once, not on every request);
the resolver webhook URLs are checked with; the sender of webhook deliveries."""
import ipaddress
import socket
import threading
import time
from datetime import datetime, timezone

import eventlet
import requests
from nameko.extensions import DependencyProvider
from standardwebhooks import Webhook

from services.partners import domain
from services.partners.settings import PartnersSettings
from services.shared.config import of_container
from services.shared.errors import AosError
from services.shared.tokens import key_token, read_key


class KeyProofs(DependencyProvider):
    def setup(self):
        self.settings = of_container(self.container, PartnersSettings)
        self.private_pem = read_key(str(self.settings.key_token_private_key_file), "key-proof private")
        self.issued = {}  # key id -> (scopes, proof, good until)
        self.lock = threading.Lock()

    def get_dependency(self, worker_ctx):
        return self

    def sign(self, row):
        ttl = self.settings.key_token_seconds
        now = time.time()
        with self.lock:
            scopes, proof, until = self.issued.get(row.id, (None, None, 0))
            if scopes != row.scopes or until - now < ttl / 2:
                proof = key_token(self.private_pem, row.id, row.operator_id, row.scopes, ttl)
                self.issued[row.id] = (row.scopes, proof, now + ttl)
                if len(self.issued) > 10_000:  # keys not seen for a while: the oldest first
                    self.issued.pop(next(iter(self.issued)))
            return proof


RESOLVE_SECONDS = 3  # a name server that does not answer is a host that does not resolve, not a hung request


def addresses(host):
    """Every address `host` resolves to ([] when it does not, or not within RESOLVE_SECONDS): what a webhook URL
    is checked against."""
    try:
        with eventlet.Timeout(RESOLVE_SECONDS):
            return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in socket.getaddrinfo(host, None)]
    except (socket.gaierror, UnicodeError, ValueError, eventlet.Timeout):
        return []


class Listening(DependencyProvider):
    """Which workshops' endpoints take which facts (use_cases.listening), read again at most every
    REFRESH_SECONDS, and at once after this process changed an endpoint: a fact nobody takes costs no transaction.
    An endpoint made on another replica takes facts from its next read, a second later at most."""

    REFRESH_SECONDS = 1.0

    def setup(self):
        self.read_at, self.known = 0.0, ({}, set())

    def get_dependency(self, worker_ctx):
        return self

    def forget(self):
        self.read_at = 0.0

    def wants(self, read, event_type, operator_id):
        if time.monotonic() - self.read_at > self.REFRESH_SECONDS:
            self.known, self.read_at = read(), time.monotonic()
        by_operator, public = self.known
        return event_type in public or event_type in by_operator.get(operator_id, ())


class Sender(DependencyProvider):
    """Sends webhook deliveries from a pool of green threads of its own: a slow receiver holds one of those, never
    a worker; each POST signed as Standard Webhooks says, its URL checked again before it goes (an address may have
    changed since the endpoint was made), redirects not followed."""

    def setup(self):
        self.settings = of_container(self.container, PartnersSettings)
        self.pool = eventlet.GreenPool(self.settings.webhook_concurrency)
        self.http = requests.Session()

    def stop(self):
        self.pool.waitall()
        self.http.close()

    def kill(self):
        self.http.close()

    def get_dependency(self, worker_ctx):
        return self

    def post(self, delivery_id, url, body, signing, now=None):
        """(status code or None, error or None, milliseconds) of one try."""
        started = time.monotonic()
        host = domain.host_of(url)
        try:
            domain.check_endpoint_url(url, addresses(host) if host else [], self.settings.profile == "development")
        except AosError as refused:
            return None, f"not sent: {refused.message}", 0
        now = now or datetime.now(timezone.utc)
        headers = {"webhook-id": delivery_id, "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": " ".join(Webhook(secret).sign(delivery_id, now, body) for secret in signing),
                   "content-type": "application/cloudevents+json", "user-agent": "AOS-Webhooks/1"}
        try:
            answer = self.http.post(url, data=body.encode(), headers=headers, allow_redirects=False,
                                    timeout=(3, self.settings.webhook_timeout_seconds))
            answer.close()
            return answer.status_code, None, int((time.monotonic() - started) * 1000)
        except requests.RequestException as exc:
            return None, f"{type(exc).__name__}: {exc}"[:300], int((time.monotonic() - started) * 1000)
