"""Run one AOS service in this process: `python -m services.shared.serve identity` (or `gateway`).

Configuration comes from the environment (services.shared.config); a wrong setting stops here, named."""
import eventlet

eventlet.monkey_patch()  # noqa: E402  before anything opens a socket

import importlib  # noqa: E402
import sys  # noqa: E402

from nameko.cli.run import run  # noqa: E402

from services.shared import config as settings  # noqa: E402
from services.shared import logs  # noqa: E402

SERVICE_CLASSES = {
    "identity": "services.identity.service:IdentityService",
    "billing": "services.billing.service:BillingService",
    "vehicle_data": "services.vehicle_data.service:VehicleDataService",
    "shop": "services.shop.service:ShopService",
    "air": "services.air.service:AirService",
    "programming": "services.programming.service:ProgrammingService",
    "gateway": "gateway.service:GatewayService",
    "audit": "services.audit.service:AuditService",
}


def service_class(name):
    module, _, attr = SERVICE_CLASSES[name].partition(":")
    return getattr(importlib.import_module(module), attr)


assert set(SERVICE_CLASSES) == set(settings.PROCESSES), "every process the launcher starts has a class here"


def main(argv):
    if len(argv) != 1 or argv[0] not in SERVICE_CLASSES:
        raise SystemExit(f"usage: python -m services.shared.serve {{{'|'.join(SERVICE_CLASSES)}}}")
    name = argv[0]
    logs.configure(name)
    config = settings.load(process=name)
    service = service_class(name)
    for provider in vars(service).values():  # each service's own settings: a wrong one stops here, named
        if isinstance(provider, settings.Settings):
            settings.build(provider.cls, config["ENVIRONMENT"])
    if name == "gateway":
        from gateway.http import LANES
        from gateway.settings import GatewaySettings
        # the lanes gate the requests (gateway.http.Route.lane); the pool only leaves room for them and the timers
        config["max_workers"] = settings.build(GatewaySettings, config["ENVIRONMENT"]).max_workers * len(LANES) + 8
    run([service], config)


if __name__ == "__main__":
    main(sys.argv[1:])
