"""Identity's settings, read once at start (services.shared.config)."""
from dataclasses import dataclass
from pathlib import Path

from services.shared.config import between, data_path, variable


@dataclass(frozen=True)
class IdentitySettings:
    private_key_file: Path = variable("AOS_JWT_PRIVATE_KEY_FILE", data_path, "keys/token-signing.pem")
    access_ttl: int = variable("AOS_ACCESS_TOKEN_TTL", int, 600, rule=between(60, 3600))
    refresh_ttl: int = variable("AOS_REFRESH_TOKEN_TTL", int, 30 * 86400, rule=between(3600, 90 * 86400))
    login_window: int = variable("AOS_LOGIN_WINDOW", int, 900, rule=between(10, 86400))
    max_account_failures: int = variable("AOS_LOGIN_MAX_ACCOUNT_FAILURES", int, 5, rule=between(1, 100))
    max_address_failures: int = variable("AOS_LOGIN_MAX_ADDRESS_FAILURES", int, 20, rule=between(1, 10000))
    # one password-reset mail per account within this, whoever asks: an attacker asking cannot flood the owner
    reset_mail_seconds: int = variable("AOS_RESET_MAIL_SECONDS", int, 300, rule=between(1, 86400))
    # passkeys work for this origin only (the portal's): its host name is the WebAuthn relying party
    portal_url: str = variable("AOS_PORTAL_URL", str, "http://127.0.0.1:8000")
    # the SERMI trust centre (an OpenID provider) and AOS's client id there; no issuer: no security-related work
    sermi_issuer: str = variable("AOS_SERMI_ISSUER", str, "")
    sermi_client_id: str = variable("AOS_SERMI_CLIENT_ID", str, "aos")
