"""What a simulated car's ECUs know of its health: the car's condition (faults injected by scenario, repairs
done on it), live data that moves, and each ECU's fault memory with freeze frames and occurrence counters, all
answered in the encodings the ECU type's ODX description gives (automotive.odx).

Scenarios name faults: `ignition_coil_1` (cylinder 1 misfires: P0301 with a freeze frame, its misfire counter
rising), `weak_battery` (system voltage low: P0562 in engine control, B1325 in the body controller),
`loose_connector` (the left front wheel speed sensor comes and goes: C0035, sporadic) and `aftermarket_alarm` (a
retrofitted alarm upsets the body controller: B2AAA, a code its ODX does not describe). A repair of the part
takes the fault away: after a clear it does not come back."""
import math
import random
import struct
import threading
import time

from automotive.odx import trouble_code

# fault -> {ECU type: DTC display code}; `sporadic` faults are present for a few seconds of every ten
FAULTS = {
    "ignition_coil_1": {"DME": "P0301"},
    "weak_battery": {"DME": "P0562", "BDC": "B1325"},
    "loose_connector": {"DSC": "C0035"},
    "aftermarket_alarm": {"BDC": "B2AAA"},  # not in the BDC's ODX: a tester shows it raw
}
SPORADIC = {"loose_connector"}
# an actuator test fails while the fault it tests is in the car
ROUTINE_FAILS_WITH = {"ignition_coil_test_cylinder_1": "ignition_coil_1"}
# ISO 14229-1 D.2 status bits
TEST_FAILED, THIS_CYCLE, PENDING, CONFIRMED, FAILED_SINCE_CLEAR = 0x01, 0x02, 0x04, 0x08, 0x20
FAILING = TEST_FAILED | THIS_CYCLE | PENDING | CONFIRMED | FAILED_SINCE_CLEAR
STORED = CONFIRMED | FAILED_SINCE_CLEAR  # failed before, not failing now
AVAILABILITY_MASK = 0x2F  # the status bits these ECUs support
SNAPSHOT_RECORD, EXTENDED_RECORD = 0x01, 0x01  # the freeze frame's record number; the occurrence counter's


class Condition:
    """The car's physical state the ECUs measure: which faults are in it, and since when the engine runs."""

    def __init__(self, faults=(), odometer_km=48213):
        self.lock = threading.Lock()
        self.delivered = (tuple(faults), odometer_km)
        self.reset()

    def reset(self):
        """As delivered: the faults the car came with, the engine just started."""
        with self.lock:
            self.faults = set(self.delivered[0])
            self.odometer_km = self.delivered[1]
            self.started = time.monotonic()
            self.misfires = [0.0] * 4
            self.misfire_mark = self.started
            self.generation = getattr(self, "generation", 0) + 1  # fault memories start again

    def inject(self, fault):
        if fault not in FAULTS:
            raise KeyError(fault)
        with self.lock:
            self.faults.add(fault)

    def repair(self, fault):
        """The part replaced: the fault is gone from the car (its DTC stays stored until cleared)."""
        if fault not in FAULTS:
            raise KeyError(fault)
        with self.lock:
            self._count_misfires()
            self.faults.discard(fault)

    def present(self, fault, now=None):
        """Whether the fault shows now: a sporadic one for 3 s of every 10 s."""
        if fault not in self.faults:
            return False
        if fault in SPORADIC:
            return ((now or time.monotonic()) - self.started) % 10 < 3
        return True

    def _count_misfires(self):
        now = time.monotonic()
        if "ignition_coil_1" in self.faults:
            self.misfires[0] += 2.5 * (now - self.misfire_mark)  # a dead coil: a misfire every few revolutions
        self.misfire_mark = now

    def value(self, name):
        """A live value, as a healthy or faulty car of this kind shows it at idle."""
        with self.lock:
            self._count_misfires()
            t = time.monotonic() - self.started
            coil = "ignition_coil_1" in self.faults
            volts = 11.6 if "weak_battery" in self.faults else 14.1
            wobble = random.uniform(-70, 70) if coil else 12 * math.sin(t * 2.1) + random.uniform(-4, 4)
            found = {
                "engine_speed": 760 + wobble,
                "coolant_temperature": min(91.0, 84 + t * 0.2),
                "battery_voltage": volts + random.uniform(-0.04, 0.04),
                "supply_voltage": volts - 0.1 + random.uniform(-0.03, 0.03),
                "engine_load": (27 if coil else 21) + random.uniform(-1.5, 1.5),
                "intake_air_temperature": 24 + random.uniform(-1, 1),
                "fuel_rail_pressure": 55 + random.uniform(-2, 2),
                "transmission_oil_temperature": min(75.0, 40 + t * 0.3),
                "wheel_speed_front_left": 0.0, "wheel_speed_front_right": 0.0,
                "odometer": self.odometer_km, "levelling_position": 20,
            }
            for cylinder in range(4):
                found[f"misfires_cylinder_{cylinder + 1}"] = int(self.misfires[cylinder])
            return found[name]


class FaultMemory:
    """One ECU's DTCs: each with its status byte, occurrence counter and the freeze frame taken when it was
    first detected; a clear empties it, and a fault still in the car is detected again."""

    def __init__(self, description, condition):
        self.description, self.condition = description, condition
        self.mine = {fault: trouble_code(by_type[description.ecu_type]) for fault, by_type in FAULTS.items()
                     if description.ecu_type in by_type}
        self.entries = {}  # number -> {"status", "occurrences", "snapshot": {did name: physical}, "was_failing"}
        self.generation = condition.generation

    def monitor(self):
        """The ECU's monitors run: failing faults set their bits (and a freeze frame the first time), faults no
        longer present keep only their history bits."""
        if self.generation != self.condition.generation:
            self.entries, self.generation = {}, self.condition.generation
        for fault, number in self.mine.items():
            failing = self.condition.present(fault)
            entry = self.entries.get(number)
            if failing and entry is None:
                snapshot = {name: self.condition.value(name) for name in self.description.freeze_frame}
                entry = self.entries[number] = {"status": 0, "occurrences": 0, "snapshot": snapshot,
                                                "was_failing": False}
            if entry is None:
                continue
            if failing and not entry["was_failing"]:
                entry["occurrences"] = min(255, entry["occurrences"] + 1)
            entry["status"] = FAILING if failing else STORED
            entry["was_failing"] = failing

    def clear(self):
        self.entries = {}

    # ---- ISO 14229-1 0x19 answers ----

    def by_mask(self, mask):
        self.monitor()
        return [(number, e["status"]) for number, e in sorted(self.entries.items()) if e["status"] & mask]

    def snapshot(self, number):
        """The freeze frame's identifiers and their data bytes, or None for a DTC not stored."""
        self.monitor()
        entry = self.entries.get(number)
        if entry is None:
            return None
        records = b"".join(struct.pack(">H", self.description.dids[name].number)
                           + self.description.dids[name].encode(value) for name, value in entry["snapshot"].items())
        return entry["status"], bytes([SNAPSHOT_RECORD, len(entry["snapshot"])]) + records

    def extended(self, number):
        self.monitor()
        entry = self.entries.get(number)
        if entry is None:
            return None
        return entry["status"], bytes([EXTENDED_RECORD, entry["occurrences"]])
