"""The VatCheck port: is a buyer's VAT id valid, says the EU's VIES, and with which consultation number (the proof
a seller keeps for a reverse-charge invoice). `ViesRest` speaks VIES's REST API (POST check-vat-number with the
requester's own VAT id, which makes VIES answer a requestIdentifier); tests and `make run` point it at the local
stand-in (deploy/vies.py) that answers the same way."""
from dataclasses import dataclass

import requests

VALID, INVALID, UNAVAILABLE = "valid", "invalid", "unavailable"


@dataclass(frozen=True)
class VatAnswer:
    status: str  # valid | invalid | unavailable (VIES or the member state's register did not answer)
    consultation: str | None = None
    name: str | None = None


def _parts(vat_id):
    """VIES's country code (Greece is EL there) and the number."""
    country, number = vat_id[:2].upper(), vat_id[2:]
    return ("EL" if country == "GR" else country), number


class VatCheck:
    def check(self, vat_id):
        """A VatAnswer for `vat_id` (country prefix and number); never raises for VIES being down."""
        raise NotImplementedError


class ViesRest(VatCheck):
    def __init__(self, base_url, requester_vat_id, timeout=10.0):
        self.url = base_url.rstrip("/") + "/check-vat-number"
        self.requester = _parts(requester_vat_id)
        self.timeout = timeout

    def check(self, vat_id):
        country, number = _parts(vat_id)
        try:
            answer = requests.post(self.url, timeout=self.timeout, json={
                "countryCode": country, "vatNumber": number,
                "requesterMemberStateCode": self.requester[0], "requesterNumber": self.requester[1]})
            body = answer.json() if answer.status_code == 200 else {}
        except (requests.RequestException, ValueError):
            return VatAnswer(UNAVAILABLE)
        if not isinstance(body, dict) or body.get("actionSucceed") is False or "valid" not in body:
            return VatAnswer(UNAVAILABLE)  # e.g. errorWrappers MS_UNAVAILABLE, or a 5xx
        if body["valid"] is not True:
            return VatAnswer(INVALID)
        return VatAnswer(VALID, str(body.get("requestIdentifier") or "") or None, body.get("name"))
