"""The gateway's settings, read once at start (services.shared.config)."""
import ipaddress
from dataclasses import dataclass

from services.shared.config import between, variable


def networks(text):
    """`10.0.0.0/8, 192.0.2.7`: the reverse proxies in front of the gateway."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class GatewaySettings:
    max_body_bytes: int = variable("AOS_MAX_BODY_BYTES", int, 64 * 1024, rule=between(1024, 16 * 1024 * 1024))
    max_workers: int = variable("AOS_GATEWAY_MAX_WORKERS", int, 64, rule=between(1, 1000))
    rpc_timeout: float = variable("AOS_RPC_TIMEOUT", float, 10.0, rule=between(0.1, 300))
    # X-Forwarded-For is believed only from these: anyone else could write any address into it
    trusted_proxies: tuple = variable("AOS_TRUSTED_PROXIES", networks, ())
