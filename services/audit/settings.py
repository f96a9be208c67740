"""The audit service's settings, read once at start (services.shared.config)."""
from dataclasses import dataclass
from pathlib import Path

from services.shared.config import between, data_path, variable


@dataclass(frozen=True)
class AuditSettings:
    # the Ed25519 key that signs checkpoints; its public half is all a verifier needs
    signing_key_file: Path = variable("AOS_AUDIT_SIGNING_KEY_FILE", data_path, "keys/audit-signing.pem")
    public_key_file: Path = variable("AOS_AUDIT_PUBLIC_KEY_FILE", data_path, "keys/audit-signing.pub.pem")
    checkpoint_seconds: float = variable("AOS_AUDIT_CHECKPOINT_SECONDS", float, 60.0, rule=between(0.1, 60))
    retention_days: int = variable("AOS_AUDIT_RETENTION_DAYS", int, 3650, rule=between(1, 36500))
