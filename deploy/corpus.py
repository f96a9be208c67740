"""The demo corpus: a realistic content package of any size, for `make run`, the tests and the benchmarks.

The generic OBD-II fault codes and their descriptions come from the `obd` package (python-OBD, which ships
SAE J2012's generic codes); repair instructions, wiring diagrams (SVG), service bulletins, technical data,
maintenance instructions, component locations, special tools and labour times are generated across the series of
the demo manufacturer (deploy/series.json, the same series the demo vehicle feed is built from).
Deterministic for a seed: the same size and seed give the same package.

    python -m deploy.corpus OUT [--documents 2000] [--seed 7]      (make air-corpus OUT=... DOCUMENTS=...)
"""
import argparse
import html
import importlib.util
import itertools
import json
import random
import sys
from pathlib import Path

from deploy.parts import cylinders as cylinders_of, repair_parts
from services.air.content import FORMAT

SERIES = json.loads((Path(__file__).with_name("series.json")).read_text())["series"]
ENGINES = sorted({e for s in SERIES for e in s["engines"]})


def generic_fault_codes():
    """{code: description} of the generic OBD-II codes python-OBD ships (its codes module alone: the package's
    __init__ would load serial-port and units machinery the corpus does not need)."""
    spec = importlib.util.find_spec("obd")
    path = Path(spec.origin).with_name("codes.py")
    module_spec = importlib.util.spec_from_file_location("obd_codes", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return dict(sorted(module.DTC.items()))


def system_of(code):
    """The main group a generic code belongs to, by SAE J2012's ranges."""
    kind, group = code[0], code[1:3]
    if kind == "P":
        return {"00": "13", "01": "13", "02": "13", "03": "12", "04": "18", "05": "13", "06": "12", "07": "24",
                "08": "24", "09": "24"}.get(group, "11")
    return {"C": "34", "B": "61", "U": "84"}[kind]


# components per main group: (name, a tool, a torque in Nm or None, what fails)
COMPONENTS = {
    "11": [("timing chain tensioner", "11 9 340 chain tensioner pin", 65, "rattle at cold start"),
           ("cylinder head cover gasket", "00 9 120 torque wrench", 10, "oil leak"),
           ("oil filter housing", "11 4 361 oil filter wrench", 25, "oil leak"),
           ("engine mount", "00 9 120 torque wrench", 56, "vibration at idle")],
    "12": [("ignition coil", "12 1 500 coil puller", 8, "misfire"),
           ("spark plug", "12 1 200 spark plug socket 14 mm", 23, "misfire"),
           ("crankshaft position sensor", "00 9 120 torque wrench", 8, "no start"),
           ("alternator", "12 3 100 belt tensioner lever", 40, "battery not charging"),
           ("engine control module", "00 9 250 ESD kit", 8, "no communication")],
    "13": [("fuel injector", "13 5 280 injector puller", 30, "misfire, rough running"),
           ("throttle body", "00 9 120 torque wrench", 10, "idle speed too high"),
           ("mass air flow sensor", "00 9 120 torque wrench", 4, "lean mixture"),
           ("high pressure fuel pump", "13 5 250 pump holder", 22, "fuel pressure too low")],
    "17": [("coolant pump", "17 0 100 cooling system tester", 10, "overheating"),
           ("thermostat", "17 0 100 cooling system tester", 10, "engine warms up slowly")],
    "18": [("oxygen sensor", "18 1 100 oxygen sensor socket", 50, "lean or rich mixture"),
           ("catalytic converter", "18 2 000 exhaust support", 21, "catalyst efficiency below threshold")],
    "24": [("transmission oil pan", "24 4 050 filling adapter", 10, "shift shock"),
           ("mechatronic unit", "24 4 200 mechatronic holder", 8, "transmission emergency mode")],
    "31": [("front control arm", "31 2 320 ball joint puller", 110, "knocking over bumps")],
    "32": [("tie rod end", "32 3 090 ball joint puller", 65, "steering wander")],
    "34": [("front brake pads", "34 1 100 piston resetter", 30, "brake wear warning"),
           ("front brake disc", "34 1 100 piston resetter", 30, "brake judder"),
           ("wheel speed sensor", "00 9 120 torque wrench", 8, "ABS warning lamp"),
           ("parking brake actuator", "34 2 010 service mode adapter", 8, "parking brake fault")],
    "61": [("battery", "61 2 050 battery tester", 15, "vehicle does not start"),
           ("intelligent battery sensor", "61 2 050 battery tester", 5, "battery not charging")],
    "63": [("headlight", "63 1 000 headlight aimer", 5, "light not working")],
    "64": [("air conditioning compressor", "64 5 000 refrigerant station", 20, "no cooling")],
    "72": [("driver airbag", "72 1 000 airbag simulator", 8, "airbag warning lamp")],
}
ACTIONS = [("Remove and install", 1.0), ("Replace", 1.2), ("Check", 0.4)]
CIRCUITS = {"12": "ignition and injection", "13": "fuel system sensors", "34": "brake control system",
            "61": "power distribution", "63": "exterior lighting", "64": "climate control"}


def _applicability(series, engine=None):
    return {"series": [series["code"]], "engine_codes": [engine] if engine else [],
            "produced_from": f"{series['years'][0]}-01-01", "produced_until": f"{series['years'][1]}-12-31"}


def _doc(id, type, title, system, summary, version=1, steps=(), data=(), tools=(), notes=(), codes=(),
         applicability=None, binaries=(), language="en", parts=()):
    body = {"summary": summary, "steps": list(steps), "data": list(data), "tools": list(tools), "notes": list(notes)}
    if parts:
        body["parts"] = list(parts)
    return {"id": id, "type": type, "title": title, "system": system, "language": language, "version": version,
            "valid_from": "2024-01-01", "codes": list(codes), "applicability": applicability or {},
            "body": body, "binaries": list(binaries)}


def fault_code_documents(codes):
    for code, text in codes.items():
        system = system_of(code)
        yield _doc(f"DTC-{code}", "fault_code", f"{code} {text}", system,
                   f"Fault code {code}: {text}. Stored when the control unit's monitor fails in two consecutive "
                   "driving cycles; the malfunction indicator lamp may be on.",
                   codes=[code], steps=[
                       {"text": "Read the fault memory and freeze frame data with the diagnosis system."},
                       {"text": f"Check wiring and connectors of the circuit named by {code} for damage and corrosion."},
                       {"text": "Carry out the test plan; replace the component only when the test plan says so."},
                       {"text": "Clear the fault memory and run a test drive to confirm the repair."}])


def repair_documents(rng):
    """Repair instructions for each component, action, series and engine; a misfire in cylinder N leads to
    the coil and the plug of cylinder N."""
    for series, (system, parts), (action, hours) in itertools.product(SERIES, COMPONENTS.items(), ACTIONS):
        for engine in series["engines"]:
            for name, tool, torque, symptom in parts:
                cylinders = range(1, cylinders_of(engine) + 1) \
                    if name in ("ignition coil", "spark plug", "fuel injector") else [None]
                for cylinder in cylinders:
                    where = f", cylinder {cylinder}" if cylinder else ""
                    slug = name.replace(" ", "-").upper()
                    yield _doc(
                        f"RI-{series['code']}-{engine}-{slug}{'-C' + str(cylinder) if cylinder else ''}-{action[:3].upper()}",
                        "repair_instruction", f"{action} {name}{where} ({engine}, {series['code']})", system,
                        f"{action} the {name}{where} on the {series['name']} ({series['code']}) with engine {engine}. "
                        f"Typical symptom: {symptom}{(' in cylinder ' + str(cylinder)) if cylinder else ''}.",
                        applicability=_applicability(series, engine), tools=[tool],
                        steps=[{"text": "Switch off the ignition and disconnect the battery negative terminal.",
                                "caution": "Wait 3 minutes for the control units to power down."},
                               {"text": f"Remove the trim and unclip the connector of the {name}{where}.",
                                "tools": [tool]},
                               {"text": f"{action} the {name}{where}.",
                                **({"torque_nm": float(torque)} if torque else {})},
                               {"text": "Reconnect, clear the fault memory, test drive."}],
                        data=[{"item": "Labour time", "value": f"{hours * rng.uniform(0.8, 1.3):.1f}", "unit": "h"}],
                        parts=repair_parts(series["code"], engine, name) if action == "Replace" else ())


def wiring_documents():
    for series in SERIES:
        for engine in series["engines"]:
            for system, circuit in CIRCUITS.items():
                name = f"WD-{series['code']}-{engine}-{system}"
                yield _doc(name, "wiring_diagram", f"Wiring diagram: {circuit} ({engine}, {series['code']})", system,
                           f"Circuit diagram of the {circuit} for the {series['name']} ({series['code']}) with "
                           f"engine {engine}: connectors, pins, wire colours and fuses.",
                           applicability=_applicability(series, engine),
                           binaries=[{"file": f"binaries/{name}.svg", "title": f"{circuit}, {engine}"}])


def svg(title, seed):
    """A schematic: a control unit, components on numbered wires, a fuse, ground."""
    rng = random.Random(seed)
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 800 500" font-family="sans-serif" font-size="12">',
             f'<title>{html.escape(title)}</title><rect x="20" y="20" width="180" height="460" fill="none" stroke="#000"/>',
             '<text x="30" y="40">Control unit</text>', '<text x="600" y="40">F12 30A</text>']
    colours = ["#000", "#c00", "#06c", "#090", "#960", "#888"]
    for i in range(rng.randrange(4, 9)):
        y = 70 + i * 50
        parts.append(f'<line x1="200" y1="{y}" x2="560" y2="{y}" stroke="{rng.choice(colours)}" stroke-width="2"/>'
                     f'<text x="210" y="{y - 4}">X{rng.randrange(100, 999)}*{i + 1} {rng.choice(["SW", "RT", "BL", "GN"])} 0.5</text>'
                     f'<rect x="560" y="{y - 15}" width="120" height="30" fill="#eee" stroke="#000"/>'
                     f'<text x="566" y="{y + 4}">M{i + 1}</text>')
    parts.append('<line x1="700" y1="470" x2="760" y2="470" stroke="#000"/><text x="700" y="490">Ground</text></svg>')
    return "".join(parts)


def bulletin_documents(codes, rng):
    misfire = [c for c in codes if c.startswith("P030")]
    number = itertools.count(1)
    for series in SERIES:
        for engine in series["engines"]:
            for code in rng.sample(misfire, min(2, len(misfire))) + rng.sample(sorted(codes), 2):
                n = next(number)
                yield _doc(f"SI-{n:05d}", "service_bulletin",
                           f"SI B{system_of(code)} {n:03d} {series['years'][0] % 100}: {codes[code]} ({engine})",
                           system_of(code),
                           f"Situation: {codes[code]} stored ({code}) on {series['code']} with {engine}. Cause: a "
                           "software fault in the control unit. Action: program the vehicle to the current "
                           "integration level, then clear the fault memory.", codes=[code],
                           applicability=_applicability(series, engine),
                           steps=[{"text": "Check the integration level; if older than the one named, program."},
                                  {"text": "Clear the fault memory and test drive."}])


def other_documents(rng):
    for series in SERIES:
        for engine in series["engines"]:
            app = _applicability(series, engine)
            yield _doc(f"TD-{series['code']}-{engine}", "technical_data", f"Technical data: engine {engine} "
                       f"({series['code']})", "11", f"Capacities and tightening torques, engine {engine}.",
                       applicability=app, data=[{"item": "Engine oil with filter", "value": f"{rng.uniform(4.2, 6.8):.1f}", "unit": "l"},
                                                {"item": "Spark plug", "value": "23", "unit": "Nm"},
                                                {"item": "Oil drain plug", "value": "25", "unit": "Nm"},
                                                {"item": "Wheel bolts", "value": "140", "unit": "Nm"}])
            yield _doc(f"MI-{series['code']}-{engine}", "maintenance_instruction", f"Engine oil service ({engine}, "
                       f"{series['code']})", "11", "Change engine oil and filter; reset the condition based service.",
                       applicability=app, steps=[{"text": "Drain the engine oil.", "torque_nm": 25.0},
                                                 {"text": "Replace the oil filter element.", "torque_nm": 25.0},
                                                 {"text": "Fill oil, reset the service indicator."}])
        for system, parts in COMPONENTS.items():
            for name, tool, _, _ in parts:
                slug = name.replace(" ", "-").upper()
                yield _doc(f"CL-{series['code']}-{slug}", "component_location", f"Location: {name} ({series['code']})",
                           system, f"Where the {name} sits in the {series['name']}.",
                           applicability=_applicability(series),
                           steps=[{"text": f"The {name} is reached after removing the trim panel."}])
                yield _doc(f"LT-{series['code']}-{slug}", "labour_time", f"Labour time: {name} ({series['code']})",
                           system, f"Flat-rate times for work on the {name}.", applicability=_applicability(series),
                           data=[{"item": f"{a} {name}", "value": f"{h * rng.uniform(0.8, 1.3):.1f}", "unit": "h"}
                                 for a, h in ACTIONS])
    for system, parts in COMPONENTS.items():
        for name, tool, _, _ in parts:
            number = tool.split(" ")[0:3]
            yield _doc(f"ST-{''.join(number)}-{name.replace(' ', '-').upper()}", "special_tool",
                       f"Special tool {' '.join(number)}: {' '.join(tool.split(' ')[3:])}", system,
                       f"What {tool} is for: work on the {name}.", tools=[tool])


def stream(seed=7):
    """Every document the generator knows, the misfire set first, then the types interleaved; then variants for
    one model and period each, as many as are asked for."""
    rng = random.Random(seed)
    codes = generic_fault_codes()
    misfire = ("IGNITION-COIL", "SPARK-PLUG")  # the misfire set: every car's coils and plugs, its ignition diagram
    first = [d for d in fault_code_documents(codes) if d["codes"][0].startswith("P030")]
    first += [d for d in wiring_documents() if d["system"] == "12"]
    first += [d for d in repair_documents(random.Random(seed)) if any(m in d["id"] for m in misfire)]
    seen = {d["id"] for d in first}
    base = list(first)
    yield from first
    generators = [fault_code_documents(codes), repair_documents(rng), wiring_documents(),
                  bulletin_documents(codes, rng), other_documents(rng)]
    while generators:
        for g in list(generators):
            item = next(g, None)
            if item is None:
                generators.remove(g)
            elif item["id"] not in seen:
                seen.add(item["id"])
                base.append(item)
                yield item
    for round_ in itertools.count(1):
        for doc in base:
            yield variant(doc, round_)


def variant(doc, round_):
    """A document as it is written again for one model and production period: how a manufacturer's library
    grows past the generic set (a fault code's series-specific description, a procedure changed in a facelift)."""
    a = doc["applicability"]
    series = next((s for s in SERIES if s["code"] in a.get("series", [])), SERIES[round_ % len(SERIES)])
    model = series["models"][(round_ // len(SERIES)) % len(series["models"])]
    first, last = series["years"]
    year = first + round_ % (last - first + 1)
    return dict(doc, id=f"{doc['id']}-{series['code']}{model}-{round_}",
                title=f"{doc['title']} [{series['code']} {model} from {year}]",
                applicability=dict(a, series=[series["code"]], model_codes=[model], produced_from=f"{year}-01-01",
                                   produced_until=a.get("produced_until")),
                binaries=[dict(b, file=b["file"].replace(".svg", f"-{round_}.svg")) for b in doc["binaries"]])


def write(out, count, seed=7, progress=False):
    """A package with `count` documents, as a folder, or a zip when `out` ends in .zip; written as generated,
    so memory stays flat at any size."""
    out = Path(out)
    if out.suffix == ".zip":
        import shutil
        import tempfile
        with tempfile.TemporaryDirectory() as folder:
            written = write(Path(folder) / out.stem, count, seed, progress)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.make_archive(str(out.with_suffix("")), "zip", Path(folder) / out.stem)
        return written
    bar = None
    if progress:
        import sys
        from tqdm import tqdm
        bar = tqdm(total=count, desc="generating", unit=" documents", file=sys.stderr, mininterval=0.5)
    (out / "binaries").mkdir(parents=True, exist_ok=True)
    written = 0
    with open(out / "documents.jsonl", "w", encoding="utf-8") as lines:
        for doc in itertools.islice(stream(seed), count):
            lines.write(json.dumps(doc, ensure_ascii=False) + "\n")
            for b in doc["binaries"]:
                (out / b["file"]).write_text(svg(doc["title"], f"{seed}-{doc['id']}"), encoding="utf-8")
            written += 1
            if bar is not None:
                bar.update(1)
    manifest = {"format": FORMAT, "name": "demo-library", "version": "2026.11", "publisher": "AOS demo manufacturer",
                "created": "2026-11-24", "documents": "documents.jsonl"}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    if bar is not None:
        bar.close()
    return written


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m deploy.corpus", description="write the demo corpus as a package")
    parser.add_argument("out")
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"wrote {write(Path(args.out), args.documents, seed=args.seed, progress=True)} documents to {args.out}")


if __name__ == "__main__":
    main(sys.argv[1:])
