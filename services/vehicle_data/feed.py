"""The manufacturer's vehicle feed: a JSON file of build data, installed ECUs and campaigns, checked whole
before anything is written, then imported idempotently (a VIN again replaces its build data and ECUs; a
campaign code again replaces that campaign).

    python -m services.vehicle_data.feed import <file.json>       (into AOS_VEHICLE_DATA_DATABASE_URL's database)
    python -m deploy.vehicles <file.json> [--vehicles 5000] [--seed 1]     (a demo feed)

Format (`"format": "aos-vehicle-feed/1"`):
  vehicles: [{vin, series, model_code, engine_code, transmission, production_date (YYYY-MM-DD), paint,
              options: [code], country (the market, optional), ecus: [{address (0x12), name, hardware_part_number, software_version}]}]
  campaigns: [{code, kind (recall|service), title, description, published_on, series: [], model_codes: [],
               produced_from, produced_until, vins: []}]   (optional)
A feed with any bad row is refused whole, every problem listed as `file: row: field: rule`
(services.shared.importer)."""
import json
import os
import sys
from datetime import date, datetime, timezone
from pathlib import Path

from marshmallow import ValidationError, fields, validate
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from services.shared.errors import InvalidInput
from services.shared.importer import Problem, Refused, command, invalid
from services.shared.schemas import Input
from services.vehicle_data import vin as vins
from services.vehicle_data.models import Campaign, Ecu, Vehicle

FORMAT = "aos-vehicle-feed/1"
Word = lambda n, **kw: fields.String(required=True, validate=validate.Length(1, n), **kw)  # noqa: E731


class FeedEcu(Input):
    address = fields.String(required=True, validate=validate.Regexp(r"^0x[0-9A-F]{2}$", error="0x and two hex digits."))
    name = Word(80)
    hardware_part_number = Word(20)
    software_version = Word(40)


class FeedVehicle(Input):
    vin = fields.String(required=True)
    series = Word(10)
    model_code = Word(10)
    engine_code = Word(12)
    transmission = Word(12)
    production_date = fields.Date(required=True)
    paint = Word(60)
    options = fields.List(fields.String(validate=validate.Length(1, 10)), load_default=list)
    country = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(
        r"^[A-Z]{2}$", error="the market it was built for: two capital letters (ISO 3166), e.g. DE"))
    ecus = fields.List(fields.Nested(FeedEcu), load_default=list)


class FeedCampaign(Input):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z0-9_-]{2,20}$"))
    kind = fields.String(required=True, validate=validate.OneOf(("recall", "service")))
    title = Word(200)
    description = Word(2000)
    published_on = fields.Date(required=True)
    series = fields.List(fields.String(validate=validate.Length(1, 10)), load_default=list)
    model_codes = fields.List(fields.String(validate=validate.Length(1, 10)), load_default=list)
    produced_from = fields.Date(load_default=None, allow_none=True)
    produced_until = fields.Date(load_default=None, allow_none=True)
    vins = fields.List(fields.String(), load_default=list)


def check(document, today=None, source="feed"):
    """The feed's rows, loaded; or Refused listing every bad row's field and rule (`source`: the file's name)."""
    today = today or date.today()
    problems = []
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise Refused([Problem(source, "format", f'a vehicle feed is a JSON object with "format": "{FORMAT}"')])
    loaded = {"vehicles": [], "campaigns": []}
    for section, schema in (("vehicles", FeedVehicle()), ("campaigns", FeedCampaign())):
        rows = document.get(section, [])
        if not isinstance(rows, list):
            problems.append(Problem(source, section, "a list"))
            continue
        seen = set()
        for index, row in enumerate(rows):
            where = f"{source}: {section}[{index}]"
            try:
                item = schema.load(row)
            except ValidationError as exc:
                problems += invalid(where, exc)
                continue
            problems += _row_rules(section, item, where, today)
            key = item.get("vin") or item.get("code")
            if key in seen:
                problems.append(Problem(where, "vin" if section == "vehicles" else "code",
                                        f"appears twice in the feed: {key}"))
            seen.add(key)
            loaded[section].append(item)
    if problems:
        raise Refused(problems)
    return loaded


def _row_rules(section, item, where, today):
    problems = []
    for field in ("vin",) if section == "vehicles" else ():
        try:
            item["vin"] = vins.decode(item["vin"], built=item["production_date"]).vin
        except InvalidInput as bad:
            problems.append(Problem(where, field, f"{bad.code}: {bad.message}"))
    if section == "vehicles":
        if item["production_date"] > today:
            problems.append(Problem(where, "production_date", "not in the future"))
        addresses = [e["address"] for e in item["ecus"]]
        if len(addresses) != len(set(addresses)):
            problems.append(Problem(where, "ecus", "one ECU per diagnostic address"))
    else:
        for i, listed in enumerate(item["vins"]):
            try:
                item["vins"][i] = vins.check(listed)
            except InvalidInput as bad:
                problems.append(Problem(where, f"vins.{i}", bad.code))
        if item["produced_from"] and item["produced_until"] and item["produced_from"] > item["produced_until"]:
            problems.append(Problem(where, "produced_until", "not before produced_from"))
    return problems


def import_rows(session, loaded, now, chunk=1000):
    """Write checked rows: each VIN's build data and ECUs replaced, each campaign replaced. Idempotent. Rows go
    in chunks of bulk statements (50,000 vehicles take seconds, not minutes)."""
    vehicles = loaded["vehicles"]
    revision = session.scalar(select(func.max(Vehicle.revision))) or 0
    for start in range(0, len(vehicles), chunk):
        rows = vehicles[start:start + chunk]
        listed = [row["vin"] for row in rows]
        session.execute(delete(Ecu).where(Ecu.vin.in_(listed)))
        session.execute(delete(Vehicle).where(Vehicle.vin.in_(listed)))
        session.execute(insert(Vehicle), [{k: v for k, v in row.items() if k != "ecus"}
                                          | {"imported_at": now, "revision": revision + start + i + 1}
                                          for i, row in enumerate(rows)])
        ecus = [dict(ecu, vin=row["vin"]) for row in rows for ecu in row["ecus"]]
        if ecus:
            session.execute(insert(Ecu), ecus)
    for row in loaded["campaigns"]:
        session.merge(Campaign(**row))
    return {"vehicles": len(vehicles), "campaigns": len(loaded["campaigns"])}


def import_file(engine, path, now=None):
    try:
        document = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise Refused([Problem(str(path), "-", f"not a readable JSON file: {exc}")])
    loaded = check(document, source=Path(path).name)
    with Session(engine) as session, session.begin():
        return import_rows(session, loaded, now or datetime.now(timezone.utc))


def registry_size(engine):
    with Session(engine) as session:
        return len(session.scalars(select(Vehicle.vin).limit(1)).all())


def main(argv):
    if len(argv) != 2 or argv[0] != "import":
        raise SystemExit("usage: python -m services.vehicle_data.feed import FILE.json")
    from services.shared import config as settings
    from services.shared.database import make_engine
    engine = make_engine(settings.database_url(dict(os.environ), "vehicle_data"))
    try:
        return command(lambda: json.dumps(import_file(engine, argv[1])))
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
