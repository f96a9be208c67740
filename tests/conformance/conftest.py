"""The simulated car as a tester's tool meets it: DoIP (ISO 13400-2) and UDS (ISO 14229-1) spoken through an
implementation this project did not write (scapy's automotive layers), on real sockets."""
from dataclasses import replace

import pytest

from simulator import doip
from simulator.ecu import Timings as EcuTimings
from tests.conformance.tester import SECRET, SECURITY_DELAY, VIN, Probe

PLAN = [{"address": "0x10", "name": "ZGW (gateway)", "hardware_part_number": "8600001", "software_version": "A"},
        {"address": "0x12", "name": "DME (engine control)", "hardware_part_number": "8612345", "software_version": "B"},
        {"address": "0x18", "name": "EGS (transmission control)", "hardware_part_number": "8698765",
         "software_version": "C"}]


@pytest.fixture
def car():
    vehicle = doip.Vehicle.demo(VIN, SECRET, PLAN)
    vehicle.timings = doip.Timings(initial_inactivity=1.0, general_inactivity=5.0, alive_check=0.3)
    for ecu in vehicle.ecus.values():
        ecu.timings = replace(EcuTimings(), p2_ms=40, p2_star_ms=3000, security_delay=SECURITY_DELAY)
    with doip.Simulator(vehicle) as simulator:
        yield vehicle, simulator.port


@pytest.fixture
def tester(car):
    _, port = car
    connection = Probe(port)
    yield connection
    connection.close()


@pytest.fixture
def routed(tester):
    answer = tester.activate()
    assert answer.payload_type == 0x0006 and answer.routing_activation_response == 0x10
    return tester
