"""What every area's routes stand on: the services the gateway calls (each a proxy; agents' calls on programming's
lane for them), the caller's check, the settings, and one RPC bounded in time."""
import eventlet

from gateway.auth import Authenticator, api_key
from gateway.http import client_address
from gateway.settings import GatewaySettings
from services.programming import AGENTS
from services.shared.config import Settings
from services.shared.errors import Unavailable
from services.shared.logs import Correlation
from services.shared.metrics import Metrics
from services.shared.queues import RpcProxy, lane_target


class Calls:
    identity = RpcProxy("identity")
    billing = RpcProxy("billing")
    vehicle_data = RpcProxy("vehicle_data")
    shop = RpcProxy("shop")
    air = RpcProxy("air")
    programming = RpcProxy("programming")
    agent_lane = RpcProxy(lane_target("programming", AGENTS))  # what agents call, on programming's lane for them
    audit = RpcProxy("audit")
    parts = RpcProxy("parts")
    partners = RpcProxy("partners")
    auth = Authenticator()
    settings = Settings(GatewaySettings)
    metrics = Metrics()
    correlation = Correlation()

    def _reader(self, request):
        """The caller of a route API keys may call too (its `keys` scope): a signed-in user, or the holder of a key
        partners admitted for that scope (counted and throttled there; its rate goes into the RateLimit headers)."""
        key = api_key(request)
        if key is None or request.route is None or request.route.keys is None:
            return self.auth.caller(request)
        admitted = self._call(self.partners.admit, {"key": key, "scope": request.route.keys})
        request.rate_limit = admitted["rate"]
        return self.auth.key_holder(admitted["token"])

    def _address(self, request):
        return client_address(request, self.settings.trusted_proxies)

    def _call(self, method, *args):
        """One RPC, bounded in time: a service that does not answer gives 503, not a hung request."""
        try:
            with eventlet.Timeout(self.settings.rpc_timeout):
                return method(*args)
        except eventlet.Timeout:  # a BaseException: nameko's worker would not catch it
            raise Unavailable("SERVICE_UNAVAILABLE", "A service is not answering; please try again shortly.")


# the services the gateway calls, each by its own name (the agents' lane is programming's, not a service)
SERVICES = tuple(name for name, value in vars(Calls).items()
                 if isinstance(value, RpcProxy) and value.target_service == name)
