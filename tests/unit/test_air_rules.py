"""AIR's rules: how search text is taken apart, which documents apply to a car, who may read, and highlighting
that marks words and escapes everything else."""
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace as Row

import pytest

from services.air import domain, search
from services.shared.search import one_edit

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
CAR = domain.Vehicle("WBA5F31000X000001", "G20", "5F31", "B48B20", date(2021, 5, 1))


def test_search_text_becomes_words_phrases_codes_and_neighbours():
    words = domain.read_text('Misfire "ignition coil" P0301, cylinder-1')
    assert words.terms == ("misfire", "p0301", "cylinder", "1")
    assert words.phrases == (("ignition", "coil"),)
    assert words.codes == ("P0301",)
    assert ("cylinder", "1") in words.pairs


@pytest.mark.parametrize("text", ['title:(a AND b*)', 'x" unbalanced', "{!lucene} [0 TO 9]", "^~*?\\/"])
def test_query_syntax_is_only_characters_between_words(text):
    words = domain.read_text(text)
    assert all(t.isalnum() for t in words.terms)
    assert all(all(w.isalnum() for w in p) for p in words.phrases)


def test_punctuation_alone_has_no_words_and_long_text_is_cut():
    assert domain.read_text('"" () !!').empty
    assert len(domain.read_text(" ".join(f"w{i}" for i in range(100))).terms) == domain.MAX_TERMS


@pytest.mark.parametrize("applicability, applies", [
    ({}, True),
    ({"series": ["G20"], "engine_codes": ["B48B20"]}, True),
    ({"series": ["F40"]}, False),
    ({"model_codes": ["5F11"]}, False),
    ({"engine_codes": ["B58B30"]}, False),
    ({"produced_from": "2021-05-02"}, False),
    ({"produced_until": "2021-04-30"}, False),
    ({"produced_from": "2021-05-01", "produced_until": "2021-05-01"}, True),
])
def test_a_document_applies_to_the_car_by_series_model_engine_and_production_date(applicability, applies):
    assert domain.applies(applicability, CAR) is applies


def grant(scopes, vin=None, until=NOW + timedelta(hours=1)):
    return Row(scopes=scopes, vin=vin, valid_from=NOW - timedelta(hours=1), valid_until=until, expired_at=None)


def test_air_access_or_a_vin_pass_for_this_car():
    assert domain.may_read([grant(["air", "vehicle_data"])], None, NOW)
    assert domain.may_read([grant(["vin"], vin=CAR.vin)], CAR.vin, NOW)
    assert not domain.may_read([grant(["vin"], vin=CAR.vin)], None, NOW)
    assert not domain.may_read([grant(["vin"], vin=CAR.vin)], "WBA5F31000X000002", NOW)
    assert not domain.may_read([grant(["programming"])], None, NOW)
    assert not domain.may_read([grant(["air"], until=NOW)], None, NOW)


def test_highlights_mark_matched_words_and_escape_the_rest():
    words = domain.read_text("coil misfre")
    assert search.mark("<b>Coil</b> & misfire", words) == "&lt;b&gt;<mark>Coil</mark>&lt;/b&gt; &amp; <mark>misfire</mark>"
    long_text = "Intro words. " * 40 + "The coil sits here." + " Tail words." * 40
    snippet = search.mark(long_text, words, max_chars=120)
    assert "<mark>coil</mark>" in snippet and snippet.startswith("… ") and snippet.endswith(" …")
    assert len(snippet) < 200
    assert search.mark("nothing to see", words, max_chars=100) is None


@pytest.mark.parametrize("a, b, close", [("misfire", "misfre", True), ("brake", "brkae", True),
                                          ("coil", "coils", True), ("brake", "berak", False), ("pads", "pods", True),
                                          ("pads", "rods", False)])
def test_one_edit_counts_a_transposition_as_one(a, b, close):
    assert one_edit(a, b) is close
