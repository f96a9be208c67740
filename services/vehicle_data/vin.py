"""The Vehicle Identification Number (ISO 3779): normalise, check each rule with its own error, and decode.

Positions are 1-based, as printed on the car and in ISO 3779: 1-3 WMI (manufacturer and country, looked up
in vininfo's tables), 4-8 vehicle descriptor, 9 check digit, 10 model year, 11 plant, 12-17 serial number."""
from dataclasses import dataclass
from datetime import date

from vininfo import Vin as VininfoVin

from services.shared.errors import invalid_field

LENGTH = 17
ALLOWED = set("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")
NEVER = set("IOQ")  # ISO 3779 leaves them out: they read as 1 and 0
# The check digit's transliteration and position weights (ISO 3779 as North America applies it, 49 CFR 565).
VALUES = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGH", range(1, 9))), **dict(zip("JKLMN", range(1, 6))),
          "P": 7, "R": 9, **dict(zip("STUVWXYZ", range(2, 10)))}
WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# The check digit is law for vehicles built for North America (WMI 1-5) and China (L); elsewhere a
# manufacturer may put anything at position 9, so a mismatch there is reported, not refused.
CHECK_DIGIT_REGIONS = set("12345L")
# Position 10 repeats every 30 years: 1980-2009, 2010-2039.
YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"


@dataclass(frozen=True)
class DecodedVin:
    vin: str
    wmi: str
    manufacturer: str | None
    country: str | None
    region: str | None
    descriptor: str
    check_digit: str
    expected_check_digit: str
    check_digit_required: bool
    model_year: int
    model_year_candidates: tuple
    plant: str
    serial: str

    @property
    def check_digit_valid(self):
        return self.check_digit == self.expected_check_digit


def normalise(text):
    """Trimmed and upper-case: what a workshop types or scans becomes the VIN as printed."""
    return (text or "").strip().upper()


def check(text):
    """The normalised VIN, or InvalidInput whose code names the rule broken and, for a character, its position."""
    vin = normalise(text)
    for position, character in enumerate(vin, start=1):
        if character in NEVER:
            raise invalid_field("VIN_LETTER_NOT_ALLOWED", "vin", "no_i_o_q",
                                f"A VIN never has the letter {character} (position {position}): it reads as "
                                f"{'0' if character in 'OQ' else '1'}.", position=position, character=character)
        if character not in ALLOWED:
            raise invalid_field("VIN_CHARACTER_NOT_ALLOWED", "vin", "digits_and_capital_letters",
                                f"A VIN has only digits and the letters A-Z except I, O, Q; position {position} is "
                                f"{character!r}.", position=position, character=character)
    if len(vin) != LENGTH:
        raise invalid_field("VIN_LENGTH", "vin", "17_characters",
                            f"A VIN has 17 characters; this one has {len(vin)}.", length=len(vin))
    return vin


def check_digit(vin):
    """Position 9 as ISO 3779 computes it: the weighted sum of the transliterated characters, mod 11 (10 is X)."""
    remainder = sum(VALUES[c] * w for c, w in zip(vin, WEIGHTS)) % 11
    return "X" if remainder == 10 else str(remainder)


def model_years(code):
    """The two years a position-10 code can mean, newest first."""
    index = YEAR_CODES.find(code)
    if index < 0:
        return ()
    return (2010 + index, 1980 + index)


def resolve_model_year(candidates, built=None, today=None):
    """The year a model-year code means. With a production date, the candidate the car was built for (model
    years run at most a year ahead of and behind the build); without one, the newest that is not in the future."""
    if built is not None:
        return min(candidates, key=lambda year: abs(year - built.year))
    limit = (today or date.today()).year + 1
    return next((year for year in candidates if year <= limit), candidates[-1])


def decode(text, built=None, today=None):
    """Checks, then decodes. A check-digit mismatch is an error only where the check digit is law."""
    vin = check(text)
    expected = check_digit(vin)
    required = vin[0] in CHECK_DIGIT_REGIONS
    if required and vin[8] != expected:
        raise invalid_field("VIN_CHECK_DIGIT_MISMATCH", "vin", "check_digit",
                            f"Position 9 is {vin[8]}, but the other characters make it {expected}: a character "
                            "is mistyped.", position=9, expected=expected, found=vin[8])
    candidates = model_years(vin[9])
    if not candidates:
        raise invalid_field("VIN_MODEL_YEAR_CODE", "vin", "model_year_code",
                            f"Position 10 ({vin[9]}) is not a model-year code (not 0, U or Z).", position=10,
                            character=vin[9])
    wmi = VininfoVin(vin)
    return DecodedVin(
        vin=vin, wmi=vin[:3], manufacturer=_known(wmi.manufacturer), country=_known(wmi.country),
        region=_known(wmi.region), descriptor=vin[3:8], check_digit=vin[8], expected_check_digit=expected,
        check_digit_required=required, model_year=resolve_model_year(candidates, built, today),
        model_year_candidates=candidates, plant=vin[10], serial=vin[11:])


def _known(value):
    return None if value in (None, "", "Unknown", "UnsupportedBrand") else str(value)
