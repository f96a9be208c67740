"""The key that signs the trail's checkpoints, read once at start."""
import hashlib

from cryptography.hazmat.primitives import serialization
from nameko.extensions import DependencyProvider

from services.audit.settings import AuditSettings
from services.shared.config import of_container
from services.shared.tokens import read_key


class SigningKeys:
    """The private half signs checkpoints (None where only verifying); the public half checks them."""

    def __init__(self, private_pem, public_pem):
        self.private = serialization.load_pem_private_key(private_pem, password=None) if private_pem else None
        self.public = serialization.load_pem_public_key(public_pem)
        raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]

    @classmethod
    def of(cls, settings, signing=True):
        return cls(read_key(str(settings.signing_key_file), "audit signing") if signing else None,
                   read_key(str(settings.public_key_file), "audit public"))


class Keys(DependencyProvider):
    def setup(self):
        self.keys = SigningKeys.of(of_container(self.container, AuditSettings))

    def get_dependency(self, worker_ctx):
        return self.keys
