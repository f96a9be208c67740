"""The demo parts catalogue: a parts package (services/parts/package.py) for the demo manufacturer's series
(deploy/series.json, as the vehicle feed and the AIR corpus are), shaped like a manufacturer's: main groups and
subgroups, an exploded view per series and subgroup with a hotspot per callout, rows valid for an engine, a model,
a production period or an option of the vehicle order, supersession chains up to four numbers long, parts sold only
in a kit, net prices per country and weights. Deterministic: the same arguments give the same package.

`--parts N` grows it to N parts (the benchmark's 200,000) with further subgroups of each series, as a full
catalogue has (brackets, clips, hoses, trim), drawn with shared drawings.

    python -m deploy.parts OUT [--parts 200000]        (make parts-package OUT=... PARTS=...)
"""
import argparse
import functools
import hashlib
import json
import random
import sys
from datetime import date
from pathlib import Path

from services.parts.package import FORMAT

SERIES_FILE = json.loads((Path(__file__).with_name("series.json")).read_text())
SERIES = SERIES_FILE["series"]
COUNTRIES = {"DE": 1.0, "AT": 1.04, "FR": 1.06, "IT": 1.05, "NL": 1.03, "PL": 0.92, "ES": 1.02, "SE": 1.08}
ELECTRIC = ("HA",)  # engine families without combustion parts


CYLINDERS = {"B38": 3, "B37": 3, "B48": 4, "B47": 4, "N20": 4, "B58": 6, "B57": 6, "S58": 6, "N63": 8}


def cylinders(engine):
    """An engine's cylinders, by its family (the AIR corpus' repair instructions count the same)."""
    return CYLINDERS.get(family(engine), 0)


def family(engine):
    return engine[:3]


# A part template: (name en, name de, quantity, scope, component of the AIR corpus it is, price in EUR).
# scope: "engine" one part per engine family (a row for each of the series' engines of it), "series" one per
# series, "common" one for every series, "model" one per model, "date" one up to mid-production and one after,
# "option:Sxxx" one for cars with the option and one for cars without, "kit" parts sold only together (the kit
# itself is a part). A quantity "cyl" is the engine's number of cylinders.
GROUPS = [
    ("11", "Engine", "Motor", [
        ("11_12", "Cylinder head cover", "Zylinderkopfhaube", [
            ("Cylinder head cover", "Zylinderkopfhaube", 1, "engine", None, 310),
            ("Gasket set, cylinder head cover", "Dichtungssatz Zylinderkopfhaube", 1, "kit",
             "cylinder head cover gasket", 38),
            ("Fillister head screw M6x30", "Linsenschraube M6x30", 14, "common", None, 0.6),
            ("Oil filler cap", "Öleinfülldeckel", 1, "common", None, 12)]),
        ("11_31", "Timing chain", "Steuerkette", [
            ("Timing chain", "Steuerkette", 1, "engine", None, 96),
            ("Chain tensioner", "Kettenspanner", 1, "engine", "timing chain tensioner", 54),
            ("Tensioning rail", "Spannschiene", 1, "engine", None, 41),
            ("Sealing ring A14x20", "Dichtring A14x20", 1, "common", None, 0.8)]),
        ("11_42", "Oil filter", "Ölfilter", [
            ("Oil filter housing", "Ölfiltergehäuse", 1, "engine", "oil filter housing", 180),
            ("Oil filter element", "Ölfiltereinsatz", 1, "engine", None, 14),
            ("O-ring 85x3", "O-Ring 85x3", 1, "common", None, 2.1)]),
        ("11_81", "Engine suspension", "Motoraufhängung", [
            ("Engine mount, left", "Motorlager links", 1, "series", "engine mount", 128),
            ("Engine mount, right", "Motorlager rechts", 1, "series", None, 128),
            ("Hex bolt M10x55", "Sechskantschraube M10x55", 4, "common", None, 1.2)]),
    ]),
    ("12", "Engine electrical system", "Motorelektrik", [
        ("12_12", "Spark plugs", "Zündkerzen", [
            ("Spark plug", "Zündkerze", "cyl", "engine", "spark plug", 17)]),
        ("12_13", "Ignition coils", "Zündspulen", [
            ("Ignition coil", "Zündspule", "cyl", "engine", "ignition coil", 58),
            ("Fillister head screw M6x25", "Linsenschraube M6x25", "cyl", "common", None, 0.5),
            ("Wiring harness, ignition", "Leitungssatz Zündung", 1, "date", None, 86),
            ("Interference suppression capacitor", "Entstörkondensator", 1, "option:S6AC", None, 9)]),
        ("12_31", "Alternator", "Generator", [
            ("Alternator", "Generator", 1, "engine", "alternator", 420),
            ("Ribbed V-belt", "Keilrippenriemen", 1, "engine", None, 31),
            ("Belt tensioner", "Riemenspanner", 1, "engine", None, 72)]),
        ("12_52", "Engine sensors", "Motorsensoren", [
            ("Crankshaft position sensor", "Kurbelwellensensor", 1, "engine", "crankshaft position sensor", 64),
            ("Camshaft sensor", "Nockenwellensensor", 2, "engine", None, 48),
            ("Knock sensor", "Klopfsensor", 2, "engine", None, 39)]),
        ("12_14", "Engine control module", "Motorsteuergerät", [
            ("Engine control module DME", "Steuergerät DME", 1, "model", "engine control module", 980),
            ("Bracket, control module", "Halter Steuergerät", 1, "series", None, 22)]),
    ]),
    ("13", "Fuel preparation and control", "Gemischaufbereitung", [
        ("13_53", "Injectors", "Einspritzventile", [
            ("Fuel injector", "Einspritzventil", "cyl", "engine", "fuel injector", 165),
            ("Seal kit, injector", "Dichtungssatz Injektor", "cyl", "kit", None, 12)]),
        ("13_54", "Throttle body", "Drosselklappe", [
            ("Throttle body", "Drosselklappenstutzen", 1, "engine", "throttle body", 240),
            ("Profile gasket", "Profildichtung", 1, "common", None, 4)]),
        ("13_62", "Air mass meter", "Luftmassenmesser", [
            ("Hot film air mass meter", "Heißfilmluftmassenmesser", 1, "engine", "mass air flow sensor", 190)]),
        ("13_51", "High pressure pump", "Hochdruckpumpe", [
            ("High pressure fuel pump", "Hochdruckpumpe", 1, "engine", "high pressure fuel pump", 520),
            ("Fuel pressure sensor", "Kraftstoffdrucksensor", 1, "engine", None, 88)]),
    ]),
    ("17", "Cooling system", "Kühlung", [
        ("17_12", "Coolant pump and thermostat", "Kühlmittelpumpe und Thermostat", [
            ("Electric coolant pump", "Elektrische Kühlmittelpumpe", 1, "engine", "coolant pump", 380),
            ("Thermostat housing", "Thermostatgehäuse", 1, "engine", "thermostat", 96),
            ("Coolant hose", "Kühlmittelschlauch", 1, "series", None, 44)]),
        ("17_11", "Radiator", "Kühler", [
            ("Radiator", "Kühler", 1, "series", None, 290),
            ("Expansion tank", "Ausgleichsbehälter", 1, "series", None, 62)]),
    ]),
    ("18", "Exhaust system", "Abgasanlage", [
        ("18_30", "Catalytic converter", "Katalysator", [
            ("Catalytic converter", "Katalysator", 1, "engine", "catalytic converter", 1450),
            ("Gasket ring", "Dichtring", 1, "common", None, 6)]),
        ("18_62", "Oxygen sensors", "Lambdasonden", [
            ("Oxygen sensor, control", "Lambdasonde Regelsonde", 1, "engine", "oxygen sensor", 124),
            ("Oxygen sensor, monitor", "Lambdasonde Monitorsonde", 1, "engine", None, 118)]),
    ]),
    ("24", "Automatic transmission", "Automatikgetriebe", [
        ("24_11", "Oil pan and filter", "Ölwanne und Filter", [
            ("Oil pan with filter", "Ölwanne mit Filter", 1, "series", "transmission oil pan", 210),
            ("Transmission oil, 1 l", "Getriebeöl, 1 l", 6, "common", None, 19)]),
        ("24_34", "Mechatronics", "Mechatronik", [
            ("Mechatronic unit", "Mechatronik", 1, "model", "mechatronic unit", 1690),
            ("Sleeve, mechatronics", "Steckhülse Mechatronik", 1, "common", None, 14)]),
    ]),
    ("31", "Front axle", "Vorderachse", [
        ("31_12", "Control arms", "Querlenker", [
            ("Wishbone with rubber mount, left", "Querlenker mit Gummilager links", 1, "series", "front control arm",
             168),
            ("Wishbone with rubber mount, right", "Querlenker mit Gummilager rechts", 1, "series", None, 168),
            ("Collar nut M12", "Bundmutter M12", 2, "common", None, 1.9)]),
        ("31_33", "Spring struts", "Federbeine", [
            ("Spring strut, front", "Federbein vorn", 2, "option:S2VB", None, 340),
            ("Support bearing", "Stützlager", 2, "series", None, 58)]),
    ]),
    ("32", "Steering", "Lenkung", [
        ("32_10", "Tie rods", "Spurstangen", [
            ("Tie rod end", "Spurstangenkopf", 2, "series", "tie rod end", 46),
            ("Bellows, steering", "Faltenbalg Lenkung", 2, "common", None, 17)]),
    ]),
    ("34", "Brakes", "Bremsen", [
        ("34_11", "Front brake", "Bremse vorn", [
            ("Brake pad set, front", "Bremsbelagsatz vorn", 1, "date", "front brake pads", 96),
            ("Brake disc, ventilated", "Bremsscheibe belüftet", 2, "series", "front brake disc", 88),
            ("Brake pad wear sensor", "Bremsbelagverschleißsensor", 1, "common", None, 14)]),
        ("34_21", "Rear brake", "Bremse hinten", [
            ("Brake pad set, rear", "Bremsbelagsatz hinten", 1, "series", None, 78),
            ("Brake disc, rear", "Bremsscheibe hinten", 2, "series", None, 66),
            ("Parking brake actuator", "Stellmotor Feststellbremse", 2, "series", "parking brake actuator", 210)]),
        ("34_52", "Stability control sensors", "DSC-Sensoren", [
            ("Wheel speed sensor, front", "Raddrehzahlsensor vorn", 2, "series", "wheel speed sensor", 52),
            ("Wheel speed sensor, rear", "Raddrehzahlsensor hinten", 2, "series", None, 52)]),
    ]),
    ("61", "General vehicle electrical system", "Allgemeine Fahrzeugelektrik", [
        ("61_21", "Battery", "Batterie", [
            ("AGM battery 70 Ah", "AGM-Batterie 70 Ah", 1, "option:S4NB", "battery", 240),
            ("Intelligent battery sensor", "Intelligenter Batteriesensor", 1, "common", "intelligent battery sensor",
             96),
            ("Battery holder", "Batteriehalter", 1, "series", None, 18)]),
    ]),
    ("63", "Lights", "Leuchten", [
        ("63_11", "Headlights", "Scheinwerfer", [
            ("LED headlight, left", "LED-Scheinwerfer links", 1, "option:S5AC", "headlight", 1190),
            ("LED headlight, right", "LED-Scheinwerfer rechts", 1, "option:S5AC", None, 1190),
            ("Headlight control module", "Steuergerät Scheinwerfer", 2, "series", None, 310)]),
        ("63_21", "Rear lights", "Heckleuchten", [
            ("Rear light in side panel, left", "Heckleuchte Seitenwand links", 1, "date", None, 260),
            ("Rear light in side panel, right", "Heckleuchte Seitenwand rechts", 1, "date", None, 260)]),
    ]),
    ("64", "Heating and air conditioning", "Heizung und Klimaanlage", [
        ("64_52", "Air conditioning compressor", "Klimakompressor", [
            ("Air conditioning compressor", "Klimakompressor", 1, "engine", "air conditioning compressor", 690),
            ("Pressure sensor, refrigerant", "Drucksensor Kältemittel", 1, "common", None, 58)]),
        ("64_11", "Microfilter", "Mikrofilter", [
            ("Microfilter, activated carbon", "Mikrofilter Aktivkohle", 2, "series", None, 38)]),
    ]),
    ("72", "Restraint systems", "Rückhaltesysteme", [
        ("72_12", "Airbags", "Airbags", [
            ("Airbag module, driver", "Airbagmodul Fahrer", 1, "series", "driver airbag", 560),
            ("Clock spring", "Wickelfeder", 1, "series", None, 120)]),
    ]),
]

# What further subgroups (--parts) are made of: a catalogue's long tail of brackets, hoses and trim.
TAIL_GROUPS = [("41", "Body", "Karosserie"), ("51", "Vehicle equipment", "Fahrzeugausstattung"),
               ("52", "Seats", "Sitze"), ("61", "General vehicle electrical system", "Allgemeine Fahrzeugelektrik")]
TAIL_NOUNS = [("Bracket", "Halter"), ("Trim panel", "Verkleidung"), ("Clip", "Klammer"), ("Hose", "Schlauch"),
              ("Wiring harness", "Leitungssatz"), ("Seal", "Dichtung"), ("Cover", "Abdeckung"), ("Holder", "Halterung"),
              ("Pipe", "Rohr"), ("Screw", "Schraube"), ("Grommet", "Tülle"), ("Switch", "Schalter"),
              ("Reinforcement", "Verstärkung"), ("Moulding", "Zierleiste"), ("Damper", "Dämpfer")]
TAIL_PLACES = [("front left", "vorn links"), ("front right", "vorn rechts"), ("rear left", "hinten links"),
               ("rear right", "hinten rechts"), ("upper", "oben"), ("lower", "unten"), ("centre", "Mitte"),
               ("inner", "innen"), ("outer", "außen")]

# The demo car's coil (F44, B38A15): the number the catalogue printed, and the one that superseded it.
DEMO_COIL = ("12138616153", "12138643360")


@functools.cache
def _digest(key):
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")


class Catalogue:
    """The package's records as they are made."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.parts, self.kits, self.supersessions, self.illustrations = {}, [], [], []
        self.by_key = {}  # a template's key -> the number its rows print
        self.taken = set(DEMO_COIL)
        self.drawn = {}  # (series, subgroup) -> illustrations so far

    def number(self, subgroup, key):
        """A new 11-digit number in the subgroup's range (12 13 x xxx xxx), stable for its key."""
        serial = _digest(key) % 10_000_000
        while True:
            number = f"{subgroup[:2]}{subgroup[3:5]}{serial:07d}"
            if number not in self.taken:
                self.taken.add(number)
                return number
            serial = (serial + 7919) % 10_000_000

    def part(self, subgroup, key, en, de, euros, kit=None, number=None):
        if key in self.by_key:
            return self.by_key[key]
        number = number or self.number(subgroup, key)
        self.taken.add(number)
        rng = random.Random(_digest(key))
        self._add(number, en, de, euros, rng, kit)
        self.by_key[key] = number
        return number

    def _add(self, number, en, de, euros, rng, kit=None):
        cents = max(20, round(euros * 100 * rng.uniform(0.9, 1.1)))
        self.parts[number] = {"number": number, "name": {"en": en, "de": de},
                              "weight_g": max(5, int(euros * rng.uniform(3, 12))),
                              "prices": {c: round(cents * f) for c, f in COUNTRIES.items()}, "kit": kit}

    def supersede(self, subgroup, key, number, rng, length=None):
        """Numbers that replaced `number` over the years: a chain of 1 to 3 steps."""
        length = length or rng.choice((1, 1, 1, 2, 2, 3))
        old, first = number, self.parts[number]
        for step in range(length):
            new = self.number(subgroup, f"{key}|new{step}")
            self.parts[new] = dict(first, number=new, prices={c: round(p * 1.04 ** (step + 1))
                                                              for c, p in first["prices"].items()})
            kind = rng.choice(("both_ways", "both_ways", "one_way", "one_way", "set_only"))
            self.supersessions.append({"old": old, "new": new, "interchangeability": kind})
            old = new


def _rows(cat, series, subgroup, template, callout):
    """The rows of one template in one series' illustration."""
    en, de, quantity, scope, _, euros = template
    mid = date((series["years"][0] + series["years"][1]) // 2 + 1, 3, 31)
    key = f"{subgroup}|{en}"
    combustion = [e for e in series["engines"] if not e.startswith(ELECTRIC)]

    def row(number, validity=None, engine=None):
        """A row; one per engine for a quantity that counts the engine's cylinders."""
        if quantity != "cyl":
            return {"callout": callout, "number": number, "quantity": quantity, "validity": validity or {},
                    "remark": None}
        if engine is None:
            return [row(number, dict(validity or {}, engines=[e]), e) for e in combustion]
        return {"callout": callout, "number": number, "quantity": cylinders(engine), "validity": validity,
                "remark": None}

    return [r for item in _made(row, cat, series, subgroup, key, scope, en, de, euros, combustion, mid)
            for r in (item if isinstance(item, list) else [item])]


def _made(row, cat, series, subgroup, key, scope, en, de, euros, combustion, mid):
    if scope == "engine":
        out = []
        for fam in sorted({family(e) for e in combustion}):
            engines = [e for e in combustion if family(e) == fam]
            number = cat.part(subgroup, f"{key}|{fam}", en, de, euros,
                              number=DEMO_COIL[0] if (subgroup, en, fam) == ("12_13", "Ignition coil", "B38") else None)
            out += [row(number, {"engines": [e]}, engine=e) for e in engines] if len(engines) > 1 else \
                [row(number, {"engines": engines}, engine=engines[0])]
        return out
    if scope == "series":
        return [row(cat.part(subgroup, f"{key}|{series['code']}", en, de, euros))]
    if scope == "common":
        return [row(cat.part(subgroup, key, en, de, euros))]
    if scope == "model":
        return [row(cat.part(subgroup, f"{key}|{m}", en, de, euros), {"models": [m]}) for m in series["models"]]
    if scope == "date":
        before = cat.part(subgroup, f"{key}|{series['code']}|until", en, de, euros)
        after = cat.part(subgroup, f"{key}|{series['code']}|from", en, de, euros * 1.08)
        return [row(before, {"produced_until": mid.isoformat()}),
                row(after, {"produced_from": date(mid.year, 4, 1).isoformat()})]
    if scope.startswith("option:"):
        option = scope.split(":")[1]
        plain = cat.part(subgroup, f"{key}|{series['code']}", en, de, euros)
        special = cat.part(subgroup, f"{key}|{series['code']}|{option}", f"{en}, with option {option[1:]}",
                           f"{de}, für SA {option[1:]}", euros * 1.3)
        return [row(special, {"with_options": [option]}), row(plain, {"without_options": [option]})]
    if scope == "kit":
        kit_number = cat.part(subgroup, f"{key}|{series['code']}|kit", en, de, euros)
        if not any(k["kit"] == kit_number for k in cat.kits):
            contents = []
            for i, (cen, cde) in enumerate((("Gasket", "Dichtung"), ("Sealing ring", "Dichtring"))):
                inner = cat.part(subgroup, f"{key}|{series['code']}|kit{i}", cen, cde, euros / 3, kit=kit_number)
                contents.append({"number": inner, "quantity": 1 + i})
            cat.kits.append({"kit": kit_number, "contents": contents})
        return [row(kit_number)]
    raise ValueError(scope)


def drawing(title, callouts, seed):
    """An exploded view as SVG, without script or outside references: a shape per callout on the assembly's
    axis, a leader line to its circled number. Returns (svg text, hotspots)."""
    rng = random.Random(seed)
    width, height = 800, 560
    parts_svg, hotspots = [], []
    n = len(callouts)
    for i, callout in enumerate(callouts):
        x = 110 + (width - 260) * (i + 0.5) / n
        y = 170 + (height - 300) * (i + 0.5) / n
        w, h = rng.randrange(40, 120), rng.randrange(30, 90)
        shape = rng.choice(("rect", "ellipse", "path"))
        if shape == "rect":
            parts_svg.append(f'<rect x="{x - w / 2:.0f}" y="{y - h / 2:.0f}" width="{w}" height="{h}" rx="6"/>')
        elif shape == "ellipse":
            parts_svg.append(f'<ellipse cx="{x:.0f}" cy="{y:.0f}" rx="{w / 2:.0f}" ry="{h / 2:.0f}"/>')
        else:
            parts_svg.append(f'<path d="M{x - w / 2:.0f} {y + h / 2:.0f} L{x:.0f} {y - h / 2:.0f} '
                             f'L{x + w / 2:.0f} {y + h / 2:.0f} Z"/>')
        lx, ly = (x + 150, y - 90) if i % 2 else (x - 40, y + 120)
        lx, ly = min(max(lx, 30), width - 30), min(max(ly, 60), height - 30)
        parts_svg.append(f'<line class="leader" x1="{x:.0f}" y1="{y:.0f}" x2="{lx:.0f}" y2="{ly:.0f}"/>')
        parts_svg.append(f'<circle class="callout" cx="{lx:.0f}" cy="{ly:.0f}" r="16"/>'
                         f'<text x="{lx:.0f}" y="{ly + 6:.0f}">{callout}</text>')
        hotspots.append({"callout": callout, "x": round(lx), "y": round(ly)})
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}"><style>rect,ellipse,path{{fill:#e8edf2;stroke:#223;stroke-width:2}}'
           f'.leader{{stroke:#556;stroke-width:1}}.callout{{fill:#fff;stroke:#223;stroke-width:2}}'
           f'text{{font:bold 16px sans-serif;text-anchor:middle;fill:#111}}</style>'
           f'<text x="20" y="32" style="text-anchor:start;font-size:18px">{_escape(title)}</text>'
           + "".join(parts_svg) + "</svg>")
    return svg, hotspots


def _escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build(parts=None, seed=11):
    """The catalogue's records: (manifest, groups, parts, kits, supersessions, illustrations with their SVGs)."""
    cat = Catalogue(seed)
    rng = random.Random(seed)
    groups = {g: {"id": g, "name": {"en": en, "de": de}, "subgroups": [
        {"id": sub, "name": {"en": sen, "de": sde}} for sub, sen, sde, _ in subs]} for g, en, de, subs in GROUPS}
    drawings = {}
    for series in SERIES:
        for g, _, _, subs in GROUPS:
            for subgroup, sen, sde, templates in subs:
                if g in ("11", "12", "13", "18") and all(e.startswith(ELECTRIC) for e in series["engines"]):
                    continue
                rows = []
                for callout, template in enumerate(templates, start=1):
                    rows += _rows(cat, series, subgroup, template, callout)
                if rows:
                    _illustrate(cat, drawings, series, subgroup, sen, sde, rows)
    _supersede(cat, rng)
    extra = 0
    while parts and len(cat.parts) < parts:
        extra += 1
        _tail(cat, groups, drawings, rng, extra)
    manifest = {"format": FORMAT, "name": "demo-parts", "version": f"2026.12-{parts or 'demo'}",
                "publisher": "AOS demo manufacturer", "created": "2026-12-01",
                "series": [{"code": s["code"], "name": s["name"], "models": s["models"]} for s in SERIES],
                "vin_model": [4, 7]}
    return manifest, list(groups.values()), cat, drawings


def _illustrate(cat, drawings, series, subgroup, en, de, rows, image=None):
    callouts = sorted({r["callout"] for r in rows})
    number = cat.drawn[series["code"], subgroup] = cat.drawn.get((series["code"], subgroup), 0) + 1
    id = f"{series['code']}-{subgroup}-{number:02d}"
    if image is None:
        image = f"illustrations/{id}.svg"
        drawings[image] = drawing(f"{series['code']} {subgroup.replace('_', ' ')} {en}", callouts, id)
    hotspots = drawings[image][1]
    cat.illustrations.append({"id": id, "subgroup": subgroup, "series": series["code"],
                              "title": {"en": en, "de": de}, "image": image, "hotspots": hotspots, "rows": rows})


def _supersede(cat, rng):
    """About one number in six has been superseded, in chains up to four numbers long; the demo car's coil by the
    number on sale now."""
    printed = sorted({r["number"] for i in cat.illustrations for r in i["rows"]} - {k["kit"] for k in cat.kits}
                     - {c["number"] for k in cat.kits for c in k["contents"]})
    for number in printed:
        if number == DEMO_COIL[0]:
            cat.parts[DEMO_COIL[1]] = dict(cat.parts[number], number=DEMO_COIL[1])
            cat.taken.add(DEMO_COIL[1])
            cat.supersessions.append({"old": DEMO_COIL[0], "new": DEMO_COIL[1], "interchangeability": "both_ways"})
        elif _digest(number) % 6 == 0:
            cat.supersede(number[:2] + "_" + number[2:4], number, number, random.Random(_digest(number)))


def _tail(cat, groups, drawings, rng, round_):
    """One further subgroup in every series: 20 series-specific parts a drawing (the drawings shared by shape)."""
    g, gen, gde = TAIL_GROUPS[round_ % len(TAIL_GROUPS)]
    subgroup = f"{g}_{(round_ // len(TAIL_GROUPS)) % 90 + 10:02d}"
    noun = TAIL_NOUNS[round_ % len(TAIL_NOUNS)]
    group = groups.setdefault(g, {"id": g, "name": {"en": gen, "de": gde}, "subgroups": []})
    if not any(s["id"] == subgroup for s in group["subgroups"]):
        group["subgroups"].append({"id": subgroup, "name": {"en": f"{gen}: {noun[0].lower()}s and fixings",
                                                            "de": f"{gde}: {noun[1]} und Befestigung"}})
    image = f"illustrations/shared-{round_ % 12}.svg"
    if image not in drawings:
        drawings[image] = drawing(f"{gen}", list(range(1, 21)), image)
    for series in SERIES:
        rows = []
        for callout in range(1, 21):
            en_noun, de_noun = TAIL_NOUNS[(round_ + callout) % len(TAIL_NOUNS)]
            place_en, place_de = TAIL_PLACES[callout % len(TAIL_PLACES)]
            key = f"{subgroup}|tail{round_}|{callout}|{series['code']}"
            number = cat.part(subgroup, key, f"{en_noun}, {place_en}", f"{de_noun} {place_de}", rng.uniform(1, 140))
            validity = {}
            if callout % 7 == 0:
                validity = {"models": [series["models"][callout % len(series["models"])]]}
            rows.append({"callout": callout, "number": number, "quantity": 1 + callout % 3, "validity": validity,
                         "remark": None})
            if callout % 9 == 0:
                cat.supersede(subgroup, key, number, random.Random(_digest(key)))
        _illustrate(cat, drawings, series, subgroup, f"{noun[0]}s and fixings", f"{noun[1]} und Befestigung", rows,
                    image=image)


def write(folder, parts=None, seed=11):
    """The package into `folder`; returns how many parts it holds."""
    manifest, groups, cat, drawings = build(parts, seed)
    folder = Path(folder)
    (folder / "illustrations").mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    for name, records in (("groups.jsonl", groups), ("parts.jsonl", cat.parts.values()), ("kits.jsonl", cat.kits),
                          ("supersessions.jsonl", cat.supersessions), ("illustrations.jsonl", cat.illustrations)):
        with open(folder / name, "w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    for image, (svg, _) in drawings.items():
        (folder / image).write_text(svg, encoding="utf-8")
    return len(cat.parts)


@functools.cache
def _demo():
    return build()


def repair_parts(series, engine, component):
    """The parts an AIR repair instruction for `component` on this series and engine names: the numbers the
    demo catalogue prints for it (one of each: the instruction is for one cylinder, one side)."""
    _, _, cat, _ = _demo()
    for g, _, _, subs in GROUPS:
        for subgroup, _, _, templates in subs:
            for template in templates:
                if template[4] != component:
                    continue
                key = f"{subgroup}|{template[0]}"
                for candidate in (f"{key}|{family(engine)}", f"{key}|{series}", key, f"{key}|{series}|kit",
                                  f"{key}|{series}|until"):
                    if candidate in cat.by_key:
                        return [{"number": cat.by_key[candidate], "quantity": 1}]
    return []


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m deploy.parts", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="the package's folder")
    parser.add_argument("--parts", type=int, default=None, help="grow the catalogue to this many parts")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    count = write(args.out, args.parts, args.seed)
    print(f"{count} parts written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
