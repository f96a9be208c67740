"""Programming's infrastructure providers: the KeyStore, one for the service (the HSM's session is long-lived)."""
from nameko.extensions import DependencyProvider

from services.programming import hsm
from services.programming.settings import ProgrammingSettings
from services.shared.config import of_container


class Keys(DependencyProvider):
    """The KeyStore the settings name: the HSM (AOS_HSM_MODULE) or the derived secrets."""

    def setup(self):
        self.store = hsm.from_settings(of_container(self.container, ProgrammingSettings))

    def get_dependency(self, worker_ctx):
        return self.store
