"""Partners' settings, read once at start (services.shared.config)."""
from dataclasses import dataclass
from pathlib import Path

from services.shared.config import between, data_path, variable


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
