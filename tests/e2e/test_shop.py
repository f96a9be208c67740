"""The shop through the gateway: browse, order, pay from credit, see it paid and shipped; what cannot be sold is
refused and charges nothing; a cancellation before shipping gives back stock and money."""
import pytest

from services.shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.e2e.conftest import Workshop, credit, error, key, staff, staff_token, top_up
from tests.helpers import eventually

BSU = {"sku": "BSU-100A", "name": "Battery support unit 100 A", "net_cents": 89000,
       "description": "Keeps the vehicle voltage stable above 13 V during ECU programming.",
       "technical_data": {"output": "13.5-14.8 V, up to 100 A"}, "needed_for": ["programming", "G20"],
       "image_svg": '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10"/></svg>'}
CREDIT = 300000
CABLE = {"sku": "ENET-CABLE-OBD", "name": "Ethernet diagnostic cable", "net_cents": 4900,
         "description": "OBD-II to RJ45 for DoIP.", "needed_for": ["programming"]}


@pytest.fixture
def catalogue(system):
    with staff(system) as aos:
        for product, stock in ((BSU, 3), (CABLE, 50)):
            aos.shop.save_product(staff_token(system), product)
            aos.shop.receive_stock(staff_token(system), {"sku": product["sku"], "quantity": stock})


@pytest.fixture
def customer(api, system, catalogue):
    workshop = Workshop(api)
    eventually(lambda: top_up(api, workshop, CREDIT).status_code == 201, what="billing to know the workshop")
    return workshop


def order(api, workshop, *lines, idempotency_key=None, **extra):
    return api("POST", "/api/v1/shop/orders", workshop.token, headers={"Idempotency-Key": idempotency_key or key()},
               json={"lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines], **extra})


def status(api, workshop, order_id, wanted):
    return api("GET", f"/api/v1/shop/orders/{order_id}", workshop.token).json()["status"] == wanted


def stock(api, sku):
    return api("GET", f"/api/v1/shop/products/{sku}").json()["stock"]


def test_a_workshop_browses_orders_pays_from_credit_and_sees_it_shipped(api, system, customer):
    products = api("GET", "/api/v1/shop/products", params={"country": "AT"}).json()["products"]
    bsu = next(p for p in products if p["sku"] == "BSU-100A")
    assert bsu["stock"] == 3 and bsu["net_cents"] == 89000 and bsu["gross_cents"] == 106800  # Austrian VAT 20 %
    assert "programming" in bsu["needed_for"] and bsu["image_url"].startswith("http")
    page = api("GET", "/api/v1/shop/products/BSU-100A").json()
    assert page["technical_data"] == {"output": "13.5-14.8 V, up to 100 A"} and page["gross_cents"] == 105910

    placed = order(api, customer, ("BSU-100A", 1), ("ENET-CABLE-OBD", 2))
    assert placed.status_code == 201, placed.text
    assert placed.json()["status"] == "placed" and placed.json()["net_cents"] == 89000 + 2 * 4900
    assert stock(api, "BSU-100A") == 2, "the unit is reserved at once"
    order_id = placed.json()["id"]
    eventually(lambda: status(api, customer, order_id, "paid"), what="billing to take the payment")
    paid = api("GET", f"/api/v1/shop/orders/{order_id}", customer.token).json()
    assert paid["paid_cents"] == round((89000 + 9800) * 1.19)  # the buyer is German, no VAT id: 19 %
    assert credit(api, customer) == CREDIT - paid["paid_cents"]

    with staff(system) as aos:
        shipped = aos.shop.mark_shipped(staff_token(system), {"order_id": order_id, "tracking_reference": "DHL 00340434161234567890"})
        assert shipped["status"] == "shipped"
        aos.shop.mark_delivered(staff_token(system), order_id)
    seen = api("GET", "/api/v1/shop/orders", customer.token).json()["orders"]
    assert [(o["id"], o["status"], o["tracking_reference"]) for o in seen] == [
        (order_id, "delivered", "DHL 00340434161234567890")]
    refused = api("POST", f"/api/v1/shop/orders/{order_id}/cancel", customer.token)
    assert refused.status_code == 409 and error(refused)["code"] == "ORDER_SHIPPED"
    with staff(system) as aos:
        assert aos.billing.check_books(staff_token(system))["balanced"] is True


def test_the_same_key_orders_once_and_another_body_is_refused(api, customer):
    first = order(api, customer, ("ENET-CABLE-OBD", 1), idempotency_key="order-7")
    again = order(api, customer, ("ENET-CABLE-OBD", 1), idempotency_key="order-7")
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    other = order(api, customer, ("ENET-CABLE-OBD", 2), idempotency_key="order-7")
    assert other.status_code == 409 and error(other)["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert stock(api, "ENET-CABLE-OBD") == 49
    missing = api("POST", "/api/v1/shop/orders", customer.token, json={"lines": [{"sku": "BSU-100A", "quantity": 1}]})
    assert missing.status_code == 400 and error(missing)["code"] == "IDEMPOTENCY_KEY_REQUIRED"


@pytest.mark.parametrize("lines, status_code, code, field", [
    ([("NO-SUCH-TOOL", 1)], 404, "UNKNOWN_SKU", "lines.0.sku"),
    ([("BSU-100A", 0)], 422, "VALIDATION_FAILED", None),
    ([("BSU-100A", -2)], 422, "VALIDATION_FAILED", None),
    ([("ENET-CABLE-OBD", 1), ("BSU-100A", 4)], 409, "OUT_OF_STOCK", "lines.1.quantity"),
    ([("BSU-100A", 1), ("BSU-100A", 1)], 422, "SKU_TWICE", "lines"),
])
def test_what_cannot_be_sold_is_refused_and_reserves_nothing(api, customer, lines, status_code, code, field):
    refused = order(api, customer, *lines)
    assert refused.status_code == status_code and error(refused)["code"] == code
    if field:
        assert error(refused)["details"]["field"] == field
    assert (stock(api, "BSU-100A"), stock(api, "ENET-CABLE-OBD")) == (3, 50)
    assert api("GET", "/api/v1/shop/orders", customer.token).json()["orders"] == []


def test_another_workshops_order_is_not_there(api, customer):
    placed = order(api, customer, ("ENET-CABLE-OBD", 1)).json()
    other = Workshop(api, email="chef@andere-werkstatt.de", vat_id=None)
    for method, path in (("GET", f"/api/v1/shop/orders/{placed['id']}"),
                         ("POST", f"/api/v1/shop/orders/{placed['id']}/cancel")):
        answer = api(method, path, other.token)
        assert answer.status_code == 404 and error(answer)["code"] == "ORDER_NOT_FOUND"


def test_cancelling_before_shipping_gives_back_stock_and_money(api, customer):
    placed = order(api, customer, ("BSU-100A", 2)).json()
    eventually(lambda: status(api, customer, placed["id"], "paid"), what="the payment")
    assert stock(api, "BSU-100A") == 1
    cancelled = api("POST", f"/api/v1/shop/orders/{placed['id']}/cancel", customer.token)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "by_customer" and stock(api, "BSU-100A") == 3
    eventually(lambda: credit(api, customer) == CREDIT, what="the refund to the credit account")
    bills = api("GET", "/api/v1/invoices", customer.token).json()["invoices"]
    [bill] = [b for b in bills if b["purchase_id"] == placed["id"]]
    [note] = [b for b in bills if bill["number"] in (b["note"] or "")]
    assert note["gross_cents"] == -bill["gross_cents"] and note["number"] > bill["number"], "a credit note cancels it"
    again = api("POST", f"/api/v1/shop/orders/{placed['id']}/cancel", customer.token)
    assert again.status_code == 200 and stock(api, "BSU-100A") == 3, "cancelling twice gives back once"


def test_an_order_billing_refuses_is_cancelled_and_its_stock_released(api, system, catalogue):
    poor = Workshop(api, email="knapp@werkstatt.de", vat_id=None)
    eventually(lambda: top_up(api, poor, 5000).status_code == 201, what="billing to know the workshop")
    placed = order(api, poor, ("BSU-100A", 1)).json()
    eventually(lambda: status(api, poor, placed["id"], "cancelled"), what="billing's refusal")
    seen = api("GET", f"/api/v1/shop/orders/{placed['id']}", poor.token).json()
    assert seen["cancel_reason"] == "payment_refused" and seen["paid_cents"] is None
    assert stock(api, "BSU-100A") == 3 and credit(api, poor) == 5000


def test_pay_on_invoice_waits_for_platform_staff_to_verify_the_workshop_and_set_its_limit(api, system, customer):
    unverified = order(api, customer, ("BSU-100A", 1), payment_method="invoice").json()
    eventually(lambda: status(api, customer, unverified["id"], "cancelled"), what="billing to refuse it")
    assert stock(api, "BSU-100A") == 3 and credit(api, customer) == CREDIT
    assert not [b for b in api("GET", "/api/v1/invoices", customer.token).json()["invoices"]
                if b["purchase_id"] == unverified["id"]]
    with staff(system) as aos:
        anna = staff_token(system, "anna.berger@aos.example")
        for bad, field in (({"limit_cents": -1}, "limit_cents"), ({"limit_cents": "150000"}, "limit_cents"),
                           ({"set_by": "mallory@example.com"}, "set_by"), ({"operator_id": ""}, "operator_id")):
            with pytest.raises(InvalidInput) as refused:
                aos.billing.set_invoice_limit(anna, {"operator_id": customer.operator_id, "limit_cents": 150000}
                                              | bad)
            assert field in str(refused.value)
        with pytest.raises(NotFound):
            aos.billing.set_invoice_limit(anna, {"operator_id": "no-such-workshop", "limit_cents": 1})
        # the workshop's own owner is not platform staff, whatever it writes
        with pytest.raises(Forbidden):
            aos.billing.set_invoice_limit({"token": customer.token}, {"operator_id": customer.operator_id,
                                                                      "limit_cents": 150000})
        granted = aos.billing.set_invoice_limit(anna, {"operator_id": customer.operator_id, "limit_cents": 150000})
    assert granted["limit_cents"] == 150000 and granted["owed_cents"] == 0
    assert granted["set_by"] == "anna.berger@aos.example", "who set it comes from the staff token"
    verified = order(api, customer, ("BSU-100A", 1), payment_method="invoice").json()
    eventually(lambda: status(api, customer, verified["id"], "paid"), what="the order to go on an invoice")
    with staff(system) as aos:  # closing it again leaves what is owed owed, and refuses the next
        closed = aos.billing.set_invoice_limit(staff_token(system, "jonas.weber@aos.example"),
                                               {"operator_id": customer.operator_id, "limit_cents": 0})
    assert closed["owed_cents"] == 105910 and closed["set_by"] == "jonas.weber@aos.example"
    again = order(api, customer, ("ENET-CABLE-OBD", 1), payment_method="invoice").json()
    eventually(lambda: status(api, customer, again["id"], "cancelled"), what="billing to refuse it")


def test_an_order_on_invoice_leaves_the_credit_alone_within_the_limit_of_open_invoices(api, system, customer):
    with staff(system) as aos:
        aos.billing.set_invoice_limit(staff_token(system), {"operator_id": customer.operator_id,
                                                            "limit_cents": 150000})
    first = order(api, customer, ("BSU-100A", 1), payment_method="invoice").json()
    eventually(lambda: status(api, customer, first["id"], "paid"), what="the order to go on an invoice")
    assert credit(api, customer) == CREDIT
    invoices = api("GET", "/api/v1/invoices", customer.token).json()["invoices"]
    [bill] = [i for i in invoices if i["purchase_id"] == first["id"]]
    assert bill["gross_cents"] == 105910 and "Payable within 14 days" in bill["note"]
    assert bill["lines"] == [{"description": "Battery support unit 100 A (BSU-100A)", "quantity": 1,
                              "net_cents": 89000}]  # the product's name, not only its SKU
    second = order(api, customer, ("BSU-100A", 1), payment_method="invoice").json()  # 2 x 1,059.10 > 1,500.00
    eventually(lambda: status(api, customer, second["id"], "cancelled"), what="the limit to refuse it")
    assert stock(api, "BSU-100A") == 2
    cancelled = api("POST", f"/api/v1/shop/orders/{first['id']}/cancel", customer.token)
    assert cancelled.json()["status"] == "cancelled" and stock(api, "BSU-100A") == 3
    third = order(api, customer, ("BSU-100A", 1), payment_method="invoice").json()  # the refund freed the limit
    eventually(lambda: status(api, customer, third["id"], "paid"), what="the limit to have room again")

    # the workshop pays the invoice by bank transfer; platform staff book it, once
    bills = api("GET", "/api/v1/invoices", customer.token).json()["invoices"]
    [third_bill] = [b for b in bills if b["purchase_id"] == third["id"]]
    with staff(system) as aos:
        settled = aos.billing.settle_invoice(staff_token(system), {"number": third_bill["number"], "bank_reference": "SEPA 2026-11-24"})
        assert settled == {"number": third_bill["number"], "settled_cents": 105910, "still_owed_cents": 0}
        with pytest.raises(Conflict):
            aos.billing.settle_invoice(staff_token(system), {"number": third_bill["number"], "bank_reference": "SEPA again"})
        with pytest.raises(InvalidInput):
            aos.billing.settle_invoice(staff_token(system), {"number": "INV-1", "bank_reference": "x"})
        assert aos.billing.check_books(staff_token(system))["balanced"] is True
    fourth = order(api, customer, ("BSU-100A", 1), payment_method="invoice").json()
    eventually(lambda: status(api, customer, fourth["id"], "paid"), what="the settled invoice to free the limit")
    bad = order(api, customer, ("BSU-100A", 1), payment_method="cheque")
    assert bad.status_code == 422 and "payment_method" in error(bad)["details"]["fields"]


KEY_BLANK = {"sku": "KEY-ID49-BLANK", "name": "Remote key blank with ID49 transponder", "net_cents": 3900,
             "description": "A blank remote key for key programming.", "theft_relevant": True}


def test_theft_relevant_parts_only_for_a_sermi_authorised_technician(api, system, customer):
    from tests.e2e.test_sermi import link
    with staff(system) as aos:
        aos.shop.save_product(staff_token(system), KEY_BLANK)
        aos.shop.receive_stock(staff_token(system), {"sku": KEY_BLANK["sku"], "quantity": 5})
    assert api("GET", f"/api/v1/shop/products/{KEY_BLANK['sku']}").json()["theft_relevant"] is True
    refused = order(api, customer, (KEY_BLANK["sku"], 1))
    assert refused.status_code == 403 and error(refused)["code"] == "SERMI_NOT_LINKED"
    assert stock(api, KEY_BLANK["sku"]) == 5 and credit(api, customer) == CREDIT, "a refusal takes nothing"
    assert order(api, customer, ("ENET-CABLE-OBD", 1)).status_code == 201, "other parts need no SERMI"
    assert link(api, customer, "tech-anna")[0] == "/#/sermi?linked=1"
    placed = order(api, customer, (KEY_BLANK["sku"], 1))
    assert placed.status_code == 201, placed.text
    assert stock(api, KEY_BLANK["sku"]) == 4
