"""Programming one ECU over DoIP (ISO 13400, `doipclient`) with UDS (ISO 14229, `udsoncan`): programming
session, security access by seed and key, erase, RequestDownload, TransferData in blocks sized by the ECU's
answer, RequestTransferExit, the check routine, reset, and the version read back.

Nothing touches the vehicle before the caller has verified the image (automotive.manifest). Every
step that fails says which step and why (Failure.cause), so the service can tell our failures from the car's."""
import hashlib
import logging
import struct
import time
from dataclasses import dataclass

import udsoncan
from doipclient import DoIPClient
from doipclient.connectors import DoIPClientUDSConnector
from udsoncan.client import Client
from udsoncan.exceptions import NegativeResponseException, TimeoutException, UnexpectedResponseException

from automotive.uds import (CHECK, DID_HARDWARE, DID_KEYS, DID_SOFTWARE, DID_STATE, DID_VOLTAGE, ERASE,
                            MIN_PROGRAMMING_VOLTAGE_MV as MIN_VOLTAGE_MV, PAIR, PAIR_CHALLENGE, PROGRAMMING_LEVEL,
                            TESTER_ADDRESS, UNLOCK, UNLOCK_CHALLENGE)

log = logging.getLogger(__name__)


class FastDoIPClient(DoIPClient):
    """doipclient formats every payload it sends as hex text for a debug line, even with debug logging off;
    for a 32 MB image that costs more than the transfer. This sends the same frames without it."""

    def send_doip(self, payload_type, payload_data, transport=DoIPClient.TransportType.TRANSPORT_TCP,
                  disable_retry=False):
        if transport != DoIPClient.TransportType.TRANSPORT_TCP:
            return super().send_doip(payload_type, payload_data, transport, disable_retry)
        self._tcp_sock.sendall(self._pack_doip(self._protocol_version, payload_type, payload_data))


class Millivolts(udsoncan.DidCodec):
    def encode(self, value):
        return struct.pack(">H", value)

    def decode(self, payload):
        return struct.unpack(">H", payload)[0]

    def __len__(self):
        return 2


class Text(udsoncan.DidCodec):
    """A data identifier read as text, however long."""

    def encode(self, value):
        return value.encode()

    def decode(self, payload):
        return bytes(payload).decode("ascii", "replace").strip()

    def __len__(self):
        raise udsoncan.DidCodec.ReadAllRemainingData


class Raw(udsoncan.DidCodec):
    """A data identifier as bytes, however long."""

    def encode(self, value):
        return bytes(value)

    def decode(self, payload):
        return bytes(payload)

    def __len__(self):
        raise udsoncan.DidCodec.ReadAllRemainingData


@dataclass
class Failure(Exception):
    """A step that did not work: `cause` is one of refused (a negative response), connection_lost, timeout,
    low_voltage, verification_failed (the ECU's check routine), version_mismatch."""
    step: str
    cause: str
    detail: str

    def __str__(self):
        return f"{self.step}: {self.cause}: {self.detail}"


@dataclass
class Result:
    address: int
    version_before: str
    version_after: str
    bytes: int
    seconds: float
    skipped: bool = False


class Ecu:
    """A connection to one ECU through the car's DoIP entity. `key_for(address, level, seed)` answers security
    access seeds (the manufacturer's key service, reached through AOS)."""

    def __init__(self, host, port, address, key_for, timeout=10.0, security_delay=10.5):
        self.host, self.port, self.address, self.key_for, self.timeout = host, port, address, key_for, timeout
        self.security_delay = security_delay  # how long an ECU may keep security access locked after wrong keys
        self.doip = None
        self.client = None

    def __enter__(self):
        try:
            self.doip = FastDoIPClient(self.host, self.address, tcp_port=self.port,
                                       client_logical_address=TESTER_ADDRESS)
        except (OSError, TimeoutError) as exc:
            raise Failure("connect", "connection_lost", str(exc))
        config = dict(udsoncan.configs.default_client_config)
        config.update({"data_identifiers": {DID_SOFTWARE: Text(), DID_HARDWARE: Text(), DID_STATE: Text(),
                                            DID_VOLTAGE: Millivolts(), DID_KEYS: Raw()},
                       "use_server_timing": False, "p2_timeout": self.timeout, "p2_star_timeout": self.timeout,
                       "request_timeout": self.timeout,
                       "security_algo": lambda level, seed, params: self.key_for(self.address, level, bytes(seed))})
        self.client = Client(DoIPClientUDSConnector(self.doip), config=config)
        self.client.open()
        return self

    def __exit__(self, *exc):
        try:
            self.client.close()
        finally:
            self.doip.close()

    def _step(self, name, call, *args):
        try:
            return call(*args)
        except NegativeResponseException as exc:
            raise Failure(name, "refused", f"negative response 0x{exc.response.code:02X} ({exc.response.code_name})")
        except (TimeoutException, TimeoutError) as exc:
            if self.doip._tcp_close_detected:  # the car closed the connection (power, a dropped link)
                raise Failure(name, "connection_lost", "the vehicle closed the connection")
            raise Failure(name, "timeout", str(exc) or "no answer")
        except (OSError, ConnectionError, UnexpectedResponseException) as exc:
            raise Failure(name, "connection_lost", str(exc) or type(exc).__name__)

    def _unlock(self):
        """Security access; an ECU still locked after earlier wrong keys (requiredTimeDelayNotExpired) is waited
        for once, as long as such a delay lasts, then asked again."""
        try:
            return self.client.unlock_security_access(PROGRAMMING_LEVEL)
        except NegativeResponseException as exc:
            if exc.response.code != 0x37:
                raise
            log.info("ECU 0x%02X keeps security access locked for now: waiting %.1f s", self.address,
                     self.security_delay)
            time.sleep(self.security_delay)
            return self.client.unlock_security_access(PROGRAMMING_LEVEL)

    def read(self, did):
        return self._step("read identification", self.client.read_data_by_identifier_first, did)

    def identification(self):
        """What the ECU says of itself: software version, hardware part number, state, battery voltage."""
        return {"software_version": self.read(DID_SOFTWARE), "hardware_part_number": self.read(DID_HARDWARE),
                "state": self.read(DID_STATE), "voltage_mv": self.read(DID_VOLTAGE)}

    def flash(self, image, version, progress=None):
        """Program `image` (already verified) so the ECU runs `version`. An ECU that already runs it is left
        alone: that is how a job resumes after the agent restarted mid-way."""
        started = time.perf_counter()
        before = self.read(DID_SOFTWARE)
        if before == version and self.read(DID_STATE) == "APPLICATION":
            return Result(self.address, before, before, 0, 0.0, skipped=True)
        voltage = self.read(DID_VOLTAGE)
        if voltage < MIN_VOLTAGE_MV:
            raise Failure("pre-check", "low_voltage", f"battery at {voltage / 1000:.1f} V, below "
                          f"{MIN_VOLTAGE_MV / 1000:.1f} V: connect a charger")
        self._step("programming session", self.client.change_session, 0x02)
        self._step("security access", self._unlock)
        self._routine("erase", ERASE)
        location = udsoncan.MemoryLocation(address=0, memorysize=len(image), address_format=32, memorysize_format=32)
        answer = self._step("request download", self.client.request_download, location)
        block = answer.service_data.max_length - 2  # the service id and the block counter ride along
        sent, counter, view = 0, 1, memoryview(image)
        while sent < len(image):
            chunk = bytes(view[sent:sent + block])
            self._step(f"transfer data (block {counter})", self.client.transfer_data, counter & 0xFF, chunk)
            sent += len(chunk)
            counter += 1
            if progress:
                progress(sent, len(image))
        self._step("request transfer exit", self.client.request_transfer_exit)
        signed = hashlib.sha256(image).digest()  # the caller verified it against the signed manifest
        if self._routine("check", CHECK, signed + version.encode("ascii")) != 0x00:
            raise Failure("check", "verification_failed", "the ECU's check of the written image failed")
        self._step("reset", self.client.ecu_reset, 0x01)
        after = self.read(DID_SOFTWARE)
        if after != version:
            raise Failure("read back", "version_mismatch", f"the ECU runs {after}, not {version}")
        return Result(self.address, before, after, len(image), time.perf_counter() - started)

    def program_key(self, slot, key_id):
        """A key's transponder id written into a slot of the immobiliser, and read back."""
        self._step("programming session", self.client.change_session, 0x02)
        self._step("security access", self._unlock)
        self._step("write key", self.client.write_data_by_identifier, DID_KEYS, bytes([slot]) + key_id)
        slots = self.read(DID_KEYS)
        held = {slots[i]: slots[i + 1:i + 9] for i in range(0, len(slots), 9)}
        if held.get(slot) != key_id:
            raise Failure("read back", "verification_failed", f"slot {slot} does not hold the key written")

    def unlock_gateway(self, token_for):
        """The secure gateway unlocked: its one-time challenge read, the token `token_for(challenge)` written."""
        self._answer_challenge("unlock", UNLOCK_CHALLENGE, UNLOCK, token_for, "the gateway")

    def pair(self, token_for):
        """A theft-relevant replacement paired: its one-time challenge read, the token `token_for(challenge)`
        written (the car's VIN must be in it first)."""
        self._answer_challenge("pair", PAIR_CHALLENGE, PAIR, token_for, "the unit")

    def _answer_challenge(self, step, ask, answer, token_for, who):
        shown = self._step(f"read the {step} challenge", self.client.start_routine, ask)
        challenge = bytes(shown.service_data.routine_status_record or b"")
        if len(challenge) != 8:
            raise Failure(f"read the {step} challenge", "refused", f"{who} showed no challenge")
        if self._routine(step, answer, token_for(challenge)) != 0x00:
            raise Failure(step, "refused", f"{who} did not take the token")

    def _routine(self, name, routine, data=None):
        answer = self._step(name, self.client.start_routine, routine, data)
        record = answer.service_data.routine_status_record or b"\x00"
        return struct.unpack_from("B", record)[0]
