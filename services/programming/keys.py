"""The KeyStore port: security-access keys for ECUs, one secret per ECU type, the secrets never leaving it.

An ECU type is its hardware part number: every ECU of a type shares the manufacturer's secret for it, so a key
answered for one type opens no other (the rules: automotive.security). `Hsm` (services.programming.hsm) holds the
secrets in an HSM over PKCS#11; `DerivedKeys` derives each type's secret from one master secret that only
programming holds."""
import hmac
import hashlib

from automotive.security import KEY_BYTES, TOKEN_BYTES, pairing_message, type_secret, unlock_message


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

    def pairing_token(self, ecu_type, vin, challenge):
        """The one-time token that pairs a theft-relevant unit of `ecu_type` with car `vin` for its `challenge`."""
        return self.mac(ecu_type, pairing_message(vin, challenge))[:TOKEN_BYTES]


class DerivedKeys(KeyStore):
    """Each type's secret is automotive.security.type_secret of one master secret."""

    def __init__(self, master):
        if len(master) < 8:
            raise ValueError("the master secret needs 8 bytes or more")
        self._master = master

    def type_secret(self, ecu_type):
        """The secret the manufacturer provisions into every ECU of this type (the simulator's cars use it)."""
        return type_secret(self._master, ecu_type)

    def mac(self, ecu_type, data):
        return hmac.new(self.type_secret(ecu_type), data, hashlib.sha256).digest()
