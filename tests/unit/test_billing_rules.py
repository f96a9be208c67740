"""Billing's rules without a broker or database: VAT, windows, orders against tariffs, balanced movements."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest

from services.billing import domain
from services.shared.errors import AosError, InvalidInput
from services.shared.idempotency import request_fingerprint

T0 = datetime(2026, 1, 31, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize("buyer, vat_id, treatment, vat, rate", [
    ("DE", "DE136695976", "domestic", 171, "19"),      # the seller's own country: its VAT, VAT id or not
    ("DE", None, "domestic", 171, "19"),
    ("FR", "FR40303265045", "reverse_charge", 0, "0"),  # a business in another member state
    ("FR", None, "destination", 180, "20"),            # no VAT id: the buyer's country's rate
    ("FI", None, "destination", 230, "25.5"),          # rates with decimals round half up: 229.5 -> 230
    ("CH", None, "outside_eu", 0, "0"),
    ("NO", "NO123456789MVA", "outside_eu", 0, "0"),
])
def test_vat_by_the_buyers_country(buyer, vat_id, treatment, vat, rate):
    p = domain.price(900, "DE", buyer, vat_id)
    assert (p.treatment, p.vat_cents, p.vat_rate, p.gross_cents) == (treatment, vat, Decimal(rate), 900 + vat)
    assert (p.note is not None) == (treatment in ("reverse_charge", "outside_eu"))


def test_every_member_state_has_a_rate():
    from services.shared.countries import EU
    assert set(domain.VAT_RATES) == set(EU)
    assert all(Decimal(10) <= r <= Decimal(30) for r in domain.VAT_RATES.values())


@pytest.mark.parametrize("start, period, end", [
    (datetime(2026, 1, 31, 10, 0, tzinfo=timezone.utc), "month", datetime(2026, 2, 28, 10, 0, tzinfo=timezone.utc)),
    (datetime(2026, 12, 15, 8, 0, tzinfo=timezone.utc), "month", datetime(2027, 1, 15, 8, 0, tzinfo=timezone.utc)),
    (datetime(2028, 2, 29, 0, 0, tzinfo=timezone.utc), "year", datetime(2029, 2, 28, 0, 0, tzinfo=timezone.utc)),
    (datetime(2026, 3, 28, 23, 30, tzinfo=timezone.utc), "day", datetime(2026, 3, 29, 23, 30, tzinfo=timezone.utc)),
    (datetime(2026, 3, 28, 23, 30, tzinfo=timezone.utc), "hour", datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc)),
    (datetime(2026, 3, 28, 23, 30, tzinfo=timezone.utc), "week", datetime(2026, 4, 4, 23, 30, tzinfo=timezone.utc)),
])
def test_windows_follow_the_calendar(start, period, end):
    assert domain.window_end(start, period) == end


def test_overlap():
    t = lambda h: datetime(2026, 1, 1, h, tzinfo=timezone.utc)  # noqa: E731
    assert domain.overlap_seconds(t(1), t(3), t(2), t(5)) == 3600
    assert domain.overlap_seconds(t(1), t(2), t(3), t(5)) == 0
    assert domain.overlap_seconds(t(1), t(9), t(2), t(3)) == 3600


def tariff(kind):
    return SimpleNamespace(code=f"t-{kind}", kind=kind)


@pytest.mark.parametrize("kind, vin, quantity, code", [
    ("access", "WBA8E9C50GK643215", 1, "VIN_NOT_ACCEPTED"),
    ("vin_pass", None, 1, "VIN_REQUIRED"),
    ("access", None, 2, "QUANTITY_OUT_OF_RANGE"),
    ("programming_pack", None, 21, "QUANTITY_OUT_OF_RANGE"),
    ("licence", None, 0, "QUANTITY_OUT_OF_RANGE"),
])
def test_orders_must_fit_their_tariff(kind, vin, quantity, code):
    with pytest.raises(InvalidInput) as raised:
        domain.check_order(tariff(kind), vin, quantity)
    assert raised.value.code == code


def test_orders_that_fit():
    domain.check_order(tariff("vin_pass"), "WBA8E9C50GK643215", 1)
    domain.check_order(tariff("programming_pack"), None, 20)
    domain.check_order(tariff("licence"), None, 100)


def test_every_movement_balances():
    p = domain.price(5500, "DE", "DE", None)
    pack = SimpleNamespace(kind="programming_pack")
    movements = [domain.postings_for_top_up("op", 10000),
                 domain.postings_for_purchase("op", pack, p, domain.credit_account("op"), 3600),
                 domain.postings_for_purchase("op", pack, domain.price(5500, "DE", "FR", "FR40303265045"),
                                              domain.credit_account("op"), 0),
                 domain.postings_for_metering("op", 600)]
    assert all(domain.balanced(m) for m in movements)
    assert not domain.balanced([("a", domain.EUR, 1), ("b", domain.EUR, -2)])


def test_request_fingerprints_ignore_key_order_only():
    assert request_fingerprint({"a": 1, "b": 2}) == request_fingerprint({"b": 2, "a": 1})
    assert request_fingerprint({"a": 1}) != request_fingerprint({"a": 2})


@pytest.mark.parametrize("kind, period, seconds, quantity, expected", [
    ("access", "day", None, 1, {"valid_until": T0 + timedelta(days=1), "seconds": None, "seats": 1, "sessions_left": 0}),
    ("vin_pass", "day", None, 1, {"valid_until": T0 + timedelta(days=1), "seconds": None, "sessions_left": 1}),
    ("programming_pack", None, 1800, 3, {"valid_until": None, "seconds": 5400, "sessions_left": 0}),
    ("licence", "year", None, 4, {"valid_until": datetime(2027, 1, 31, 10, tzinfo=timezone.utc), "seats": 4}),
])
def test_what_a_purchase_entitles_to(kind, period, seconds, quantity, expected):
    tariff = SimpleNamespace(kind=kind, scopes=["air"], period=period, seconds=seconds)
    terms = domain.entitlement_terms(tariff, quantity, T0)
    assert terms["valid_from"] == T0 and {k: terms[k] for k in expected} == expected


@pytest.mark.parametrize("by_pass, returned, side, used, expected", [
    (True, False, "platform", 40, ("return_pass", domain.PASS_RETURNED)),
    (True, True, "platform", 40, ("nothing", None)),  # a pass gets its session back once
    (True, False, "vehicle", 40, ("nothing", None)),  # a pass pays no seconds
    (False, False, "platform", 40, ("credit", domain.TIME_NOT_CHARGED)),
    (False, False, "vehicle", 40, ("debit", 40)),
    (False, False, "none", 0, ("nothing", None)),
])
def test_what_a_programming_sessions_end_costs(by_pass, returned, side, used, expected):
    assert domain.metering(by_pass, returned, side, used) == expected


def test_a_shop_order_is_refused_in_words_when_credit_or_the_invoice_limit_does_not_cover_it():
    quote = domain.price(10000, "DE", "DE", None)  # 119.00 EUR gross
    assert domain.order_refusal(quote, False, 11900, 0) is None
    assert "your credit is 50.00 EUR" in domain.order_refusal(quote, False, 5000, 0)
    assert "of your 100.00 EUR limit" in domain.order_refusal(quote, True, 10000, 10000)
    assert "not yet known" in domain.order_refusal(None, False, 99999, 0)
    assert "verified your workshop" in domain.order_refusal(quote, True, 0, 0)  # no limit set: not on invoice


def test_the_reverse_charge_needs_a_vat_id_vies_confirmed_and_names_the_consultation():
    from types import SimpleNamespace
    seller = SimpleNamespace(country="DE")
    french = dict(country="FR", vat_id="FR40303265045", vat_consultation=None, vat_confirmed_at=None)
    for status in (None, "unavailable", "invalid"):  # not asked yet, VIES down, or refused: French VAT
        charged = domain.quote(10000, seller, SimpleNamespace(**french, vat_status=status))
        assert (charged.treatment, charged.vat_cents) == ("destination", 2000)
    confirmed = domain.quote(10000, seller, SimpleNamespace(**french | {
        "vat_consultation": "WAPI1A2B3C", "vat_confirmed_at": datetime(2026, 11, 30, tzinfo=timezone.utc)},
        vat_status="valid"))
    assert (confirmed.treatment, confirmed.vat_cents) == ("reverse_charge", 0)
    assert "consultation number WAPI1A2B3C" in confirmed.note and "2026-11-30" in confirmed.note


# ---- what billing refuses, as plain rules ----

def code_of(call, *args):
    try:
        call(*args)
    except AosError as error:
        return error.code
    return None


def test_a_new_tariff_names_everything_and_only_owners_and_admins_put_money_in():
    assert code_of(domain.require_new_tariff_whole, {"name": "x", "kind": "time"}) == "VALIDATION_FAILED"
    assert code_of(domain.require_new_tariff_whole, {"name": "x", "kind": "time", "scopes": ["air"],
                                                     "net_cents": 100}) is None
    assert code_of(domain.require_money_role, {"role": "technician"}) == "ROLE_NOT_ALLOWED"
    assert code_of(domain.require_money_role, {"role": "admin"}) is None


def test_what_is_not_on_sale_and_not_enough_credit_are_refused_in_words():
    assert code_of(domain.require_on_sale, None, "air-9y") == "UNKNOWN_TARIFF"
    assert code_of(domain.require_on_sale, SimpleNamespace(active=False), "air-1h") == "UNKNOWN_TARIFF"
    short = domain.insufficient_credit(1190, 500)
    assert short.code == "INSUFFICIENT_CREDIT" and "11.90 EUR" in short.message and "5.00 EUR" in short.message


def test_a_shop_invoice_is_marked_paid_once_and_only_when_it_is_one_on_invoice_not_refunded():
    assert code_of(domain.require_open_shop_invoice, "AOS-1", False, None, False) == "NO_OPEN_SHOP_INVOICE"
    assert code_of(domain.require_open_shop_invoice, "AOS-1", True, "refunded", False) == "ORDER_REFUNDED"
    assert code_of(domain.require_open_shop_invoice, "AOS-1", True, "captured", True) == "INVOICE_SETTLED"
    assert code_of(domain.require_open_shop_invoice, "AOS-1", True, "captured", False) is None


def test_an_outage_is_credited_once_it_is_over():
    start = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
    assert code_of(domain.require_outage_over, start, start, start) == "OUTAGE_ENDS_BEFORE_IT_STARTS"
    assert code_of(domain.require_outage_over, start, start + timedelta(hours=1), start) == "OUTAGE_NOT_OVER"
    assert code_of(domain.require_outage_over, start, start + timedelta(hours=1), start + timedelta(hours=2)) is None
