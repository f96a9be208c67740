"""The vehicle's DoIP entity (ISO 13400-2): a TCP listener (and UDP for vehicle identification) that routes
diagnostic messages to its ECUs by logical address, as a car's central gateway does behind its Ethernet port.

    python -m simulator.doip --port 13400 --vin WBA7K7109MW240891   (make run starts one for the demo car)
"""
import argparse
import http.server
import json
import logging
import os
import socket
import socketserver
import struct
import threading
from dataclasses import dataclass

from automotive.odx import Library
from automotive.security import type_secret
from simulator.diagnosis import FAULTS, Condition
from simulator.ecu import Dropped, Ecu

log = logging.getLogger(__name__)
VERSION = 0x02
ANY_VERSION = 0xFF  # a vehicle identification request may come with it
HEADER = struct.Struct(">BBHI")
MAX_PAYLOAD = 4 * 1024 * 1024
GATEWAY_ADDRESS = 0x1000
FUNCTIONAL_ADDRESS = 0xE400  # a request to every ECU at once (ISO 13400-2: functional logical address)
TESTERS = range(0x0E00, 0x1000)  # logical addresses of external test equipment
ACTIVATION_TYPES = (0x00, 0x01, 0xE0)  # default, WWH-OBD, central security
MAX_SOCKETS = 4
# payload types
GENERIC_NACK, IDENTIFY, IDENTIFY_BY_EID, IDENTIFY_BY_VIN, ANNOUNCEMENT = 0x0000, 0x0001, 0x0002, 0x0003, 0x0004
ACTIVATE, ACTIVATED, ALIVE, ALIVE_ANSWER = 0x0005, 0x0006, 0x0007, 0x0008
STATUS, STATUS_ANSWER, POWER_MODE, POWER_MODE_ANSWER = 0x4001, 0x4002, 0x4003, 0x4004
DIAGNOSTIC, DIAGNOSTIC_ACK, DIAGNOSTIC_NACK = 0x8001, 0x8002, 0x8003
# generic header NACK codes: the header's pattern, an unknown payload type, too large, out of memory, a wrong length
NACK_PATTERN, NACK_UNKNOWN_TYPE, NACK_TOO_LARGE, NACK_OUT_OF_MEMORY, NACK_LENGTH = 0x00, 0x01, 0x02, 0x03, 0x04
# routing activation answers
RA_UNKNOWN_SOURCE, RA_NO_SOCKET, RA_OTHER_SOURCE_HERE, RA_SOURCE_ELSEWHERE, RA_UNSUPPORTED_TYPE, RA_OK = (
    0x00, 0x01, 0x02, 0x03, 0x06, 0x10)
# diagnostic message NACK codes
DIAG_INVALID_SOURCE, DIAG_UNKNOWN_TARGET, DIAG_TOO_LARGE = 0x02, 0x03, 0x04
# the exact payload length of each request a tester sends (routing activation: with or without the OEM part)
LENGTHS = {ACTIVATE: (7, 11), ALIVE_ANSWER: (2,), IDENTIFY: (0,), IDENTIFY_BY_EID: (6,), IDENTIFY_BY_VIN: (17,),
           STATUS: (0,), POWER_MODE: (0,)}


def frame(payload_type, payload=b""):
    return HEADER.pack(VERSION, VERSION ^ 0xFF, payload_type, len(payload)) + payload


@dataclass
class Timings:
    """The DoIP entity's timers (ISO 13400-2 table 46): a socket without routing activation, any socket without
    traffic, and how long an alive check waits for its answer."""
    initial_inactivity: float = 2.0
    general_inactivity: float = 300.0
    alive_check: float = 0.5


class Vehicle:
    """The car: a VIN, a battery, ECUs by logical address."""

    def __init__(self, vin, ecus, eid=b"\x00\x1a\x37\x00\x00\x01", timings=None, condition=None):
        self.vin, self.eid = vin, eid
        self.ecus = {e.address: e for e in ecus}
        self.built = dict(self.ecus)  # the units it left the factory with (a swap is undone on delivery)
        self.timings = timings or Timings()
        self.condition = condition

    @classmethod
    def demo(cls, vin, secret, plan, odx=None, faults=()):
        """A car with the ECUs `plan` lists: [{"address": "0x12", "name", "hardware_part_number",
        "software_version"}] as vehicle data describes them, each provisioned with its type's secret derived from
        the manufacturer's master `secret` (as programming's key store derives it). With `odx` (a folder of PDX
        files) its ECUs answer diagnosis as their types' descriptions say, with `faults` in the car, and hold the
        plan's "coding" ({identifier: {parameter: value}}; a factory-new unit's where it says nothing)."""
        library = Library(odx) if odx else None
        condition = Condition(faults) if odx else None
        return cls(vin, [Ecu(int(e["address"], 16), e["name"], e["hardware_part_number"], e["software_version"],
                             vin, type_secret(secret, e["hardware_part_number"]),
                             description=library and library.of(e["name"]), condition=condition,
                             coding=e.get("coding")) for e in plan],
                   condition=condition)

    def deliver(self):
        """The car as delivered: its ECUs' software, its faults, empty key slots (so every visitor can diagnose
        and flash it, not only the first)."""
        self.ecus = dict(self.built)
        for ecu in self.ecus.values():
            ecu.deliver()
        if self.condition is not None:
            self.condition.reset()

    def swap(self, address):
        """The unit at `address` replaced by a factory-new one of the same part number: its own serial, no VIN,
        a new unit's coding, nothing carried over; a theft-relevant one unpaired."""
        old = self.ecus[address]
        self.ecus[address] = Ecu(address, old.name, old.hardware_part_number, old.software_version, None, old.secret,
                                 timings=old.timings, description=old.description, condition=old.condition,
                                 serial=os.urandom(5).hex().upper())
        return self.ecus[address]

    def state(self):
        return {"vin": self.vin, "faults": sorted(self.condition.faults) if self.condition else [],
                "ecus": [{"address": f"0x{a:02X}", "name": e.name, "software_version": e.software_version,
                          "serial": e.serial, "vin": e.vin, "paired": e.paired, "coding": e.coding_values()}
                         for a, e in sorted(self.ecus.items())]}

    def set_voltage(self, millivolts):
        for ecu in self.ecus.values():
            ecu.voltage_mv = millivolts

    def announcement(self):
        return self.vin.encode() + struct.pack(">H", GATEWAY_ADDRESS) + self.eid + self.eid + b"\x00\x00"

    def identifies(self, payload_type, payload):
        """Whether a vehicle identification request is for this car (any car, or its EID, or its VIN)."""
        return (payload_type == IDENTIFY or (payload_type == IDENTIFY_BY_EID and payload == self.eid)
                or (payload_type == IDENTIFY_BY_VIN and payload == self.vin.encode()))


class Sockets:
    """The entity's TCP connections and which tester source address is routed on which."""

    def __init__(self):
        self.lock = threading.Lock()
        self.open = set()
        self.routed = {}  # source address -> Connection

    def status(self):
        with self.lock:
            return struct.pack(">BBB", 0x00, MAX_SOCKETS, len(self.open)) + struct.pack(">I", MAX_PAYLOAD)


def _header_problem(version, inverse, payload_type, length, udp=False):
    """The generic NACK code a header earns, or None for a good one."""
    allowed = (VERSION, ANY_VERSION) if payload_type in (IDENTIFY, IDENTIFY_BY_EID, IDENTIFY_BY_VIN) else (VERSION,)
    if inverse != version ^ 0xFF or version not in allowed:
        return NACK_PATTERN
    if length > MAX_PAYLOAD:
        return NACK_TOO_LARGE
    if payload_type not in LENGTHS and payload_type != DIAGNOSTIC:
        return NACK_UNKNOWN_TYPE
    if payload_type in LENGTHS and length not in LENGTHS[payload_type]:
        return NACK_LENGTH
    if payload_type == DIAGNOSTIC and length < 5:  # source, target, and at least one byte of UDS
        return NACK_LENGTH
    return None


class Connection(socketserver.BaseRequestHandler):
    """One tester's TCP connection: routing activation first, then diagnostic messages."""

    def setup(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.tester = None
        self.alive = threading.Event()
        self.send_lock = threading.Lock()
        self.stream = self.request.makefile("rb", buffering=1 << 20)
        self.timings = self.server.vehicle.timings
        self.request.settimeout(self.timings.initial_inactivity)
        with self.server.sockets.lock:
            self.server.sockets.open.add(self)

    def finish(self):
        sockets = self.server.sockets
        with sockets.lock:
            sockets.open.discard(self)
            if self.tester is not None and sockets.routed.get(self.tester) is self:
                del sockets.routed[self.tester]

    def send(self, data):
        with self.send_lock:
            self.request.sendall(data)

    def _read(self):
        """(payload type, payload), or None when the socket must close (after its NACK)."""
        while True:
            try:
                header = self.stream.read(HEADER.size)
            except (socket.timeout, OSError):
                return None  # inactivity: T_TCP_Initial_Inactivity or T_TCP_General_Inactivity ran out
            if len(header) < HEADER.size:
                return None
            version, inverse, payload_type, length = HEADER.unpack(header)
            problem = _header_problem(version, inverse, payload_type, length)
            if problem in (NACK_TOO_LARGE, NACK_UNKNOWN_TYPE):  # the message is discarded, the socket stays
                self.send(frame(GENERIC_NACK, bytes([problem])))
                if not self._skip(length):
                    return None
                continue
            if problem is not None:  # a broken pattern or a wrong length: NACK, then close
                self.send(frame(GENERIC_NACK, bytes([problem])))
                return None
            payload = self.stream.read(length)
            if len(payload) < length:
                return None
            return payload_type, payload

    def _skip(self, length):
        while length > 0:
            chunk = self.stream.read(min(length, 1 << 16))
            if not chunk:
                return False
            length -= len(chunk)
        return True

    def handle(self):
        vehicle = self.server.vehicle
        while True:
            message = self._read()
            if message is None:
                return
            payload_type, payload = message
            if payload_type == ACTIVATE:
                if not self._activate(payload):
                    return
            elif payload_type == ALIVE_ANSWER:
                if self.tester is not None and struct.unpack(">H", payload)[0] == self.tester:
                    self.alive.set()
            elif payload_type in (IDENTIFY, IDENTIFY_BY_VIN, IDENTIFY_BY_EID):
                if vehicle.identifies(payload_type, payload):
                    self.send(frame(ANNOUNCEMENT, vehicle.announcement()))
            elif payload_type == POWER_MODE:
                self.send(frame(POWER_MODE_ANSWER, b"\x01"))
            elif payload_type == STATUS:
                self.send(frame(STATUS_ANSWER, self.server.sockets.status()))
            elif payload_type == DIAGNOSTIC:
                if not self._diagnostic(vehicle, payload):
                    return

    def _activate(self, payload):
        """Routing activation: a tester's source address on this socket, one per socket and one socket per address
        (a second socket with it gets it only when the first does not answer an alive check)."""
        source, kind = struct.unpack_from(">HB", payload)

        def answer(code):
            self.send(frame(ACTIVATED, struct.pack(">HHBI", source, GATEWAY_ADDRESS, code, 0)))
            return code == RA_OK

        if source not in TESTERS:
            answer(RA_UNKNOWN_SOURCE)
            return False
        if kind not in ACTIVATION_TYPES:
            answer(RA_UNSUPPORTED_TYPE)
            return False
        if self.tester is not None and self.tester != source:
            answer(RA_OTHER_SOURCE_HERE)
            return False
        sockets = self.server.sockets
        with sockets.lock:
            holder = sockets.routed.get(source)
        if holder is not None and holder is not self and holder.answers_alive_check(source):
            answer(RA_SOURCE_ELSEWHERE)
            return False
        with sockets.lock:
            if holder is not None and holder is not self:
                holder.close()
            sockets.routed[source] = self
        self.tester = source
        self.request.settimeout(self.timings.general_inactivity)
        return answer(RA_OK)

    def answers_alive_check(self, source):
        self.alive.clear()
        try:
            self.send(frame(ALIVE))
        except OSError:
            return False
        return self.alive.wait(self.timings.alive_check)

    def close(self):
        try:
            self.request.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _diagnostic(self, vehicle, payload):
        source, target = struct.unpack_from(">HH", payload)
        if self.tester is None or source != self.tester:  # routing not activated for this address: close
            self.send(frame(DIAGNOSTIC_NACK, struct.pack(">HHB", target, source, DIAG_INVALID_SOURCE)))
            return False
        if target == FUNCTIONAL_ADDRESS:
            self.send(frame(DIAGNOSTIC_ACK, struct.pack(">HHB", target, source, 0x00)))
            for address, ecu in sorted(vehicle.ecus.items()):
                if not self._ask(ecu, address, source, payload[4:], functional=True):
                    return False
            return True
        ecu = vehicle.ecus.get(target)
        if ecu is None:
            self.send(frame(DIAGNOSTIC_NACK, struct.pack(">HHB", target, source, DIAG_UNKNOWN_TARGET)))
            return True
        self.send(frame(DIAGNOSTIC_ACK, struct.pack(">HHB", target, source, 0x00)))
        return self._ask(ecu, target, source, payload[4:])

    def _ask(self, ecu, address, source, request, functional=False):
        try:
            answer = ecu.handle(request, functional=functional)
        except Dropped as why:
            log.info("ECU 0x%02X: %s", address, why)
            return False
        if answer:
            self.send(frame(DIAGNOSTIC, struct.pack(">HH", address, source) + answer))
        return True


class Identification(socketserver.BaseRequestHandler):
    """UDP: vehicle identification, entity status and power mode; anything else gets its generic NACK."""

    def handle(self):
        data, sock = self.request
        vehicle = self.server.vehicle
        if len(data) < HEADER.size:
            return
        version, inverse, payload_type, length = HEADER.unpack_from(data)
        problem = _header_problem(version, inverse, payload_type, length)
        if problem is None and length != len(data) - HEADER.size:
            problem = NACK_LENGTH
        if problem is None and payload_type not in (IDENTIFY, IDENTIFY_BY_EID, IDENTIFY_BY_VIN, STATUS, POWER_MODE):
            problem = NACK_UNKNOWN_TYPE  # routing and diagnostics go over TCP only
        if problem is not None:
            sock.sendto(frame(GENERIC_NACK, bytes([problem])), self.client_address)
            return
        payload = data[HEADER.size:]
        if payload_type == STATUS:
            sock.sendto(frame(STATUS_ANSWER, self.server.sockets.status()), self.client_address)
        elif payload_type == POWER_MODE:
            sock.sendto(frame(POWER_MODE_ANSWER, b"\x01"), self.client_address)
        elif vehicle.identifies(payload_type, payload):
            sock.sendto(frame(ANNOUNCEMENT, vehicle.announcement()), self.client_address)


class _Tcp(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Udp(socketserver.ThreadingUDPServer):
    daemon_threads = True
    allow_reuse_address = True


class Simulator:
    """The DoIP entity serving `vehicle` on host:port (TCP, and UDP on the same port), on threads of its own."""

    def __init__(self, vehicle, host="127.0.0.1", port=0):
        self.vehicle = vehicle
        self.sockets = Sockets()
        self.tcp = _Tcp((host, port), Connection)
        self.tcp.vehicle, self.tcp.sockets = vehicle, self.sockets
        self.port = self.tcp.server_address[1]
        self.udp = _Udp((host, self.port), Identification)
        self.udp.vehicle, self.udp.sockets = vehicle, self.sockets
        self.threads = []

    def start(self):
        for server in (self.tcp, self.udp):
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def stop(self):
        for server in (self.tcp, self.udp):
            server.shutdown()
            server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Control(http.server.BaseHTTPRequestHandler):
    """The workshop's hands on the simulated car (loopback only): `GET /state`, `POST /repair` or `POST /inject`
    with {"fault": ...}, `POST /swap` with {"ecu": "0x60"} (a factory-new unit fitted), `POST /deliver` (back as
    delivered)."""

    def do_GET(self):
        if self.path != "/state":
            return self._answer(404, {"error": "unknown path"})
        self._answer(200, self.server.vehicle.state())

    def do_POST(self):
        vehicle = self.server.vehicle
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            if self.path == "/deliver":
                vehicle.deliver()
            elif self.path == "/swap":
                vehicle.swap(int(body["ecu"], 16))
            elif self.path in ("/repair", "/inject") and vehicle.condition is not None:
                getattr(vehicle.condition, self.path[1:])(body.get("fault"))
            else:
                return self._answer(404, {"error": "unknown path"})
        except (ValueError, KeyError, TypeError):
            return self._answer(422, {"error": f"fault: one of {', '.join(FAULTS)}; ecu: an address of the car "
                                               "such as 0x60"})
        self._answer(200, vehicle.state())

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def serve_control(vehicle, port, host="127.0.0.1"):
    server = http.server.ThreadingHTTPServer((host, port), Control)
    server.vehicle = vehicle
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m simulator.doip", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=13400)
    parser.add_argument("--vin", required=True)
    parser.add_argument("--ecus", required=True, help="a JSON file: the ECUs as vehicle data describes them")
    parser.add_argument("--secret-hex", required=True,
                        help="the manufacturer's master secret: each ECU gets its type's secret from it")
    parser.add_argument("--odx", help="a folder of PDX files: the ECUs answer diagnosis as they describe")
    parser.add_argument("--faults", default="", help=f"faults in the car as delivered, comma separated: "
                        f"{', '.join(FAULTS)}")
    parser.add_argument("--control-port", type=int, help="where the car's state, repairs and delivery are asked")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s simulator %(levelname)s %(message)s")
    with open(args.ecus) as handle:
        plan = json.load(handle)
    faults = [f for f in args.faults.split(",") if f]
    simulator = Simulator(Vehicle.demo(args.vin, bytes.fromhex(args.secret_hex), plan, args.odx, faults),
                          args.host, args.port)
    simulator.start()
    if args.control_port:
        serve_control(simulator.vehicle, args.control_port)
    print(f"vehicle {args.vin}: DoIP on {args.host}:{simulator.port} (TCP and UDP), ECUs "
          + ", ".join(f"0x{a:02X}" for a in simulator.vehicle.ecus), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        simulator.stop()


if __name__ == "__main__":
    main()
