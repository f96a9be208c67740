"""Diagnosis at the car through the same DoIP connection that programs it: each ECU's fault memory with freeze
frames and occurrence counters (ReadDTCInformation 0x19), clearing it (0x14), live data (0x22) and actuator
tests (RoutineControl 0x31), every answer decoded through the ECU type's ODX description
(automotive.odx). A negative response is named in words; an ECU that does not answer is reported as
such, never skipped silently; a DTC the ODX does not know is shown raw."""
import re
import time

from udsoncan import Request, Response
from udsoncan.exceptions import NegativeResponseException

from agent.flash import Ecu, Failure
from automotive.odx import SESSIONS
from automotive.uds import BLANK_VIN, DID_HARDWARE, DID_PAIRED, DID_SERIAL, DID_SOFTWARE, DID_VIN

ALL_STATUS = 0xFF
# the DoIP entity's refusals of a diagnostic message (ISO 13400-2, table 29)
DOIP_NACKS = {0x02: "invalid source address", 0x03: "unknown target address", 0x04: "message too large",
              0x05: "out of memory", 0x06: "target unreachable", 0x07: "unknown network",
              0x08: "transport protocol error"}
SNAPSHOT, EXTENDED, ALL_RECORDS = 0x04, 0x06, 0xFF


def nrc_words(code):
    """0x22 -> "conditions not correct (0x22)": ISO 14229-1's name for a negative response code."""
    name = Response.Code.get_name(code) or "unknown"
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower() + f" (0x{code:02X})"


class Diagnosis(Ecu):
    """One ECU, asked diagnostic questions, answered through its type's `description`."""

    def __init__(self, host, port, address, description, timeout=3.0):
        super().__init__(host, port, address, key_for=None, timeout=timeout)
        self.description = description

    def ask(self, step, payload):
        """One raw request, its positive answer's bytes; a negative one raises Failure naming the NRC in words."""
        try:
            answer = self.client.send_request(Request.from_payload(bytes(payload)))
        except NegativeResponseException as exc:
            raise Failure(step, "refused", nrc_words(exc.response.code))
        except Exception as exc:  # a DoIP refusal, a timeout, a closed link: _step's words for them
            code = re.search(r"negative acknowledge code: (\d+)", str(exc))
            if code:
                raise Failure(step, "refused", f"the ECU does not answer: the car's gateway says "
                              f"{DOIP_NACKS.get(int(code.group(1)), 'refused')} (DoIP 0x{int(code.group(1)):02X})")
            return self._step(step, _raise, exc)
        return bytes(answer.get_payload())

    def fault_memory(self):
        """Every stored DTC with its status, freeze frame and occurrence counter."""
        answer = self.ask("read fault memory", [0x19, 0x02, ALL_STATUS])
        found = []
        for at in range(3, len(answer) - 3, 4):
            number, status = int.from_bytes(answer[at:at + 3], "big"), answer[at + 3]
            entry = self.description.dtc(number, status)
            entry["freeze_frame"] = self._freeze_frame(number)
            entry["occurrences"] = self._occurrences(number)
            found.append(entry)
        return found

    def _freeze_frame(self, number):
        try:
            answer = self.ask("read freeze frame", [0x19, SNAPSHOT, *number.to_bytes(3, "big"), ALL_RECORDS])
        except Failure:
            return []
        # 59 04 DTC(3) status, then record number and count of identifiers, then the identifiers' records
        return self.description.readings(answer[8:]) if len(answer) > 8 else []

    def _occurrences(self, number):
        try:
            answer = self.ask("read extended data", [0x19, EXTENDED, *number.to_bytes(3, "big"), ALL_RECORDS])
        except Failure:
            return None
        return answer[7] if len(answer) > 7 else None

    def clear(self):
        self.ask("clear fault memory", [0x14, 0xFF, 0xFF, 0xFF])

    def live(self, names):
        """The identifiers named, in one ReadDataByIdentifier request, decoded."""
        dids = [self.description.dids[n] for n in names]
        request = [0x22] + [b for d in dids for b in d.number.to_bytes(2, "big")]
        return self.description.readings(self.ask("read live data", request)[1:])

    def routine(self, name):
        actuator = self.description.routines[name]
        return actuator.decode(self.ask(actuator.long_name, actuator.request()))

    def coding(self, names=None):
        """{identifier: {parameter: value}} of the coding identifiers named (every one the ODX describes)."""
        out = {}
        for name in names or sorted(self.description.codings):
            layout = self.description.codings[name]
            answer = self.ask(f"read coding {name}", [0x22, layout.number >> 8, layout.number & 0xFF])
            try:
                out[name] = layout.decode(answer[3:])
            except Exception:  # bytes the layout does not allow: shown as the ECU sent them, never guessed
                raise Failure(f"read coding {name}", "refused", f"the ECU holds {answer[3:].hex()}, which its "
                              "ODX layout does not decode")
        return out

    def identity(self):
        """What the unit says it is: part number, software, serial, the car's VIN (None: blank, a new unit), and
        for a theft-relevant unit whether it is paired to its car."""
        def text(did, step):
            return bytes(self.ask(step, [0x22, did >> 8, did & 0xFF])[3:])
        vin = text(DID_VIN, "read the VIN")
        try:
            paired = bool(self.ask("read the pairing", [0x22, DID_PAIRED >> 8, DID_PAIRED & 0xFF])[3])
        except Failure:
            paired = None  # not a unit that pairs
        return {"hardware_part_number": text(DID_HARDWARE, "read the part number").decode(),
                "software_version": text(DID_SOFTWARE, "read the software version").decode(),
                "serial_number": text(DID_SERIAL, "read the serial number").decode(),
                "vin": None if vin == BLANK_VIN else vin.decode("ascii", "replace"), "paired": paired}

    def adaptations(self):
        """{identifier: value} of what the ODX marks as carried over to a replacement."""
        return {r["name"]: r["value"] for r in self.live(self.description.carried_over)} \
            if self.description.carried_over else {}

    def write_coding(self, layout, values):
        """One identifier written in the session its ODX names (0x2E); a refusal raises in words."""
        self.ask("open the coding session", [0x10, SESSIONS[layout.session]])
        self.ask(f"write coding {layout.name}", layout.write_request(values))


def _raise(exc):
    raise exc


def quick_test(host, port, ecus, library):
    """Every ECU's fault memory: [{address, name, reachable, dtcs | error}] in address order."""
    report = []
    for ecu in ecus:
        description = library.of(ecu["name"])
        entry = {"address": ecu["address"], "name": ecu["name"]}
        if description is None:
            report.append(entry | {"reachable": False, "error": "no ODX description for this ECU type"})
            continue
        # what else the ECU offers, from its ODX: the workshop picks live data and actuator tests from these
        entry |= {"identifiers": [{"name": d.name, "label": d.long_name, "unit": d.unit}
                                  for d in description.dids.values()],
                  "routines": [{"name": r.name, "label": r.long_name} for r in description.routines.values()]}
        try:
            with Diagnosis(host, port, int(ecu["address"], 16), description) as connection:
                entry |= {"reachable": True, "dtcs": connection.fault_memory()}
        except Failure as failure:
            entry |= {"reachable": False, "error": f"{failure.step}: {failure.detail}"}
        report.append(entry)
    return report


def clear_all(host, port, ecus, library):
    """ClearDiagnosticInformation on every ECU; which were cleared and which refused (and why)."""
    out = []
    for ecu in ecus:
        description = library.of(ecu["name"])
        try:
            if description is None:
                raise Failure("clear fault memory", "refused", "no ODX description for this ECU type")
            with Diagnosis(host, port, int(ecu["address"], 16), description) as connection:
                connection.clear()
            out.append({"address": ecu["address"], "name": ecu["name"], "cleared": True})
        except Failure as failure:
            out.append({"address": ecu["address"], "name": ecu["name"], "cleared": False,
                        "error": f"{failure.step}: {failure.detail}"})
    return out


def sample(connection, names, rate, seconds, send, stop=lambda: False):
    """Live data at `rate` samples a second for `seconds`; each batch (about one a second) goes to `send`,
    which answers whether to go on."""
    period, batch, started = 1.0 / rate, [], time.monotonic()
    next_at = started
    while time.monotonic() - started < seconds and not stop():
        batch.append({"t": round(time.monotonic() - started, 3), "values": connection.live(names)})
        if len(batch) >= max(1, int(rate)):
            if not send(batch):
                return
            batch = []
        next_at += period
        time.sleep(max(0.0, next_at - time.monotonic()))
    if batch:
        send(batch)


# ---- coding: read and decoded, written and read back, through the ECU type's ODX layout ------------------------

def read_coding(host, port, ecus, library):
    """Every coding identifier of every ECU, read (0x22) and decoded: [{address, name, reachable, coding |
    error}]; an ECU that does not answer, or has no description, says so."""
    out = []
    for ecu in ecus:
        description = library.of(ecu["name"])
        entry = {"address": ecu["address"], "name": ecu["name"]}
        try:
            if description is None:
                raise Failure("read coding", "refused", "no ODX description for this ECU type")
            with Diagnosis(host, port, int(ecu["address"], 16), description) as connection:
                entry |= {"reachable": True, "coding": connection.coding()}
        except Failure as failure:
            entry |= {"reachable": False, "error": f"{failure.step}: {failure.detail}"}
        out.append(entry)
    return out


def write_coding(host, port, writes, ecus, library, after_write=lambda: None):
    """Each write (an identifier's every value) in the session its ODX names (0x2E), then read back (0x22): what
    the ECU holds now, never what was sent. [{address, identifier, written, read_back | error}]."""
    names = {e["address"]: e["name"] for e in ecus}
    out = []
    for write in writes:
        address, identifier = write["ecu_address"], write["identifier"]
        entry = {"address": address, "identifier": identifier, "written": False}
        description = library.of(names[address])
        try:
            if description is None or identifier not in description.codings:
                raise Failure("write coding", "refused", f"{identifier} is not described in this ECU's ODX")
            with Diagnosis(host, port, int(address, 16), description) as connection:
                connection.write_coding(description.codings[identifier], write["values"])
                entry["written"] = True
                after_write()
                entry["read_back"] = connection.coding([identifier])[identifier]
        except Failure as failure:
            entry["error"] = f"{failure.step}: {failure.detail}"
        out.append(entry)
    return out


# ---- a unit replaced: backed up before the swap, restored after it --------------------------------------------

def backup_unit(host, port, ecu, description):
    """What the old unit holds that its replacement takes over: who it is, its coding, its carried-over values."""
    with Diagnosis(host, port, int(ecu["address"], 16), description) as connection:
        return {"address": ecu["address"], **connection.identity(), "coding": connection.coding(),
                "adaptations": connection.adaptations()}


def restore_unit(host, port, ecu, description, params):
    """The new unit made part of the car: identified (never the one backed up), the car's VIN written if blank
    (another car's refused), the coding and the carried-over values written, then everything read back."""
    address = ecu["address"]
    with Diagnosis(host, port, int(address, 16), description) as connection:
        found = connection.identity()
        if params.get("old_serial") and found["serial_number"] == params["old_serial"]:
            raise Failure("identify the new unit", "refused", f"the unit at {address} is the one backed up (serial "
                          f"{found['serial_number']}): swap it first")
        connection.ask("open the extended session", [0x10, 0x03])
        if found["vin"] is None:
            connection.ask("write the VIN", [0x2E, DID_VIN >> 8, DID_VIN & 0xFF, *params["vin"].encode()])
        elif found["vin"] != params["vin"]:
            raise Failure("write the VIN", "refused", f"the unit holds another car's VIN ({found['vin']}): it is "
                          "not a new unit for this car")
        for identifier, values in sorted(params["coding"].items()):
            connection.write_coding(description.codings[identifier], values)
        connection.ask("open the extended session", [0x10, 0x03])
        for name, value in sorted(params["adaptations"].items()):
            did = description.dids[name]
            connection.ask(f"restore {name}", [0x2E, did.number >> 8, did.number & 0xFF, *did.encode(value)])
        return {"address": address, "found": found, **connection.identity(), "coding": connection.coding(),
                "adaptations": connection.adaptations()}
