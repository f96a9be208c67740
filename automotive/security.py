"""The car's security rules, as the manufacturer provisions them: each ECU type (its hardware part number) has a
secret of its own; a seed's key and a secure gateway's unlock token are MACs with it. Which ECUs are
theft-relevant (SERMI, Regulation 2021/1244), which hold the car's keys, which is its secure gateway. The KeyStore
that holds the secrets is the server's (services.programming.keys); the simulated ECUs check with the same rules."""
import hashlib
import hmac

KEY_BYTES = 4
TOKEN_BYTES = 8
UNLOCK = b"aos-gateway-unlock\x00"  # what an unlock token signs, apart from a seed's key
PAIRING = b"aos-unit-pairing\x00"  # what a pairing token signs

SECURE_GATEWAYS = ("ZGW",)  # the central gateway: its diagnostic access opens only with a one-time unlock token
IMMOBILISERS = ("BDC", "CAS", "FEM", "EWS")  # the ECUs that hold a car's keys
# theft-relevant (SERMI): their security access needs a SERMI-authorised technician
THEFT_RELEVANT = IMMOBILISERS + ("DME", "DDE", "ELV")  # and engine control, steering lock


def seed_key(type_secret, seed):
    """What an ECU of a type accepts for its seed: HMAC-SHA256 of the seed with the type's secret, first 4 bytes."""
    return hmac.new(type_secret, seed, hashlib.sha256).digest()[:KEY_BYTES]


def unlock_message(vin, challenge):
    """What a secure-gateway unlock token answers: this car's gateway's one-time challenge."""
    return UNLOCK + vin.encode() + challenge


def unlock_token(type_secret, vin, challenge):
    """What a gateway of a type accepts for its challenge."""
    return hmac.new(type_secret, unlock_message(vin, challenge), hashlib.sha256).digest()[:TOKEN_BYTES]


def pairing_message(vin, challenge):
    """What a pairing token answers: a theft-relevant unit's one-time challenge, in this car."""
    return PAIRING + vin.encode() + challenge


def pairing_token(type_secret, vin, challenge):
    """What a theft-relevant unit of a type accepts to pair with car `vin`."""
    return hmac.new(type_secret, pairing_message(vin, challenge), hashlib.sha256).digest()[:TOKEN_BYTES]


def type_secret(master, ecu_type):
    """A type's secret derived from one master secret: HMAC-SHA256(master, "aos-ecu-type" NUL type). What the demo
    manufacturer provisions into every ECU of the type (and the server's DerivedKeys holds)."""
    if len(master) < 8:
        raise ValueError("the master secret needs 8 bytes or more")
    if not ecu_type:
        raise ValueError("an ECU type is its hardware part number: it cannot be empty")
    return hmac.new(master, b"aos-ecu-type\x00" + ecu_type.encode(), hashlib.sha256).digest()


def family(ecu_name):
    """The ECU family of a registry name ("DME (engine control)" -> "DME")."""
    return ecu_name.split(" ")[0]


def is_secure_gateway(ecu_name):
    return family(ecu_name) in SECURE_GATEWAYS


def is_theft_relevant(ecu_name):
    return family(ecu_name) in THEFT_RELEVANT


def immobiliser(ecus):
    """The car's ECU that holds its keys, or None."""
    return next((e for e in ecus if family(e["name"]) in IMMOBILISERS), None)
