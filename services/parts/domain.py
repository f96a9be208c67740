"""The parts catalogue's rules in plain Python: what a part number is and how it is written, whether a catalogue
row fits a car (and why not, in words), where a superseded number leads and whether the two are interchangeable,
what a kit holds, what a part costs a workshop in its country, and who may see numbers and prices.

A car is what vehicle data's registry says of it: series, model, engine, production date and the options of its
vehicle order. A row is one callout of an illustration with its part and its validity."""
import re
from dataclasses import dataclass
from datetime import date

from services.billing.access import covers
from services.parts.schemas import INTERCHANGEABILITY, LANGUAGES  # noqa: F401  (the contract's words)
from services.shared.errors import NotFound, PaymentRequired, invalid_field
from services.shared.vat import price

NUMBER_DIGITS = 11  # the demo manufacturer's part numbers: 11 digits, written 12 13 8 616 153
SCOPE = "parts"
MAX_CHAIN = 10  # a supersession chain longer than this is a catalogue error (import refuses cycles)


# ---- part numbers -----------------------------------------------------------------------------------------------

def normalise_number(text):
    """A part number as typed (with or without spaces, dots or dashes) as the catalogue keys it: its digits; None
    for text that is not a part number."""
    digits = re.sub(r"[\s.\-/]", "", text or "")
    return digits if re.fullmatch(rf"\d{{{NUMBER_DIGITS}}}", digits) else None


def written(number):
    """How a part number is printed and read out: 12 13 8 616 153."""
    return f"{number[:2]} {number[2:4]} {number[4]} {number[5:8]} {number[8:]}"


def near(number, known, limit=5):
    """Part numbers close to one that does not exist: one digit typed wrong, or two swapped, or the same start."""
    def distance(a, b):
        if len(a) != len(b):
            return 99
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]:
            return 1
        return len(diff)
    close = sorted((distance(number, k), k) for k in known)
    return [k for d, k in close if d <= 2][:limit]


def unknown_part(typed, suggestions, field="number"):
    return NotFound("PART_NOT_FOUND", f"There is no part {typed} in the catalogue." + (
        f" Did you mean {', '.join(written(s) for s in suggestions)}?" if suggestions else ""),
        {"field": field, "number": typed, "near": [written(s) for s in suggestions]})


def require_number(typed):
    number = normalise_number(typed)
    if number is None:
        raise invalid_field("PART_NUMBER_FORMAT", "number", "eleven_digits",
                            f"{typed!r} is not a part number: {NUMBER_DIGITS} digits, written with or without "
                            "spaces, e.g. 12 13 8 616 153.")
    return number


# ---- the car and a row's validity ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Car:
    vin: str
    series: str
    model_code: str
    engine_code: str
    production_date: date
    options: tuple

    @classmethod
    def of(cls, described):
        """A car as vehicle data describes it."""
        made = described["production_date"]
        return cls(described["vin"], described["series"], described["model_code"], described["engine_code"],
                   made if isinstance(made, date) else date.fromisoformat(made), tuple(described.get("options") or ()))


def model_of_vin(vin, positions):
    """The model code a VIN carries where the manufacturer puts it (1-based, inclusive)."""
    first, last = positions
    return vin[first - 1:last]


def series_of_vin(vin, series, positions):
    """The series whose models include the VIN's model code, or None."""
    model = model_of_vin(vin, positions)
    return next((code for code, s in sorted(series.items()) if model in s["models"]), None)


WHOLE_SERIES = ("The registry has no build data for {vin}: this is the whole catalogue of the {series}, every "
                "engine, option and production period. Check each row's note against the car.")
NOT_NARROWED = ("Narrowing to this car's build data (engine, options, production date) comes with parts access: "
                "this is the whole catalogue of its series.")


def month(d):
    return f"{d.month:02d}/{d.year}"


def option_words(code):
    """An option code as a workshop reads it on the vehicle order (S5AC -> 5AC)."""
    return code[1:] if len(code) == 4 and code.startswith("S") else code


def left_out_because(validity, car):
    """Why a row does not fit this car, in words (None when it fits)."""
    v = validity
    if v.get("series") and car.series not in v["series"]:
        return f"only for series {', '.join(v['series'])}; this car is a {car.series}"
    if v.get("models") and car.model_code not in v["models"]:
        return f"only for models {', '.join(v['models'])}; this car is a {car.model_code}"
    if v.get("engines") and car.engine_code not in v["engines"]:
        return f"only for engines {', '.join(v['engines'])}; this car has a {car.engine_code}"
    if v.get("produced_from") and car.production_date < date.fromisoformat(v["produced_from"]):
        return (f"for cars built from {month(date.fromisoformat(v['produced_from']))}; this car was built "
                f"{month(car.production_date)}")
    if v.get("produced_until") and car.production_date > date.fromisoformat(v["produced_until"]):
        return (f"for cars built up to {month(date.fromisoformat(v['produced_until']))}; this car was built "
                f"{month(car.production_date)}")
    missing = [o for o in v.get("with_options", ()) if o not in car.options]
    if missing:
        return f"only for cars with option {', '.join(map(option_words, missing))}; this car's order has not"
    present = [o for o in v.get("without_options", ()) if o in car.options]
    if present:
        return f"not for cars with option {', '.join(map(option_words, present))}, which this car has"
    return None


def note(validity, language):
    """The row's note as the catalogue prints it, from its validity: "up to 03/2021", "for cars with option 5AC"."""
    de = language == "de"
    parts = []
    if validity.get("produced_from"):
        parts.append(("ab " if de else "from ") + month(date.fromisoformat(validity["produced_from"])))
    if validity.get("produced_until"):
        parts.append(("bis " if de else "up to ") + month(date.fromisoformat(validity["produced_until"])))
    for code in validity.get("with_options", ()):
        parts.append(("für Fahrzeuge mit SA " if de else "for cars with option ") + option_words(code))
    for code in validity.get("without_options", ()):
        parts.append(("für Fahrzeuge ohne SA " if de else "for cars without option ") + option_words(code))
    if validity.get("engines"):
        parts.append(("Motor " if de else "engine ") + ", ".join(validity["engines"]))
    return "; ".join(parts) or None


# ---- supersession -----------------------------------------------------------------------------------------------

def chain(number, superseded_by):
    """Where a number leads: [(old, new, interchangeability), ...] to the current number, in order
    (`superseded_by`: old -> (new, interchangeability)). A cycle or an over-long chain stops it (import refuses
    both, so only a broken catalogue gets here)."""
    steps, seen = [], {number}
    while number in superseded_by and len(steps) < MAX_CHAIN:
        new, kind = superseded_by[number]
        if new in seen:
            break
        steps.append((number, new, kind))
        seen.add(new)
        number = new
    return steps


def current(number, superseded_by):
    steps = chain(number, superseded_by)
    return steps[-1][1] if steps else number


def replaced(superseded_by):
    """The other way round: new -> the old numbers it superseded directly (kept beside `superseded_by`)."""
    back = {}
    for old, (new, _) in superseded_by.items():
        back.setdefault(new, []).append(old)
    return back


def predecessors(number, replaced_by):
    """Every number that leads to `number`, however many steps back."""
    found, todo = set(), [number]
    while todo:
        for old in replaced_by.get(todo.pop(), ()):
            if old not in found:
                found.add(old)
                todo.append(old)
    return found


def cycle(superseded_by):
    """A supersession cycle (its numbers, in order), or None: a catalogue must not lead a number back to itself."""
    done = set()
    for start in superseded_by:
        path, number = [], start
        while number in superseded_by and number not in done:
            if number in path:
                return path[path.index(number):] + [number]
            path.append(number)
            number = superseded_by[number][0]
        done.update(path)
    return None


INTERCHANGE_WORDS = {
    "en": {"both_ways": "interchangeable both ways", "one_way": "the new one replaces the old, not the other way",
           "set_only": "replace only together, as a set"},
    "de": {"both_ways": "beidseitig austauschbar", "one_way": "neu ersetzt alt, nicht umgekehrt",
           "set_only": "nur gemeinsam als Satz tauschen"}}


# ---- money ------------------------------------------------------------------------------------------------------

def net_price(prices, country):
    """A part's net price for a workshop in `country`, in cents: the country's list price, else the manufacturer's
    home market's (DE)."""
    return prices.get(country, prices.get("DE"))


def line(number, name, quantity, prices, country):
    """One estimate line of parts: quantity at the country's net price, with that country's VAT (the workshop's
    estimate for its customer, as its labour is)."""
    unit = net_price(prices, country)
    quoted = price(unit * quantity, country, country, None)
    return {"number": number, "written": written(number), "name": name, "quantity": quantity,
            "unit_net_cents": unit, "net_cents": quoted.net_cents, "vat_rate": str(quoted.vat_rate),
            "vat_cents": quoted.vat_cents, "gross_cents": quoted.gross_cents}


def total(lines):
    """An estimate's parts: its lines and their sums."""
    return {"lines": lines, "net_cents": sum(l["net_cents"] for l in lines),
            "vat_cents": sum(l["vat_cents"] for l in lines), "gross_cents": sum(l["gross_cents"] for l in lines)}


def search_words(words):
    """The words of a search, or a refusal naming the field when there are none."""
    if not words:
        raise invalid_field("QUERY_HAS_NO_WORDS", "q", "at_least_one_word",
                            "Type a part's name (or a part number): punctuation alone finds nothing.")
    return words


# ---- who sees what -----------------------------------------------------------------------------------------------

NO_ACCESS = ("Part numbers and prices are shown with parts access: the groups and illustrations are open to "
             "everyone.")


def may_see_numbers(accesses, vin, now):
    """Parts access (the scope, or a VIN pass for this car) shows numbers and prices; titles and structure are
    open to every signed-in workshop."""
    return any(covers(a, SCOPE, vin, now) for a in accesses)


def access_required(tariffs):
    return PaymentRequired("PARTS_ACCESS_REQUIRED", NO_ACCESS + " Buy parts access.",
                           {"scope": SCOPE, "tariffs": tariffs})
