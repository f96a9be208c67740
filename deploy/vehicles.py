"""The demo manufacturer's vehicles: a realistic vehicle feed of any size (services.vehicle_data.feed imports it,
checking every row) and the service history a dealer could have written for them.

    python -m deploy.vehicles FILE.json [--vehicles 5000] [--seed 1]
"""
import argparse
import hashlib
import json
import random
import sys
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from services.vehicle_data import vin as vins
from services.vehicle_data.feed import FORMAT

SERIES = json.loads((Path(__file__).with_name("series.json")).read_text())
PLANTS = "ABCEFGLNPWY"


MARKETS = ("DE",) * 6 + ("AT", "FR", "IT", "GB")


def market(vin):
    """The market a demo car was built for, from its VIN (not the generator's random stream, which the rest of
    the feed follows): mostly Germany."""
    return MARKETS[int(hashlib.sha256(vin.encode()).hexdigest(), 16) % len(MARKETS)]


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
                         "options": sorted(rng.sample(SERIES["options"], rng.randrange(4, 12))), "ecus": ecus,
                         "country": market(vin)})
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
    parser = argparse.ArgumentParser(prog="python -m deploy.vehicles", description="write a demo vehicle feed")
    parser.add_argument("file")
    parser.add_argument("--vehicles", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    opts = parser.parse_args(argv)
    Path(opts.file).write_text(json.dumps(generate(opts.vehicles, opts.seed)))
    print(f"wrote {opts.vehicles} vehicles to {opts.file}")


if __name__ == "__main__":
    main(sys.argv[1:])
