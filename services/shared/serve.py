"""Run one AOS process in this process from its declaration (services.shared.process): configuration from the
environment (services.shared.config); a wrong setting stops here, named. `python -m deploy.serve NAME` picks the
declaration."""
import eventlet

eventlet.monkey_patch()  # noqa: E402  before anything opens a socket

import os  # noqa: E402

from nameko.cli.run import run as run_services  # noqa: E402

from services.shared import config as settings  # noqa: E402
from services.shared import logs  # noqa: E402


def run(process):
    logs.configure(process.name)
    config = settings.load(process=process.name, processes=(process,))
    service = process.service_class()
    for provider in (p for c in service.__mro__ for p in vars(c).values()):  # its own settings, its bases' too
        if isinstance(provider, settings.Settings):  # a wrong one stops here, named
            settings.build(provider.cls, config["ENVIRONMENT"])
    if process.workers is not None:  # its pool sized by its own settings
        config["max_workers"] = process.workers(config["ENVIRONMENT"] or dict(os.environ))
    run_services([service], config)
