"""The KeyStore contract: every adapter passes it, the derived secrets and the HSM (SoftHSM2 over PKCS#11, the
type secrets provisioned as the factory put them into the cars)."""
import os

import pytest

from services.programming.hsm import HsmKeys
from services.programming.keys import KEY_BYTES, DerivedKeys
from services.shared.errors import NotFound, Unavailable
from simulator import doip

MASTER = b"contract-master-secret"
TYPES = ("8612345", "8698765")


@pytest.fixture(params=["derived", "hsm"])
def keys(request):
    if request.param == "derived":
        return DerivedKeys(MASTER)
    return provisioned(request.getfixturevalue("softhsm"))


def provisioned(softhsm):
    store = HsmKeys(softhsm["AOS_HSM_MODULE"], softhsm["AOS_HSM_TOKEN_LABEL"], softhsm["AOS_HSM_PIN"])
    for ecu_type in TYPES:
        store.provision(ecu_type, DerivedKeys(MASTER).type_secret(ecu_type))
    return store


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


def test_the_keys_open_the_simulated_ecus_of_their_type_only(keys):
    """The simulator provisions each ECU with its type's secret from the same master, as a factory would."""
    car = doip.Vehicle.demo("WBA7K7109MW240891", MASTER, [
        {"address": "0x12", "name": "DME", "hardware_part_number": "8612345", "software_version": "A"},
        {"address": "0x18", "name": "EGS", "hardware_part_number": "8698765", "software_version": "B"}])
    dme = car.ecus[0x12]
    assert dme.handle(bytes([0x10, 0x02]))[:2] == bytes([0x50, 0x02])
    seed = dme.handle(bytes([0x27, 0x11]))[2:]
    assert dme.handle(bytes([0x27, 0x12]) + keys.security_key("8698765", seed)) == bytes([0x7F, 0x27, 0x35])
    seed = dme.handle(bytes([0x27, 0x11]))[2:]
    assert dme.handle(bytes([0x27, 0x12]) + keys.security_key("8612345", seed)) == bytes([0x67, 0x12])


def test_a_master_secret_too_short_is_refused():
    with pytest.raises(ValueError):
        DerivedKeys(b"short")


def test_the_hsm_keeps_the_secrets_and_says_what_it_lacks_or_that_it_is_gone(softhsm):
    import pkcs11
    from pkcs11 import Attribute
    store = provisioned(softhsm)
    assert store.provision(TYPES[0], b"another secret") is False, "a type's secret is imported once"
    key = store._call(lambda session: session.get_key(label="ecu-type:" + TYPES[0]))
    with pytest.raises(pkcs11.PKCS11Error):  # sensitive and not extractable: the secret cannot be read out
        key[Attribute.VALUE]
    with pytest.raises(NotFound):
        store.security_key("0000000", b"\x01\x02\x03\x04")
    gone = HsmKeys(softhsm["AOS_HSM_MODULE"], "no-such-token", softhsm["AOS_HSM_PIN"])
    with pytest.raises(Unavailable):
        gone.security_key(TYPES[0], b"\x01\x02\x03\x04")


def test_an_unlock_token_opens_its_car_s_gateway_once_for_its_challenge(keys):
    """A secure gateway's one-time challenge, answered with the token the key store makes for that car."""
    plan = [{"address": "0x10", "name": "ZGW", "hardware_part_number": "8612345", "software_version": "A"}]
    car, other = (doip.Vehicle.demo(vin, MASTER, plan) for vin in ("WBA7K7109MW240891", "WBA8E9C50GK643215"))
    gateway = car.ecus[0x10]
    challenge = gateway.handle(bytes([0x31, 0x01, 0x0F, 0x10]))[4:]
    token = keys.unlock_token("8612345", car.vin, challenge)
    assert len(challenge) == 8 and len(token) == 8
    assert keys.unlock_token("8612345", other.vin, challenge) != token, "bound to the car"
    assert gateway.handle(bytes([0x31, 0x01, 0x0F, 0x11]) + token) == bytes([0x71, 0x01, 0x0F, 0x11, 0x00])
    assert gateway.gateway_unlocked
    assert gateway.handle(bytes([0x31, 0x01, 0x0F, 0x11]) + token) == bytes([0x7F, 0x31, 0x35]), "once"


def test_the_catalogue_s_signing_key_signs_in_the_hsm_and_never_leaves_it(softhsm, tmp_path):
    """The manufacturer's Ed25519 key on the token: a catalogue signed with it passes programming's import, which
    checks every manifest against the public half; the private half cannot be read out."""
    import pkcs11
    from pkcs11 import Attribute, ObjectClass

    from deploy import software, vehicles
    from automotive import manifest
    from services.programming import catalog
    from services.programming.hsm import HsmSigningKey
    store = HsmKeys(softhsm["AOS_HSM_MODULE"], softhsm["AOS_HSM_TOKEN_LABEL"], softhsm["AOS_HSM_PIN"])
    key = HsmSigningKey(store, "catalogue-signing")
    cars = vehicles.generate(1, seed=3)["vehicles"]
    software.generate(tmp_path / "software", key, cars, image_bytes=4096)
    public = manifest.load_public(software.public_pem(key))
    assert len(catalog.check(tmp_path / "software", public)) == len(cars[0]["ecus"]), "every manifest verifies"
    private = store._call(lambda session: next(iter(session.get_objects({
        Attribute.LABEL: "catalogue-signing", Attribute.CLASS: ObjectClass.PRIVATE_KEY}))))
    with pytest.raises(pkcs11.PKCS11Error):
        private[Attribute.VALUE]
    assert HsmSigningKey(store, "catalogue-signing").public_key().public_bytes_raw() == key.public_key().public_bytes_raw()


def test_a_pairing_token_pairs_its_car_s_new_unit_for_its_challenge_once(keys):
    """A theft-relevant replacement's one-time challenge, answered with the token the key store makes for that car
    (every adapter: the derived secrets and the HSM)."""
    plan = [{"address": "0x12", "name": "DME", "hardware_part_number": "8612345", "software_version": "A"}]
    car = doip.Vehicle.demo("WBA7K7109MW240891", MASTER, plan)
    unit = car.swap(0x12)
    unit.vin = car.vin  # the restore wrote the car's VIN
    challenge = unit.handle(bytes([0x31, 0x01, 0x0F, 0x20]))[4:]
    token = keys.pairing_token("8612345", car.vin, challenge)
    assert len(token) == 8 and keys.pairing_token("8612345", "WBA8E9C50GK643215", challenge) != token
    assert keys.pairing_token("8612345", car.vin, challenge) != keys.unlock_token("8612345", car.vin, challenge)
    assert unit.handle(bytes([0x31, 0x01, 0x0F, 0x21]) + token) == bytes([0x71, 0x01, 0x0F, 0x21, 0x00])
    assert unit.paired
    assert unit.handle(bytes([0x31, 0x01, 0x0F, 0x21]) + token) == bytes([0x7F, 0x31, 0x35]), "once"
