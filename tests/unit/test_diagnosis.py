"""Diagnosis's parts on their own: the ODX descriptions read back as written, a malformed PDX refused with every
problem, the simulated ECUs' fault memory (freeze frame, occurrences, a sporadic fault, a repair that holds after
a clear) and live data, a negative response named in words, a DTC the ODX does not know shown raw, and the
diagnosis clock's rules."""
import zipfile
from datetime import datetime, timedelta, timezone

import pytest

from agent.diagnose import nrc_words, quick_test
from deploy import odx
from services.programming import domain
from automotive.odx import Library, display_code, import_files, problems, trouble_code
from simulator import diagnosis
from simulator.doip import Simulator, Vehicle

PLAN = [{"address": "0x12", "name": "DME (engine control)", "hardware_part_number": "7643210",
         "software_version": "B48-21"},
        {"address": "0x29", "name": "DSC (stability control)", "hardware_part_number": "6851234",
         "software_version": "DSC-7"}]


def test_every_demo_type_reads_back_as_written(folder):
    library = Library(folder)
    assert set(library.types) == set(odx.TYPES)
    for ecu_type, spec in odx.TYPES.items():
        described = library.types[ecu_type]
        assert {code for code, _ in described.dtcs.values()} == {dtc[0] for dtc in spec["dtcs"]}
        assert [d.number for d in described.dids.values()] == [d[1] for d in spec["dids"]]
        assert set(described.routines) == {r[0] for r in spec["routines"]} and described.freeze_frame
    engine = library.of("DME (engine control)")
    speed = engine.dids["engine_speed"]
    assert (speed.unit, speed.minimum, speed.maximum, speed.size) == ("1/min", 600, 900, 2)
    assert speed.encode(812.5) == bytes.fromhex("0cb2") and speed.decode(bytes.fromhex("0cb2")) == 812.5
    assert engine.dids["coolant_temperature"].decode(b"\x80") == 88  # offset -40 °C
    assert problems(folder / "DME.pdx") == []
    # a fault code's test plan: the live data to check for it
    assert engine.dtc(trouble_code("P0301"), 0x2F)["checks"] == odx.ENGINE_CHECKS
    assert engine.dtc(trouble_code("P0562"), 0x2F)["checks"] == ["battery_voltage", "engine_speed"]


def test_a_dtc_the_odx_does_not_know_is_shown_raw(folder):
    engine = Library(folder).of("DME")
    known = engine.dtc(trouble_code("P0301"), 0x2F)
    assert known["code"] == "P0301" and known["known"] and known["confirmed"] and known["test_failed"]
    stranger = engine.dtc(0x123456, 0x08)
    assert stranger == stranger | {"code": "P1234-56", "number": "123456", "known": False, "confirmed": True,
                                   "test_failed": False, "text": "Not described in this ECU's ODX"}
    assert display_code(trouble_code("U0100")) == "U0100" and display_code(0xC1234A) == "U0123-4A"
    # an identifier the ODX does not describe ends the walk, raw
    readings = engine.readings(bytes.fromhex("4001") + engine.dids["engine_speed"].encode(750) + bytes.fromhex("beef01"))
    assert readings[0]["value"] == 750 and readings[1] == {"did": "0xBEEF", "name": None, "raw": "01",
                                                           "label": "Not described in this ECU's ODX"}


def test_a_malformed_pdx_is_refused_with_every_problem(folder, tmp_path):
    text = odx.document("DME", odx.TYPES["DME"])
    broken = (text.replace("<TEXT>Cylinder 1 misfire detected</TEXT>", "<TEXT></TEXT>")
              .replace("<DISPLAY-TROUBLE-CODE>P0302</DISPLAY-TROUBLE-CODE>", "<DISPLAY-TROUBLE-CODE>P0392"
                                                                          "</DISPLAY-TROUBLE-CODE>")
              .replace('<SD SI="min">600</SD><SD SI="max">900</SD>', '<SD SI="min">900</SD><SD SI="max">600</SD>')
              .replace('<SD SI="did">engine_load</SD>', '<SD SI="did">boost_pressure</SD>', 1))
    odx.write_pdx(tmp_path / "DME.pdx", "DME", broken)
    found = problems(tmp_path / "DME.pdx")
    assert any("P0301: no text" in p for p in found)
    assert any("P0392" in p and "P0302" in p for p in found)
    assert any("engine_speed: minimum 900.0 above maximum 600.0" in p for p in found)
    assert any("boost_pressure" in p for p in found)
    (tmp_path / "garbage.pdx").write_bytes(b"not a zip")
    with zipfile.ZipFile(tmp_path / "empty.pdx", "w") as empty:
        empty.writestr("readme.txt", "nothing")
    odx.write_pdx(tmp_path / "bad-xml.pdx", "DME", text[:len(text) // 2])
    refused = import_files([tmp_path / "DME.pdx", tmp_path / "garbage.pdx", tmp_path / "empty.pdx",
                            tmp_path / "bad-xml.pdx", folder / "DSC.pdx"], tmp_path / "taken")
    assert set(refused) == {str(tmp_path / n) for n in ("DME.pdx", "garbage.pdx", "empty.pdx", "bad-xml.pdx")}
    assert refused[str(tmp_path / "empty.pdx")] == ["index.xml is missing",
                                                     "no .odx-d file (diagnostic layers) in the archive"]
    assert "cannot be read" in refused[str(tmp_path / "bad-xml.pdx")][0]
    assert sorted(p.name for p in (tmp_path / "taken").iterdir()) == ["DSC.pdx"]


def car(folder, faults):
    return Vehicle.demo("WBA7K7109MW240891", b"k" * 32, PLAN, folder, faults)


def dtcs(ecu):
    answer = ecu.handle(bytes([0x19, 0x02, 0xFF]))
    assert answer[:3] == bytes([0x59, 0x02, diagnosis.AVAILABILITY_MASK])
    return {answer[i:i + 3].hex(): answer[i + 3] for i in range(3, len(answer), 4)}


def test_a_dead_coil_stays_until_repaired_and_cleared(folder):
    vehicle = car(folder, ["ignition_coil_1"])
    engine = vehicle.ecus[0x12]
    assert dtcs(engine) == {"030100": diagnosis.FAILING}
    snapshot = engine.handle(bytes([0x19, 0x04, 0x03, 0x01, 0x00, 0x01]))
    assert snapshot[:7] == bytes([0x59, 0x04, 0x03, 0x01, 0x00, diagnosis.FAILING, 0x01]) and snapshot[7] == 4
    assert engine.handle(bytes([0x19, 0x06, 0x03, 0x01, 0x00, 0x01]))[-1] == 1  # occurrences
    assert engine.handle(bytes([0x19, 0x04, 0x03, 0x02, 0x00, 0x01])) == bytes([0x7F, 0x19, 0x31])  # not stored
    assert engine.handle(bytes([0x31, 0x01, 0x03, 0x11]))[-1] == 1  # the coil test fails
    # cleared without a repair: the fault is back at once
    assert engine.handle(bytes([0x14, 0xFF, 0xFF, 0xFF])) == b"\x54"
    assert dtcs(engine) == {"030100": diagnosis.FAILING}
    vehicle.condition.repair("ignition_coil_1")
    assert dtcs(engine) == {"030100": diagnosis.STORED}  # stored until cleared
    engine.handle(bytes([0x14, 0xFF, 0xFF, 0xFF]))
    assert dtcs(engine) == {} and engine.handle(bytes([0x31, 0x01, 0x03, 0x11]))[-1] == 0
    # delivered again: the fault is back for the next visitor
    vehicle.deliver()
    assert dtcs(engine) == {"030100": diagnosis.FAILING}


def test_a_loose_connector_comes_and_goes(folder, monkeypatch):
    vehicle = car(folder, ["loose_connector"])
    stability = vehicle.ecus[0x29]
    clock = [vehicle.condition.started]
    monkeypatch.setattr(diagnosis.time, "monotonic", lambda: clock[0])
    seen = []
    for second in (1, 5, 11, 15, 21):  # present for 3 s of every 10
        clock[0] = vehicle.condition.started + second
        seen.append(dtcs(stability)["403500"])
    assert seen == [diagnosis.FAILING, diagnosis.STORED, diagnosis.FAILING, diagnosis.STORED, diagnosis.FAILING]
    answer = stability.handle(bytes([0x19, 0x06, 0x40, 0x35, 0x00, 0x01]))
    assert answer[-1] == 3  # three occurrences


def test_live_data_moves_and_a_weak_battery_shows(folder):
    vehicle = car(folder, ["weak_battery"])
    engine = vehicle.ecus[0x12]
    described = Library(folder).of("DME")
    answer = engine.handle(bytes([0x22, 0x40, 0x03, 0x40, 0x01]))
    readings = described.readings(answer[1:])
    assert readings[0]["name"] == "battery_voltage" and readings[0]["value"] < 12.2 and not readings[0]["in_limits"]
    assert 600 <= readings[1]["value"] <= 900
    assert set(dtcs(engine)) == {trouble_code("P0562").to_bytes(3, "big").hex()}


def test_a_code_the_odx_does_not_know_reaches_the_workshop_raw(folder):
    """Over DoIP, as the agent reads it: the body controller's code from a retrofitted alarm is not in its ODX."""
    plan = PLAN + [{"address": "0x40", "name": "BDC (body domain controller)", "hardware_part_number": "9381234",
                    "software_version": "BDC-3"}]
    vehicle = Vehicle.demo("WBA7K7109MW240891", b"k" * 32, plan, folder, ["aftermarket_alarm", "ignition_coil_1"])
    with Simulator(vehicle) as simulator:
        found = {e["address"]: e for e in quick_test("127.0.0.1", simulator.port, plan, Library(folder))}
    alarm = found["0x40"]["dtcs"][0]
    assert (alarm["code"], alarm["known"], alarm["text"]) == ("B2AAA", False, "Not described in this ECU's ODX")
    assert alarm["freeze_frame"] and alarm["occurrences"] == 1  # the ECU's own data still decodes
    assert [d["code"] for d in found["0x12"]["dtcs"]] == ["P0301"] and found["0x29"]["dtcs"] == []
    assert {"name": "engine_speed", "label": "Engine speed", "unit": "1/min"} in found["0x12"]["identifiers"]


def test_negative_responses_are_named_in_words():
    assert nrc_words(0x22) == "conditions not correct (0x22)"
    assert nrc_words(0x31) == "request out of range (0x31)"
    assert nrc_words(0x11) == "service not supported (0x11)"


NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
RULES = domain.ClockRules(heartbeat_timeout=10)


class Time(domain.ProgrammingTime):
    def __init__(self):
        self.settled = []

    def settle(self, released, charged):
        self.settled.append((released, charged))


class Job:
    id, operator_id, agent_id, vin = "j", "o", "a", "WBA7K7109MW240891"


def test_a_run_is_billed_to_its_last_word_never_past_its_reservation():
    run = domain.DiagnosisRun.queue("r", Job, "live_data", {"seconds": 20}, "time", 30, NOW)
    run.take(NOW)
    run.contact(NOW + timedelta(seconds=12.4))
    assert not run.due(NOW + timedelta(seconds=15), RULES)
    assert run.due(NOW + timedelta(seconds=22.4), RULES)  # silent past the timeout
    time = Time()
    facts = run.watch(NOW + timedelta(seconds=23), RULES, time)
    assert run.state == "interrupted" and time.settled == [(30, 12)]
    assert facts[0].data["seconds_used"] == 12 and facts[0].data["outcome"] == "interrupted"
    with pytest.raises(Exception):
        run.contact(NOW + timedelta(seconds=24))  # a late word changes nothing
    capped = domain.DiagnosisRun.queue("r2", Job, "quick_test", {}, "time", 60, NOW)
    capped.take(NOW)
    time = Time()
    capped.finish("done", {}, None, NOW + timedelta(seconds=90), time)
    assert time.settled == [(60, 60)]  # never more than was reserved
    by_pass = domain.DiagnosisRun.queue("r3", Job, "quick_test", {}, "vin_pass", 0, NOW)
    by_pass.take(NOW)
    time = Time()
    assert by_pass.finish("done", {}, None, NOW + timedelta(seconds=5), time)[0].data["seconds_used"] == 0
    assert time.settled == []
    never = domain.DiagnosisRun.queue("r4", Job, "clear", {}, "time", 30, NOW)
    time = Time()
    never.watch(NOW + timedelta(seconds=domain.QUEUE_SECONDS), RULES, time)
    assert never.state == "cancelled" and time.settled == [(30, 0)]


def test_the_estimate_sums_labour_and_parts_with_the_workshops_vat():
    job = domain.JobCard.open("j", {"operator_id": "o", "user_id": "u"}, "WBA7K7109MW240891", "a", "shakes",
                              1000, 9500, "DE", [], NOW)
    nothing = {"hours": 0.0, "labour_rate_cents": 9500, "labour_net_cents": 0, "parts_net_cents": 0,
               "parts_unpriced": 0, "net_cents": 0, "vat_rate": "19", "vat_cents": 0, "gross_cents": 0}
    assert job.estimate() == nothing
    job.choose([{"document_id": "d1", "title": "Replace ignition coil", "hours": 1.3},
                {"document_id": "d2", "title": "Replace spark plug", "hours": 0.7}])
    assert job.estimate() == nothing | {"hours": 2.0, "labour_net_cents": 19000, "net_cents": 19000,
                                        "vat_cents": 3610, "gross_cents": 22610}
    # four coils as the parts catalogue priced them (its lines carry their own VAT), and a line it could not price
    job.priced({"lines": [{"number": "12138643360", "written": "12 13 8 643 360", "name": "Ignition coil",
                           "quantity": 4, "unit_net_cents": 5800, "net_cents": 23200, "vat_rate": "19",
                           "vat_cents": 4408, "gross_cents": 27608, "asked": "12 13 8 616 153"}]})
    job.unpriced([{"number": "12120037244", "quantity": 3, "document_id": "d2"}])
    assert job.parts[0]["asked_number"] == "12138616153"
    assert job.estimate() == nothing | {"hours": 2.0, "labour_net_cents": 19000, "parts_net_cents": 23200,
                                        "parts_unpriced": 1, "net_cents": 42200, "vat_cents": 3610 + 4408,
                                        "gross_cents": 22610 + 27608}
    assert job.brought([{"document_id": "d1", "parts": [{"number": "12138616153", "quantity": 1}]}]) == [], \
        "a part the job holds (by the number it was asked as) is not brought again"
    with pytest.raises(Exception) as refused:
        job.close("rec", "key", NOW)
    assert refused.value.code == "QUICK_TEST_FIRST"


def test_samples_only_for_live_data_and_labour_time_only_as_the_document_states_it():
    quick = domain.DiagnosisRun.queue("r", Job, "quick_test", {}, "time", 60, NOW)
    quick.take(NOW)
    with pytest.raises(Exception) as refused:
        quick.sampled([{"t": 0.0, "values": []}], NOW + timedelta(seconds=50))  # an agent keeping a clock going
    assert refused.value.code == "NOT_LIVE_DATA" and quick.last_contact_at == NOW
    document = {"id": "RI-1", "body": {"data": [{"item": "Labour time", "value": "1,3", "unit": "h"}]}}
    with pytest.raises(Exception) as unreadable:
        domain.labour_hours(document, "document_ids.0")
    assert unreadable.value.code == "NO_LABOUR_TIME"
    document["body"]["data"][0]["value"] = "1.3"
    assert domain.labour_hours(document, "document_ids.0") == 1.3
