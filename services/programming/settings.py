"""Programming's settings, read once at start (services.shared.config)."""
from dataclasses import dataclass
from pathlib import Path

from services.programming.domain import ClockRules
from services.shared.config import Rule, between, data_path, variable


@dataclass(frozen=True)
class ProgrammingSettings:
    heartbeat_timeout: float = variable("AOS_HEARTBEAT_TIMEOUT_SECONDS", float, 10.0, rule=between(0.2, 600))
    resume_limit: float = variable("AOS_RESUME_LIMIT_SECONDS", float, 300.0, rule=between(1, 86400))
    reserve_slice: int = variable("AOS_RESERVE_SLICE_SECONDS", int, 60, rule=between(1, 3600))
    manufacturer_key_file: Path = variable("AOS_MANUFACTURER_KEY_FILE", data_path,
                                           "keys/manufacturer-software.pub.pem")
    # the key store's master secret: each ECU type's security-access secret is derived from it (keys.DerivedKeys)
    ecu_secret: bytes = variable("AOS_ECU_SECRET", str.encode, rule=Rule(lambda v: len(v) >= 8, "8 bytes or more"),
                                 development=b"aos-demo-ecu-secret-change-me")
    # the KeyStore in an HSM (services/programming/hsm.py): its PKCS#11 library, token and user PIN; unset, the
    # type secrets are derived from AOS_ECU_SECRET in this process
    hsm_module: str = variable("AOS_HSM_MODULE", str, "")
    hsm_token_label: str = variable("AOS_HSM_TOKEN_LABEL", str, "aos")
    hsm_pin: str = variable("AOS_HSM_PIN", str, "", rule=Rule(lambda v: len(v) >= 4 or not v, "4 characters or more"))
    link_seconds = 900  # signed download links of flash files

    @property
    def clock(self):
        return ClockRules(self.heartbeat_timeout, self.resume_limit, self.reserve_slice)
