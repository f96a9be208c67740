"""Identity's providers: the password hasher and token signer, built once per container from configuration."""
from eventlet import tpool
from nameko.extensions import DependencyProvider

from services.identity.domain import Passwords
from services.identity.sermi import TrustCentre
from services.identity.settings import IdentitySettings
from services.identity.use_cases import Policy
from services.shared.config import of_container
from services.shared.tokens import TokenSigner, read_key


class Credentials(DependencyProvider):
    """The hasher, the signer and the login policy: the tools identity proves people with."""

    def setup(self):
        settings = of_container(self.container, IdentitySettings)
        self.passwords = Passwords(offload=tpool.execute)
        self.signer = TokenSigner(read_key(str(settings.private_key_file), "signing"), settings.access_ttl)
        self.portal_url = settings.portal_url
        # the browser comes back from the trust centre to the gateway, on the portal's address
        self.trust_centre = (TrustCentre(settings.sermi_issuer, settings.sermi_client_id,
                                         f"{settings.portal_url.rstrip('/')}/api/v1/sermi/callback")
                             if settings.sermi_issuer else None)
        self.policy = Policy(
            access_ttl=settings.access_ttl, refresh_ttl=settings.refresh_ttl, login_window=settings.login_window,
            max_account_failures=settings.max_account_failures, max_address_failures=settings.max_address_failures,
            reset_mail_seconds=settings.reset_mail_seconds)

    def get_dependency(self, worker_ctx):
        return self
