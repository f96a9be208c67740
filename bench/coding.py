"""Benchmark: coding at the demo car over DoIP on loopback, the simulator in a process of its own as a car would
be, the agent's code as it runs in a workshop. Prints

- a whole-car coding read for the car's 8 ECUs (every coding identifier read with 0x22 and decoded through its
  ODX layout), median and worst of several runs, beside the same 0x22 requests with the answers left undecoded
  (the baseline, in the same run: what decoding through odxtools adds);
- a write and its verification per ECU (the coding session opened, one identifier written with 0x2E, read back
  and decoded), median and worst over every ECU and several runs.

    python -m bench.coding [--runs 5]
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agent.diagnose import Diagnosis, read_coding, write_coding
from automotive.odx import Library
from deploy import coding, odx, vehicles
from deploy.ports import free_port, reachable, wait_for

CAR = next(v for v in vehicles.generate(20, seed=5)["vehicles"] if len(v["ecus"]) == 8)


def raw_reads(port, ecus, library):
    """Every coding identifier of every ECU asked with 0x22, the answers kept as bytes (no decode)."""
    for ecu in ecus:
        description = library.of(ecu["name"])
        with Diagnosis("127.0.0.1", port, int(ecu["address"], 16), description) as connection:
            for layout in description.codings.values():
                connection.ask("read", [0x22, layout.number >> 8, layout.number & 0xFF])


def timed(call, runs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.coding", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "odx"
        odx.write_all(folder)
        plan = Path(tmp) / "car.json"
        plan.write_text(json.dumps(coding.delivered(CAR["ecus"], CAR, folder)))
        port = free_port()
        simulator = subprocess.Popen(
            [sys.executable, "-m", "simulator.doip", "--port", str(port), "--vin", CAR["vin"], "--ecus", str(plan),
             "--secret-hex", "62656e6368" * 4, "--odx", str(folder)], stdout=subprocess.DEVNULL)
        try:
            wait_for(lambda: reachable("127.0.0.1", port), 30, "the simulator")
            library = Library(folder)
            ecus = [{"address": e["address"], "name": e["name"]} for e in CAR["ecus"]]
            read = timed(lambda: read_coding("127.0.0.1", port, ecus, library), args.runs)
            found = read_coding("127.0.0.1", port, ecus, library)
            identifiers = sum(len(e["coding"]) for e in found if e["reachable"])
            raw = timed(lambda: raw_reads(port, ecus, library), args.runs)
            print(f"whole-car coding read and decode, {len(ecus)} ECUs ({sum(e['reachable'] for e in found)} "
                  f"answered, {identifiers} coding identifiers): median {statistics.median(read):.1f} ms, worst "
                  f"{max(read):.1f} ms; the same reads undecoded: median {statistics.median(raw):.1f} ms "
                  f"(decoding {statistics.median(read) / statistics.median(raw):.2f}x)")
            per_ecu = []
            for entry in found:
                identifier, values = next(iter(entry["coding"].items()))
                write = [{"ecu_address": entry["address"], "identifier": identifier, "values": values}]
                times = timed(lambda: write_coding("127.0.0.1", port, write, ecus, library), args.runs)
                done = write_coding("127.0.0.1", port, write, ecus, library)[0]
                assert done["read_back"] == values, done  # verified, or the figure means nothing
                per_ecu += times
            print(f"write and verify one coding identifier per ECU ({len(found)} ECUs x {args.runs} runs): median "
                  f"{statistics.median(per_ecu):.1f} ms, worst {max(per_ecu):.1f} ms")
        finally:
            simulator.terminate()
            simulator.wait(timeout=10)


if __name__ == "__main__":
    main(sys.argv[1:])
