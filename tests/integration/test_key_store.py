"""The KeyStore contract: every adapter must pass it (the HSM adapter of the SERMI work joins the params)."""
import os

import pytest

from services.programming.keys import KEY_BYTES, DerivedKeys
from simulator import doip

MASTER = b"contract-master-secret"


@pytest.fixture(params=["derived"])
def keys(request):
    return DerivedKeys(MASTER)


def test_a_seed_of_a_type_always_gets_the_same_key(keys):
    seed = bytes.fromhex("1a2b3c4d")
    key = keys.security_key("8612345", seed)
    assert len(key) == KEY_BYTES and keys.security_key("8612345", seed) == key


def test_a_key_of_one_type_or_seed_is_not_the_key_of_another(keys):
    seeds = [os.urandom(4) for _ in range(200)]
    engine = {keys.security_key("8612345", s) for s in seeds}
    gearbox = {keys.security_key("8698765", s) for s in seeds}
    assert len(engine) == len(seeds) and not engine & gearbox


def test_an_ecu_type_cannot_be_empty(keys):
    with pytest.raises(ValueError):
        keys.security_key("", b"\x01\x02\x03\x04")


def test_the_derived_keys_open_the_simulated_ecus_of_their_type_only():
    """The simulator provisions each ECU with its type's secret from the same master, as a factory would."""
    car = doip.Vehicle.demo("WBA7K7109MW240891", MASTER, [
        {"address": "0x12", "name": "DME", "hardware_part_number": "8612345", "software_version": "A"},
        {"address": "0x18", "name": "EGS", "hardware_part_number": "8698765", "software_version": "B"}])
    keys, dme = DerivedKeys(MASTER), car.ecus[0x12]
    assert dme.handle(bytes([0x10, 0x02]))[:2] == bytes([0x50, 0x02])
    seed = dme.handle(bytes([0x27, 0x11]))[2:]
    assert dme.handle(bytes([0x27, 0x12]) + keys.security_key("8698765", seed)) == bytes([0x7F, 0x27, 0x35])
    seed = dme.handle(bytes([0x27, 0x11]))[2:]
    assert dme.handle(bytes([0x27, 0x12]) + keys.security_key("8612345", seed)) == bytes([0x67, 0x12])
    with pytest.raises(ValueError):
        DerivedKeys(b"short")
