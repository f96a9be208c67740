"""What partners' use cases stand on besides the database: the signer of an API key's proof, which hands the same
proof to a key for half its life (the services' verifiers then check its signature once, not on every request)."""
import threading
import time

from nameko.extensions import DependencyProvider

from services.partners.settings import PartnersSettings
from services.shared.config import of_container
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
