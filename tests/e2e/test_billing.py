"""Buying time through the gateway: top up, buy, see it counting down; every refusal charges nothing."""
import re

import eventlet
import pytest
from sqlalchemy.orm import Session

from services.billing.models import Buyer
from services.shared.database import make_engine
from tests.e2e.conftest import Workshop, buy, credit, error, key, staff, staff_token, top_up
from tests.helpers import eventually


def books(system):
    with staff(system) as cluster:
        return cluster.billing.check_books(staff_token(system))


@pytest.fixture
def customer(api, system):
    workshop = Workshop(api)
    # billing learns of the workshop from OperatorRegistered, moments after registration
    eventually(lambda: top_up(api, workshop, 5000).status_code == 201, what="billing to know the workshop")
    return workshop


@pytest.mark.both_databases  # money: on the database make run uses too
def test_a_workshop_tops_up_buys_an_hour_and_sees_it_count_down(api, system, customer):
    assert credit(api, customer) == 5000
    bought = buy(api, customer, "air-1h")
    assert bought.status_code == 201, bought.text
    purchase = bought.json()
    assert (purchase["net_cents"], purchase["vat_cents"], purchase["gross_cents"]) == (900, 171, 1071)
    assert purchase["vat_treatment"] == "domestic" and purchase["vat_rate"] == "19"

    now = api("GET", "/api/v1/entitlements", customer.token).json()
    [window] = now["windows"]
    assert window["id"] == purchase["entitlement"]["id"] and window["scopes"] == ["air", "vehicle_data"]
    assert 3590 <= window["remaining_seconds"] <= 3600
    assert now["credit_cents"] == 5000 - 1071
    eventlet.sleep(1.1)
    later = api("GET", "/api/v1/entitlements", customer.token).json()["windows"][0]["remaining_seconds"]
    assert later < window["remaining_seconds"], "the clock runs, to the second"

    statement = api("GET", "/api/v1/credit", customer.token).json()["statement"]
    assert [(line["kind"], line["amount"]) for line in statement] == [("purchase", -1071), ("top_up", 5000)]
    assert [p["id"] for p in api("GET", "/api/v1/purchases", customer.token).json()["purchases"]] == [purchase["id"]]
    assert books(system) == {"balanced": True, "problems": []}


@pytest.mark.both_databases  # money: on the database make run uses too
def test_the_same_idempotency_key_charges_once_and_another_body_is_refused(api, system, customer):
    k = key()
    first, again = buy(api, customer, "air-1h", k), buy(api, customer, "air-1h", k)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert credit(api, customer) == 5000 - 1071
    other = buy(api, customer, "air-1d", k)
    assert other.status_code == 409 and error(other)["code"] == "IDEMPOTENCY_KEY_REUSED"
    missing = api("POST", "/api/v1/purchases", customer.token, json={"tariff_code": "air-1h"})
    assert missing.status_code == 400 and error(missing)["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    assert credit(api, customer) == 5000 - 1071 and books(system)["balanced"]


@pytest.mark.parametrize("body, status, code", [
    ({"tariff_code": "air-2h"}, 404, "UNKNOWN_TARIFF"),
    ({"tariff_code": "air-1h", "vin": "WBA8E9C50GK643215"}, 422, "VIN_NOT_ACCEPTED"),
    ({"tariff_code": "vin-1d"}, 422, "VIN_REQUIRED"),
    ({"tariff_code": "vin-1d", "vin": "WBA8E9C5OGK643215"}, 422, "VALIDATION_FAILED"),
    ({"tariff_code": "air-1h", "quantity": 2}, 422, "QUANTITY_OUT_OF_RANGE"),
    ({"tariff_code": "prog-30", "quantity": 0}, 422, "VALIDATION_FAILED"),
    ({"tariff_code": "prog-30", "quantity": -3}, 422, "VALIDATION_FAILED"),
    ({"tariff_code": "prog-30", "quantity": 10**9}, 422, "VALIDATION_FAILED"),
    ({"tariff_code": "prog-30", "quantity": "2"}, 422, "VALIDATION_FAILED"),
    ({"tariff_code": "licence-1y", "quantity": 101}, 422, "VALIDATION_FAILED"),
])
def test_orders_that_do_not_fit_their_tariff_are_refused_and_charge_nothing(api, system, customer, body, status, code):
    answer = api("POST", "/api/v1/purchases", customer.token, json=body, headers={"Idempotency-Key": key()})
    assert answer.status_code == status, answer.text
    assert error(answer)["code"] == code
    assert credit(api, customer) == 5000
    assert api("GET", "/api/v1/entitlements", customer.token).json()["windows"] == []


@pytest.mark.both_databases  # money: on the database make run uses too
def test_not_enough_credit_is_402_and_nothing_is_granted(api, system, customer):
    answer = buy(api, customer, "air-1y")
    assert answer.status_code == 402 and error(answer)["code"] == "INSUFFICIENT_CREDIT"
    assert error(answer)["details"] == {"balance_cents": 5000, "price_cents": 380800}
    assert credit(api, customer) == 5000
    assert api("GET", "/api/v1/entitlements", customer.token).json()["windows"] == []
    assert api("GET", "/api/v1/purchases", customer.token).json()["purchases"] == []


@pytest.mark.both_databases  # money: on the database make run uses too
def test_a_declined_card_adds_nothing_and_its_key_stays_declined(api, system, customer):
    k = key()
    declined = top_up(api, customer, 10000, "tok_declined", k)
    assert declined.status_code == 402 and error(declined)["code"] == "CARD_DECLINED"
    assert top_up(api, customer, 10000, "tok_declined", k).status_code == 402
    assert credit(api, customer) == 5000
    retried = top_up(api, customer, 10000, "tok_visa", key())
    assert retried.status_code == 201 and retried.json()["balance_cents"] == 15000


def test_top_up_limits_and_roles(api, system, customer):
    for cents in (0, -500, 499, 500001):
        answer = top_up(api, customer, cents)
        assert answer.status_code == 422 and "amount_cents" in error(answer)["details"]["fields"], cents
    invited = api("POST", f"/api/v1/operators/{customer.operator_id}/users", customer.token,
                  json={"email": "tom@werkstatt-mueller.de", "name": "Tom", "role": "technician"}).json()
    from tests.e2e.test_users import join
    technician = join(api, invited)
    refused = api("POST", "/api/v1/credit/top-ups", technician["access_token"],
                  json={"amount_cents": 1000, "card_token": "tok_visa"}, headers={"Idempotency-Key": key()})
    assert refused.status_code == 403 and error(refused)["code"] == "ROLE_NOT_ALLOWED"
    assert credit(api, customer) == 5000


@pytest.mark.both_databases  # money: on the database make run uses too
def test_racing_purchases_never_overdraw_the_credit(api, system, customer):
    """5000 cents buy four hours at 1071; twelve racing requests: exactly four win, the rest are 402."""
    pool = eventlet.GreenPool(12)
    answers = list(pool.imap(lambda _: buy(api, customer, "air-1h").status_code, range(12)))
    assert sorted(answers) == [201] * 4 + [402] * 8
    assert credit(api, customer) == 5000 - 4 * 1071
    assert len(api("GET", "/api/v1/entitlements", customer.token).json()["windows"]) == 4
    assert books(system) == {"balanced": True, "problems": []}


def customer_in(api, email, country, vat_id):
    workshop = Workshop(api, email=email, vat_id=vat_id, country=country)
    eventually(lambda: top_up(api, workshop, 5000).status_code == 201, what="billing to know the workshop")
    return workshop


def test_vat_follows_the_buyer(api, system):
    with_vat_id = customer_in(api, "chef@garage-dupont.fr", "FR", "FR40303265045")
    eventually(lambda: vat_status(system, with_vat_id.operator_id) == "valid", what="VIES to confirm the VAT id")
    reverse = buy(api, with_vat_id, "air-1h").json()
    assert (reverse["vat_treatment"], reverse["vat_cents"], reverse["gross_cents"]) == ("reverse_charge", 0, 900)
    without = customer_in(api, "atelier@garage-martin.fr", "FR", None)
    destination = buy(api, without, "air-1h").json()
    assert (destination["vat_treatment"], destination["vat_cents"], destination["gross_cents"]) == ("destination", 180, 1080)
    swiss = customer_in(api, "werkstatt@garage-zuerich.ch", "CH", None)
    outside = buy(api, swiss, "air-1h").json()
    assert (outside["vat_treatment"], outside["vat_cents"]) == ("outside_eu", 0)
    assert books(system)["balanced"]


def test_public_tariffs_show_prices_for_a_country(api, system):
    tariffs = api("GET", "/api/v1/tariffs?country=FR").json()
    hour = next(t for t in tariffs["tariffs"] if t["code"] == "air-1h")
    assert (hour["net_cents"], hour["vat_cents"], hour["gross_cents"], hour["vat_rate"]) == (900, 180, 1080, "20")
    assert all(t["vat_cents"] == 0 for t in api("GET", "/api/v1/tariffs?country=CH").json()["tariffs"])
    bad = api("GET", "/api/v1/tariffs?country=ZZ")
    assert bad.status_code == 422 and "country" in error(bad)["details"]["fields"]
    assert {t["code"] for t in api("GET", "/api/v1/tariffs").json()["tariffs"]} == {
        "air-1h", "air-1d", "air-1w", "air-1m", "air-1y", "vin-1d", "prog-30", "prog-60", "prog-180", "diag-30",
        "diag-60", "licence-1y", "parts-1d", "parts-1m", "parts-1y", "data-1m", "data-1y"}


@pytest.mark.both_databases  # money: on the database make run uses too
def test_every_purchase_has_an_invoice_with_a_gapless_number_and_a_pdf(api, system, customer):
    bought = [buy(api, customer, code).json() for code in ("air-1h", "prog-30")]
    listed = api("GET", "/api/v1/invoices", customer.token).json()["invoices"]
    assert [i["purchase_id"] for i in listed] == [bought[1]["id"], bought[0]["id"]]
    year = listed[0]["issued_at"][:4]
    assert [i["number"] for i in listed] == [f"AOS-{year}-000002", f"AOS-{year}-000001"]
    first = api("GET", f"/api/v1/invoices/{listed[1]['id']}", customer.token).json()
    assert first["buyer"]["vat_id"] == "DE136695976" and first["buyer"]["name"] == "Werkstatt Müller GmbH"
    assert first["buyer"]["address"]["city"] == "München"
    assert (first["net_cents"], first["vat_cents"], first["gross_cents"]) == (900, 171, 1071)
    assert first["lines"] == [{"description": "Technical information, 1 hour", "quantity": 1, "net_cents": 900}]

    pdf = api("GET", f"/api/v1/invoices/{listed[1]['id']}", customer.token, headers={"Accept": "application/pdf"})
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert f'filename="AOS-{year}-000001.pdf"' in pdf.headers["Content-Disposition"]
    again = api("GET", f"/api/v1/invoices/{listed[1]['id']}", customer.token, headers={"Accept": "application/pdf"})
    assert again.content == pdf.content, "the stored PDF is the one of record"

    # a refused purchase takes no number: the next one follows without a gap
    assert buy(api, customer, "air-1y").status_code == 402
    assert top_up(api, customer, 5000).status_code == 201
    assert buy(api, customer, "air-1h").status_code == 201
    numbers = [i["number"] for i in api("GET", "/api/v1/invoices", customer.token).json()["invoices"]]
    assert numbers[0] == f"AOS-{year}-000003"

    rival = Workshop(api, email="chef@konkurrenz.de", vat_id=None)
    hidden = api("GET", f"/api/v1/invoices/{listed[1]['id']}", rival.token)
    assert hidden.status_code == 404 and error(hidden)["code"] == "INVOICE_NOT_FOUND"


def vat_status(system, operator_id):
    engine = make_engine(system["DATABASE_URLS"]["billing"])
    try:
        with Session(engine) as session:
            return session.get(Buyer, operator_id).vat_status
    finally:
        engine.dispose()


def test_a_reverse_charge_invoice_says_so(api, system):
    french = customer_in(api, "chef@garage-dupont.fr", "FR", "FR40303265045")
    eventually(lambda: vat_status(system, french.operator_id) == "valid", what="VIES to confirm the VAT id")
    buy(api, french, "air-1d")
    [invoice] = api("GET", "/api/v1/invoices", french.token).json()["invoices"]
    assert invoice["vat_cents"] == 0 and invoice["vat_treatment"] == "reverse_charge"
    assert "Reverse charge" in invoice["note"] and "confirmed by VIES" in invoice["note"]
    assert re.search(r"consultation number WAPI[0-9A-F]{12}\.", invoice["note"])
    pdf = api("GET", f"/api/v1/invoices/{invoice['id']}", french.token, headers={"Accept": "application/pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")


def test_while_vies_is_down_vat_is_charged_and_the_id_is_asked_again_later(api, system, vies_registry):
    vies_registry({"valid": {"FR40303265045": "Garage Dupont"}, "down": True})
    french = customer_in(api, "chef@garage-dupont.fr", "FR", "FR40303265045")
    eventually(lambda: vat_status(system, french.operator_id) == "unavailable", what="VIES to be asked")
    buy(api, french, "air-1h")
    [charged] = api("GET", "/api/v1/invoices", french.token).json()["invoices"]
    assert charged["vat_treatment"] == "destination" and charged["vat_cents"] > 0  # French VAT
    vies_registry({"valid": {"FR40303265045": "Garage Dupont"}})
    eventually(lambda: vat_status(system, french.operator_id) == "valid", what="VIES to be asked again")
    buy(api, french, "air-1h")
    invoices = api("GET", "/api/v1/invoices", french.token).json()["invoices"]
    assert sorted((i["number"], i["vat_treatment"]) for i in invoices) == [
        (charged["number"], "destination"), (max(i["number"] for i in invoices), "reverse_charge")]
    assert next(i for i in invoices if i["number"] == charged["number"]) == charged  # what was charged stays


def test_an_id_vies_does_not_know_never_gets_the_reverse_charge(api, system, vies_registry):
    vies_registry({"valid": {}})
    french = customer_in(api, "chef@garage-dupont.fr", "FR", "FR40303265045")
    eventually(lambda: vat_status(system, french.operator_id) == "invalid", what="VIES to be asked")
    buy(api, french, "air-1h")
    [charged] = api("GET", "/api/v1/invoices", french.token).json()["invoices"]
    assert charged["vat_treatment"] == "destination" and charged["vat_cents"] > 0


@pytest.mark.parametrize("country, name, city", [
    ("PL", "Warsztat Łódź", "Łódź"), ("CZ", "Škoda Servis Žižkov", "Praha"), ("GR", "Συνεργείο Αθηνά", "Αθήνα"),
    ("BG", "Автосервиз София", "София")])
def test_an_invoice_prints_the_buyers_name_in_its_own_script(api, country, name, city):
    import io

    from pypdf import PdfReader
    workshop = Workshop(api, email=f"werkstatt-{country.lower()}@example.eu", vat_id=None, country=country,
                        legal_name=name, city=city)
    eventually(lambda: top_up(api, workshop, 5000).status_code == 201, what="billing to know the workshop")
    assert buy(api, workshop, "air-1h").status_code == 201
    [invoice] = api("GET", "/api/v1/invoices", workshop.token).json()["invoices"]
    pdf = api("GET", f"/api/v1/invoices/{invoice['id']}", workshop.token, headers={"Accept": "application/pdf"})
    assert pdf.status_code == 200, pdf.text
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert f"{name} GmbH" in text and city in text  # read back from the PDF as the buyer would see it
