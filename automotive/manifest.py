"""The flash manifest, a contract between the manufacturer, AOS and the agent: an Ed25519 signature over a
canonical manifest that names the ECU, the hardware it fits, the software version, the integration level, and
the image's size and SHA-256. The software catalogue checks it on import and the agent checks it again, on the
workshop's PC, before anything touches the vehicle. (The manufacturer's side, signing, is deploy/software.py's
for the demo.)"""
import base64
import hashlib
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FIELDS = ("ecu_address", "hardware_part_numbers", "software_version", "integration_level", "size", "sha256")


class NotGenuine(ValueError):
    """A flash file that must not be written: `what` says which check failed."""

    def __init__(self, what, message):
        super().__init__(message)
        self.what = what


def manifest_bytes(manifest):
    return json.dumps({k: manifest[k] for k in FIELDS}, sort_keys=True, separators=(",", ":")).encode()


def describe(image, ecu_address, hardware_part_numbers, software_version, integration_level):
    return {"ecu_address": ecu_address, "hardware_part_numbers": sorted(hardware_part_numbers),
            "software_version": software_version, "integration_level": integration_level, "size": len(image),
            "sha256": hashlib.sha256(image).hexdigest()}


def verify(public_key, manifest, signature, image):
    """Raises NotGenuine unless the signature is the manufacturer's over this manifest and the image is the one
    it describes."""
    try:
        public_key.verify(base64.b64decode(signature, validate=True), manifest_bytes(manifest))
    except (InvalidSignature, ValueError):
        raise NotGenuine("signature", "the manifest's signature is not the manufacturer's: do not flash")
    if len(image) != manifest["size"]:
        raise NotGenuine("size", f"the file has {len(image)} bytes, the signed manifest says {manifest['size']}")
    if hashlib.sha256(image).hexdigest() != manifest["sha256"]:
        raise NotGenuine("sha256", "the file's SHA-256 differs from the signed manifest's: it was changed or "
                         "damaged on the way")


def load_public(pem):
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the manufacturer's key must be an Ed25519 public key")
    return key
