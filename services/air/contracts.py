"""AIR's facts: a document opened. Each fact's one contract, which its publisher and every consumer import (the whole
catalogue: services/catalogue.py)."""
from services.shared.events import Contract, Id, Vin, When, facts


class DocumentViewed(Contract):
    operator_id = Id()
    user_id = Id()
    document_id = Id()
    vin = Vin(allow_none=True, load_default=None)
    viewed_at = When()


FACTS = facts(
    "air",
    DocumentViewed=(DocumentViewed, "A user opened a technical document."),
)
