"""The demo manufacturer's diagnostic descriptions: each ECU type of the demo car described in ODX (ISO 22901) and
packed as a PDX file, as a manufacturer's authoring tool delivers them. The simulated car and the workshop's
agent both read these files (automotive.odx); nothing about an ECU's diagnostics is written anywhere
else.

    python -m deploy.odx OUT        (writes OUT/<ECU type>.pdx for every type below)

Per ECU type: its fault codes (DTCs) with their texts; its data identifiers with unit, scaling (a linear
internal-to-physical formula, or a text table) and the test plan's limits (the minimum and maximum a healthy car
shows, Annex X's "minimum and maximum values of live data"); its freeze-frame identifiers; its routines
(actuator tests), each answering passed or failed; its coding identifiers (CODING below): each a record of
parameters at their byte and bit, each with a text table of the values it may take or a numeric range, read with
0x22 and written with 0x2E in the session and at the security level the description names; and which of its
identifiers are adaptations carried over to a replacement unit."""
import argparse
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from automotive.odx import trouble_code

# (name, DID, bytes, factor, offset, unit, min, max, long name)
Did = tuple
# (display code, text[, the test plan's live-data checks: identifier names])
Dtc = tuple
ENGINE_CHECKS = ["engine_speed", "engine_load", "misfires_cylinder_1", "misfires_cylinder_2", "misfires_cylinder_3",
                 "misfires_cylinder_4"]
# (name, routine id, long name)
Routine = tuple

ENGINE_DIDS = [
    ("engine_speed", 0x4001, 2, 0.25, 0, "rpm", 600, 900, "Engine speed"),
    ("coolant_temperature", 0x4002, 1, 1, -40, "degC", 80, 105, "Coolant temperature"),
    ("battery_voltage", 0x4003, 2, 0.001, 0, "V", 12.2, 14.8, "Battery voltage"),
    ("engine_load", 0x4004, 1, 0.4, 0, "percent", 12, 35, "Engine load"),
    ("intake_air_temperature", 0x4005, 1, 1, -40, "degC", -20, 60, "Intake air temperature"),
    ("fuel_rail_pressure", 0x4006, 2, 0.1, 0, "bar", 40, 200, "Fuel rail pressure"),
    ("misfires_cylinder_1", 0x4011, 2, 1, 0, "count", 0, 5, "Misfires, cylinder 1"),
    ("misfires_cylinder_2", 0x4012, 2, 1, 0, "count", 0, 5, "Misfires, cylinder 2"),
    ("misfires_cylinder_3", 0x4013, 2, 1, 0, "count", 0, 5, "Misfires, cylinder 3"),
    ("misfires_cylinder_4", 0x4014, 2, 1, 0, "count", 0, 5, "Misfires, cylinder 4"),
]
UNITS = {"rpm": "1/min", "degC": "°C", "V": "V", "percent": "%", "bar": "bar", "count": "", "km": "km",
         "kmh": "km/h", "mm": "mm"}

TYPES = {
    "DME": {
        "long_name": "Engine control",
        "dtcs": [("P0300", "Random/multiple cylinder misfire detected", ENGINE_CHECKS),
                 ("P0301", "Cylinder 1 misfire detected", ENGINE_CHECKS),
                 ("P0302", "Cylinder 2 misfire detected", ENGINE_CHECKS),
                 ("P0303", "Cylinder 3 misfire detected", ENGINE_CHECKS),
                 ("P0304", "Cylinder 4 misfire detected", ENGINE_CHECKS),
                 ("P0351", "Ignition coil A primary/secondary circuit", ["engine_speed", "misfires_cylinder_1"]),
                 ("P0562", "System voltage low", ["battery_voltage", "engine_speed"]),
                 ("P0117", "Engine coolant temperature circuit low", ["coolant_temperature", "intake_air_temperature"])],
        "dids": ENGINE_DIDS,
        "freeze_frame": ["engine_speed", "coolant_temperature", "battery_voltage", "engine_load"],
        "routines": [("ignition_coil_test_cylinder_1", 0x0311, "Ignition coil test, cylinder 1"),
                     ("ignition_coil_test_cylinder_2", 0x0312, "Ignition coil test, cylinder 2"),
                     ("ignition_coil_test_cylinder_3", 0x0313, "Ignition coil test, cylinder 3"),
                     ("ignition_coil_test_cylinder_4", 0x0314, "Ignition coil test, cylinder 4"),
                     ("fuel_pump_test", 0x0201, "Electric fuel pump test")],
    },
    "EGS": {
        "long_name": "Transmission control",
        "dtcs": [("P0700", "Transmission control system malfunction"), ("P0715", "Input/turbine speed sensor A circuit")],
        "dids": [("transmission_oil_temperature", 0x4301, 1, 1, -40, "degC", 20, 110, "Transmission oil temperature")],
        "freeze_frame": ["transmission_oil_temperature"],
        "routines": [("gear_selector_adaptation", 0x0401, "Gear selector adaptation")],
    },
    "DSC": {
        "long_name": "Stability control",
        "dtcs": [("C0035", "Left front wheel speed sensor circuit", ["wheel_speed_front_left"]),
                 ("C0040", "Right front wheel speed sensor circuit", ["wheel_speed_front_right"])],
        "dids": [("wheel_speed_front_left", 0x4201, 2, 0.01, 0, "kmh", 0, 250, "Wheel speed, front left"),
                 ("wheel_speed_front_right", 0x4202, 2, 0.01, 0, "kmh", 0, 250, "Wheel speed, front right")],
        "freeze_frame": ["wheel_speed_front_left", "wheel_speed_front_right"],
        "routines": [("pump_motor_test", 0x0501, "Hydraulic pump motor test")],
    },
    "BDC": {
        "long_name": "Body domain controller",
        "dtcs": [("B1325", "Supply voltage too low", ["supply_voltage"]),
                 ("U0100", "Lost communication with engine control")],
        "dids": [("supply_voltage", 0x4101, 2, 0.001, 0, "V", 12.2, 14.8, "Supply voltage")],
        "freeze_frame": ["supply_voltage"],
        "routines": [("central_locking_test", 0x0601, "Central locking test")],
    },
    "KOMBI": {
        "long_name": "Instrument cluster",
        "dtcs": [("B1600", "Odometer plausibility"), ("U0155", "Lost communication with instrument cluster")],
        "dids": [("odometer", 0x4401, 4, 1, 0, "km", 0, 999999, "Odometer reading")],
        "freeze_frame": ["odometer"],
        "routines": [("gauge_sweep", 0x0701, "Gauge sweep test")],
    },
    "HU": {
        "long_name": "Head unit",
        "dtcs": [("B1A10", "Display backlight circuit"), ("U0184", "Lost communication with radio")],
        "dids": [("supply_voltage", 0x4101, 2, 0.001, 0, "V", 12.2, 14.8, "Supply voltage")],
        "freeze_frame": ["supply_voltage"],
        "routines": [("speaker_test", 0x0801, "Speaker test")],
    },
    "FLE": {
        "long_name": "Left headlight",
        "dtcs": [("B1B20", "Low beam LED module circuit"), ("B1B21", "Headlight levelling motor circuit")],
        "dids": [("levelling_position", 0x4501, 1, 1, 0, "mm", 0, 40, "Headlight levelling position")],
        "freeze_frame": ["levelling_position"],
        "routines": [("levelling_motor_test", 0x0901, "Headlight levelling motor test")],
    },
    "ZGW": {
        "long_name": "Central gateway",
        "dtcs": [("U0001", "High speed CAN communication bus"), ("U1000", "Ethernet link down")],
        "dids": [("supply_voltage", 0x4101, 2, 0.001, 0, "V", 12.2, 14.8, "Supply voltage")],
        "freeze_frame": ["supply_voltage"],
        "routines": [("bus_wakeup_test", 0x0A01, "Bus wake-up test")],
    },
}
ROUTINE_RESULTS = ((0, "passed"), (1, "failed"))

# Coding: per ECU type, its coding identifiers (name, DID, long name, parameters); a parameter is (name, byte, bit,
# bits, long name, values), values a text table [(raw, text), ...] whose first entry is a factory-new unit's, or
# (minimum, maximum, unit) for a number (a factory-new unit holds the minimum). Written in the extended session
# (0x03), without security access; the immobiliser's pairing is not coding (SERMI).
OFF_ON = [(0, "off"), (1, "on")]
FITTED = [(0, "not fitted"), (1, "fitted")]
CODING = {
    "DME": [("engine_functions", 0x3201, "Engine functions", [
        ("start_stop_at_ignition", 0, 0, 1, "Start-stop at ignition", [(0, "on"), (1, "off")]),
        ("idle_speed_offset", 1, 0, 8, "Idle speed offset", (0, 100, "rpm"))])],
    "EGS": [("transmission_functions", 0x3501, "Transmission functions", [
        ("launch_control", 0, 0, 1, "Launch control", OFF_ON),
        ("trailer_shift_program", 0, 1, 1, "Trailer shift program", OFF_ON)])],
    "DSC": [("stability_functions", 0x3601, "Stability functions", [
        ("trailer_stability_control", 0, 0, 1, "Trailer stability control", OFF_ON),
        ("hill_start_assist", 0, 1, 1, "Hill start assist", OFF_ON)])],
    "BDC": [("lighting", 0x3001, "Lighting", [
        ("daytime_running_lights", 0, 0, 1, "Daytime running lights", OFF_ON),
        ("welcome_light", 0, 1, 1, "Welcome light", OFF_ON),
        ("trailer_module", 0, 2, 1, "Trailer module", FITTED)]),
            ("comfort", 0x3002, "Comfort", [
        ("auto_lock_speed", 0, 0, 8, "Automatic locking from", (0, 30, "kmh")),
        ("mirror_fold_on_lock", 1, 0, 1, "Fold mirrors when locking", OFF_ON)])],
    "KOMBI": [("display", 0x3101, "Display", [
        ("speed_unit", 0, 0, 1, "Speed unit", [(0, "km/h"), (1, "mph")]),
        ("language", 0, 1, 3, "Language", [(0, "English"), (1, "German"), (2, "French"), (3, "Italian")]),
        ("trailer_display", 0, 4, 1, "Trailer display", OFF_ON)]),
              ("service_interval", 0x3102, "Service interval", [
        ("oil_service_km", 0, 0, 16, "Oil service interval", (5000, 30000, "km"))])],
    "HU": [("infotainment", 0x3301, "Infotainment", [
        ("navigation", 0, 0, 1, "Navigation", OFF_ON),
        ("region", 0, 1, 2, "Map and radio region", [(0, "Europe"), (1, "United Kingdom"), (2, "North America")])])],
    "FLE": [("headlight", 0x3401, "Headlight", [
        ("traffic_side", 0, 0, 1, "Traffic side", [(0, "right-hand traffic"), (1, "left-hand traffic")]),
        ("cornering_light", 0, 1, 1, "Cornering light", OFF_ON)])],
    "ZGW": [("gateway_functions", 0x3701, "Gateway functions", [
        ("telematics", 0, 0, 1, "Telematics", OFF_ON),
        ("remote_services", 0, 1, 1, "Remote services", OFF_ON)])],
}
CODING_SESSION, CODING_SECURITY = "extended", "none"
# identifiers whose values a replacement unit takes over from the old one (ISO 22901 has no word for it: an SDG)
CARRIED_OVER = {"KOMBI": ["odometer"], "BDC": [], "DME": [], "EGS": [], "DSC": [], "HU": [], "FLE": [], "ZGW": []}


def _coded(bits, value=None, name=None, position=None, semantic=None):
    head = f'<PARAM{f" SEMANTIC={chr(34)}{semantic}{chr(34)}" if semantic else ""} xsi:type="CODED-CONST">'
    return (f'{head}<SHORT-NAME>{name}</SHORT-NAME><BYTE-POSITION>{position}</BYTE-POSITION>'
            f'<CODED-VALUE>{value}</CODED-VALUE>'
            f'<DIAG-CODED-TYPE BASE-DATA-TYPE="A_UINT32" xsi:type="STANDARD-LENGTH-TYPE">'
            f'<BIT-LENGTH>{bits}</BIT-LENGTH></DIAG-CODED-TYPE></PARAM>')


def _value(name, position, dop):
    return (f'<PARAM SEMANTIC="DATA" xsi:type="VALUE"><SHORT-NAME>{name}</SHORT-NAME>'
            f'<BYTE-POSITION>{position}</BYTE-POSITION><DOP-REF ID-REF="DOP.{dop}"/></PARAM>')


def _linear(factor, offset):
    return ('<COMPU-METHOD><CATEGORY>LINEAR</CATEGORY><COMPU-INTERNAL-TO-PHYS><COMPU-SCALES><COMPU-SCALE>'
            f'<COMPU-RATIONAL-COEFFS><COMPU-NUMERATOR><V>{offset}</V><V>{factor}</V></COMPU-NUMERATOR>'
            '<COMPU-DENOMINATOR><V>1</V></COMPU-DENOMINATOR></COMPU-RATIONAL-COEFFS>'
            '</COMPU-SCALE></COMPU-SCALES></COMPU-INTERNAL-TO-PHYS></COMPU-METHOD>')


def _texttable(pairs):
    scales = "".join(f'<COMPU-SCALE><LOWER-LIMIT>{k}</LOWER-LIMIT><UPPER-LIMIT>{k}</UPPER-LIMIT>'
                     f'<COMPU-CONST><VT>{v}</VT></COMPU-CONST></COMPU-SCALE>' for k, v in pairs)
    return (f'<COMPU-METHOD><CATEGORY>TEXTTABLE</CATEGORY><COMPU-INTERNAL-TO-PHYS><COMPU-SCALES>{scales}'
            '</COMPU-SCALES></COMPU-INTERNAL-TO-PHYS></COMPU-METHOD>')


def _did_dop(did):
    name, _, size, factor, offset, unit, low, high, long_name = did
    physical = "A_FLOAT64" if isinstance(factor, float) or offset else "A_UINT32"
    return (f'<DATA-OBJECT-PROP ID="DOP.{name}"><SHORT-NAME>{name}</SHORT-NAME>'
            f'<LONG-NAME>{escape(long_name)}</LONG-NAME>'
            f'<SDGS><SDG><SDG-CAPTION ID="SDGC.{name}"><SHORT-NAME>test_plan</SHORT-NAME></SDG-CAPTION>'
            f'<SD SI="min">{low}</SD><SD SI="max">{high}</SD></SDG></SDGS>'
            f'{_linear(factor, offset)}'
            f'<DIAG-CODED-TYPE BASE-DATA-TYPE="A_UINT32" xsi:type="STANDARD-LENGTH-TYPE">'
            f'<BIT-LENGTH>{size * 8}</BIT-LENGTH></DIAG-CODED-TYPE>'
            f'<PHYSICAL-TYPE BASE-DATA-TYPE="{physical}"/><UNIT-REF ID-REF="UNIT.{unit}"/></DATA-OBJECT-PROP>')


def _checks(code, checks):
    """A DTC's test plan: the live data to check for it, against each identifier's limits."""
    if not checks or not checks[0]:
        return ""
    return (f'<SDGS><SDG><SDG-CAPTION ID="SDGC.plan.{code}"><SHORT-NAME>test_plan</SHORT-NAME></SDG-CAPTION>'
            + "".join(f'<SD SI="did">{name}</SD>' for name in checks[0]) + '</SDG></SDGS>')


def _coding_dop(ecu_type, parameter):
    name, _, _, bits, long_name, values = parameter
    ident = f"DOP.coding.{ecu_type}.{name}"
    if isinstance(values, list):
        compu, limits, physical, unit = _texttable(values), "", "A_UNICODE2STRING", ""
    else:
        low, high, shown = values
        compu = '<COMPU-METHOD><CATEGORY>IDENTICAL</CATEGORY></COMPU-METHOD>'
        limits = (f'<SDGS><SDG><SDG-CAPTION ID="SDGC.coding.{ecu_type}.{name}"><SHORT-NAME>range</SHORT-NAME>'
                  f'</SDG-CAPTION><SD SI="min">{low}</SD><SD SI="max">{high}</SD></SDG></SDGS>')
        physical, unit = "A_UINT32", f'<UNIT-REF ID-REF="UNIT.{shown}"/>'
    return (f'<DATA-OBJECT-PROP ID="{ident}"><SHORT-NAME>{name}</SHORT-NAME><LONG-NAME>{escape(long_name)}'
            f'</LONG-NAME>{limits}{compu}<DIAG-CODED-TYPE BASE-DATA-TYPE="A_UINT32" xsi:type="STANDARD-LENGTH-TYPE">'
            f'<BIT-LENGTH>{bits}</BIT-LENGTH></DIAG-CODED-TYPE><PHYSICAL-TYPE BASE-DATA-TYPE="{physical}"/>{unit}'
            '</DATA-OBJECT-PROP>')


def _coding_params(ecu_type, parameters, start):
    return "".join(f'<PARAM SEMANTIC="DATA" xsi:type="VALUE"><SHORT-NAME>{name}</SHORT-NAME>'
                   f'<BYTE-POSITION>{start + byte}</BYTE-POSITION><BIT-POSITION>{bit}</BIT-POSITION>'
                   f'<DOP-REF ID-REF="DOP.coding.{ecu_type}.{name}"/></PARAM>'
                   for name, byte, bit, *_ in parameters)


def _coding(ecu_type, coding):
    """The coding identifiers' DOPs, and their read and write services, requests and answers."""
    dops, services, requests, responses = [], [], [], []
    where = (f'<SDGS><SDG><SDG-CAPTION ID="SDGC.coding.{{n}}"><SHORT-NAME>coding</SHORT-NAME></SDG-CAPTION>'
             f'<SD SI="session">{CODING_SESSION}</SD><SD SI="security_level">{CODING_SECURITY}</SD></SDG></SDGS>')
    for name, number, long_name, parameters in coding:
        dops += [_coding_dop(ecu_type, p) for p in parameters]
        for verb, sid, answer in (("read", 0x22, 0x62), ("write", 0x2E, 0x6E)):
            service = f"{verb}_coding_{name}"
            services.append(f'<DIAG-SERVICE ID="DS.{service}" SEMANTIC="VARIANTCODING"><SHORT-NAME>{service}'
                            f'</SHORT-NAME><LONG-NAME>{escape(long_name)}</LONG-NAME>{where.format(n=service)}'
                            f'<REQUEST-REF ID-REF="RQ.{service}"/><POS-RESPONSE-REFS>'
                            f'<POS-RESPONSE-REF ID-REF="PR.{service}"/></POS-RESPONSE-REFS></DIAG-SERVICE>')
            head = f'{_coded(8, sid, "sid", 0, "SERVICE-ID")}{_coded(16, number, "did", 1, "ID")}'
            answer_head = f'{_coded(8, answer, "sid", 0, "SERVICE-ID")}{_coded(16, number, "did", 1, "ID")}'
            requests.append(f'<REQUEST ID="RQ.{service}"><SHORT-NAME>{service}</SHORT-NAME><PARAMS>{head}'
                            f'{_coding_params(ecu_type, parameters, 3) if verb == "write" else ""}</PARAMS>'
                            '</REQUEST>')
            responses.append(f'<POS-RESPONSE ID="PR.{service}"><SHORT-NAME>{service}</SHORT-NAME><PARAMS>'
                             f'{answer_head}{_coding_params(ecu_type, parameters, 3) if verb == "read" else ""}'
                             '</PARAMS></POS-RESPONSE>')
    return "".join(dops), "".join(services), "".join(requests), "".join(responses)


def layer(ecu_type, spec):
    """One ECU type's BASE-VARIANT."""
    dtcs = "".join(
        f'<DTC ID="DTC.{code}"><SHORT-NAME>{code}</SHORT-NAME><TROUBLE-CODE>{trouble_code(code)}</TROUBLE-CODE>'
        f'<DISPLAY-TROUBLE-CODE>{code}</DISPLAY-TROUBLE-CODE><TEXT>{escape(text)}</TEXT>{_checks(code, checks)}</DTC>'
        for code, text, *checks in spec["dtcs"])
    dtc_dop = ('<DTC-DOP ID="DOP.dtc"><SHORT-NAME>dtc</SHORT-NAME>'
               '<DIAG-CODED-TYPE BASE-DATA-TYPE="A_UINT32" xsi:type="STANDARD-LENGTH-TYPE"><BIT-LENGTH>24</BIT-LENGTH>'
               '</DIAG-CODED-TYPE><PHYSICAL-TYPE BASE-DATA-TYPE="A_UINT32"/>'
               f'<COMPU-METHOD><CATEGORY>IDENTICAL</CATEGORY></COMPU-METHOD><DTCS>{dtcs}</DTCS></DTC-DOP>')
    result_dop = ('<DATA-OBJECT-PROP ID="DOP.routine_result"><SHORT-NAME>routine_result</SHORT-NAME>'
                  f'{_texttable(ROUTINE_RESULTS)}'
                  '<DIAG-CODED-TYPE BASE-DATA-TYPE="A_UINT32" xsi:type="STANDARD-LENGTH-TYPE"><BIT-LENGTH>8'
                  '</BIT-LENGTH></DIAG-CODED-TYPE><PHYSICAL-TYPE BASE-DATA-TYPE="A_UNICODE2STRING"/>'
                  '</DATA-OBJECT-PROP>')
    units = "".join(f'<UNIT ID="UNIT.{u}"><SHORT-NAME>{u}</SHORT-NAME><DISPLAY-NAME>{escape(shown)}</DISPLAY-NAME>'
                    f'</UNIT>' for u, shown in UNITS.items())
    freeze = "".join(f'<SD SI="did">{name}</SD>' for name in spec["freeze_frame"])
    carried = "".join(f'<SD SI="did">{name}</SD>' for name in spec.get("carried_over", []))
    coding_dops, coding_services, coding_requests, coding_responses = _coding(ecu_type, spec.get("coding", []))
    services, requests, responses = [], [], []
    for did in spec["dids"]:
        name, number = did[0], did[1]
        services.append(f'<DIAG-SERVICE ID="DS.read_{name}" SEMANTIC="DATA"><SHORT-NAME>read_{name}</SHORT-NAME>'
                        f'<REQUEST-REF ID-REF="RQ.read_{name}"/><POS-RESPONSE-REFS>'
                        f'<POS-RESPONSE-REF ID-REF="PR.read_{name}"/></POS-RESPONSE-REFS></DIAG-SERVICE>')
        requests.append(f'<REQUEST ID="RQ.read_{name}"><SHORT-NAME>read_{name}</SHORT-NAME><PARAMS>'
                        f'{_coded(8, 0x22, "sid", 0, "SERVICE-ID")}{_coded(16, number, "did", 1, "ID")}'
                        '</PARAMS></REQUEST>')
        responses.append(f'<POS-RESPONSE ID="PR.read_{name}"><SHORT-NAME>read_{name}</SHORT-NAME><PARAMS>'
                         f'{_coded(8, 0x62, "sid", 0, "SERVICE-ID")}{_coded(16, number, "did", 1, "ID")}'
                         f'{_value("value", 3, name)}</PARAMS></POS-RESPONSE>')
    for name, number, long_name in spec["routines"]:
        services.append(f'<DIAG-SERVICE ID="DS.{name}" SEMANTIC="ROUTINE"><SHORT-NAME>{name}</SHORT-NAME>'
                        f'<LONG-NAME>{escape(long_name)}</LONG-NAME>'
                        f'<REQUEST-REF ID-REF="RQ.{name}"/><POS-RESPONSE-REFS>'
                        f'<POS-RESPONSE-REF ID-REF="PR.{name}"/></POS-RESPONSE-REFS></DIAG-SERVICE>')
        requests.append(f'<REQUEST ID="RQ.{name}"><SHORT-NAME>{name}</SHORT-NAME><PARAMS>'
                        f'{_coded(8, 0x31, "sid", 0, "SERVICE-ID")}{_coded(8, 1, "start", 1, "SUBFUNCTION")}'
                        f'{_coded(16, number, "routine", 2, "ID")}</PARAMS></REQUEST>')
        responses.append(f'<POS-RESPONSE ID="PR.{name}"><SHORT-NAME>{name}</SHORT-NAME><PARAMS>'
                         f'{_coded(8, 0x71, "sid", 0, "SERVICE-ID")}{_coded(8, 1, "start", 1, "SUBFUNCTION")}'
                         f'{_coded(16, number, "routine", 2, "ID")}{_value("result", 4, "routine_result")}'
                         '</PARAMS></POS-RESPONSE>')
    return (f'<BASE-VARIANT ID="BV.{ecu_type}"><SHORT-NAME>{ecu_type}</SHORT-NAME>'
            f'<LONG-NAME>{escape(spec["long_name"])}</LONG-NAME>'
            f'<SDGS><SDG><SDG-CAPTION ID="SDGC.freeze_frame"><SHORT-NAME>freeze_frame</SHORT-NAME></SDG-CAPTION>'
            f'{freeze}</SDG><SDG><SDG-CAPTION ID="SDGC.carried_over"><SHORT-NAME>carried_over</SHORT-NAME>'
            f'</SDG-CAPTION>{carried}</SDG></SDGS>'
            f'<DIAG-DATA-DICTIONARY-SPEC><DTC-DOPS>{dtc_dop}</DTC-DOPS><DATA-OBJECT-PROPS>'
            f'{"".join(_did_dop(d) for d in spec["dids"])}{result_dop}{coding_dops}</DATA-OBJECT-PROPS>'
            f'<UNIT-SPEC><UNITS>{units}</UNITS></UNIT-SPEC></DIAG-DATA-DICTIONARY-SPEC>'
            f'<DIAG-COMMS>{"".join(services)}{coding_services}</DIAG-COMMS><REQUESTS>{"".join(requests)}'
            f'{coding_requests}</REQUESTS>'
            f'<POS-RESPONSES>{"".join(responses)}{coding_responses}</POS-RESPONSES></BASE-VARIANT>')


def document(ecu_type, spec):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<ODX MODEL-VERSION="2.2.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<DIAG-LAYER-CONTAINER ID="DLC.{ecu_type}"><SHORT-NAME>DLC_{ecu_type}</SHORT-NAME>'
            f'<BASE-VARIANTS>{layer(ecu_type, spec)}</BASE-VARIANTS></DIAG-LAYER-CONTAINER></ODX>\n')


def index(ecu_type):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<CATALOG F-DTD-VERSION="ODX-2.2.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<SHORT-NAME>{ecu_type}</SHORT-NAME><ABLOCKS><ABLOCK><SHORT-NAME>{ecu_type}</SHORT-NAME>'
            f'<FILES><FILE>{ecu_type}.odx-d</FILE></FILES></ABLOCK></ABLOCKS></CATALOG>\n')


def write_pdx(path, ecu_type, odx_text):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as pdx:
        pdx.writestr("index.xml", index(ecu_type))
        pdx.writestr(f"{ecu_type}.odx-d", odx_text)


for _type, _spec in TYPES.items():  # one table per concern above; each ECU type's description holds them all
    _spec["coding"], _spec["carried_over"] = CODING.get(_type, []), CARRIED_OVER.get(_type, [])


def write_all(out):
    """Every demo ECU type's PDX into `out` (kept when already written from the same text)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for ecu_type, spec in TYPES.items():
        path, text = out / f"{ecu_type}.pdx", document(ecu_type, spec)
        if not path.exists() or zipfile.ZipFile(path).read(f"{ecu_type}.odx-d").decode() != text:
            write_pdx(path, ecu_type, text)
        written.append(path)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m deploy.odx", description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    args = parser.parse_args(argv)
    for path in write_all(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
