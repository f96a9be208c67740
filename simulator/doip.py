"""The vehicle's DoIP entity (ISO 13400-2): a TCP listener (and UDP for vehicle identification) that routes
diagnostic messages to its ECUs by logical address, as a car's central gateway does behind its Ethernet port.

    python -m simulator.doip --port 13400 --vin WBA7K7109MW240891   (make run starts one for the demo car)
"""
import argparse
import json
import logging
import socket
import socketserver
import struct
import threading

from simulator.ecu import Dropped, Ecu

log = logging.getLogger(__name__)
VERSION = 0x02
HEADER = struct.Struct(">BBHI")
MAX_PAYLOAD = 4 * 1024 * 1024
GATEWAY_ADDRESS = 0x1000
# payload types
GENERIC_NACK, IDENTIFY, IDENTIFY_BY_EID, IDENTIFY_BY_VIN, ANNOUNCEMENT = 0x0000, 0x0001, 0x0002, 0x0003, 0x0004
ACTIVATE, ACTIVATED, ALIVE, ALIVE_ANSWER = 0x0005, 0x0006, 0x0007, 0x0008
STATUS, STATUS_ANSWER, POWER_MODE, POWER_MODE_ANSWER = 0x4001, 0x4002, 0x4003, 0x4004
DIAGNOSTIC, DIAGNOSTIC_ACK, DIAGNOSTIC_NACK = 0x8001, 0x8002, 0x8003


def frame(payload_type, payload=b""):
    return HEADER.pack(VERSION, VERSION ^ 0xFF, payload_type, len(payload)) + payload


class Vehicle:
    """The car: a VIN, a battery, ECUs by logical address."""

    def __init__(self, vin, ecus, eid=b"\x00\x1a\x37\x00\x00\x01"):
        self.vin, self.eid = vin, eid
        self.ecus = {e.address: e for e in ecus}

    @classmethod
    def demo(cls, vin, secret, plan):
        """A car with the ECUs `plan` lists: [{"address": "0x12", "name", "hardware_part_number",
        "software_version"}] as vehicle data describes them."""
        return cls(vin, [Ecu(int(e["address"], 16), e["name"], e["hardware_part_number"], e["software_version"],
                             vin, secret) for e in plan])

    def set_voltage(self, millivolts):
        for ecu in self.ecus.values():
            ecu.voltage_mv = millivolts

    def announcement(self):
        return self.vin.encode() + struct.pack(">H", GATEWAY_ADDRESS) + self.eid + self.eid + b"\x00\x00"


class Connection(socketserver.BaseRequestHandler):
    """One tester's TCP connection: routing activation first, then diagnostic messages."""

    def setup(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.tester = None
        self.stream = self.request.makefile("rb", buffering=1 << 20)

    def _read(self):
        header = self.stream.read(HEADER.size)
        if len(header) < HEADER.size:
            return None
        version, inverse, payload_type, length = HEADER.unpack(header)
        if inverse != version ^ 0xFF:
            self.request.sendall(frame(GENERIC_NACK, b"\x00"))  # incorrect pattern format: close
            return None
        if length > MAX_PAYLOAD:
            self.request.sendall(frame(GENERIC_NACK, b"\x02"))  # message too large
            return None
        payload = self.stream.read(length)
        return (payload_type, payload) if len(payload) == length else None

    def handle(self):
        vehicle = self.server.vehicle
        while True:
            message = self._read()
            if message is None:
                return
            payload_type, payload = message
            if payload_type == ACTIVATE:
                self.tester = struct.unpack_from(">H", payload)[0]
                self.request.sendall(frame(ACTIVATED, struct.pack(">HHBI", self.tester, GATEWAY_ADDRESS, 0x10, 0)))
            elif payload_type == ALIVE_ANSWER:
                continue
            elif payload_type in (IDENTIFY, IDENTIFY_BY_VIN, IDENTIFY_BY_EID):
                self.request.sendall(frame(ANNOUNCEMENT, vehicle.announcement()))
            elif payload_type == POWER_MODE:
                self.request.sendall(frame(POWER_MODE_ANSWER, b"\x01"))
            elif payload_type == STATUS:
                self.request.sendall(frame(STATUS_ANSWER, b"\x00\x10\x01" + struct.pack(">I", MAX_PAYLOAD)))
            elif payload_type == DIAGNOSTIC:
                if not self._diagnostic(vehicle, payload):
                    return
            else:
                self.request.sendall(frame(GENERIC_NACK, b"\x01"))  # unknown payload type

    def _diagnostic(self, vehicle, payload):
        source, target = struct.unpack_from(">HH", payload)
        if self.tester is None or source != self.tester:
            self.request.sendall(frame(DIAGNOSTIC_NACK, struct.pack(">HHB", target, source, 0x02)))
            return True
        ecu = vehicle.ecus.get(target)
        if ecu is None:
            self.request.sendall(frame(DIAGNOSTIC_NACK, struct.pack(">HHB", target, source, 0x03)))
            return True
        self.request.sendall(frame(DIAGNOSTIC_ACK, struct.pack(">HHB", target, source, 0x00)))
        try:
            answer = ecu.handle(payload[4:])
        except Dropped as why:
            log.info("ECU 0x%02X: %s", target, why)
            return False
        if answer:
            self.request.sendall(frame(DIAGNOSTIC, struct.pack(">HH", target, source) + answer))
        return True


class Identification(socketserver.BaseRequestHandler):
    """UDP: vehicle identification requests answered with the announcement."""

    def handle(self):
        data, sock = self.request
        if len(data) >= HEADER.size and HEADER.unpack_from(data)[2] in (IDENTIFY, IDENTIFY_BY_VIN, IDENTIFY_BY_EID):
            sock.sendto(frame(ANNOUNCEMENT, self.server.vehicle.announcement()), self.client_address)


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
        self.tcp = _Tcp((host, port), Connection)
        self.tcp.vehicle = vehicle
        self.port = self.tcp.server_address[1]
        self.udp = _Udp((host, self.port), Identification)
        self.udp.vehicle = vehicle
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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m simulator.doip", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=13400)
    parser.add_argument("--vin", required=True)
    parser.add_argument("--ecus", required=True, help="a JSON file: the ECUs as vehicle data describes them")
    parser.add_argument("--secret-hex", required=True, help="the ECUs' security access secret")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s simulator %(levelname)s %(message)s")
    with open(args.ecus) as handle:
        plan = json.load(handle)
    simulator = Simulator(Vehicle.demo(args.vin, bytes.fromhex(args.secret_hex), plan), args.host, args.port)
    simulator.start()
    print(f"vehicle {args.vin}: DoIP on {args.host}:{simulator.port} (TCP and UDP), ECUs "
          + ", ".join(f"0x{a:02X}" for a in simulator.vehicle.ecus), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        simulator.stop()


if __name__ == "__main__":
    main()
