"""Flashing an ECU on the vehicle simulator over real TCP: the UDS sequence, resume after a restart, and every
fault the simulator can be told to make, each ending in a clear cause and an ECU that can be flashed again."""
import os
import socket
import struct
import time

import pytest

from agent.flash import Ecu, Failure
from deploy import software
from automotive import manifest
from simulator import doip
from services.programming.keys import DerivedKeys
from automotive.uds import MIN_PROGRAMMING_VOLTAGE_MV

VIN = "WBA7K7109MW240891"
SECRET = b"demo-ecu-secret"
OLD, NEW = "G20-21-07-550.12", "G20-24-03-560.12"
PLAN = [{"address": "0x12", "name": "DME (engine control)", "hardware_part_number": "8612345",
         "software_version": OLD},
        {"address": "0x18", "name": "EGS (transmission control)", "hardware_part_number": "8698765",
         "software_version": "G20-21-07-550.18"}]
IMAGE = os.urandom(300_000)


TYPES = {int(e["address"], 16): e["hardware_part_number"] for e in PLAN}


def key_for(address, level, seed):
    """What programming's key store answers: the key of the ECU's type."""
    return DerivedKeys(SECRET).security_key(TYPES[address], seed)


@pytest.fixture
def car():
    vehicle = doip.Vehicle.demo(VIN, SECRET, PLAN)
    with doip.Simulator(vehicle) as simulator:
        yield vehicle, simulator.port


def flash(port, image=IMAGE, version=NEW, key=key_for, timeout=3):
    with Ecu("127.0.0.1", port, 0x12, key, timeout=timeout) as ecu:
        return ecu.flash(image, version)


def identification(port, address=0x12):
    with Ecu("127.0.0.1", port, address, key_for) as ecu:
        return ecu.identification()


def test_an_ecu_is_flashed_and_reads_back_the_new_version(car):
    vehicle, port = car
    progress = []
    with Ecu("127.0.0.1", port, 0x12, key_for) as ecu:
        before = ecu.identification()
        result = ecu.flash(IMAGE, NEW, progress=lambda done, total: progress.append((done, total)))
    assert before == {"software_version": OLD, "hardware_part_number": "8612345", "state": "APPLICATION",
                      "voltage_mv": 12600}
    assert (result.version_before, result.version_after, result.bytes) == (OLD, NEW, len(IMAGE))
    assert progress[-1] == (len(IMAGE), len(IMAGE)) and len(progress) == -(-len(IMAGE) // 0xFFFD)
    assert identification(port)["software_version"] == NEW and vehicle.ecus[0x12].flashes == 1
    assert identification(port, 0x18)["software_version"] == "G20-21-07-550.18"  # the other ECU untouched
    # a job that resumes finds the ECU at its target: nothing is written twice
    assert flash(port).skipped and vehicle.ecus[0x12].flashes == 1


def test_a_wrong_key_is_refused_and_three_lock_the_ecu(car):
    vehicle, port = car
    for attempt in range(3):
        with pytest.raises(Failure) as failed:
            flash(port, key=lambda address, level, seed: b"\x00\x00\x00\x00")
        assert failed.value.step == "security access" and failed.value.cause == "refused"
    assert "0x36" in failed.value.detail  # exceeded number of attempts
    assert identification(port)["state"] == "APPLICATION"  # nothing was erased


def test_a_weak_battery_stops_before_anything_is_erased(car):
    vehicle, port = car
    vehicle.set_voltage(MIN_PROGRAMMING_VOLTAGE_MV - 600)
    with pytest.raises(Failure) as failed:
        flash(port)
    assert failed.value.cause == "low_voltage" and "11.6 V" in failed.value.detail
    assert identification(port)["software_version"] == OLD


def test_power_lost_mid_transfer_leaves_the_bootloader_and_a_second_run_finishes(car):
    vehicle, port = car
    vehicle.ecus[0x12].faults.power_loss_at_block = 3
    with pytest.raises(Failure) as failed:
        flash(port)
    assert failed.value.step == "transfer data (block 3)" and failed.value.cause == "connection_lost"
    assert identification(port) | {"voltage_mv": None} == {"software_version": "BOOTLOADER", "state": "BOOTLOADER",
                                                            "hardware_part_number": "8612345", "voltage_mv": None}
    result = flash(port)
    assert result.version_before == "BOOTLOADER" and result.version_after == NEW


def test_a_dropped_connection_is_named_and_the_flash_can_be_repeated(car):
    vehicle, port = car
    vehicle.ecus[0x12].faults.drop_at_block = 2
    with pytest.raises(Failure) as failed:
        flash(port)
    assert failed.value.cause == "connection_lost"
    assert flash(port).version_after == NEW


def test_a_corrupted_block_fails_the_check_and_the_old_software_does_not_come_back_half_written(car):
    vehicle, port = car
    vehicle.ecus[0x12].faults.corrupt_block = 2
    with pytest.raises(Failure) as failed:
        flash(port)
    assert failed.value.step == "check" and failed.value.cause == "verification_failed"
    assert identification(port)["state"] == "BOOTLOADER"
    assert flash(port).version_after == NEW


def test_a_refused_request_names_the_step_and_the_negative_response(car):
    vehicle, port = car
    vehicle.ecus[0x12].faults.refuse.add(0x34)
    with pytest.raises(Failure) as failed:
        flash(port)
    assert failed.value.step == "request download" and "0x22" in failed.value.detail


def test_uds_rules_of_the_simulated_ecu():
    ecu = doip.Vehicle.demo(VIN, SECRET, PLAN).ecus[0x12]
    assert ecu.handle(bytes([0x27, 0x11])) == bytes([0x7F, 0x27, 0x7F])  # security only in programming
    assert ecu.handle(bytes([0x34, 0x00, 0x44]) + bytes(8)) == bytes([0x7F, 0x34, 0x7F])  # not in this session
    assert ecu.handle(bytes([0x10, 0x03]))[:2] == bytes([0x50, 0x03])
    assert ecu.handle(bytes([0x34, 0x00, 0x44]) + bytes(8)) == bytes([0x7F, 0x34, 0x33])  # locked
    assert ecu.handle(bytes([0x99])) == bytes([0x7F, 0x99, 0x11])
    assert ecu.handle(bytes([0x10, 0x02]))[:2] == bytes([0x50, 0x02])
    seed = ecu.handle(bytes([0x27, 0x11]))[2:]
    assert ecu.handle(bytes([0x27, 0x12]) + key_for(0x12, 0x12, seed)) == bytes([0x67, 0x12])
    assert ecu.handle(bytes([0x34, 0x00, 0x44]) + bytes(4) + struct.pack(">I", 10)) == bytes([0x7F, 0x34, 0x22])
    assert ecu.handle(bytes([0x31, 0x01, 0xFF, 0x00]))[:2] == bytes([0x71, 0x01])  # erased
    assert ecu.handle(bytes([0x34, 0x00, 0x44]) + bytes(4) + struct.pack(">I", 10))[0] == 0x74
    assert ecu.handle(bytes([0x36, 0x02]) + bytes(5)) == bytes([0x7F, 0x36, 0x73])  # block 1 comes first
    assert ecu.handle(bytes([0x36, 0x01]) + bytes(5)) == bytes([0x76, 0x01])
    assert ecu.handle(bytes([0x36, 0x01]) + bytes(5)) == bytes([0x76, 0x01])  # a repeat is taken once
    assert ecu.handle(bytes([0x37])) == bytes([0x7F, 0x37, 0x24])  # 5 of 10 bytes: not done
    assert ecu.handle(bytes([0x36, 0x02]) + bytes(6)) == bytes([0x7F, 0x36, 0x71])  # more than announced


def test_doip_routing_activation_first_unknown_targets_refused_and_identification_by_udp(car):
    vehicle, port = car
    with socket.create_connection(("127.0.0.1", port), timeout=5) as tester:
        tester.sendall(doip.frame(doip.DIAGNOSTIC, struct.pack(">HH", 0x0E80, 0x12) + b"\x22\xf1\x89"))
        header = tester.recv(8)
        assert doip.HEADER.unpack(header)[2] == doip.DIAGNOSTIC_NACK
        assert tester.recv(5)[4] == 0x02  # invalid source address: not activated, and the socket closes
        assert tester.recv(8) == b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as tester:
        tester.sendall(doip.frame(doip.ACTIVATE, struct.pack(">HBI", 0x0E80, 0, 0)))
        assert doip.HEADER.unpack(tester.recv(8))[2] == doip.ACTIVATED and tester.recv(9)[4] == 0x10
        tester.sendall(doip.frame(doip.DIAGNOSTIC, struct.pack(">HH", 0x0E80, 0x77) + b"\x22\xf1\x89"))
        assert doip.HEADER.unpack(tester.recv(8))[2] == doip.DIAGNOSTIC_NACK and tester.recv(5)[4] == 0x03
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(5)
        udp.sendto(doip.frame(doip.IDENTIFY), ("127.0.0.1", port))
        answer, _ = udp.recvfrom(1024)
        assert doip.HEADER.unpack_from(answer)[2] == doip.ANNOUNCEMENT and answer[8:25] == VIN.encode()


def test_only_a_genuine_signed_file_passes():
    key = software.new_key()
    public = manifest.load_public(software.public_pem(key))
    described = manifest.describe(IMAGE, "0x12", ["8612345"], NEW, "G20-24-03-560")
    signature = software.sign(key, described)
    manifest.verify(public, described, signature, IMAGE)
    with pytest.raises(manifest.NotGenuine) as changed:
        manifest.verify(public, described, signature, IMAGE[:-1] + bytes([IMAGE[-1] ^ 1]))
    assert changed.value.what == "sha256"
    with pytest.raises(manifest.NotGenuine) as other_version:
        manifest.verify(public, dict(described, software_version="G20-99"), signature, IMAGE)
    assert other_version.value.what == "signature"
    with pytest.raises(manifest.NotGenuine):
        manifest.verify(manifest.load_public(software.public_pem(software.new_key())), described, signature, IMAGE)


def test_the_agent_waits_out_an_ecu_still_locked_after_wrong_keys_and_flashes(car):
    vehicle, port = car
    ecu = vehicle.ecus[0x12]
    ecu.timings = type(ecu.timings)(security_delay=1.5)
    ecu.handle(bytes([0x10, 0x02]))
    for _ in range(3):  # someone else's three wrong keys
        ecu.handle(bytes([0x27, 0x11]))
        ecu.handle(bytes([0x27, 0x12, 0, 0, 0, 0]))
    assert ecu.handle(bytes([0x27, 0x11])) == bytes([0x7F, 0x27, 0x37])
    started = time.monotonic()
    with Ecu("127.0.0.1", port, 0x12, key_for, timeout=3, security_delay=1.6) as agent_ecu:
        result = agent_ecu.flash(IMAGE, NEW)
    assert time.monotonic() - started > 1.0  # it waited for the lock to open instead of failing
    assert result.version_after == NEW and ecu.software_version == NEW
