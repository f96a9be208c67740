"""Coding on its own: the ODX layouts read back as the authoring tool wrote them (bit fields, text tables, ranges,
the session they are written in), the simulated ECUs' coding over DoIP (read, written, kept, refused with the NRC
a real ECU sends), and the rules: a car's target from its order, what differs in words, a rules file with a
problem refused with every problem."""
from datetime import datetime, timezone

import pytest

from agent.diagnose import read_coding, write_coding
from automotive.odx import Library
from deploy import coding as demo_coding, odx
from services.programming import coding, domain
from simulator.doip import Simulator, Vehicle

CAR = [{"address": "0x29", "name": "DSC (stability control)", "hardware_part_number": "6851234",
        "software_version": "DSC-7"},
       {"address": "0x40", "name": "BDC (body domain controller)", "hardware_part_number": "9381234",
        "software_version": "BDC-3"},
       {"address": "0x60", "name": "KOMBI (instrument cluster)", "hardware_part_number": "9312345",
        "software_version": "KOMBI-5"}]
ORDER = {"options": ["S322", "S6NW"], "country": "DE"}


def layouts_of(folder):
    return {kind: {name: c.view() for name, c in d.codings.items()} for kind, d in Library(folder).types.items()}


def test_every_coding_layout_reads_back_as_written(folder):
    library = Library(folder)
    for ecu_type, codings in odx.CODING.items():
        described = library.types[ecu_type]
        assert [(c.name, c.number) for c in described.codings.values()] == [(c[0], c[1]) for c in codings]
    display = library.of("KOMBI").codings["display"]
    assert (display.size, display.session, display.security_level) == (1, "extended", "none")
    values = {"speed_unit": "mph", "language": "German", "trailer_display": "on"}
    assert display.encode(values) == bytes([0b10011])  # bit 0 mph, bits 1-3 German (1), bit 4 on
    assert display.decode(bytes([0b10011])) == values
    interval = library.of("KOMBI").codings["service_interval"]
    assert interval.encode({"oil_service_km": 30000}) == (30000).to_bytes(2, "big")
    assert interval.parameters[0].refusal(40000) == "40000 is not a whole number from 5000 to 30000 km"
    assert display.parameters[0].refusal("knots") == "'knots' is not one of: km/h, mph"
    assert library.of("KOMBI").carried_over == ["odometer"]


def test_the_target_follows_the_order_and_the_differences_are_said_in_words(folder):
    layouts = layouts_of(folder)
    wanted = coding.target(demo_coding.RULES, layouts, CAR, ORDER)
    assert wanted["0x60"]["display"] == {"speed_unit": "km/h", "language": "German", "trailer_display": "off"}
    assert wanted["0x40"]["comfort"] == {"auto_lock_speed": 10, "mirror_fold_on_lock": "on"}  # S322
    british = coding.target(demo_coding.RULES, layouts, CAR, {"options": [], "country": "GB"})
    assert british["0x60"]["display"]["speed_unit"] == "mph" and british["0x60"]["display"]["language"] == "English"
    retrofitted = coding.target(demo_coding.RULES, layouts, CAR, dict(ORDER, options=ORDER["options"] + ["S3AC"]))
    changes = coding.differences(layouts, CAR, wanted, retrofitted)
    assert [(c["ecu_address"], c["label"], c["from"], c["to"]) for c in changes] == [
        ("0x29", "Trailer stability control", "off", "on"),
        ("0x40", "Trailer module", "not fitted", "fitted"),
        ("0x60", "Trailer display", "off", "on")]
    assert coding.in_words(changes[:1]) == "DSC Trailer stability control: off → on"
    assert coding.differences(layouts, CAR, wanted, wanted) == []
    # an ECU that did not answer is not compared (never assumed)
    assert coding.differences(layouts, CAR, {"0x29": wanted["0x29"]}, retrofitted)[0]["ecu_address"] == "0x29"


def test_a_rules_file_with_a_problem_is_refused_with_every_problem(folder):
    layouts = layouts_of(folder)
    assert coding.check_rules(demo_coding.document(), layouts) == []
    bad = demo_coding.document() | {"rules": [
        {"ecu_type": "BDC", "identifier": "lighting", "parameter": "trailer_module", "value": "maybe"},
        {"ecu_type": "KOMBI", "identifier": "service_interval", "parameter": "oil_service_km", "value": 99},
        {"ecu_type": "BDC", "identifier": "sunroof", "parameter": "x", "value": 1},
        {"ecu_type": "BDC", "identifier": "lighting", "parameter": "fog", "value": "on"},
        {"ecu_type": "BDC", "identifier": "lighting", "parameter": "welcome_light", "value": "on", "option": "3AC"},
        {"ecu_type": "BDC", "identifier": "lighting", "parameter": "welcome_light", "value": "on", "country": "DE"},
    ]}
    found = [(p.file.split(": ")[1], p.field) for p in coding.check_rules(bad, layouts)]
    assert found == [("rules[0]", "value"), ("rules[1]", "value"), ("rules[2]", "identifier"),
                     ("rules[3]", "parameter"), ("rules[4]", "option"), ("rules[5]", "country")]
    assert coding.check_rules({"format": "other"}, layouts)[0].field == "format"


def test_the_simulated_car_keeps_its_coding_and_refuses_what_a_real_ecu_refuses(folder):
    plan = demo_coding.delivered(CAR, ORDER, folder)
    vehicle = Vehicle.demo("WBA7K7109MW240891", b"k" * 32, plan, folder)
    library = Library(folder)
    kombi = vehicle.ecus[0x60]
    display = library.of("KOMBI").codings["display"]
    assert kombi.coding_values()["display"]["language"] == "German"  # as its order had it delivered
    write = display.write_request({"speed_unit": "mph", "language": "German", "trailer_display": "on"})
    assert kombi.handle(write) == bytes([0x7F, 0x2E, 0x7F])  # the default session: not in this session
    assert kombi.handle(bytes([0x10, 0x03]))[:2] == bytes([0x50, 0x03])
    assert kombi.handle(write[:-1]) == bytes([0x7F, 0x2E, 0x13])  # wrong length
    assert kombi.handle(write[:3] + bytes([0b1110])) == bytes([0x7F, 0x2E, 0x31])  # language 7: not in the table
    interval = library.of("KOMBI").codings["service_interval"]
    assert kombi.handle(bytes([0x2E, 0x31, 0x02]) + (1000).to_bytes(2, "big")) == bytes([0x7F, 0x2E, 0x31])
    assert kombi.handle(interval.write_request({"oil_service_km": 15000}))[:1] == b"\x6E"
    assert kombi.handle(write) == bytes([0x6E, 0x31, 0x01])
    kombi.handle(bytes([0x11, 0x01]))  # a reset: the coding is kept, as in EEPROM
    assert kombi.coding_values() == {"display": {"speed_unit": "mph", "language": "German", "trailer_display": "on"},
                                     "service_interval": {"oil_service_km": 15000}}
    assert kombi.handle(bytes([0x22, 0x31, 0x77])) == bytes([0x7F, 0x22, 0x31])  # an identifier it has not
    vehicle.deliver()
    assert kombi.coding_values()["display"]["speed_unit"] == "km/h"


def test_the_agent_reads_writes_and_reads_back_over_doip(folder):
    vehicle = Vehicle.demo("WBA7K7109MW240891", b"k" * 32, demo_coding.delivered(CAR, ORDER, folder), folder)
    library = Library(folder)
    with Simulator(vehicle) as simulator:
        read = {e["address"]: e for e in read_coding("127.0.0.1", simulator.port, CAR, library)}
        assert read["0x40"]["coding"]["lighting"]["trailer_module"] == "not fitted"
        target = dict(read["0x40"]["coding"]["lighting"], trailer_module="fitted")
        done = write_coding("127.0.0.1", simulator.port, [
            {"ecu_address": "0x40", "identifier": "lighting", "values": target},
            {"ecu_address": "0x60", "identifier": "sunroof", "values": {}}], CAR, library)
    assert done[0] == {"address": "0x40", "identifier": "lighting", "written": True, "read_back": target}
    assert done[1]["written"] is False and "not described" in done[1]["error"]
    assert vehicle.ecus[0x40].coding_values()["lighting"]["trailer_module"] == "fitted"


def test_a_write_that_did_not_end_leaves_the_coding_unverified_until_read_again():
    job = domain.JobCard(coding=None)
    with pytest.raises(Exception) as never:
        job.coding_writes(0, None)
    assert never.value.code == "CODING_NOT_READ"
    now = datetime(2026, 12, 6, tzinfo=timezone.utc)
    change = {"ecu_address": "0x40", "ecu": "BDC (body domain controller)", "identifier": "lighting",
              "parameter": "trailer_module", "label": "Trailer module", "from": "not fitted", "to": "fitted"}
    target = {"0x40": {"lighting": {"trailer_module": "fitted"}}}
    job.coding_read("r1", {"0x40": {"lighting": {"trailer_module": "not fitted"}}}, target, [change], 1, now)
    with pytest.raises(Exception) as stale:
        job.coding_writes(2, "done")
    assert stale.value.code == "CODING_STALE"
    assert job.coding_writes(1, "done") == [{"ecu_address": "0x40", "identifier": "lighting",
                                             "values": {"trailer_module": "fitted"}}]
    job.coding_writing("r2")
    assert job.coding_state("running") == "writing" and job.coding_state("interrupted") == "unverified"
    with pytest.raises(Exception) as unread:
        job.coding_writes(1, "interrupted")
    assert unread.value.code == "CODING_NOT_READ" and "read-back" in unread.value.message
    job.coding_read("r3", {"0x40": {"lighting": {"trailer_module": "fitted"}}}, target, [], 1, now)
    with pytest.raises(Exception) as matches:
        job.coding_writes(1, "done")
    assert matches.value.code == "CODING_MATCHES"
