"""The PaymentProvider port: how money comes in from outside (card top-ups).

A card provider adapter implements `charge`; it must honour the idempotency key (a retried charge with the same
key charges once) and raise CardDeclined with the provider's reason. Purchases themselves are paid from the
prepaid credit account, inside billing's own transaction (see use_cases.purchase).
"""
import uuid
from dataclasses import dataclass


class CardDeclined(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CardCharge:
    reference: str
    amount_cents: int


class CardProvider:
    name = "card"

    def charge(self, amount_cents, card_token, idempotency_key, description):  # pragma: no cover - the port
        raise NotImplementedError


class SandboxCardProvider(CardProvider):
    """For development and tests, like a payment provider's test mode: `tok_visa` pays, `tok_declined` and
    `tok_insufficient_funds` are refused. Remembers idempotency keys for the life of the process."""
    name = "sandbox"
    DECLINES = {"tok_declined": "The card was declined.",
                "tok_insufficient_funds": "The card has insufficient funds."}

    def __init__(self):
        self._charges = {}

    def charge(self, amount_cents, card_token, idempotency_key, description):
        if idempotency_key in self._charges:
            return self._charges[idempotency_key]
        if card_token in self.DECLINES:
            raise CardDeclined(self.DECLINES[card_token])
        if not card_token.startswith("tok_"):
            raise CardDeclined("The card token is not known to the payment provider.")
        charge = CardCharge(f"sandbox_{uuid.uuid4().hex}", amount_cents)
        self._charges[idempotency_key] = charge
        return charge


PROVIDERS = {"sandbox": SandboxCardProvider}
