"""An ECU type's diagnostics as its ODX description says (ISO 22901, PDX files read with odxtools): its fault
codes and their texts, its data identifiers with unit, scaling and the test plan's limits, its freeze-frame
identifiers, its routines, and its coding identifiers (bit fields with the values each may take, the session and
security level they are written in) with the identifiers a replacement unit takes over. The simulated car answers from it and the workshop's agent decodes with it, so
nothing about an ECU's diagnostics is written twice.

    python -m automotive.odx check FILE.pdx ...          (every problem of each file, or "ok")
    python -m automotive.odx import FILE.pdx ... --into DIR  (only files without problems are taken)
"""
import argparse
import shutil
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import odxtools

DTC_LETTERS = "PCBU"


def trouble_code(display):
    """A DTC's number as ISO 14229-1 sends it, from its display code: SAE J2012's two bytes (the letter in the top
    two bits) and the failure type byte (00 unless given after a dash)."""
    code, _, failure = display.partition("-")
    return (((DTC_LETTERS.index(code[0]) << 14) | int(code[1:], 16)) << 8) | int(failure or "0", 16)


def display_code(number):
    """The SAE J2012 display form of a 3-byte DTC number (P0301 for 0x030100; the failure type byte, when not
    zero, after a dash)."""
    letter, code, failure = DTC_LETTERS[number >> 22], (number >> 8) & 0x3FFF, number & 0xFF
    return f"{letter}{code:04X}" + (f"-{failure:02X}" if failure else "")


@dataclass(frozen=True)
class Did:
    name: str
    number: int
    long_name: str
    unit: str
    minimum: float
    maximum: float
    size: int  # bytes of data after the identifier
    service: object  # odxtools DiagService: ReadDataByIdentifier for this identifier

    def encode(self, value):
        """The identifier's data bytes for a physical value (what the ECU sends after 0x62 and the DID)."""
        request = self.service.encode_request()
        return bytes(self.service.encode_positive_response(request, value=value))[3:]

    def blank(self):
        """A factory-new unit's bytes for it: the least its encoding holds."""
        return bytes(self.size)

    def decode(self, data):
        """The physical value of the identifier's data bytes, through the ODX formula."""
        return self.service.decode_message(bytes([0x62, self.number >> 8, self.number & 0xFF]) + bytes(data)) \
            .param_dict["value"]

    def reading(self, data):
        """A decoded reading as the workshop sees it: value, unit, the test plan's limits and whether it is in."""
        value = self.decode(data)
        if isinstance(value, float):
            value = round(value, 3)
        return {"did": f"0x{self.number:04X}", "name": self.name, "label": self.long_name, "value": value,
                "unit": self.unit, "min": self.minimum, "max": self.maximum,
                "in_limits": self.minimum <= value <= self.maximum}


@dataclass(frozen=True)
class Routine:
    name: str
    number: int
    long_name: str
    service: object

    def request(self):
        return bytes(self.service.encode_request())

    def answer(self, result):
        """The positive response carrying `result` (passed or failed)."""
        return bytes(self.service.encode_positive_response(self.service.encode_request(), result=result))

    def decode(self, response):
        return self.service.decode_message(bytes(response)).param_dict["result"]


@dataclass(frozen=True)
class Parameter:
    """One coding parameter: a text table's values (raw order) or a whole number in a range."""
    name: str
    long_name: str
    values: tuple  # the texts a text table allows; () for a number
    minimum: int | None
    maximum: int | None
    unit: str

    @property
    def factory(self):
        """What a factory-new unit holds: the table's first value, or the range's minimum."""
        return self.values[0] if self.values else self.minimum

    def refusal(self, value):
        """Why `value` may not be written, in words; None when it may."""
        if self.values:
            return None if value in self.values else f"{value!r} is not one of: {', '.join(self.values)}"
        if isinstance(value, int) and not isinstance(value, bool) and self.minimum <= value <= self.maximum:
            return None
        return f"{value!r} is not a whole number from {self.minimum} to {self.maximum} {self.unit}".rstrip()

    def view(self):
        return {"name": self.name, "long_name": self.long_name, "values": list(self.values),
                "minimum": self.minimum, "maximum": self.maximum, "unit": self.unit}


@dataclass(frozen=True)
class Coding:
    """One coding identifier: its parameters' layout, read with 0x22 and written with 0x2E through the ODX's own
    services (so no bit field is written down twice), in the session and at the security level it names."""
    name: str
    number: int
    long_name: str
    size: int  # bytes of data after the identifier
    parameters: tuple
    session: str  # default | extended | programming
    security_level: str  # none, or the level's number
    read: object
    write: object

    def decode(self, data):
        """{parameter: value} of the identifier's data bytes (what follows 0x62 and the DID)."""
        found = self.read.decode_message(bytes([0x62, self.number >> 8, self.number & 0xFF]) + bytes(data))
        return {p.name: found.param_dict[p.name] for p in self.parameters}

    def write_request(self, values):
        """The 0x2E request that writes `values` (every parameter's)."""
        return bytes(self.write.encode_request(**values))

    def encode(self, values):
        return self.write_request(values)[3:]

    def decode_write(self, request):
        """{parameter: value} of a 0x2E request; raises for data the layout does not allow."""
        found = self.write.decode_message(bytes(request)).param_dict
        return {p.name: found[p.name] for p in self.parameters}

    def factory(self):
        return {p.name: p.factory for p in self.parameters}

    def view(self):
        return {"name": self.name, "did": f"0x{self.number:04X}", "long_name": self.long_name, "bytes": self.size,
                "session": self.session, "security_level": self.security_level,
                "parameters": [p.view() for p in self.parameters]}


SESSIONS = {"default": 0x01, "programming": 0x02, "extended": 0x03}


def _parameter(param):
    dop = param.dop
    scales = getattr(dop.compu_method, "compu_internal_to_phys", None)
    if type(dop.compu_method).__name__ == "TexttableCompuMethod":
        ordered = sorted(scales.compu_scales, key=lambda s: int(s.lower_limit.value_raw))
        return Parameter(param.short_name, dop.long_name or param.short_name,
                         tuple(s.compu_const.vt for s in ordered), None, None, "")
    limits = {sd.semantic_info: int(sd.value) for sdg in dop.sdgs for sd in sdg.values}
    return Parameter(param.short_name, dop.long_name or param.short_name, (), limits["min"], limits["max"],
                     dop.unit.display_name if dop.unit else "")


def _coding(layer, read):
    name = read.short_name[len("read_coding_"):]
    write = layer.services[f"write_coding_{name}"]
    values = [p for p in read.positive_responses[0].parameters if p.short_name not in ("sid", "did")]
    size = max(p.byte_position - 3 + (p.bit_position + p.dop.diag_coded_type.bit_length + 7) // 8 for p in values)
    where = {sd.semantic_info: sd.value for sdg in write.sdgs for sd in sdg.values}
    return Coding(name, int(read.request.parameters["did"].coded_value_raw), read.long_name or name, size,
                  tuple(_parameter(p) for p in values), where.get("session", "extended"),
                  where.get("security_level", "none"), read, write)


class Description:
    """One ECU type's diagnostics, from its PDX file."""

    def __init__(self, path):
        self.path = Path(path)
        self.database = odxtools.load_pdx_file(str(self.path))  # kept: its objects refer to it weakly
        layer = self.database.diag_layers[0]
        self.ecu_type, self.long_name = layer.short_name, layer.long_name or layer.short_name
        spec = layer.diag_data_dictionary_spec
        self.dtcs = {d.trouble_code: (d.display_trouble_code, d.text.text if d.text else "")
                     for dop in spec.dtc_dops for d in dop.dtcs}
        # each DTC's test plan: the live data to check for it
        self.checks = {d.trouble_code: [sd.value for sdg in d.sdgs if sdg.sdg_caption
                                        and sdg.sdg_caption.short_name == "test_plan" for sd in sdg.values]
                       for dop in spec.dtc_dops for d in dop.dtcs}
        self.dids, self.routines = {}, {}
        for service in layer.services:
            if service.semantic == "DATA":
                self._add_did(service)
            elif service.semantic == "ROUTINE":
                number = service.request.parameters["routine"].coded_value_raw
                self.routines[service.short_name] = Routine(service.short_name, int(number),
                                                            service.long_name or service.short_name, service)
        self.by_number = {d.number: d for d in self.dids.values()}
        self.routine_numbers = {r.number: r for r in self.routines.values()}
        self.freeze_frame = [sd.value for sdg in layer.sdgs if sdg.sdg_caption
                             and sdg.sdg_caption.short_name == "freeze_frame" for sd in sdg.values]
        self.carried_over = [sd.value for sdg in layer.sdgs if sdg.sdg_caption
                             and sdg.sdg_caption.short_name == "carried_over" for sd in sdg.values]
        self.codings = {c.name: c for c in (_coding(layer, s) for s in layer.services
                                           if s.semantic == "VARIANTCODING" and s.short_name.startswith("read_coding_"))}
        self.coding_numbers = {c.number: c for c in self.codings.values()}

    def _add_did(self, service):
        number = int(service.request.parameters["did"].coded_value_raw)
        dop = service.positive_responses[0].parameters["value"].dop
        limits = {sd.semantic_info: float(sd.value) for sdg in dop.sdgs for sd in sdg.values}
        name = dop.short_name
        self.dids[name] = Did(name, number, dop.long_name or name, dop.unit.display_name if dop.unit else "",
                              limits["min"], limits["max"], dop.diag_coded_type.bit_length // 8, service)

    def readings(self, records):
        """Identifiers and their data, one after another (a ReadDataByIdentifier answer after 0x62, a freeze
        frame's records), decoded; an identifier the ODX does not describe ends the walk, shown raw."""
        out, at = [], 0
        while at + 2 <= len(records):
            number = int.from_bytes(records[at:at + 2], "big")
            did = self.by_number.get(number)
            if did is None:
                out.append({"did": f"0x{number:04X}", "name": None, "label": "Not described in this ECU's ODX",
                            "raw": bytes(records[at + 2:]).hex()})
                break
            out.append(did.reading(records[at + 2:at + 2 + did.size]))
            at += 2 + did.size
        return out

    def dtc(self, number, status):
        """A fault code as the workshop reads it: its code and text from the ODX, or shown raw when the ODX does
        not know it (never dropped)."""
        code, text = self.dtcs.get(number, (display_code(number), None))
        return {"code": code, "number": f"{number:06X}", "text": text or "Not described in this ECU's ODX",
                "known": number in self.dtcs, "status": f"{status:02X}", **status_words(status),
                "checks": self.checks.get(number, [])}


# ISO 14229-1 D.2: the DTC status byte's bits
STATUS_BITS = ("test_failed", "test_failed_this_cycle", "pending", "confirmed", "not_completed_since_clear",
               "failed_since_clear", "not_completed_this_cycle", "warning_indicator")


def status_words(status):
    return {name: bool(status & (1 << bit)) for bit, name in enumerate(STATUS_BITS)}


class Library:
    """Every ECU type's description in a folder of PDX files, by ECU type (the registry's name's first word)."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.types = {}
        for path in sorted(self.folder.glob("*.pdx")):
            description = Description(path)
            self.types[description.ecu_type] = description

    def of(self, ecu_name):
        return self.types.get(ecu_name.split(" ")[0])


# ---- import: a PDX file is checked whole; one with a problem is refused with all of them ----------------------

def problems(path):
    """Every problem of one PDX file that would stop a car being diagnosed with it; [] when it is usable."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as pdx:
            names = pdx.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        return [f"not a PDX file (a zip archive): {exc}"]
    found = []
    if "index.xml" not in names:
        found.append("index.xml is missing")
    if not any(n.lower().endswith(".odx-d") for n in names):
        found.append("no .odx-d file (diagnostic layers) in the archive")
    if found:
        return found
    try:
        description = Description(path)
    except Exception as exc:  # odxtools raises many kinds for a broken file: each is a reason to refuse it
        return [f"the ODX cannot be read: {type(exc).__name__}: {exc}"]
    for number, (code, text) in description.dtcs.items():
        if not code or display_code(number).split("-")[0] != code.split("-")[0]:
            found.append(f"DTC {number:06X}: display code {code!r} does not match its trouble code "
                         f"({display_code(number)})")
        if not text:
            found.append(f"DTC {code}: no text")
    seen = {}
    for did in description.dids.values():
        if did.number in seen:
            found.append(f"data identifier 0x{did.number:04X}: described twice ({seen[did.number]}, {did.name})")
        seen[did.number] = did.name
        if did.minimum > did.maximum:
            found.append(f"data identifier {did.name}: minimum {did.minimum} above maximum {did.maximum}")
    for name in description.freeze_frame:
        if name not in description.dids:
            found.append(f"freeze frame names {name!r}, which no data identifier describes")
    for number, names in description.checks.items():
        for name in names:
            if name not in description.dids:
                found.append(f"DTC {description.dtcs[number][0]}: its test plan names {name!r}, which no data "
                             "identifier describes")
    if not description.dtcs:
        found.append("no DTCs described")
    return found


def import_files(paths, into):
    """Copy the files without problems into `into`; returns {file: [problems]} for those refused."""
    into = Path(into)
    into.mkdir(parents=True, exist_ok=True)
    refused = {}
    for path in map(Path, paths):
        found = problems(path)
        if found:
            refused[str(path)] = found
        else:
            shutil.copyfile(path, into / path.name)
    return refused


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m automotive.odx", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check")
    check.add_argument("files", nargs="+")
    take = commands.add_parser("import")
    take.add_argument("files", nargs="+")
    take.add_argument("--into", required=True)
    args = parser.parse_args(argv)
    if args.command == "check":
        bad = {f: problems(f) for f in args.files}
        bad = {f: p for f, p in bad.items() if p}
    else:
        bad = import_files(args.files, args.into)
    for name in args.files:
        print(f"{name}: " + ("ok" if name not in bad else "refused"))
        for problem in bad.get(name, []):
            print(f"  - {problem}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
