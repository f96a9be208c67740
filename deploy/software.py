"""The manufacturer's side of the software catalogue, for the demo and the tests: an Ed25519 signing key and a
generated catalogue of signed flash files (services.programming.catalog imports it, checking every signature)."""
import base64
import json
import random
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.programming.catalog import FORMAT
from automotive.manifest import describe, manifest_bytes


def new_key():
    return Ed25519PrivateKey.generate()


def public_pem(private_key):
    return private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def sign(private_key, manifest):
    return base64.b64encode(private_key.sign(manifest_bytes(manifest))).decode()


FLASH_ORDER = {"0x10": 0, "0x12": 10, "0x18": 20, "0x29": 30, "0x40": 40, "0x60": 50, "0x63": 60, "0x72": 70}


def generate(folder, private_key, vehicles, image_bytes=256 * 1024, level="26-03-500", seed=5):
    """A demo catalogue: for each series and ECU of `vehicles` (a vehicle feed's rows), one new signed package
    that fits every hardware part number seen there."""
    folder = Path(folder)
    (folder / "files").mkdir(parents=True, exist_ok=True)
    fits = {}
    for v in vehicles:
        for e in v["ecus"]:
            fits.setdefault((v["series"], e["address"]), set()).add(e["hardware_part_number"])
    rng = random.Random(seed)
    packages = []
    for (series, address), parts in sorted(fits.items()):
        version = f"{series}-{level}.{address[2:]}"
        image = rng.randbytes(image_bytes)
        name = f"files/{series}-{address}-{level}.bin"
        (folder / name).write_bytes(image)
        manifest = describe(image, address, sorted(parts), version, f"{series}-{level}")
        packages.append({"file": name, "series": series, "ecu_address": address,
                         "hardware_part_numbers": sorted(parts), "software_version": version,
                         "integration_level": f"{series}-{level}", "flash_order": FLASH_ORDER.get(address, 100),
                         "signature": sign(private_key, manifest)})
    (folder / "catalog.json").write_text(json.dumps({"format": FORMAT, "packages": packages}, indent=1))
    return len(packages)
