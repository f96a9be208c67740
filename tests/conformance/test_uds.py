"""UDS (ISO 14229-1) as the car's ECUs must answer it: the order of the checks (service, session, length,
sub-function), suppressPosRspMsgIndicationBit, security access with its delay timer that no session change or
reset walks around, ReadDataByIdentifier answering what it has, and the download services only where and as
they can work. Raw requests through scapy; the happy path through udsoncan's client as well."""
import time

import pytest
import udsoncan
from doipclient import DoIPClient
from doipclient.connectors import DoIPClientUDSConnector
from udsoncan.client import Client
from udsoncan.exceptions import NegativeResponseException

from services.programming.keys import DerivedKeys
from tests.conformance.tester import SECRET, SECURITY_DELAY, TESTER, VIN, UDS, raw, uds_bytes


def dme_key(seed):
    """The DME's key for a seed (0x12, hardware 8612345), as programming's key store answers it."""
    return DerivedKeys(SECRET).security_key("8612345", seed)


def ask(routed, request, target=0x12):
    """The ECU's UDS answer to raw request bytes; None when it sends no answer (but the ACK came)."""
    ack, answer = routed.uds(target, UDS(raw(request)) if isinstance(request, str) else request)
    assert ack.payload_type == 0x8002, request
    return uds_bytes(answer) if answer is not None else None


def programming(routed):
    assert ask(routed, "10 02")[:2] == raw("5002")


def unlock(routed):
    programming(routed)
    seed = ask(routed, "27 11")[2:]
    assert ask(routed, raw("27 12") + dme_key(seed)) == raw("6712")


# ---- suppressPosRspMsgIndicationBit ----

def test_the_suppress_bit_silences_the_positive_answer_of_a_session_change(routed):
    assert ask(routed, "10 83") is None
    assert ask(routed, "22 f1 86") == raw("62 f1 86 03")  # it happened: the extended session


def test_the_suppress_bit_silences_the_positive_answer_of_a_reset_and_of_a_routine(routed):
    unlock(routed)
    assert ask(routed, "31 81 ff 00") is None  # the erase routine ran, silently
    assert ask(routed, "22 dd 10") == raw("62 dd 10") + b"BOOTLOADER"
    assert ask(routed, "11 81") is None
    assert ask(routed, "22 f1 86") == raw("62 f1 86 01")  # reset: back in the default session


def test_the_suppress_bit_never_silences_a_negative_answer(routed):
    assert ask(routed, "11 85") == raw("7f 11 12")


# ---- the order of the checks ----

@pytest.mark.parametrize("request_, answer", [
    ("3e", "7f 3e 13"), ("11 01 00", "7f 11 13"), ("10", "7f 10 13"), ("10 02 00", "7f 10 13"),
    ("31 01 ff", "7f 31 13"), ("22", "7f 22 13"), ("22 f1", "7f 22 13"),
    ("10 07", "7f 10 12"), ("3e 01", "7f 3e 12"), ("11 02", "7f 11 12"),
    ("34 00 44", "7f 34 7f"), ("36 01", "7f 36 7f"), ("37", "7f 37 7f"), ("27 11", "7f 27 7f"),
])
def test_length_comes_before_the_sub_function_and_the_session_before_both(routed, request_, answer):
    assert ask(routed, request_) == raw(answer)


def test_every_service_the_ecu_does_not_offer_is_not_supported(routed):
    offered = {0x10, 0x11, 0x22, 0x27, 0x2E, 0x31, 0x34, 0x36, 0x37, 0x3E}  # 0x2E: the immobiliser's keys
    for sid in range(0x00, 0x100):
        if sid in offered or 0x40 <= sid < 0x80 or sid >= 0xC0 or sid == 0x7F:
            continue  # positive answers' and reserved identifiers are no requests
        assert ask(routed, bytes([sid, 0x00])) == bytes([0x7F, sid, 0x11]), hex(sid)


# ---- security access ----

def test_attempts_exceeded_starts_a_delay_that_no_session_change_or_reset_walks_around(routed):
    programming(routed)
    answers = []
    for _ in range(3):
        seed = ask(routed, "27 11")
        assert seed[:2] == raw("6711")
        answers.append(ask(routed, "27 12 00 00 00 00")[2])
    assert answers == [0x35, 0x35, 0x36]  # invalidKey twice, then exceededNumberOfAttempts
    assert ask(routed, "27 11") == raw("7f 27 37")  # requiredTimeDelayNotExpired
    ask(routed, "10 01")
    programming(routed)
    assert ask(routed, "27 11") == raw("7f 27 37")  # a new session: still waiting
    assert ask(routed, "11 01") == raw("51 01")
    programming(routed)
    assert ask(routed, "27 11") == raw("7f 27 37")  # a reset: still waiting
    time.sleep(SECURITY_DELAY + 0.1)
    seed = ask(routed, "27 11")[2:]
    assert ask(routed, raw("27 12") + dme_key(seed)) == raw("6712")  # the delay is over


# ---- data identifiers and downloads ----

def test_reading_several_identifiers_answers_those_the_ecu_has(routed):
    assert ask(routed, "22 f1 90 12 34 f1 86") == raw("62 f1 90") + VIN.encode() + raw("f1 86 01")
    assert ask(routed, "22 12 34 56 78") == raw("7f 22 31")  # none of them: out of range


def test_a_compressed_or_encrypted_download_is_refused(routed):
    unlock(routed)
    assert ask(routed, "31 01 ff 00")[:2] == raw("7101")
    assert ask(routed, "34 11 44 00000000 00000010") == raw("7f 34 31")
    assert ask(routed, "34 00 44 00000000 00000010")[0] == 0x74


def test_the_session_answer_carries_the_ecus_timing(routed):
    assert ask(routed, "10 03") == raw("50 03 0028 012c")  # P2 40 ms, P2* 3 s in units of 10 ms


# ---- the happy path, through udsoncan's client ----

def test_a_standard_client_reads_switches_and_unlocks(car):
    _, port = car
    doip = DoIPClient("127.0.0.1", 0x12, tcp_port=port, client_logical_address=TESTER)
    config = dict(udsoncan.configs.default_client_config, data_identifiers={0xF190: udsoncan.AsciiCodec(17)},
                  security_algo=lambda level, seed, params: dme_key(bytes(seed)))
    with Client(DoIPClientUDSConnector(doip), config=config) as client:
        assert client.read_data_by_identifier_first(0xF190) == VIN
        answer = client.change_session(2)
        assert answer.service_data.p2_server_max == 0.04 and answer.service_data.p2_star_server_max == 3.0
        client.unlock_security_access(0x11)
        client.tester_present()
        with pytest.raises(NegativeResponseException) as refused:
            client.ecu_reset(0x02)
        assert refused.value.response.code == 0x12
    doip.close()


def test_a_session_falls_back_to_default_after_s3_without_requests(car, routed):
    vehicle, _ = car
    vehicle.ecus[0x12].timings = type(vehicle.ecus[0x12].timings)(s3=0.5)
    unlock(routed)
    assert ask(routed, "22 f1 86") == raw("62 f1 86 02")
    time.sleep(0.7)
    assert ask(routed, "22 f1 86") == raw("62 f1 86 01")  # S3server ran out: default session, locked
    assert ask(routed, "31 01 ff 00") == raw("7f 31 33")
