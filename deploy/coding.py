"""The demo manufacturer's coding rules, shipped with its software catalogue (coding.json beside catalog.json):
how each ECU type's coding (its ODX layout, deploy.odx CODING) follows from a car's order. Retrofitting a trailer
tow hitch (S3AC) changes three ECUs' parameters; the market sets units, language and traffic side.

    python -m deploy.coding FOLDER      (writes FOLDER/coding.json)
"""
import json
import sys
from pathlib import Path

from services.programming.coding import FORMAT

VERSION = "2026.12"
TRAILER_HITCH = "S3AC"  # not built into any demo car: the option a workshop retrofits
RULES = [
    # every car
    {"ecu_type": "BDC", "identifier": "lighting", "parameter": "daytime_running_lights", "value": "on"},
    {"ecu_type": "BDC", "identifier": "comfort", "parameter": "auto_lock_speed", "value": 10},
    {"ecu_type": "KOMBI", "identifier": "service_interval", "parameter": "oil_service_km", "value": 30000},
    {"ecu_type": "DSC", "identifier": "stability_functions", "parameter": "hill_start_assist", "value": "on"},
    {"ecu_type": "ZGW", "identifier": "gateway_functions", "parameter": "telematics", "value": "on"},
    # the market it was built for
    {"ecu_type": "KOMBI", "identifier": "display", "parameter": "language", "value": "German",
     "country": ["DE", "AT"]},
    {"ecu_type": "KOMBI", "identifier": "display", "parameter": "language", "value": "French", "country": ["FR"]},
    {"ecu_type": "KOMBI", "identifier": "display", "parameter": "language", "value": "Italian", "country": ["IT"]},
    {"ecu_type": "KOMBI", "identifier": "display", "parameter": "speed_unit", "value": "mph", "country": ["GB"]},
    {"ecu_type": "FLE", "identifier": "headlight", "parameter": "traffic_side", "value": "left-hand traffic",
     "country": ["GB"]},
    {"ecu_type": "HU", "identifier": "infotainment", "parameter": "region", "value": "United Kingdom",
     "country": ["GB"]},
    # options
    {"ecu_type": "HU", "identifier": "infotainment", "parameter": "navigation", "value": "on", "option": "S6NW"},
    {"ecu_type": "FLE", "identifier": "headlight", "parameter": "cornering_light", "value": "on", "option": "S5AC"},
    {"ecu_type": "BDC", "identifier": "lighting", "parameter": "welcome_light", "value": "on", "option": "S5AC"},
    {"ecu_type": "BDC", "identifier": "comfort", "parameter": "mirror_fold_on_lock", "value": "on", "option": "S322"},
    {"ecu_type": "BDC", "identifier": "lighting", "parameter": "trailer_module", "value": "fitted",
     "option": TRAILER_HITCH},
    {"ecu_type": "DSC", "identifier": "stability_functions", "parameter": "trailer_stability_control",
     "value": "on", "option": TRAILER_HITCH},
    {"ecu_type": "KOMBI", "identifier": "display", "parameter": "trailer_display", "value": "on",
     "option": TRAILER_HITCH},
]


def document():
    return {"format": FORMAT, "version": VERSION, "rules": RULES}


def write(folder):
    path = Path(folder) / "coding.json"
    path.write_text(json.dumps(document(), indent=1))
    return path


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__.rsplit("\n\n", 1)[1])
    print(write(sys.argv[1]))


def delivered(ecus, order, odx_folder):
    """The car's ECUs (the registry's list) each with the coding its order had when it left the factory: what
    the simulated car holds as delivered."""
    from automotive.odx import Library
    from services.programming import coding
    library = Library(odx_folder)
    layouts = {kind: {name: c.view() for name, c in d.codings.items()} for kind, d in library.types.items()}
    wanted = coding.target(RULES, layouts, ecus, order)
    return [dict(ecu, coding=wanted.get(ecu["address"], {})) for ecu in ecus]
