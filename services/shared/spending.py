"""What a user may spend of the workshop's money, as identity grants it (the access token's `buy` claim, handed
on in the actor): billing holds purchases and shop charges to it, the shop holds orders to it."""
from services.shared.errors import Forbidden

OWNER = {"may_buy": True, "on_invoice": True, "monthly_budget_cents": None}
NOTHING = {"may_buy": False, "on_invoice": False, "monthly_budget_cents": None}


def rights_of(actor):
    return actor.get("spending") or (OWNER if actor.get("role") == "owner" else NOTHING)


def require_buyer(actor, price_cents=0, spent_cents=0, on_invoice=False):
    """A purchase or an order by `actor`: a confirmed address, the right to buy, and room in the budget."""
    if not actor.get("email_verified"):
        raise Forbidden("EMAIL_NOT_VERIFIED", "Confirm your email address first: we sent you a link (ask for it "
                        "again with POST /api/v1/auth/email/resend). Nothing was charged.", {"rule": "email_verified"})
    refused = refusal(rights_of(actor), price_cents, spent_cents, on_invoice)
    if refused:
        raise refused


def refusal(rights, price_cents=0, spent_cents=0, on_invoice=False):
    """Why this user may not spend `price_cents` (gross) now, having spent `spent_cents` this month; None if
    they may."""
    if not rights.get("may_buy"):
        return Forbidden("NOT_ALLOWED_TO_BUY", "Your workshop's owner has not given you the right to buy: ask them "
                         "for it, or to buy this for you. You can use everything the workshop has bought.",
                         {"right": "may_buy"})
    if on_invoice and not rights.get("on_invoice"):
        return Forbidden("NOT_ALLOWED_ON_INVOICE", "Your workshop's owner has not given you the right to order on "
                         "the workshop's invoice: pay from the credit account, or ask the owner.",
                         {"right": "on_invoice", "field": "payment_method"})
    budget = rights.get("monthly_budget_cents")
    if budget is not None and spent_cents + price_cents > budget:
        return Forbidden("MONTHLY_BUDGET_EXCEEDED", f"This costs {price_cents / 100:.2f} EUR; you have spent "
                         f"{spent_cents / 100:.2f} EUR of your {budget / 100:.2f} EUR budget this month. Nothing "
                         "was charged.", {"budget_cents": budget, "spent_cents": spent_cents, "price_cents": price_cents})
    return None
