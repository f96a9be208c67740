"""The manufacturer's vehicle feed: a JSON file of build data, installed ECUs and campaigns, checked whole
before anything is written, then imported idempotently (a VIN again replaces its build data and ECUs; a
campaign code again replaces that campaign).

    python -m services.vehicle_data.feed import <file.json>       (into AOS_VEHICLE_DATA_DATABASE_URL's database)
    python -m services.vehicle_data.feed generate <file.json> [--vehicles 5000] [--seed 1]

Format (`"format": "aos-vehicle-feed/1"`):
  vehicles: [{vin, series, model_code, engine_code, transmission, production_date (YYYY-MM-DD), paint,
              options: [code], ecus: [{address (0x12), name, hardware_part_number, software_version}]}]
  campaigns: [{code, kind (recall|service), title, description, published_on, series: [], model_codes: [],
               produced_from, produced_until, vins: []}]   (optional)
A feed with any bad row is refused whole, every problem listed as {row, field, rule}."""
import argparse
import json
import random
import sys
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from marshmallow import ValidationError, fields, validate
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from services.shared.errors import InvalidInput
from services.shared.schemas import Input
from services.vehicle_data import vin as vins
from services.vehicle_data.models import Campaign, Ecu, Vehicle

FORMAT = "aos-vehicle-feed/1"
SERIES = json.loads((Path(__file__).with_name("series.json")).read_text())
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


def check(document, today=None):
    """The feed's rows, loaded; or InvalidInput listing every bad row's field and rule."""
    today = today or date.today()
    problems = []
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InvalidInput("FEED_FORMAT", f'A vehicle feed is a JSON object with "format": "{FORMAT}".',
                           {"problems": [{"row": "", "field": "format", "rule": FORMAT}]})
    loaded = {"vehicles": [], "campaigns": []}
    for section, schema in (("vehicles", FeedVehicle()), ("campaigns", FeedCampaign())):
        rows = document.get(section, [])
        if not isinstance(rows, list):
            problems.append({"row": section, "field": section, "rule": "a list"})
            continue
        seen = set()
        for index, row in enumerate(rows):
            where = f"{section}[{index}]"
            try:
                item = schema.load(row)
            except ValidationError as exc:
                problems += [{"row": where, "field": f, "rule": "; ".join(_flat(m))} for f, m in exc.messages.items()]
                continue
            problems += _row_rules(section, item, where, today)
            key = item.get("vin") or item.get("code")
            if key in seen:
                problems.append({"row": where, "field": "vin" if section == "vehicles" else "code",
                                 "rule": f"appears twice in the feed: {key}"})
            seen.add(key)
            loaded[section].append(item)
    if problems:
        raise InvalidInput("FEED_REFUSED", f"The feed was refused whole: {len(problems)} problem(s); nothing was "
                           "imported.", {"problems": problems})
    return loaded


def _row_rules(section, item, where, today):
    problems = []
    for field in ("vin",) if section == "vehicles" else ():
        try:
            item["vin"] = vins.decode(item["vin"], built=item["production_date"]).vin
        except InvalidInput as bad:
            problems.append({"row": where, "field": field, "rule": bad.code, "message": bad.message})
    if section == "vehicles":
        if item["production_date"] > today:
            problems.append({"row": where, "field": "production_date", "rule": "not in the future"})
        addresses = [e["address"] for e in item["ecus"]]
        if len(addresses) != len(set(addresses)):
            problems.append({"row": where, "field": "ecus", "rule": "one ECU per diagnostic address"})
    else:
        for i, listed in enumerate(item["vins"]):
            try:
                item["vins"][i] = vins.check(listed)
            except InvalidInput as bad:
                problems.append({"row": where, "field": f"vins.{i}", "rule": bad.code})
        if item["produced_from"] and item["produced_until"] and item["produced_from"] > item["produced_until"]:
            problems.append({"row": where, "field": "produced_until", "rule": "not before produced_from"})
    return problems


def _flat(messages):
    if isinstance(messages, dict):
        return [f"{k}: {m}" for k, v in messages.items() for m in _flat(v)]
    return [str(m) for m in messages] if isinstance(messages, list) else [str(messages)]


def import_rows(session, loaded, now, chunk=1000):
    """Write checked rows: each VIN's build data and ECUs replaced, each campaign replaced. Idempotent. Rows go
    in chunks of bulk statements (50,000 vehicles take seconds, not minutes)."""
    vehicles = loaded["vehicles"]
    for start in range(0, len(vehicles), chunk):
        rows = vehicles[start:start + chunk]
        listed = [row["vin"] for row in rows]
        session.execute(delete(Ecu).where(Ecu.vin.in_(listed)))
        session.execute(delete(Vehicle).where(Vehicle.vin.in_(listed)))
        session.execute(insert(Vehicle), [{k: v for k, v in row.items() if k != "ecus"} | {"imported_at": now}
                                          for row in rows])
        ecus = [dict(ecu, vin=row["vin"]) for row in rows for ecu in row["ecus"]]
        if ecus:
            session.execute(insert(Ecu), ecus)
    for row in loaded["campaigns"]:
        session.merge(Campaign(**row))
    return {"vehicles": len(vehicles), "campaigns": len(loaded["campaigns"])}


def import_file(engine, path, now=None):
    loaded = check(json.loads(Path(path).read_text()))
    with Session(engine) as session, session.begin():
        return import_rows(session, loaded, now or datetime.now(timezone.utc))


def registry_size(engine):
    with Session(engine) as session:
        return len(session.scalars(select(Vehicle.vin).limit(1)).all())


# ---- demo data ------------------------------------------------------------------------------------------------

PLANTS = "ABCEFGLNPWY"


def generate(count, seed=1):
    """A realistic feed: `count` vehicles across the series of series.json, ECUs, and demo campaigns, one of
    which targets a VIN list."""
    rng = random.Random(seed)
    vehicles, serials = [], rng.sample(range(100000, 999999), count)
    for serial in serials:
        series = rng.choice(SERIES["series"])
        first, last = series["years"]
        built = date(first, 1, 1) + timedelta(days=rng.randrange((date(last, 12, 31) - date(first, 1, 1)).days))
        built = min(built, date.today() - timedelta(days=30))
        model = rng.choice(series["models"])
        wmi = "WBS" if series["code"] == "G80" else "WBA"
        body = f"{wmi}{model}{rng.randrange(10)}0{vins.YEAR_CODES[(built.year - 1980) % 30]}{rng.choice(PLANTS)}{serial}"
        vin = body[:8] + vins.check_digit(body) + body[9:]
        transmission = rng.choice(series["transmissions"])
        level = f"{series['code']}-{built.year % 100:02d}-{rng.choice(('03', '07', '11'))}-5{rng.randrange(10)}0"
        ecus = [{"address": e["address"], "name": e["name"],
                 "hardware_part_number": f"{rng.randrange(5, 9)}{rng.randrange(100000, 999999)}",
                 "software_version": f"{level}.{e['address'][2:]}"}
                for e in SERIES["ecus"] if not (e["address"] == "0x18" and transmission == "GS6")]  # manual: no EGS
        vehicles.append({"vin": vin, "series": series["code"], "model_code": model,
                         "engine_code": rng.choice(series["engines"]),
                         "transmission": transmission, "production_date": built.isoformat(),
                         "paint": rng.choice(SERIES["paints"]),
                         "options": sorted(rng.sample(SERIES["options"], rng.randrange(4, 12))), "ecus": ecus})
    listed = [v["vin"] for v in vehicles[:3]]
    campaigns = [
        {"code": "R-G20-0124", "kind": "recall", "title": "Rear axle carrier: check bolt torque",
         "description": "Check the rear axle carrier bolts and tighten to 100 Nm + 90°. 0.4 h.",
         "published_on": "2024-01-15", "series": ["G20"], "produced_from": "2019-03-01",
         "produced_until": "2021-06-30"},
        {"code": "S-G05-0323", "kind": "service", "title": "DME software update: cold start behaviour",
         "description": "Program the engine control unit to I-level 23-07-540 or later.", "published_on": "2023-03-20",
         "series": ["G05"]},
        {"code": "R-BAT-0925", "kind": "recall", "title": "High-voltage battery: inspect connector",
         "description": "Inspect the HV battery connector seal; replace if damaged.", "published_on": "2025-09-01",
         "vins": listed},
    ]
    return {"format": FORMAT, "vehicles": vehicles, "campaigns": campaigns}


HISTORY_WORKSHOP = {"operator_id": "demo-dealer-network", "name": "Vertragswerkstatt Demo (dealer network)",
                    "city": "München", "country": "DE"}


def history(vehicles, today, seed=1):
    """Service records a dealer could have written for these vehicles since they were built: a yearly service
    (oil, inspection every second year, brake fluid) at a plausible mileage. Rows for ServiceRecord."""
    rng = random.Random(seed)
    records = []
    for vehicle in vehicles:
        built = date.fromisoformat(str(vehicle["production_date"]))
        km_per_year, visit, odometer = rng.randrange(9000, 30000), 1, 0
        while True:
            day = built + timedelta(days=365 * visit + rng.randrange(-40, 40))
            if day > today - timedelta(days=20):
                break
            odometer += km_per_year + rng.randrange(-3000, 3000)
            items = [{"code": "ENGINE_OIL", "text": "Engine oil 0W-20, filter"},
                     {"code": "MICROFILTER", "text": ""}]
            if visit % 2 == 0:
                items += [{"code": "VEHICLE_CHECK", "text": "Vehicle check, no findings"},
                          {"code": "BRAKE_FLUID", "text": "DOT 4 LV"}]
            at = datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=16)
            record_id = str(uuid.UUID(int=rng.getrandbits(128)))
            records.append({"id": record_id, "record_id": record_id, "version": 1, "current": True,
                            "vin": vehicle["vin"], "operator_id": HISTORY_WORKSHOP["operator_id"],
                            "author_user_id": "demo-history", "performed_on": day, "odometer_km": max(odometer, 1),
                            "items": items, "first_recorded_at": at, "recorded_at": at})
            visit += 1
    return records


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    imports = commands.add_parser("import")
    imports.add_argument("file")
    generates = commands.add_parser("generate")
    generates.add_argument("file")
    generates.add_argument("--vehicles", type=int, default=5000)
    generates.add_argument("--seed", type=int, default=1)
    opts = parser.parse_args(argv)
    if opts.command == "generate":
        Path(opts.file).write_text(json.dumps(generate(opts.vehicles, opts.seed)))
        print(f"wrote {opts.vehicles} vehicles to {opts.file}")
        return
    from services.shared import config as settings
    from services.shared.database import make_engine
    engine = make_engine(settings.load()["DATABASE_URLS"]["vehicle_data"])
    try:
        print(json.dumps(import_file(engine, opts.file)))
    except InvalidInput as refused:
        print(refused.message, file=sys.stderr)
        for problem in refused.details.get("problems", []):
            print(f"  {problem['row']} {problem['field']}: {problem.get('message') or problem['rule']}",
                  file=sys.stderr)
        sys.exit(2)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
