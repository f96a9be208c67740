"""VIN rules (ISO 3779): each broken rule its own error with the position, the check digit, the model year."""
from datetime import date

import pytest

from services.shared.errors import InvalidInput
from services.vehicle_data import vin

NORTH_AMERICAN = "1M8GDM9AXKP042788"  # the check digit example of 49 CFR 565: position 9 is X
BMW = "WBAPH5C55BA271443"


def refused(text):
    with pytest.raises(InvalidInput) as error:
        vin.decode(text)
    return error.value.code, error.value.details


def test_a_scanned_or_typed_vin_is_trimmed_and_upper_cased():
    assert vin.decode(f"  {BMW.lower()}\n").vin == BMW


LETTER, OTHER = ("VIN_LETTER_NOT_ALLOWED", "no_i_o_q"), ("VIN_CHARACTER_NOT_ALLOWED", "digits_and_capital_letters")


@pytest.mark.parametrize("text, error, position, character", [
    ("WBAPH5C55BA27I443", LETTER, 14, "I"),
    ("OBAPH5C55BA271443", LETTER, 1, "O"),
    ("WBAPH5C55BA27144Q", LETTER, 17, "Q"),
    ("WBAPH5C55-A271443", OTHER, 10, "-"),
    ("WBAPH5C55BÄ271443", OTHER, 11, "Ä"),
    ("WBA PH5C55BA27144", OTHER, 4, " "),
])
def test_a_bad_character_is_named_with_its_position(text, error, position, character):
    code, rule = error
    assert refused(text) == (code, {"field": "vin", "rule": rule, "position": position, "character": character})


@pytest.mark.parametrize("text, length", [("", 0), ("WBAPH5C55BA27144", 16), ("WBAPH5C55BA2714433", 18)])
def test_a_vin_has_seventeen_characters(text, length):
    code, details = refused(text)
    assert code == "VIN_LENGTH" and details["length"] == length and details["rule"] == "17_characters"


def test_the_first_bad_character_is_reported_before_the_length():
    assert refused("WBAOH5C55")[0] == "VIN_LETTER_NOT_ALLOWED"


def test_check_digit_computed_as_iso_3779_says():
    assert vin.check_digit(NORTH_AMERICAN) == "X"
    assert vin.check_digit("11111111111111111") == "1"  # all ones: the weights sum to 89, 89 mod 11 is 1
    decoded = vin.decode(NORTH_AMERICAN)
    assert decoded.check_digit_required and decoded.check_digit_valid


def test_a_check_digit_mismatch_is_an_error_where_the_check_digit_is_law():
    code, details = refused("1M8GDM9A1KP042788")
    assert code == "VIN_CHECK_DIGIT_MISMATCH"
    assert details == {"field": "vin", "rule": "check_digit", "position": 9, "expected": "X", "found": "1"}


def test_elsewhere_a_mismatch_is_reported_not_refused():
    decoded = vin.decode("WBA8E9C50GK643215")
    assert not decoded.check_digit_required and not decoded.check_digit_valid
    assert decoded.expected_check_digit == "7"


def test_the_parts_of_a_vin():
    decoded = vin.decode(BMW)
    assert (decoded.wmi, decoded.manufacturer, decoded.country, decoded.region) == ("WBA", "BMW", "Germany", "Europe")
    assert (decoded.descriptor, decoded.check_digit, decoded.plant, decoded.serial) == ("PH5C5", "5", "A", "271443")


def test_an_unknown_manufacturer_decodes_without_one():
    decoded = vin.decode("9ZZ11111111111111")
    assert decoded.manufacturer is None and decoded.wmi == "9ZZ"


@pytest.mark.parametrize("code, years", [("A", (2010, 1980)), ("Y", (2030, 2000)), ("1", (2031, 2001)),
                                         ("9", (2039, 2009)), ("B", (2011, 1981))])
def test_a_model_year_code_means_two_years_thirty_apart(code, years):
    assert vin.model_years(code) == years


@pytest.mark.parametrize("code", ["U", "Z", "0"])
def test_u_z_and_zero_are_no_model_year(code):
    assert refused(f"WBAPH5C55{code}A271443")[0] == "VIN_MODEL_YEAR_CODE"


def test_the_model_year_follows_the_build_date_when_it_is_known():
    assert vin.decode(BMW, built=date(1981, 3, 2)).model_year == 1981
    assert vin.decode(BMW, built=date(2010, 9, 20)).model_year == 2011  # built in autumn for the next model year
    assert vin.decode(BMW, today=date(2026, 11, 23)).model_year == 2011
    assert vin.decode("WBAPH5C55YA271443", today=date(2026, 11, 23)).model_year == 2000  # 2030 is still to come
