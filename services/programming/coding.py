"""Coding: what each ECU is told about the car it is in. The layout of every coding identifier is its ECU type's
ODX (services.programming.descriptions keeps it, automotive.odx reads it); the target follows from the car's order
(its option codes, as built and as retrofitted, and the market it was built for) by the rules the manufacturer
ships with the software catalogue:

    coding.json  {"format": "aos-coding/1", "version": "2026.12",
                  "rules": [{"ecu_type": "BDC", "identifier": "lighting", "parameter": "trailer_module",
                             "value": "fitted", "option": "S3AC"},            (when the order has the option)
                            {..., "country": ["GB", "IE"]},                   (when built for one of these markets)
                            {...}]}                                            (always)

A unit starts from what a factory-new one holds (the ODX's first text, or the range's minimum); rules that always
apply come first, then the market's, then the options', each later one over an earlier one. A rule that names what
no layout has, or a value the layout does not allow, refuses the whole file."""
import re

from automotive.odx import Parameter
from services.shared.errors import invalid_field
from services.shared.importer import Problem

FORMAT = "aos-coding/1"
OPTION = re.compile(r"^S[0-9A-Z]{3}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")


def ecu_type(name):
    """An ECU's type, as the registry names ECUs: the name's first word ("BDC (body domain controller)")."""
    return name.split(" ")[0]


def parameters(layout):
    """{parameter name: automotive.odx.Parameter} of one coding identifier's layout (as descriptions keep it)."""
    return {p["name"]: Parameter(p["name"], p["long_name"], tuple(p["values"]), p["minimum"], p["maximum"],
                                 p["unit"]) for p in layout["parameters"]}


def check_rules(data, layouts):
    """Every problem of a rules file against the layouts ({ecu type: {identifier: layout}}); [] when usable."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return [Problem("coding.json", "format", f"must be {FORMAT}")]
    if not isinstance(data.get("version"), str) or not data["version"]:
        return [Problem("coding.json", "version", "a version, e.g. 2026.12")]
    rules = data.get("rules")
    if not isinstance(rules, list):
        return [Problem("coding.json", "rules", "a list of rules")]
    found = []
    for index, rule in enumerate(rules):
        where = f"coding.json: rules[{index}]"
        if not isinstance(rule, dict):
            found.append(Problem(where, "-", "not an object"))
            continue
        unknown = set(rule) - {"ecu_type", "identifier", "parameter", "value", "option", "country"}
        if unknown:
            found.append(Problem(where, sorted(unknown)[0], "not a field of a rule"))
        layout = layouts.get(rule.get("ecu_type"), {}).get(rule.get("identifier"))
        if layout is None:
            found.append(Problem(where, "identifier", f"{rule.get('ecu_type')} has no coding identifier "
                                                      f"{rule.get('identifier')!r} in its ODX"))
            continue
        parameter = parameters(layout).get(rule.get("parameter"))
        if parameter is None:
            found.append(Problem(where, "parameter", f"{rule.get('identifier')} has no parameter "
                                                     f"{rule.get('parameter')!r}"))
            continue
        refused = parameter.refusal(rule.get("value"))
        if refused:
            found.append(Problem(where, "value", f"the ODX does not allow it: {refused}"))
        if "option" in rule and not (isinstance(rule["option"], str) and OPTION.match(rule["option"])):
            found.append(Problem(where, "option", "an option code: S and three capital letters or digits"))
        if "country" in rule and not (isinstance(rule["country"], list) and rule["country"]
                                      and all(isinstance(c, str) and COUNTRY.match(c) for c in rule["country"])):
            found.append(Problem(where, "country", "a list of markets: ISO 3166 codes such as DE"))
        if "option" in rule and "country" in rule:
            found.append(Problem(where, "option", "a rule is for an option or for markets, not both"))
    return found


def _applies(rule, order):
    if "option" in rule:
        return rule["option"] in order["options"]
    if "country" in rule:
        return order.get("country") in rule["country"]
    return True


def _rank(rule):
    return 2 if "option" in rule else 1 if "country" in rule else 0


def target(rules, layouts, ecus, order):
    """{ECU address: {identifier: {parameter: value}}}: what the car's order says each ECU that has a coding
    layout should hold."""
    ordered = sorted(enumerate(rules), key=lambda pair: (_rank(pair[1]), pair[0]))
    out = {}
    for ecu in ecus:
        kind = ecu_type(ecu["name"])
        codings = layouts.get(kind)
        if not codings:
            continue
        values = {name: {p: found.factory for p, found in parameters(layout).items()}
                  for name, layout in codings.items()}
        for _, rule in ordered:
            if rule["ecu_type"] == kind and rule["identifier"] in values and _applies(rule, order):
                values[rule["identifier"]][rule["parameter"]] = rule["value"]
        out[ecu["address"]] = values
    return out


def differences(layouts, ecus, actual, wanted):
    """What differs between what the ECUs hold and the target, in words: [{ecu_address, ecu, identifier,
    parameter, label, from, to}] in address order. An identifier the ECU did not answer for is not compared."""
    names = {e["address"]: e["name"] for e in ecus}
    out = []
    for address in sorted(wanted):
        kind = ecu_type(names[address])
        for identifier, values in wanted[address].items():
            held = (actual.get(address) or {}).get(identifier)
            if held is None:
                continue
            labels = parameters(layouts[kind][identifier])
            for parameter, value in values.items():
                if held.get(parameter) != value:
                    out.append({"ecu_address": address, "ecu": names[address], "identifier": identifier,
                                "parameter": parameter, "label": labels[parameter].long_name,
                                "from": held.get(parameter), "to": value})
    return out


def require_held(layouts, names, address, held, field):
    """What an agent says an ECU holds must be an ECU of the car (`names`: the car's ECUs by address), coding its
    ODX describes, values it allows; refused in words, naming `field`."""
    if address not in names:
        raise invalid_field("ECU_NOT_IN_CAR", field, "an_ecu_of_the_car", f"The car has no ECU {address}.")
    codings = layouts.get(ecu_type(names[address]), {})
    for identifier, values in held.items():
        if identifier not in codings:
            raise invalid_field("CODING_NOT_IN_ODX", field, "a_coding_identifier_of_the_ecu",
                                f"{names[address]} has no coding identifier {identifier!r} in its ODX.")
        allowed = parameters(codings[identifier])
        for parameter, value in values.items():
            refused = (allowed[parameter].refusal(value) if parameter in allowed
                       else f"{parameter!r} is not one of its parameters")
            if refused:
                raise invalid_field("CODING_VALUE_NOT_ALLOWED", field, "a_value_the_odx_allows",
                                    f"{names[address]} {identifier}: {refused}.")


def in_words(changes):
    """A service record's text for the changes written: "BDC Trailer module: not fitted → fitted; ..."."""
    return "; ".join(f"{ecu_type(c['ecu'])} {c['label']}: {c['from']} → {c['to']}" for c in changes)
