"""Identity's providers: the password hasher and token signer, built once per container from configuration."""
from eventlet import tpool
from nameko.extensions import DependencyProvider

from services.identity.domain import Passwords
from services.identity.use_cases import Policy
from services.shared.config import setting
from services.shared.tokens import TokenSigner, read_key


class Credentials(DependencyProvider):
    """The hasher, the signer and the login policy: the tools identity proves people with."""

    def setup(self):
        config = self.container.config
        self.passwords = Passwords(offload=tpool.execute)
        self.signer = TokenSigner(read_key(setting(config, "JWT_PRIVATE_KEY_FILE"), "signing"),
                                  setting(config, "ACCESS_TOKEN_TTL"))
        self.policy = Policy(
            access_ttl=setting(config, "ACCESS_TOKEN_TTL"), refresh_ttl=setting(config, "REFRESH_TOKEN_TTL"),
            login_window=setting(config, "LOGIN_WINDOW"),
            max_account_failures=setting(config, "LOGIN_MAX_ACCOUNT_FAILURES"),
            max_address_failures=setting(config, "LOGIN_MAX_ADDRESS_FAILURES"))

    def get_dependency(self, worker_ctx):
        return self
