"""Partners' settings, read once at start (services.shared.config)."""
from dataclasses import dataclass
from pathlib import Path

from services.shared.config import PROFILES, between, data_path, one_of, variable


@dataclass(frozen=True)
class PartnersSettings:
    # the private half of the key that signs an API key's proof for the services (they hold the public half:
    # services.shared.caller.ProofSettings)
    key_token_private_key_file: Path = variable("AOS_KEY_TOKEN_PRIVATE_KEY_FILE", data_path,
                                                "keys/key-token-signing.pem")
    # an API key's requests per minute, in fixed windows (429 with Retry-After past it)
    key_requests_per_minute: int = variable("AOS_KEY_REQUESTS_PER_MINUTE", int, 600, rule=between(1, 100000))
    # how long a key's proof lives: the services take it for no longer; partners checks the key on every request
    key_token_seconds: int = variable("AOS_KEY_TOKEN_SECONDS", int, 60, rule=between(5, 600))
    # webhooks: the first retry's wait (each next ×4, at most 12 h, for three days), the receiver's time to answer,
    # how many deliveries are in flight at once, how often the due ones are looked for
    webhook_first_retry_seconds: float = variable("AOS_WEBHOOK_FIRST_RETRY_SECONDS", float, 5.0,
                                                  rule=between(0.05, 3600))
    webhook_timeout_seconds: float = variable("AOS_WEBHOOK_TIMEOUT_SECONDS", float, 10.0, rule=between(0.1, 60))
    webhook_concurrency: int = variable("AOS_WEBHOOK_CONCURRENCY", int, 20, rule=between(1, 500))
    # in development a webhook may go to this machine (the demo receiver beside `make run`); never in production
    profile: str = variable("AOS_PROFILE", str, "production", rule=one_of(*PROFILES))
