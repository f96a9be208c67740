"""Benchmark: flash a 32 MB image into one ECU of the vehicle simulator over DoIP on loopback, the simulator in a
process of its own as a car would be, the agent's UDS sequence as it runs in a workshop. Prints MB/s of the
whole sequence and of the transfer alone, and, in the same run, a raw TCP baseline: the same bytes in the same
block size, each block answered by 2 bytes, so the figures say what DoIP and UDS cost on top of the socket.
Target: at least 12.5 MB/s (100 Mbit/s vehicle Ethernet), so the car is the limit, not us.

    python -m bench.flash_throughput [--megabytes 32] [--runs 3]
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from agent.flash import Ecu
from deploy.ports import free_port, wait_for
from services.programming.keys import DerivedKeys
from simulator.ecu import Ecu as SimulatedEcu

TARGET_MB_S = 12.5
SECRET = "62656e6368" * 4  # hex of the bench's ECU secret (the ECU keys need 8 bytes or more)
BLOCK = SimulatedEcu.MAX_BLOCK - 2


def raw_tcp(image):
    """The socket alone: blocks of the same size, each acknowledged before the next."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def sink():
        conn, _ = server.accept()
        stream = conn.makefile("rb", buffering=1 << 20)
        remaining = len(image)
        while remaining:
            got = len(stream.read(min(BLOCK, remaining)))
            remaining -= got
            conn.sendall(b"ok")
        conn.close()
    thread = threading.Thread(target=sink)
    thread.start()
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
        view = memoryview(image)
        for at in range(0, len(image), BLOCK):
            client.sendall(view[at:at + BLOCK])
            client.recv(2)
    thread.join()
    server.close()
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args(argv)
    image = os.urandom(opts.megabytes * 1024 * 1024)
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        plan = Path(folder) / "ecus.json"
        plan.write_text(json.dumps([{"address": "0x12", "name": "DME", "hardware_part_number": "8612345",
                                     "software_version": "V0"}]))
        car = subprocess.Popen([sys.executable, "-m", "simulator.doip", "--port", str(port), "--vin",
                                "WBA7K7109MW240891", "--ecus", str(plan), "--secret-hex", SECRET],
                               stdout=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: _open(port), 20, "the vehicle simulator")
            rows = []
            for run in range(1, opts.runs + 1):
                transfer = {}

                def progress(done, total):
                    transfer.setdefault("start", time.perf_counter())
                    transfer["end"] = time.perf_counter()
                keys = DerivedKeys(bytes.fromhex(SECRET))
                key = lambda address, level, seed: keys.security_key("8612345", seed)  # noqa: E731
                with Ecu("127.0.0.1", port, 0x12, key, timeout=30) as ecu:
                    result = ecu.flash(image, f"V{run}", progress=progress)
                baseline = raw_tcp(image)
                rows.append((result.seconds, transfer["end"] - transfer["start"], baseline))
        finally:
            car.terminate()
            car.wait(timeout=10)
    mb = len(image) / 1e6
    print(f"\nFlash benchmark: {opts.megabytes} MiB image, one ECU, DoIP on loopback, blocks of {BLOCK} bytes, "
          f"simulator in its own process, {os.cpu_count()} cores")
    print(f"{'run':>4} {'sequence s':>11} {'sequence MB/s':>14} {'transfer MB/s':>14} {'raw TCP MB/s':>13} "
          f"{'DoIP+UDS / raw':>15}")
    for i, (whole, transfer, baseline) in enumerate(rows, 1):
        print(f"{i:4d} {whole:11.2f} {mb / whole:14.1f} {mb / transfer:14.1f} {mb / baseline:13.1f} "
              f"{baseline / whole:15.2f}")
    best = max(mb / whole for whole, _, _ in rows)
    worst = min(mb / whole for whole, _, _ in rows)
    print(f"whole sequence: {worst:.1f} to {best:.1f} MB/s (target >= {TARGET_MB_S} MB/s: "
          f"{'met' if worst >= TARGET_MB_S else 'MISSED'})")


def _open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


if __name__ == "__main__":
    main()
