"""The KeyStore port: security-access keys for ECUs, one secret per ECU type, the secrets never leaving it.

An ECU type is its hardware part number: every ECU of a type shares the manufacturer's secret for it, so a key
answered for one type opens no other. The audit and SERMI work puts the secrets in an HSM (PKCS#11); until then
`DerivedKeys` derives each type's secret from one master secret that only programming holds."""
import hashlib
import hmac

KEY_BYTES = 4
TOKEN_BYTES = 8
UNLOCK = b"aos-gateway-unlock\x00"  # what an unlock token signs, apart from a seed's key


def seed_key(type_secret, seed):
    """What an ECU of a type accepts for its seed: HMAC-SHA256 of the seed with the type's secret, first 4 bytes.
    The simulated ECUs (simulator/ecu.py) check keys with this same rule."""
    return hmac.new(type_secret, seed, hashlib.sha256).digest()[:KEY_BYTES]


def unlock_message(vin, challenge):
    """What a secure-gateway unlock token answers: this car's gateway's one-time challenge."""
    return UNLOCK + vin.encode() + challenge


def unlock_token(type_secret, vin, challenge):
    """What a gateway of a type accepts for its challenge (the simulated gateway checks with this rule)."""
    return hmac.new(type_secret, unlock_message(vin, challenge), hashlib.sha256).digest()[:TOKEN_BYTES]


class KeyStore:
    def mac(self, ecu_type, data):
        """HMAC-SHA256 of `data` with the secret of ECU type `ecu_type` (its hardware part number)."""
        raise NotImplementedError

    def security_key(self, ecu_type, seed):
        """The key for `seed` of an ECU of `ecu_type`."""
        return self.mac(ecu_type, seed)[:KEY_BYTES]

    def unlock_token(self, ecu_type, vin, challenge):
        """The one-time token that unlocks a secure gateway of `ecu_type` in car `vin` for its `challenge`."""
        return self.mac(ecu_type, unlock_message(vin, challenge))[:TOKEN_BYTES]


class DerivedKeys(KeyStore):
    """Each type's secret is HMAC-SHA256(master, "aos-ecu-type" NUL type): one master secret, a secret per type."""

    def __init__(self, master):
        if len(master) < 8:
            raise ValueError("the master secret needs 8 bytes or more")
        self._master = master

    def type_secret(self, ecu_type):
        """The secret the manufacturer provisions into every ECU of this type (the simulator's cars use it)."""
        if not ecu_type:
            raise ValueError("an ECU type is its hardware part number: it cannot be empty")
        return hmac.new(self._master, b"aos-ecu-type\x00" + ecu_type.encode(), hashlib.sha256).digest()

    def mac(self, ecu_type, data):
        return hmac.new(self.type_secret(ecu_type), data, hashlib.sha256).digest()
