"""The software catalogue: signed flash files per ECU, imported from a folder the manufacturer delivers.

    catalog.json   {"format": "aos-software/1", "packages": [{"file", "series", "ecu_address",
                    "hardware_part_numbers", "software_version", "integration_level", "flash_order", "signature"}]}
    files/...      the images
    coding.json    the coding rules (services.programming.coding), optional; checked against the diagnostic
                   descriptions on offer, which are imported first (services.programming.descriptions)

Every package is checked before anything is stored: its fields, its file, and its Ed25519 signature over the
manifest (automotive.manifest) with the manufacturer's public key. A catalogue with any problem is
refused whole. Images go to object storage under their SHA-256.

    python -m services.programming.catalog import FOLDER
"""
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy.orm import sessionmaker

from automotive.manifest import NotGenuine, describe, load_public, verify
from services.shared.importer import Problem, Refused, command, invalid
from services.programming import coding, descriptions
from services.programming.models import CodingRules, Package
from services.programming.use_cases import package_key

FORMAT = "aos-software/1"


class PackageIn(Schema):
    class Meta:
        unknown = RAISE
    file = fields.String(required=True, validate=validate.Regexp(r"^files/[A-Za-z0-9._-]{1,120}$"))
    series = fields.String(required=True, validate=validate.Regexp(r"^[A-Z0-9]{2,6}$"))
    ecu_address = fields.String(required=True, validate=validate.Regexp(r"^0x[0-9A-F]{2}$", error="like 0x12"))
    hardware_part_numbers = fields.List(fields.String(validate=validate.Length(1, 20)), required=True,
                                        validate=validate.Length(min=1))
    software_version = fields.String(required=True, validate=validate.Length(1, 40))
    integration_level = fields.String(required=True, validate=validate.Length(1, 40))
    flash_order = fields.Integer(required=True, validate=validate.Range(0, 1000))
    signature = fields.String(required=True)


def check(folder, public_key):
    """(package rows with their images) or Refused listing every problem."""
    folder = Path(folder)
    try:
        document = json.loads((folder / "catalog.json").read_text())
    except (OSError, ValueError) as exc:
        raise Refused([Problem("catalog.json", "-", f"not a readable JSON file: {exc}")])
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise Refused([Problem("catalog.json", "format", f"must be {FORMAT!r}")])
    problems, good = [], []
    for i, raw in enumerate(document.get("packages") or []):
        where = f"catalog.json: packages.{i}"
        try:
            item = PackageIn().load(raw)
        except ValidationError as exc:
            problems += invalid(where, exc)
            continue
        path = folder / item["file"]
        if not path.is_file():
            problems.append(Problem(where, "file", f"{item['file']} is not in the folder"))
            continue
        image = path.read_bytes()
        manifest = describe(image, item["ecu_address"], item["hardware_part_numbers"],
                                    item["software_version"], item["integration_level"])
        try:
            verify(public_key, manifest, item["signature"], image)
        except NotGenuine as exc:
            problems.append(Problem(where, "signature", str(exc)))
            continue
        good.append((item, manifest, image))
    if not good and not problems:
        problems.append(Problem("catalog.json", "packages", "holds none"))
    if problems:
        raise Refused(problems)
    return good


def coding_rules(folder, session):
    """The catalogue's coding rules, checked against the layouts on offer; None when it ships none."""
    path = Path(folder) / "coding.json"
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise Refused([Problem("coding.json", "-", f"not a readable JSON file: {exc}")])
    problems = coding.check_rules(data, descriptions.layouts(session))
    if problems:
        raise Refused(problems)
    return data


def import_rules(folder, session, now):
    """The catalogue's coding rules kept, once per version (checked whole first)."""
    rules = coding_rules(folder, session)
    if rules is not None and session.get(CodingRules, rules["version"]) is None:
        session.add(CodingRules(version=rules["version"], rules=rules["rules"], imported_at=now))


def import_catalog(folder, engine, blobs, public_key):
    packages = check(folder, public_key)
    now = datetime.now(timezone.utc)
    Session = sessionmaker(engine)
    stored = 0
    with Session() as s, s.begin():
        import_rules(folder, s, now)
        for item, manifest, image in packages:
            blobs.put_once(package_key(manifest["sha256"]), image, "application/octet-stream")
            package_id = f"{item['ecu_address']}-{item['software_version']}"
            if s.get(Package, package_id) is None:
                s.add(Package(id=package_id, series=item["series"], ecu_address=item["ecu_address"],
                              hardware_part_numbers=manifest["hardware_part_numbers"],
                              software_version=item["software_version"], integration_level=item["integration_level"],
                              flash_order=item["flash_order"], size=manifest["size"], sha256=manifest["sha256"],
                              manifest=manifest, signature=item["signature"], imported_at=now))
                stored += 1
    return stored


def main(argv):
    if len(argv) != 2 or argv[0] != "import":
        raise SystemExit("usage: python -m services.programming.catalog import FOLDER")
    from services.programming.settings import ProgrammingSettings
    from services.shared import blobs, config
    from services.shared.database import make_engine
    conf = config.load()
    store = blobs.from_config(conf)
    store.ensure_bucket()
    key_file = config.build(ProgrammingSettings, conf["ENVIRONMENT"]).manufacturer_key_file
    public = load_public(key_file.read_text())
    engine = make_engine(config.database_url(conf["ENVIRONMENT"], "programming"))
    return command(lambda: f"{import_catalog(argv[1], engine, store, public)} packages imported")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
