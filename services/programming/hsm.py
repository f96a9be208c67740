"""The KeyStore in a hardware security module, through PKCS#11: each ECU type's secret is a generic secret key on
the token (label `ecu-type:<hardware part number>`), sensitive and not extractable, so a key for a seed is an
HMAC-SHA256 the HSM computes and the secret itself never leaves it. SoftHSM2 serves `make run` and the tests;
production points AOS_HSM_MODULE at its network HSM's PKCS#11 library.

The type secrets come in once, at the manufacturer's key ceremony (here: `python -m services.programming.hsm
provision <type> ...`, which imports the demo fleet's secrets as the factory provisioned them into its cars).
An HSM that does not answer makes security access answer 503; nothing else of programming needs it. The
software catalogue's signing key (the manufacturer's, played by `make run`) can sit on the token too
(HsmSigningKey)."""
import argparse
import os
import sys
import threading

from services.programming.keys import DerivedKeys, KeyStore
from services.shared.errors import NotFound, Unavailable

LABEL = "ecu-type:{}"


class HsmKeys(KeyStore):
    """One logged-in session to the token, opened on first use and again after the HSM was gone."""

    def __init__(self, module, token_label, pin):
        self._module, self._token_label, self._pin = module, token_label, pin
        self._session, self._keys = None, {}
        self._lock = threading.Lock()  # one PKCS#11 operation at a time on the session

    def _open(self):
        import pkcs11
        token = pkcs11.lib(self._module).get_token(token_label=self._token_label)
        try:
            return token.open(user_pin=self._pin, rw=True)
        except pkcs11.UserAlreadyLoggedIn:  # a login is the process's, not a session's: this one shares it
            return token.open(rw=True)

    def _call(self, operation):
        import pkcs11
        with self._lock:
            try:
                if self._session is None:
                    self._session = self._open()
                return operation(self._session)
            except (pkcs11.PKCS11Error, OSError, RuntimeError) as exc:
                if isinstance(exc, pkcs11.NoSuchKey):
                    raise
                self._session, self._keys = None, {}
                raise Unavailable("HSM_UNAVAILABLE", "The key store (HSM) is not answering; security access is "
                                  "paused, everything else works. Please try again shortly.") from exc

    def mac(self, ecu_type, data):
        import pkcs11
        from pkcs11 import KeyType, Mechanism, ObjectClass
        if not ecu_type:
            raise ValueError("an ECU type is its hardware part number: it cannot be empty")

        def sign(session):
            key = self._keys.get(ecu_type)
            if key is None:
                key = self._keys[ecu_type] = session.get_key(object_class=ObjectClass.SECRET_KEY,
                                                             key_type=KeyType.GENERIC_SECRET,
                                                             label=LABEL.format(ecu_type))
            return key.sign(data, mechanism=Mechanism.SHA256_HMAC)
        try:
            return self._call(sign)
        except pkcs11.NoSuchKey:
            raise NotFound("ECU_TYPE_UNKNOWN", f"The key store holds no secret for ECU type {ecu_type}.",
                           {"ecu_type": ecu_type})

    def provision(self, ecu_type, secret):
        """Import a type's secret once (the key ceremony): afterwards it can be used, never read."""
        from pkcs11 import Attribute, KeyType, ObjectClass

        def create(session):
            label = LABEL.format(ecu_type)
            if list(session.get_objects({Attribute.LABEL: label})):
                return False
            session.create_object({
                Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.GENERIC_SECRET,
                Attribute.VALUE: secret, Attribute.LABEL: label, Attribute.TOKEN: True, Attribute.PRIVATE: True,
                Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.SIGN: True,
                Attribute.VERIFY: True})
            return True
        return self._call(create)


class HsmSigningKey:
    """An Ed25519 key on the token (the software catalogue's signing key): it signs there, only its public half
    ever leaves. Duck-types the private key `deploy.software` signs manifests with."""

    def __init__(self, keys, label):
        self._keys, self._label = keys, label

    def _pair(self, session):
        from pkcs11 import Attribute, KeyType, ObjectClass
        from pkcs11.util.ec import encode_named_curve_parameters
        found = list(session.get_objects({Attribute.LABEL: self._label, Attribute.CLASS: ObjectClass.PRIVATE_KEY}))
        if not found:
            params = session.create_domain_parameters(KeyType.EC_EDWARDS, {
                Attribute.EC_PARAMS: encode_named_curve_parameters(ED25519_OID)}, local=True)
            params.generate_keypair(store=True, label=self._label, private_template={
                Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False})
            found = list(session.get_objects({Attribute.LABEL: self._label, Attribute.CLASS: ObjectClass.PRIVATE_KEY}))
        public = next(iter(session.get_objects({Attribute.LABEL: self._label,
                                                Attribute.CLASS: ObjectClass.PUBLIC_KEY})))
        return found[0], public

    def sign(self, data):
        from pkcs11 import Mechanism
        return self._keys._call(lambda session: self._pair(session)[0].sign(data, mechanism=Mechanism.EDDSA))

    def public_key(self):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        from pkcs11 import Attribute
        point = self._keys._call(lambda session: self._pair(session)[1][Attribute.EC_POINT])
        return Ed25519PublicKey.from_public_bytes(point[-32:])  # the DER OCTET STRING's 32 bytes


ED25519_OID = "1.3.101.112"


def from_settings(settings):
    """The HSM when AOS_HSM_MODULE names one, else the secrets derived from AOS_ECU_SECRET."""
    if settings.hsm_module:
        return HsmKeys(settings.hsm_module, settings.hsm_token_label, settings.hsm_pin)
    return DerivedKeys(settings.ecu_secret)


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m services.programming.hsm", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["provision"])
    parser.add_argument("ecu_types", nargs="+", help="hardware part numbers")
    opts = parser.parse_args(argv)
    from services.programming.settings import ProgrammingSettings
    from services.shared import config
    settings = config.build(ProgrammingSettings, os.environ)
    if not settings.hsm_module:
        raise SystemExit("set AOS_HSM_MODULE (the PKCS#11 library), AOS_HSM_TOKEN_LABEL and AOS_HSM_PIN")
    hsm, factory = from_settings(settings), DerivedKeys(settings.ecu_secret)
    for ecu_type in opts.ecu_types:
        added = hsm.provision(ecu_type, factory.type_secret(ecu_type))
        print(f"{ecu_type}: {'provisioned' if added else 'there already'}")


if __name__ == "__main__":
    main(sys.argv[1:])
