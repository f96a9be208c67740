"""DoIP (ISO 13400-2) as the car's entity must speak it: routing activation checked, every malformed header or
payload answered with its generic NACK (and the socket closed where the standard says so), functional
addressing, the alive check, the entity status, and vehicle identification over UDP."""
import socket
import struct
import time

from tests.conformance.tester import TESTER, VIN, DoIP, Probe, UDS, raw, uds_bytes


# ---- routing activation ----

def test_activation_answers_success_and_a_diagnostic_message_gets_its_ack_before_the_answer(routed):
    ack, answer = routed.uds(0x12, UDS(service=0x3E) / bytes([0x00]))
    assert ack.payload_type == 0x8002 and ack.ack_code == 0x00
    assert answer.payload_type == 0x8001 and uds_bytes(answer) == raw("7e00")


def test_an_unknown_source_address_is_refused_and_the_socket_closed(tester):
    answer = tester.activate(source=0x0001)
    assert answer.payload_type == 0x0006 and answer.routing_activation_response == 0x00
    assert tester.closed()


def test_an_unsupported_activation_type_is_refused(tester):
    answer = tester.activate(kind=0x02)
    assert answer.routing_activation_response == 0x06 and tester.closed()


def test_a_second_source_address_on_an_activated_socket_is_refused(routed):
    answer = routed.activate(source=0x0E81)
    assert answer.routing_activation_response == 0x02 and routed.closed()


def test_the_same_source_address_from_a_second_socket_waits_for_an_alive_check(car):
    _, port = car
    first, second = Probe(port), Probe(port)
    try:
        assert first.activate().routing_activation_response == 0x10
        second.send(DoIP(payload_type=0x0005, source_address=TESTER, activation_type=0))
        check = first.receive()
        assert check.payload_type == 0x0007  # the alive check request, to the socket that holds the address
        first.send(DoIP(payload_type=0x0008, source_address=TESTER))
        assert second.receive().routing_activation_response == 0x03  # registered and alive elsewhere
        assert second.closed()
        third = Probe(port)  # the first one falls silent: the address moves
        third.send(DoIP(payload_type=0x0005, source_address=TESTER, activation_type=0))
        assert first.receive().payload_type == 0x0007
        assert third.receive().routing_activation_response == 0x10
        assert first.closed()
        third.close()
    finally:
        first.close()
        second.close()


def test_a_socket_that_never_activates_is_closed_after_the_initial_inactivity(tester):
    started = time.monotonic()
    assert tester.closed(timeout=3.0)
    assert 0.8 < time.monotonic() - started < 2.5  # T_TCP_Initial_Inactivity: 1 s here


# ---- malformed messages ----

def test_payloads_too_short_for_their_type_get_nack_4_and_the_socket_closes(car):
    _, port = car
    for message in (raw("02fd0005 00000000"), raw("02fd0005 00000002 0e80"), raw("02fd8001 00000002 0e80")):
        tester = Probe(port)
        tester.send(message)
        nack = tester.receive()
        assert nack.payload_type == 0x0000 and nack.nack == 0x04, message.hex()
        assert tester.closed(), message.hex()


def test_a_diagnostic_message_without_uds_bytes_is_a_wrong_length(routed):
    routed.send(raw("02fd8001 00000004 0e80 0012"))
    nack = routed.receive()
    assert nack.payload_type == 0x0000 and nack.nack == 0x04 and routed.closed()


def test_a_wrong_protocol_version_or_inverse_gets_nack_0_and_closes(car):
    _, port = car
    for header in ("03fc8001", "02fc8001", "01fe8001"):
        tester = Probe(port)
        assert tester.activate().routing_activation_response == 0x10
        tester.send(raw(header + "00000007 0e80 0012 22f189"))
        nack = tester.receive()
        assert nack.payload_type == 0x0000 and nack.nack == 0x00, header
        assert tester.closed(), header


def test_an_alive_check_answer_of_the_wrong_length_is_a_wrong_length(routed):
    routed.send(raw("02fd0008 00000003 0e8000"))
    assert routed.receive().nack == 0x04 and routed.closed()


def test_a_message_too_large_is_discarded_and_the_socket_stays(routed):
    routed.send(raw("02fd8001") + struct.pack(">I", 5 * 1024 * 1024))
    nack = routed.receive()
    assert nack.payload_type == 0x0000 and nack.nack == 0x02
    routed.send(bytes(5 * 1024 * 1024))  # the announced payload, which the car drops
    ack, answer = routed.uds(0x12, UDS(service=0x3E) / bytes([0x00]))
    assert uds_bytes(answer) == raw("7e00")  # still served


def test_an_unknown_payload_type_gets_nack_1_and_the_socket_stays(routed):
    routed.send(raw("02fd 9999 00000000"))
    assert routed.receive().nack == 0x01
    assert uds_bytes(routed.uds(0x12, UDS(service=0x3E) / bytes([0x00]))[1]) == raw("7e00")


def test_a_diagnostic_message_before_activation_is_refused_and_closes(tester):
    nack, _ = tester.uds(0x12, UDS(service=0x3E) / bytes([0x00]))
    assert nack.payload_type == 0x8003 and nack.nack_code == 0x02 and tester.closed()


def test_an_unknown_target_gets_nack_3(routed):
    nack, _ = routed.uds(0x77, UDS(service=0x3E) / bytes([0x00]))
    assert nack.payload_type == 0x8003 and nack.nack_code == 0x03


# ---- functional addressing and the entity's status ----

def test_a_functionally_addressed_request_is_answered_by_every_ecu(car, routed):
    vehicle, _ = car
    routed.send(DoIP(payload_type=0x8001, source_address=TESTER, target_address=0xE400) / UDS(service=0x3E)
                / bytes([0x00]))
    assert routed.receive().payload_type == 0x8002
    answers = [routed.receive(0.5) for _ in vehicle.ecus]
    assert sorted(a.source_address for a in answers) == sorted(vehicle.ecus)
    assert all(uds_bytes(a) == raw("7e00") for a in answers)
    routed.send(DoIP(payload_type=0x8001, source_address=TESTER, target_address=0xE400) / raw("2e f1 90 00"))
    assert routed.receive().payload_type == 0x8002
    assert routed.receive(0.4) is None  # serviceNotSupported stays quiet when asked functionally


def test_the_entity_status_counts_the_open_sockets(car, routed):
    _, port = car
    other = Probe(port)
    try:
        routed.send(DoIP(payload_type=0x4001))
        status = routed.receive()
        assert status.payload_type == 0x4002 and status.cur_open_sockets == 2 and status.max_open_sockets == 4
    finally:
        other.close()


# ---- UDP ----

def udp(port, message, timeout=0.5):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(bytes(message), ("127.0.0.1", port))
        try:
            return DoIP(sock.recvfrom(4096)[0])
        except socket.timeout:
            return None


def test_vehicle_identification_answers_only_for_this_car(car):
    _, port = car
    assert udp(port, DoIP(payload_type=0x0001)).vin == VIN.encode()
    assert udp(port, DoIP(payload_type=0x0003, vin=VIN.encode())).logical_address == 0x1000
    assert udp(port, DoIP(payload_type=0x0003, vin=b"WBA00000000000000")) is None
    assert udp(port, DoIP(payload_type=0x0002, eid=b"\x00\x1a\x37\x00\x00\x01")).vin == VIN.encode()
    assert udp(port, DoIP(payload_type=0x0002, eid=b"\x00\x00\x00\x00\x00\x09")) is None


def test_udp_refuses_wrong_lengths_and_unknown_types_and_answers_status_and_power(car):
    _, port = car
    assert udp(port, raw("02fd0003 00000004 57424137")).nack == 0x04  # a VIN of 4 characters
    assert udp(port, raw("02fd 7777 00000000")).nack == 0x01
    assert udp(port, raw("02fd 0005 00000007 0e80 00 00000000")).nack == 0x01  # routing goes over TCP
    assert udp(port, DoIP(payload_type=0x4001)).payload_type == 0x4002
    power = udp(port, DoIP(payload_type=0x4003))
    assert power.payload_type == 0x4004 and power.diagnostic_power_mode == 0x01


def test_an_activated_socket_without_traffic_is_closed_after_the_general_inactivity(car):
    vehicle, port = car
    vehicle.timings = type(vehicle.timings)(initial_inactivity=1.0, general_inactivity=0.6, alive_check=0.3)
    tester = Probe(port)
    assert tester.activate().routing_activation_response == 0x10
    started = time.monotonic()
    assert tester.closed(timeout=3.0) and 0.4 < time.monotonic() - started < 2.0
