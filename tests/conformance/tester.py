"""A tester's tool, built on an implementation this project did not write: scapy's DoIP and UDS layers build every
request and parse every answer of the car."""
import logging
import socket
import struct

logging.getLogger("scapy").setLevel(logging.ERROR)  # scapy's start-up notes about routes and interfaces
from scapy.contrib.automotive.doip import DoIP  # noqa: E402
from scapy.contrib.automotive.uds import UDS  # noqa: E402,F401  (the tests build requests with it)

VIN = "WBA7K7109MW240891"
SECRET = b"conformance-secret"
TESTER = 0x0E80
SECURITY_DELAY = 1.0


class Probe:
    """A tester's TCP connection to the car: DoIP messages built and read by scapy."""

    def __init__(self, port, timeout=2.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def send(self, message):
        self.sock.sendall(bytes(message))

    def receive(self, timeout=2.0):
        """The next DoIP message, parsed by scapy; None when nothing comes within `timeout`; b"" when closed."""
        self.sock.settimeout(timeout)
        try:
            header = self._exactly(8)
        except socket.timeout:
            return None
        if not header:
            return b""
        length = struct.unpack(">I", header[4:])[0]
        return DoIP(header + self._exactly(length))

    def _exactly(self, count):
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                return data
            data += chunk
        return data

    def closed(self, timeout=2.0):
        """Whether the car closed this connection (after whatever it still sends)."""
        while True:
            message = self.receive(timeout)
            if message is None:
                return False
            if message == b"":
                return True

    def activate(self, source=TESTER, kind=0):
        self.send(DoIP(payload_type=0x0005, source_address=source, activation_type=kind))
        return self.receive()

    def uds(self, target, request, source=TESTER):
        """(the ACK or NACK, the UDS answer or None) of one diagnostic message."""
        self.send(DoIP(payload_type=0x8001, source_address=source, target_address=target) / request)
        first = self.receive()
        if first is None or first == b"" or first.payload_type != 0x8002:
            return first, None
        answer = self.receive(0.5)
        return first, answer if answer not in (None, b"") else None

    def close(self):
        self.sock.close()


def raw(hex_text):
    return bytes.fromhex(hex_text.replace(" ", ""))


def uds_bytes(message):
    """The UDS bytes of a diagnostic message (what follows source and target)."""
    return bytes(message)[12:]
