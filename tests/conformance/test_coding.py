"""Coding and a unit's replacement as a tester's tool meets them (scapy's DoIP and UDS layers, raw bytes): coding
identifiers read with 0x22 and written with 0x2E only in the extended session, a wrong length or a value the layout
does not allow refused with ISO 14229-1's NRCs, writes kept; a factory-new unit's VIN blank and written once; a
theft-relevant unit paired only with the key store's token for its one-time challenge."""
import pytest

from deploy import coding, odx
from services.programming.keys import DerivedKeys
from simulator import doip
from tests.conformance.tester import SECRET, VIN, Probe, raw
from tests.conformance.test_uds import ask

PLAN = [{"address": "0x12", "name": "DME (engine control)", "hardware_part_number": "8612345", "software_version": "B"},
        {"address": "0x60", "name": "KOMBI (instrument cluster)", "hardware_part_number": "9312345",
         "software_version": "K"}]


@pytest.fixture
def coded(tmp_path):
    odx.write_all(tmp_path)
    vehicle = doip.Vehicle.demo(VIN, SECRET, coding.delivered(PLAN, {"options": [], "country": "GB"}, tmp_path),
                                tmp_path)
    with doip.Simulator(vehicle) as simulator:
        probe = Probe(simulator.port)
        assert probe.activate().routing_activation_response == 0x10
        yield vehicle, probe
        probe.close()


def test_coding_is_written_in_the_extended_session_only_and_refused_in_iso_words(coded):
    _, routed = coded
    assert ask(routed, "22 31 01", 0x60) == raw("62 31 01 01")  # built for Britain: mph, English, no trailer
    assert ask(routed, "2e 31 01 13", 0x60) == raw("7f 2e 7f")  # default session: not in this session
    assert ask(routed, "10 03", 0x60)[:2] == raw("50 03")
    assert ask(routed, "2e 31 01 13 00", 0x60) == raw("7f 2e 13")  # one byte too many
    assert ask(routed, "2e 31 01 0e", 0x60) == raw("7f 2e 31")  # language 7: not in the text table
    assert ask(routed, "2e 31 02 03 e8", 0x60) == raw("7f 2e 31")  # 1000 km: below the range's 5000
    assert ask(routed, "2e 31 77 00", 0x60) == raw("7f 2e 31")  # an identifier the unit does not have
    assert ask(routed, "2e 31 01 13", 0x60) == raw("6e 31 01")
    assert ask(routed, "11 01", 0x60) == raw("51 01")
    assert ask(routed, "22 31 01", 0x60) == raw("62 31 01 13")  # kept through a reset


def test_a_new_unit_takes_the_car_s_vin_once_and_pairs_only_with_the_token_for_its_challenge(coded):
    vehicle, routed = coded
    vehicle.swap(0x12)
    assert ask(routed, "22 f1 90") == raw("62 f1 90") + b"\xff" * 17  # blank
    assert ask(routed, "22 dd 11") == raw("62 dd 11 00")  # not paired
    assert ask(routed, "31 01 0f 20") == raw("7f 31 22")  # no VIN yet: nothing to pair with
    assert ask(routed, "10 03")[:2] == raw("50 03")
    assert ask(routed, raw("2e f1 90") + VIN.encode()) == raw("6e f1 90")
    assert ask(routed, raw("2e f1 90") + VIN.encode()) == raw("7f 2e 22")  # once
    challenge = ask(routed, "31 01 0f 20")[4:]
    assert len(challenge) == 8
    assert ask(routed, raw("31 01 0f 21") + bytes(8)) == raw("7f 31 35")  # a wrong token spends the challenge
    token = DerivedKeys(SECRET).pairing_token("8612345", VIN, challenge)
    assert ask(routed, raw("31 01 0f 21") + token) == raw("7f 31 35")  # that challenge is gone
    challenge = ask(routed, "31 01 0f 20")[4:]
    token = DerivedKeys(SECRET).pairing_token("8612345", VIN, challenge)
    assert ask(routed, raw("31 01 0f 21") + token) == raw("71 01 0f 21 00")
    assert ask(routed, "22 dd 11") == raw("62 dd 11 01")
    assert ask(routed, "31 01 0f 20", 0x60) == raw("7f 31 31")  # a cluster does not pair
