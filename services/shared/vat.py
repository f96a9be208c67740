"""VAT by the buyer's country, from the EU standard rates in vat_rates.json: what billing charges and what the
shop's catalogue shows are computed by this one function."""
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

_RATES = json.loads((Path(__file__).with_name("vat_rates.json")).read_text())
VAT_RATES = {country: Decimal(rate) for country, rate in _RATES.items() if not country.startswith("_")}


@dataclass(frozen=True)
class Price:
    net_cents: int
    vat_cents: int
    vat_rate: Decimal
    vat_country: str | None
    treatment: str  # domestic | destination | reverse_charge | outside_eu
    note: str | None

    @property
    def gross_cents(self):
        return self.net_cents + self.vat_cents


def price(net_cents, seller_country, buyer_country, buyer_vat_id):
    """Electronically supplied services: VAT of the buyer's member state; reverse charge for a business with a
    VAT id in another member state; no EU VAT for a buyer outside the EU."""
    if buyer_country not in VAT_RATES:
        return Price(net_cents, 0, Decimal(0), None, "outside_eu",
                     "Place of supply outside the EU: not subject to EU VAT.")
    if buyer_vat_id and buyer_country != seller_country:
        return Price(net_cents, 0, Decimal(0), buyer_country, "reverse_charge",
                     "Reverse charge: VAT to be accounted for by the recipient (Art. 196 Directive 2006/112/EC).")
    rate = VAT_RATES[buyer_country]
    vat = int((Decimal(net_cents) * rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    treatment = "domestic" if buyer_country == seller_country else "destination"
    return Price(net_cents, vat, rate, buyer_country, treatment, None)


