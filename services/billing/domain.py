"""Billing's rules in plain Python: VAT by the buyer's country, access windows, what a tariff may be bought with,
and the shape of every ledger movement (each one balanced)."""
import calendar
from dataclasses import replace
from datetime import datetime, timedelta

from services.billing.schemas import KINDS, PERIODS  # noqa: F401  (the contract's words, billing's rules)
from services.shared.errors import (Conflict, Forbidden, InvalidInput, NotFound, PaymentRequired, Unavailable,
                                    invalid_field)
from services.shared.vat import VAT_RATES, Price, price  # noqa: F401  (billing's rules speak of them)


def quote(net_cents, seller, buyer):
    """The price for this buyer: the reverse charge only for a VAT id VIES confirmed (until then, or while VIES
    cannot be asked, VAT is charged, and what was charged stays charged), with VIES's consultation number."""
    confirmed = buyer.vat_id if buyer.vat_status == "valid" else None
    found = price(net_cents, seller.country, buyer.country, confirmed)
    if found.treatment != "reverse_charge":
        return found
    return replace(found, note=f"{found.note} VAT id {buyer.vat_id} confirmed by VIES on "
                               f"{buyer.vat_confirmed_at:%Y-%m-%d}, consultation number {buyer.vat_consultation}.")


VIN_PASS_SESSIONS = 1  # a VIN pass includes one programming session for its vehicle
MAX_QUANTITY = {"programming_pack": 20, "diagnosis_pack": 20, "licence": 100}  # packs stack; a licence counts seats
# packs of seconds and what they are seconds of: programming, or remote diagnosis
PACKS = {"programming_pack": "programming", "diagnosis_pack": "diagnosis"}
EUR, SECONDS = "EUR_cent", "second"


# what a data subscriber (a tool maker's or partner's systems: they read, they do not work on cars) may buy
DATA_SCOPES = ("air", "vehicle_data", "parts")


def require_sold_to(tariff, buyer):
    """A data subscriber buys data: a data subscription, or access to data only; time on a car, a VIN pass or
    seats are a workshop's."""
    if buyer.kind != "data_subscriber":
        return
    if tariff.kind in ("access", "data_subscription") and set(tariff.scopes) <= set(DATA_SCOPES):
        return
    raise invalid_field("TARIFF_FOR_WORKSHOPS", "tariff_code", "workshops_only",
                        f"{tariff.name} is for workshops that work on cars; a data subscriber buys data: a data "
                        f"subscription (data-1m, data-1y) or access to technical information or parts.")


# ---- windows ------------------------------------------------------------------------------------------------

def month_start(now):
    """The first instant of `now`'s calendar month: monthly budgets count from here."""
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def window_end(start: datetime, period: str, count: int = 1) -> datetime:
    """Calendar arithmetic: a month from 31 January ends on the last day of February."""
    if period == "hour":
        return start + timedelta(hours=count)
    if period == "day":
        return start + timedelta(days=count)
    if period == "week":
        return start + timedelta(weeks=count)
    months = count * (12 if period == "year" else 1)
    month0 = start.month - 1 + months
    year, month = start.year + month0 // 12, month0 % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def overlap_seconds(a_start, a_end, b_start, b_end):
    return max(0, int((min(a_end, b_end) - max(a_start, b_start)).total_seconds()))


# ---- purchases ----------------------------------------------------------------------------------------------

def check_order(tariff, vin, quantity):
    """What a purchase asks for must fit its tariff; errors name the field and the rule."""
    if tariff.kind == "vin_pass" and vin is None:
        raise invalid_field("VIN_REQUIRED", "vin", "required_for_tariff",
                            f"The tariff {tariff.code} is for one vehicle: send its VIN.")
    if tariff.kind != "vin_pass" and vin is not None:
        raise invalid_field("VIN_NOT_ACCEPTED", "vin", "not_for_tariff",
                            f"The tariff {tariff.code} covers every vehicle; send no VIN.")
    limit = MAX_QUANTITY.get(tariff.kind, 1)
    if not 1 <= quantity <= limit:
        what = "seats" if tariff.kind == "licence" else "quantity"
        raise invalid_field("QUANTITY_OUT_OF_RANGE", "quantity", "range",
                            f"The {what} for {tariff.code} must be between 1 and {limit}.", min=1, max=limit)


def entitlement_terms(tariff, quantity, now):
    """What a purchase of `quantity` of `tariff` at `now` entitles to: a window (access, a VIN pass, licence
    seats) or programming seconds (a pack, which has no end)."""
    pack = tariff.kind in PACKS
    return {"kind": tariff.kind, "scopes": list(tariff.scopes), "seats": quantity if tariff.kind == "licence" else 1,
            "valid_from": now, "valid_until": None if pack else window_end(now, tariff.period),
            "seconds": tariff.seconds * quantity if pack else None,
            "sessions_left": VIN_PASS_SESSIONS if tariff.kind == "vin_pass" else 0}


# ---- metering of programming sessions ------------------------------------------------------------------------

PASS_RETURNED = "Programming session failed on our side: your VIN pass has its session back."
TIME_NOT_CHARGED = "Programming session failed on our side: its time is not charged."


def metering(paid_by_pass, pass_returned, failure_side, used):
    """What a programming session's end costs: ("return_pass", reason), ("credit", reason), ("debit", seconds)
    or ("nothing", None). A pass pays no seconds and gets its session back on our failure, once; our failure
    costs no time; otherwise exactly the seconds used."""
    ours = failure_side == "platform"
    if paid_by_pass:
        return ("return_pass", PASS_RETURNED) if ours and not pass_returned else ("nothing", None)
    if ours:
        return "credit", TIME_NOT_CHARGED
    return ("debit", used) if used else ("nothing", None)


# ---- shop orders ------------------------------------------------------------------------------------------------

def order_refusal(quote, on_invoice, available, invoice_limit_cents):
    """Why a shop order cannot be charged (None when it can): an unknown buyer, or not enough credit or room
    under the limit of open invoices. `available` counts the limit in on invoice."""
    if quote is None:
        return "Your workshop is not yet known to billing; please order again in a minute."
    if on_invoice and invoice_limit_cents == 0:
        return ("Pay on invoice opens once platform staff have verified your workshop and set its limit; until "
                "then, pay from your credit.")
    if available >= quote.gross_cents:
        return None
    if on_invoice:
        return (f"The order costs {quote.gross_cents / 100:.2f} EUR; your open invoices leave "
                f"{available / 100:.2f} EUR of your {invoice_limit_cents / 100:.2f} EUR limit.")
    return (f"Not enough credit: the order costs {quote.gross_cents / 100:.2f} EUR, your credit is "
            f"{available / 100:.2f} EUR. Top up and order again.")


# ---- ledger -------------------------------------------------------------------------------------------------

def credit_account(operator_id):
    return f"operator:{operator_id}:credit"


def seconds_account(operator_id, use="programming"):
    """An operator's seconds of programming or of remote diagnosis."""
    return f"operator:{operator_id}:{use}"


def postings_for_top_up(operator_id, amount_cents):
    return [("payments:card", EUR, -amount_cents), (credit_account(operator_id), EUR, amount_cents)]


def postings_for_purchase(operator_id, tariff, p: Price, paid_from, seconds):
    """Money from the payer to revenue and VAT; a pack's seconds (programming or diagnosis) from the platform to
    the operator."""
    postings = [(paid_from, EUR, -p.gross_cents), (f"revenue:{tariff.kind}", EUR, p.net_cents)]
    if p.vat_cents:
        postings.append((f"vat:{p.vat_country}", EUR, p.vat_cents))
    if seconds:
        use = PACKS[tariff.kind]
        postings += [(f"{use}:issued", SECONDS, -seconds), (seconds_account(operator_id, use), SECONDS, seconds)]
    return postings


def invoices_due_account(operator_id):
    """What a workshop owes on open invoices, as a negative balance (outside the never-negative operator:
    accounts: owing is its purpose)."""
    return f"invoices-due:{operator_id}"


def postings_for_shop_order(p: Price, paid_from):
    """Goods from the shop, paid from the credit account or owed on an invoice: to shop revenue and VAT."""
    postings = [(paid_from, EUR, -p.gross_cents), ("revenue:shop", EUR, p.net_cents)]
    if p.vat_cents:
        postings.append((f"vat:{p.vat_country}", EUR, p.vat_cents))
    return postings


def reversed_postings(postings):
    return [(account, unit, -amount) for account, unit, amount in postings]


def postings_for_metering(operator_id, seconds, use="programming"):
    return [(seconds_account(operator_id, use), SECONDS, -seconds), (f"{use}:consumed", SECONDS, seconds)]


def balanced(postings):
    totals = {}
    for _, unit, amount in postings:
        totals[unit] = totals.get(unit, 0) + amount
    return all(v == 0 for v in totals.values())


NON_NEGATIVE_PREFIX = "operator:"  # an operator's money and seconds never go below zero


# ---- What billing refuses: each rule a use case asks, its condition and its words here -------------------------

MONEY_ROLES = ("owner", "admin")  # who may put money in
NEW_TARIFF_NEEDS = ("name", "kind", "scopes", "net_cents")


def require_new_tariff_whole(payload):
    """A tariff made anew names everything a tariff is."""
    missing = [f for f in NEW_TARIFF_NEEDS if f not in payload]
    if missing:
        raise InvalidInput("VALIDATION_FAILED", "A new tariff needs " + ", ".join(missing) + ".",
                           {"fields": {f: ["Missing data for required field."] for f in missing}})


def require_known_buyer(buyer):
    if buyer is None:  # OperatorRegistered is still on its way: a matter of moments after registration
        raise Unavailable("OPERATOR_NOT_YET_KNOWN", "Your workshop's registration is still being set up; please try "
                          "again in a few seconds.")


def require_money_role(actor):
    if actor["role"] not in MONEY_ROLES:
        raise Forbidden("ROLE_NOT_ALLOWED", "Only the workshop's owner or an admin may add money.",
                        {"required_role": list(MONEY_ROLES)})


def card_declined(reason, top_up_id):
    return PaymentRequired("CARD_DECLINED", reason, {"top_up_id": top_up_id})


def require_on_sale(tariff, code):
    if tariff is None or not tariff.active:
        raise NotFound("UNKNOWN_TARIFF", f"There is no tariff {code!r} on sale.", {"field": "tariff_code"})


def insufficient_credit(price_cents, available_cents):
    return PaymentRequired("INSUFFICIENT_CREDIT", f"This costs {price_cents / 100:.2f} EUR; your credit is "
                           f"{available_cents / 100:.2f} EUR. Top up and try again: nothing was charged.",
                           {"balance_cents": available_cents, "price_cents": price_cents})


def require_own_invoice(invoice, operator_id):
    if invoice is None or invoice.operator_id != operator_id:  # another's is as good as none
        raise NotFound("INVOICE_NOT_FOUND", "There is no such invoice in your workshop.")


def require_same_claim(claimed, operator_id, vin):
    """A session id claims a VIN pass once: a repeat must name the same workshop and car."""
    if (claimed.operator_id, claimed.vin) != (operator_id, vin):
        raise Conflict("SESSION_ID_TAKEN", "This session id paid for another vehicle or workshop.",
                       {"field": "session_id"})


def no_vin_pass_session(vin):
    return PaymentRequired("NO_VIN_PASS_SESSION", f"There is no VIN pass with a programming session left for {vin}. "
                           "Buy a VIN pass for it (vin-1d) or programming time.", {"vin": vin})


def require_known_workshop(buyer, operator_id):
    if buyer is None:
        raise NotFound("OPERATOR_NOT_FOUND", f"Billing knows no workshop {operator_id!r}.", {"field": "operator_id"})


def require_open_shop_invoice(number, on_invoice, payment_status, settled):
    """An invoice staff mark paid: one for a shop order put on invoice, not refunded, not settled yet."""
    if not on_invoice:
        raise NotFound("NO_OPEN_SHOP_INVOICE", f"{number} is not an invoice for a shop order paid on invoice.",
                       {"field": "number"})
    if payment_status != "captured":
        raise Conflict("ORDER_REFUNDED", "This order was cancelled and its invoice cancelled by a credit note.",
                       {"field": "number"})
    if settled:
        raise Conflict("INVOICE_SETTLED", f"{number} is settled already.", {"field": "number"})


def require_outage_over(started_at, ended_at, now):
    if ended_at <= started_at:
        raise InvalidInput("OUTAGE_ENDS_BEFORE_IT_STARTS", "The outage must end after it starts.",
                           {"field": "ended_at", "rule": "after_started_at"})
    if ended_at > now:
        raise InvalidInput("OUTAGE_NOT_OVER", "Credit an outage once it is over.",
                           {"field": "ended_at", "rule": "not_in_future"})


def outage_credited_already():
    return Conflict("OUTAGE_ALREADY_CREDITED", "This outage has been credited already.")
