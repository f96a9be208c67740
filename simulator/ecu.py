"""One ECU as a flash tool meets it: sessions, security access, erase, download, transfer, check, reset, and
the identification it reads back; with the faults a workshop meets (a refused request, a dropped connection,
power lost mid-transfer, a corrupted block). With its type's ODX description and the car's condition
(simulator.diagnosis) it also answers diagnosis: fault memory (0x19), clearing it (0x14), live data (0x22) and
actuator tests (0x31); without one it offers neither 0x19 nor 0x14. Its coding identifiers (the ODX's layout) are
read with 0x22 and written with 0x2E in the session the ODX names; a write is kept (it outlives sessions and resets,
as an ECU's EEPROM does) and refused with the NRC a real ECU sends: wrong session, wrong length, a value the layout
does not allow.

The UDS rules kept here are the ones a flash sequence depends on: programming needs the programming session
and a battery above the threshold; erase and download need security access; blocks come in sequence (a
repeated block is accepted again, a skipped one refused); the transfer ends only with every byte; the check
routine compares the SHA-256 of what was written with the signed one the tester passes; a reset starts the new software only when the check
passed, and an ECU whose flash was erased and not completed stays in its bootloader."""
import hashlib
import hmac
import os
import struct
import threading
import time
from dataclasses import dataclass, field

from automotive.odx import SESSIONS
from automotive.security import IMMOBILISERS, TOKEN_BYTES, is_theft_relevant, pairing_token, seed_key, unlock_token
from automotive.uds import (BLANK_VIN, BOOTLOADER, CHECK, DID_HARDWARE, DID_KEYS, DID_PAIRED, DID_PART, DID_SERIAL,
                            DID_SESSION, DID_SOFTWARE, DID_STATE, DID_VIN, DID_VOLTAGE, ERASE,
                            MIN_PROGRAMMING_VOLTAGE_MV, PAIR, PAIR_CHALLENGE, PROGRAMMING_LEVEL, UNLOCK,
                            UNLOCK_CHALLENGE)
from simulator.diagnosis import AVAILABILITY_MASK, ROUTINE_FAILS_WITH, FaultMemory

# services
SESSION, RESET, READ, SECURITY, WRITE, ROUTINE, DOWNLOAD, TRANSFER, EXIT, TESTER_PRESENT = (
    0x10, 0x11, 0x22, 0x27, 0x2E, 0x31, 0x34, 0x36, 0x37, 0x3E)
READ_DTC, CLEAR_DTC = 0x19, 0x14
# ReadDTCInformation's sub-functions answered here
DTC_COUNT, DTC_BY_MASK, DTC_SNAPSHOT, DTC_EXTENDED = 0x01, 0x02, 0x04, 0x06
ALL_GROUPS = 0xFFFFFF
# negative response codes (ISO 14229-1 annex A)
NRC = {"service_not_supported": 0x11, "sub_function_not_supported": 0x12, "incorrect_length": 0x13,
       "conditions_not_correct": 0x22, "sequence_error": 0x24, "out_of_range": 0x31, "access_denied": 0x33,
       "invalid_key": 0x35, "attempts_exceeded": 0x36, "delay_not_expired": 0x37,
       "upload_download_not_accepted": 0x70, "transfer_suspended": 0x71, "programming_failure": 0x72,
       "wrong_block_counter": 0x73, "sub_function_not_in_session": 0x7E, "not_in_session": 0x7F,
       "voltage_too_low": 0x93}
# what an ECU keeps quiet about when a request was addressed to every ECU at once (ISO 14229-1, 7.5.3)
QUIET_WHEN_FUNCTIONAL = (0x11, 0x12, 0x31, 0x7E, 0x7F)
SUPPRESSIBLE = (0x10, 0x11, 0x31, 0x3E)  # services whose sub-function's bit 7 asks for no positive answer
MIN_LENGTH = {0x10: 2, 0x11: 2, 0x14: 4, 0x19: 2, 0x22: 3, 0x27: 2, 0x2E: 4, 0x31: 4, 0x34: 3, 0x36: 2, 0x37: 1,
              0x3E: 2}
EXACT_LENGTH = {0x10: 2, 0x11: 2, 0x14: 4, 0x3E: 2}
KEY_SLOTS = 8
UNLOCK_SECONDS = 600  # a secure gateway's challenge's life
BOOTLOADER_VERSION = BOOTLOADER


@dataclass
class Timings:
    """An ECU's timing parameters: P2 and P2* (announced in each session's answer), and how long security access
    stays locked after the attempts are used up (survives a session change and a reset, as a real ECU's does)."""
    p2_ms: int = 50
    p2_star_ms: int = 5000
    s3: float = 5.0  # S3server: a session other than the default one ends after this long without a request
    security_delay: float = 10.0
    max_attempts: int = 3


class Dropped(Exception):
    """The ECU (or its power) is gone: the connection closes without an answer."""


@dataclass
class Faults:
    """What the ECU is told to do wrong, once each: `refuse` a service id with conditionsNotCorrect, `drop` the
    connection or lose `power` when block N arrives, `corrupt` block N as it is written."""
    refuse: set = field(default_factory=set)
    drop_at_block: int | None = None
    power_loss_at_block: int | None = None
    corrupt_block: int | None = None


class Ecu:
    def __init__(self, address, name, hardware_part_number, software_version, vin, secret, voltage_mv=12600,
                 timings=None, description=None, condition=None, coding=None, serial=None):
        """`vin` None: a factory-new unit (its VIN blank, its coding a new unit's, a theft-relevant one unpaired)."""
        self.address, self.name, self.vin, self.secret = address, name, vin, secret
        self.serial = serial or hashlib.sha256(f"{vin}:{address}".encode()).hexdigest()[:10].upper()
        self.paired = vin is not None if is_theft_relevant(name) else None  # None: not a unit that pairs
        self.pairing_challenge = None
        self.timings = timings or Timings()
        self.failed_keys = 0  # kept across sessions and resets: a lockout cannot be walked around
        self.locked_until = 0.0  # monotonic time until which requestSeed answers requiredTimeDelayNotExpired
        self.last_request = time.monotonic()
        self.hardware_part_number, self.software_version = hardware_part_number, software_version
        self.voltage_mv = voltage_mv
        self.bytes_per_second = None  # the link's speed, when a test wants a flash that takes a while
        self.application_valid = True
        self.faults = Faults()
        self.lock = threading.Lock()
        self.pending_version = None  # what the ECU runs after the reset that follows a passed check
        self.flashes = 0  # completed flashes, for the tests
        self.key_slots = {} if name.split(" ")[0] in IMMOBILISERS else None  # slot -> transponder id
        # diagnosis: what the ECU type's ODX describes, answered from the car's condition
        self.description = description
        self.memory = FaultMemory(description, condition) if description and condition else None
        self.condition = condition
        self.delivered_version = software_version
        # coding: what a factory-new unit holds, then the car's own (its order's) where given
        self.codings = description.coding_numbers if description else {}
        self.coding = {number: c.encode(c.factory()) for number, c in self.codings.items()}
        for name, values in (coding or {}).items():
            found = description.codings[name]
            self.coding[found.number] = found.encode(found.factory() | values)
        self.delivered_coding = dict(self.coding)
        # what the unit keeps of the car that a replacement takes over (the ODX's carried-over identifiers)
        self.adaptations = {}
        for name in (description.carried_over if description else []):
            did = description.dids[name]
            self.adaptations[did.number] = did.encode(condition.value(name)) if condition and vin else did.blank()
        self._reset_session()

    def _reset_session(self):
        self.session = 0x01
        self.unlocked = False
        self.seed = None
        self.erased = False
        self.download = None  # {"size", "received", "counter", "hash"}
        self.checked = False
        self.unlock_challenge = None  # (challenge, when): one-time, short-lived
        self.gateway_unlocked = False

    # ---- one request in, one response out ----

    def handle(self, request, functional=False):
        """The answer to one request (b"" for none). `functional`: it was addressed to every ECU at once."""
        answer = self._answer(request)
        if functional and answer[:1] == b"\x7f" and answer[2] in QUIET_WHEN_FUNCTIONAL:
            return b""
        return answer

    def _answer(self, request):
        if not request:
            return b""
        sid = request[0]
        with self.lock:
            now = time.monotonic()
            if self.session != 0x01 and now - self.last_request > self.timings.s3:
                self._reset_session()  # the tester went quiet: back to the default session, locked again
            self.last_request = now
            if sid in self.faults.refuse:
                self.faults.refuse.discard(sid)
                return self._nrc(sid, "conditions_not_correct")
            handler = {SESSION: self._session, RESET: self._reset, READ: self._read, SECURITY: self._security,
                       WRITE: self._write,
                       ROUTINE: self._routine, DOWNLOAD: self._download, TRANSFER: self._transfer,
                       EXIT: self._exit, TESTER_PRESENT: self._tester_present,
                       **({READ_DTC: self._read_dtc, CLEAR_DTC: self._clear_dtc} if self.memory else {})}.get(sid)
            if handler is None:
                return self._nrc(sid, "service_not_supported")
            # ISO 14229-1, figure 5: the service in this session, then the length, then the sub-function
            if sid in (DOWNLOAD, TRANSFER, EXIT) and self.session == 0x01:
                return self._nrc(sid, "not_in_session")
            if len(request) < MIN_LENGTH.get(sid, 1) or len(request) > EXACT_LENGTH.get(sid, len(request)):
                return self._nrc(sid, "incorrect_length")
            answer = handler(request)
            if sid in SUPPRESSIBLE and request[1] & 0x80 and answer[:1] != b"\x7f":
                return b""  # suppressPosRspMsgIndicationBit: the work is done, the positive answer not sent
            return answer

    @staticmethod
    def _nrc(sid, name):
        return bytes([0x7F, sid, NRC[name]])

    def _session(self, req):
        kind = req[1] & 0x7F
        if kind not in (0x01, 0x02, 0x03):
            return self._nrc(SESSION, "sub_function_not_supported")
        if kind == 0x02 and self.voltage_mv < MIN_PROGRAMMING_VOLTAGE_MV:
            return self._nrc(SESSION, "conditions_not_correct")
        if kind != self.session:
            self._reset_session()
            self.session = kind
        # P2 in ms, P2* in units of 10 ms
        return bytes([0x50, kind]) + struct.pack(">HH", self.timings.p2_ms, self.timings.p2_star_ms // 10)

    def _reset(self, req):
        if req[1] & 0x7F not in (0x01, 0x03):
            return self._nrc(RESET, "sub_function_not_supported")
        if self.checked and self.pending_version:
            self.software_version, self.application_valid = self.pending_version, True
            self.flashes += 1
        self._reset_session()
        return bytes([0x51, req[1] & 0x7F])

    def _read(self, req):
        """Every identifier asked for that this ECU has (one it has not is left out); none of them: out of range."""
        if len(req) % 2 != 1:
            return self._nrc(READ, "incorrect_length")
        out = bytearray([0x62])
        for i in range(1, len(req), 2):
            value = self._did((req[i] << 8) | req[i + 1])
            if value is not None:
                out += req[i:i + 2] + value
        return bytes(out) if len(out) > 1 else self._nrc(READ, "out_of_range")

    def _did(self, did):
        version = self.software_version if self.application_valid else BOOTLOADER_VERSION
        keys = (b"".join(bytes([slot]) + key for slot, key in sorted(self.key_slots.items()))
                if self.key_slots is not None else None)
        paired = None if self.paired is None else bytes([int(self.paired)])
        return {DID_VIN: self.vin.encode() if self.vin else BLANK_VIN, DID_PART: self.hardware_part_number.encode(),
                DID_KEYS: keys, DID_SERIAL: self.serial.encode(), DID_PAIRED: paired,
                DID_HARDWARE: self.hardware_part_number.encode(), DID_SOFTWARE: version.encode(),
                DID_SESSION: bytes([self.session]), DID_VOLTAGE: struct.pack(">H", self.voltage_mv),
                DID_STATE: b"APPLICATION" if self.application_valid else b"BOOTLOADER"}.get(did) or \
            self.coding.get(did) or self.adaptations.get(did) or self._live(did)

    def _live(self, did):
        """A live value the ODX describes, from the car's condition, in the ODX's encoding."""
        described = self.description and self.description.by_number.get(did)
        if described is None or self.condition is None:
            return None
        return described.encode(self.condition.value(described.name))

    def _read_dtc(self, req):
        kind = req[1]
        if kind in (DTC_COUNT, DTC_BY_MASK):
            if len(req) != 3:
                return self._nrc(READ_DTC, "incorrect_length")
            found = self.memory.by_mask(req[2])
            if kind == DTC_COUNT:  # format 0x01: ISO 14229-1 DTC format
                return bytes([0x59, kind, AVAILABILITY_MASK, 0x01]) + struct.pack(">H", len(found))
            return bytes([0x59, kind, AVAILABILITY_MASK]) + b"".join(
                number.to_bytes(3, "big") + bytes([status]) for number, status in found)
        if kind in (DTC_SNAPSHOT, DTC_EXTENDED):
            if len(req) != 6:
                return self._nrc(READ_DTC, "incorrect_length")
            number, record = int.from_bytes(req[2:5], "big"), req[5]
            stored = (self.memory.snapshot if kind == DTC_SNAPSHOT else self.memory.extended)(number)
            if stored is None or record not in (0x01, 0xFF):
                return self._nrc(READ_DTC, "out_of_range")
            return bytes([0x59, kind]) + req[2:5] + bytes([stored[0]]) + stored[1]
        return self._nrc(READ_DTC, "sub_function_not_supported")

    def _clear_dtc(self, req):
        group = int.from_bytes(req[1:4], "big")
        if group == ALL_GROUPS:
            self.memory.clear()
        elif group in self.memory.entries:
            del self.memory.entries[group]
        else:
            return self._nrc(CLEAR_DTC, "out_of_range")
        return bytes([0x54])

    def deliver(self):
        """Back to the software it was delivered with (the fault memory follows the car's condition)."""
        with self.lock:
            self.software_version, self.application_valid = self.delivered_version, True
            self.pending_version = None
            if self.key_slots is not None:
                self.key_slots = {}
            self.coding = dict(self.delivered_coding)
            self._reset_session()

    def coding_values(self):
        """{identifier: {parameter: value}} as the unit holds them (the control port's view of the car)."""
        return {c.name: c.decode(self.coding[number]) for number, c in self.codings.items()}

    def _write(self, req):
        """A key written into a slot of the immobiliser: in the programming session, after security access; or a
        coding identifier, in the session its ODX names."""
        did = (req[1] << 8) | req[2]
        if did in self.codings:
            return self._write_coding(self.codings[did], req)
        if did == DID_VIN or did in self.adaptations:
            return self._write_once(did, req)
        if did != DID_KEYS or self.key_slots is None:
            return self._nrc(WRITE, "out_of_range")
        if len(req) != 3 + 1 + 8:
            return self._nrc(WRITE, "incorrect_length")
        if self.session != 0x02 or not self.unlocked:
            return self._nrc(WRITE, "access_denied")
        if not 1 <= req[3] <= KEY_SLOTS:
            return self._nrc(WRITE, "out_of_range")
        self.key_slots[req[3]] = bytes(req[4:])
        return bytes([0x6E, req[1], req[2]])

    def _write_coding(self, coding, req):
        if self.session != SESSIONS[coding.session]:
            return self._nrc(WRITE, "not_in_session")
        if len(req) != 3 + coding.size:
            return self._nrc(WRITE, "incorrect_length")
        try:
            values = coding.decode_write(req)
        except Exception:  # a raw value the text table does not have: the layout does not allow it
            return self._nrc(WRITE, "out_of_range")
        if any(p.refusal(values[p.name]) for p in coding.parameters):
            return self._nrc(WRITE, "out_of_range")
        self.coding[coding.number] = bytes(req[3:])
        return bytes([0x6E, req[1], req[2]])

    def _write_once(self, did, req):
        """A replacement taking over the car: its VIN written once (a unit with one refuses another), a carried-over
        value never below what the unit holds (an odometer does not go back); in the extended session."""
        if self.session != 0x03:
            return self._nrc(WRITE, "not_in_session")
        data = bytes(req[3:])
        if did == DID_VIN:
            if len(data) != 17:
                return self._nrc(WRITE, "incorrect_length")
            if self.vin is not None:
                return self._nrc(WRITE, "conditions_not_correct")
            self.vin = data.decode("ascii", "replace")
        else:
            if len(data) != len(self.adaptations[did]):
                return self._nrc(WRITE, "incorrect_length")
            if int.from_bytes(data, "big") < int.from_bytes(self.adaptations[did], "big"):
                return self._nrc(WRITE, "out_of_range")
            self.adaptations[did] = data
        return bytes([0x6E, req[1], req[2]])

    def _pair(self, req):
        """A theft-relevant replacement paired with its car: a one-time challenge, then the token for it (which
        only the manufacturer's key store makes, in a SERMI security job)."""
        if self.paired is None:
            return self._nrc(ROUTINE, "out_of_range")
        routine = (req[2] << 8) | req[3]
        if routine == PAIR_CHALLENGE:
            if self.vin is None:
                return self._nrc(ROUTINE, "conditions_not_correct")  # the car's VIN first: the token is for it
            self.pairing_challenge = os.urandom(8)
            return bytes([0x71, 0x01, req[2], req[3]]) + self.pairing_challenge
        if len(req) != 4 + TOKEN_BYTES:
            return self._nrc(ROUTINE, "incorrect_length")
        asked, self.pairing_challenge = self.pairing_challenge, None  # one try per challenge
        if asked is None or not hmac.compare_digest(bytes(req[4:]), pairing_token(self.secret, self.vin, asked)):
            return self._nrc(ROUTINE, "invalid_key")
        self.paired = True
        return bytes([0x71, 0x01, req[2], req[3], 0x00])

    def _security(self, req):
        if self.session != 0x02:
            return self._nrc(SECURITY, "not_in_session")
        level = req[1]
        if level == PROGRAMMING_LEVEL:
            if len(req) != 2:
                return self._nrc(SECURITY, "incorrect_length")
            if time.monotonic() < self.locked_until:
                return self._nrc(SECURITY, "delay_not_expired")
            self.seed = bytes(4) if self.unlocked else os.urandom(4)
            return bytes([0x67, level]) + self.seed
        if level == PROGRAMMING_LEVEL + 1:
            if self.seed is None:
                return self._nrc(SECURITY, "sequence_error")
            if not hmac.compare_digest(bytes(req[2:]), seed_key(self.secret, self.seed)):
                self.failed_keys += 1
                self.seed = None
                if self.failed_keys >= self.timings.max_attempts:
                    self.failed_keys = 0  # the delay starts: after it, a new round of attempts
                    self.locked_until = time.monotonic() + self.timings.security_delay
                    return self._nrc(SECURITY, "attempts_exceeded")
                return self._nrc(SECURITY, "invalid_key")
            self.unlocked, self.seed, self.failed_keys = True, None, 0
            return bytes([0x67, level])
        return self._nrc(SECURITY, "sub_function_not_supported")

    def _routine(self, req):
        if req[1] & 0x7F != 0x01:
            return self._nrc(ROUTINE, "sub_function_not_supported")
        routine = (req[2] << 8) | req[3]
        if routine == ERASE:
            if not self.unlocked:
                return self._nrc(ROUTINE, "access_denied")
            self.erased, self.application_valid, self.checked = True, False, False
            return bytes([0x71, 0x01, req[2], req[3], 0x00])
        if routine in (PAIR_CHALLENGE, PAIR):
            return self._pair(req)
        if routine == UNLOCK_CHALLENGE:
            self.unlock_challenge = (os.urandom(8), time.monotonic())
            return bytes([0x71, 0x01, req[2], req[3]]) + self.unlock_challenge[0]
        if routine == UNLOCK:
            if len(req) != 4 + TOKEN_BYTES:
                return self._nrc(ROUTINE, "incorrect_length")
            asked, self.unlock_challenge = self.unlock_challenge, None  # one try: a wrong token spends the challenge
            if asked is None or time.monotonic() - asked[1] > UNLOCK_SECONDS or not hmac.compare_digest(
                    bytes(req[4:]), unlock_token(self.secret, self.vin, asked[0])):
                return self._nrc(ROUTINE, "invalid_key")
            self.gateway_unlocked = True
            return bytes([0x71, 0x01, req[2], req[3], 0x00])
        actuator = self.description and self.description.routine_numbers.get(routine)
        if actuator is not None:  # an actuator test the ODX describes: passed, unless the fault it tests is in
            fault = ROUTINE_FAILS_WITH.get(actuator.name)
            failed = fault is not None and self.condition is not None and self.condition.present(fault)
            return actuator.answer("failed" if failed else "passed")
        if routine == CHECK:  # option record: the signed SHA-256 (32 bytes), then the version it carries
            if len(req) < 4 + 32 + 1:
                return self._nrc(ROUTINE, "incorrect_length")
            done = self.download is not None and self.download["received"] == self.download["size"]
            ok = done and self.download["hash"].digest() == bytes(req[4:36])
            self.checked = bool(ok)
            self.pending_version = bytes(req[36:]).decode("ascii", "replace") if ok else None
            return bytes([0x71, 0x01, req[2], req[3], 0x00 if ok else 0x01])
        return self._nrc(ROUTINE, "out_of_range")

    MAX_BLOCK = 0xFFFF  # including the service id and the block counter

    def _download(self, req):
        if not self.unlocked:
            return self._nrc(DOWNLOAD, "access_denied")
        if not self.erased:
            return self._nrc(DOWNLOAD, "conditions_not_correct")
        if req[1] != 0x00:  # a compressed or encrypted image: nothing here unpacks one
            return self._nrc(DOWNLOAD, "out_of_range")
        alfid = req[2]
        size_len, addr_len = alfid >> 4, alfid & 0x0F
        if len(req) != 3 + addr_len + size_len:
            return self._nrc(DOWNLOAD, "incorrect_length")
        size = int.from_bytes(req[3 + addr_len:], "big")
        if size == 0:
            return self._nrc(DOWNLOAD, "out_of_range")
        self.download = {"size": size, "received": 0, "counter": 1, "hash": hashlib.sha256(), "last": None,
                         "blocks": 0}
        return bytes([0x74, 0x20]) + struct.pack(">H", self.MAX_BLOCK)

    def _transfer(self, req):
        d = self.download
        if d is None:
            return self._nrc(TRANSFER, "sequence_error")
        counter, data = req[1], req[2:]
        if d["last"] is not None and counter == d["last"] and counter != d["counter"]:
            return bytes([0x76, counter])  # the tester repeated a block it had no answer to: taken once
        if counter != d["counter"]:
            return self._nrc(TRANSFER, "wrong_block_counter")
        if d["received"] + len(data) > d["size"] or len(req) > self.MAX_BLOCK:
            return self._nrc(TRANSFER, "transfer_suspended")
        block = d["blocks"] + 1
        if self.faults.power_loss_at_block == block:
            self.faults.power_loss_at_block = None
            self._reset_session()  # the flash is half written: the application is gone until flashed again
            self.application_valid = False
            raise Dropped("power lost")
        if self.faults.drop_at_block == block:
            self.faults.drop_at_block = None
            raise Dropped("connection dropped")
        if self.faults.corrupt_block == block:
            self.faults.corrupt_block = None
            data = bytes([data[0] ^ 0xFF]) + bytes(data[1:])
        if self.bytes_per_second:
            time.sleep(len(data) / self.bytes_per_second)
        d["hash"].update(data)
        d["received"] += len(data)
        d["last"], d["counter"], d["blocks"] = counter, (counter + 1) & 0xFF, d["blocks"] + 1
        return bytes([0x76, counter])

    def _exit(self, req):
        d = self.download
        if d is None or d["received"] != d["size"]:
            return self._nrc(EXIT, "sequence_error")
        return bytes([0x77])

    def _tester_present(self, req):
        if req[1] & 0x7F != 0:
            return self._nrc(TESTER_PRESENT, "sub_function_not_supported")
        return bytes([0x7E, 0x00])
