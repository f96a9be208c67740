"""What runs one AOS process, as the process declares it itself (its process.py): its nameko service class, where
its metrics listen, whether it keeps a database of its own, its RPC lanes, and how large its worker pool is when
its own settings size it. The launcher, `python -m deploy.serve`, the broker's grants and the tests read these;
the list of what AOS runs is deploy/processes.py's, never one in shared/."""
import importlib
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Process:
    name: str  # the nameko service's name: its queues, its metrics' `service` label
    service: str  # "module:Class", imported when the process starts (services.shared.serve)
    metrics_port: int  # its /metrics listener: AOS_METRICS_BASE_PORT + this (+ a block per replica)
    database: bool = True  # a database of its own (AOS_<NAME>_DATABASE_URL, migrated from its migrations/)
    lanes: tuple = ()  # RPC queues besides rpc-<name>, each answering its own methods (services.shared.queues)
    workers: Callable | None = None  # environ -> its pool's size, when its own settings size it

    def service_class(self):
        module, _, attr = self.service.partition(":")
        return getattr(importlib.import_module(module), attr)
