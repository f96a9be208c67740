"""Benchmark: diagnosis at the demo car over DoIP on loopback, the simulator in a process of its own as a car
would be, the agent's code as it runs in a workshop. Prints

- the quick test's time for the demo car's 8 ECUs (every fault memory, each DTC's freeze frame and occurrence
  counter), median of several runs;
- live-data samples a second for 10 identifiers of the engine control, read back to back, each decoded through
  the ODX;
- the decode cost of one response through odxtools, beside a hand-written struct decode of the same bytes
  (the baseline, in the same run): what reading the ODX instead of hard-coding costs.

    python -m bench.diagnosis [--runs 5] [--seconds 5]
"""
import argparse
import json
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agent.diagnose import Diagnosis, quick_test
from deploy import odx, vehicles
from deploy.ports import free_port, reachable, wait_for
from automotive.odx import Library

LIVE = ["engine_speed", "coolant_temperature", "battery_voltage", "engine_load", "intake_air_temperature",
        "fuel_rail_pressure", "misfires_cylinder_1", "misfires_cylinder_2", "misfires_cylinder_3",
        "misfires_cylinder_4"]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.diagnosis", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    car = vehicles.generate(1, seed=5)["vehicles"][0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "odx"
        odx.write_all(folder)
        plan = Path(tmp) / "car.json"
        plan.write_text(json.dumps(car["ecus"]))
        port = free_port()
        simulator = subprocess.Popen(
            [sys.executable, "-m", "simulator.doip", "--port", str(port), "--vin", car["vin"], "--ecus", str(plan),
             "--secret-hex", "62656e6368" * 4, "--odx", str(folder),
             "--faults", "ignition_coil_1,weak_battery,loose_connector"], stdout=subprocess.DEVNULL)
        try:
            wait_for(lambda: reachable("127.0.0.1", port), 30, "the simulator")
            library = Library(folder)
            ecus = [{"address": e["address"], "name": e["name"]} for e in car["ecus"]]
            times, found = [], None
            for _ in range(args.runs):
                started = time.perf_counter()
                found = quick_test("127.0.0.1", port, ecus, library)
                times.append(time.perf_counter() - started)
            dtcs = sum(len(e.get("dtcs", [])) for e in found)
            print(f"quick test, {len(ecus)} ECUs ({sum(e['reachable'] for e in found)} answered, {dtcs} DTCs with "
                  f"freeze frames): median {statistics.median(times) * 1000:.1f} ms, "
                  f"min {min(times) * 1000:.1f} ms over {args.runs} runs")

            engine = library.of("DME")
            with Diagnosis("127.0.0.1", port, 0x12, engine) as connection:
                count, started = 0, time.perf_counter()
                while time.perf_counter() - started < args.seconds:
                    connection.live(LIVE)
                    count += 1
                elapsed = time.perf_counter() - started
                raw = connection.ask("read", [0x22] + [b for n in LIVE for b in engine.dids[n].number.to_bytes(2, "big")])
            print(f"live data, {len(LIVE)} identifiers in one request, back to back: {count / elapsed:.0f} samples/s "
                  f"({count * len(LIVE) / elapsed:.0f} values/s)")

            speed = engine.dids["engine_speed"]
            response = bytes([0x62, 0x40, 0x01]) + speed.encode(812.5)
            n = 20000
            started = time.perf_counter()
            for _ in range(n):
                speed.decode(response[3:])
            odx_us = (time.perf_counter() - started) / n * 1e6
            started = time.perf_counter()
            for _ in range(n):
                struct.unpack_from(">H", response, 3)[0] * 0.25
            baseline_us = (time.perf_counter() - started) / n * 1e6
            started = time.perf_counter()
            for _ in range(n // 10):
                engine.readings(raw[1:])
            whole_us = (time.perf_counter() - started) / (n // 10) * 1e6
            print(f"decode one response through the ODX: {odx_us:.1f} µs (hand-written struct baseline "
                  f"{baseline_us:.2f} µs, {odx_us / baseline_us:.0f}x); a 10-identifier answer with units and "
                  f"limits: {whole_us:.0f} µs")
        finally:
            simulator.terminate()
            simulator.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
