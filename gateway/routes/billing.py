"""Billing's routes: tariffs, purchases, entitlements, the credit account, invoices."""
import base64

from werkzeug.wrappers import Response

from gateway.http import KEYED, PAYMENT, UNAUTHENTICATED, V1, idempotency_key, read_json, route, single_query
from services.billing import schemas as bs


class Routes:
    @route("GET", V1 + "/tariffs", "What can be bought, with prices excl. and incl. VAT for a country (`?country=DE`)",
           "billing", public=True, answer=bs.TariffList, errors=((422, "unsupported country"),))
    def tariffs(self, request):
        return self._call(self.billing.tariffs, single_query(request))

    @route("POST", V1 + "/purchases", "Buy a tariff, paid from the credit account (`Idempotency-Key` required)",
           "billing", body=bs.PurchaseInput, answer=bs.PurchaseOut, status=201,
           errors=(UNAUTHENTICATED, PAYMENT, KEYED, (404, "no such tariff on sale"),
                   (422, "VIN or quantity does not fit")))
    def purchase(self, request):
        caller = self.auth.caller(request)
        body = read_json(request, bs.PurchaseInput)
        return self._call(self.billing.purchase, caller.actor(), body, idempotency_key(request))

    @route("GET", V1 + "/purchases", "The workshop's purchases", "billing", answer=bs.PurchaseList,
           errors=(UNAUTHENTICATED,))
    def purchases(self, request):
        return self._call(self.billing.purchases, self.auth.caller(request).actor())

    @route("GET", V1 + "/entitlements", "What the workshop may use now, and how much time is left", "billing",
           answer=bs.Entitlements, errors=(UNAUTHENTICATED,))
    def entitlements(self, request):
        return self._call(self.billing.entitlements, self.auth.caller(request).actor())

    @route("GET", V1 + "/credit", "The credit account: balance and statement", "billing", answer=bs.Credit,
           errors=(UNAUTHENTICATED,))
    def credit(self, request):
        return self._call(self.billing.credit, self.auth.caller(request).actor())

    @route("POST", V1 + "/credit/top-ups", "Add money to the credit account by card (`Idempotency-Key` required)",
           "billing", body=bs.TopUpInput, answer=bs.Credit, status=201,
           errors=(UNAUTHENTICATED, PAYMENT, KEYED, (403, "owner or admin only")))
    def top_up(self, request):
        caller = self.auth.caller(request)
        body = read_json(request, bs.TopUpInput)
        return self._call(self.billing.top_up, caller.actor(), body, idempotency_key(request))

    @route("GET", V1 + "/invoices", "The workshop's invoices", "billing", answer=bs.InvoiceList,
           errors=(UNAUTHENTICATED,))
    def invoices(self, request):
        return self._call(self.billing.invoices, self.auth.caller(request).actor())

    @route("GET", V1 + "/invoices/<invoice_id>", "One invoice: JSON, or the PDF with `Accept: application/pdf`",
           "billing", answer=bs.InvoiceOut, errors=(UNAUTHENTICATED, (404, "no such invoice in your workshop")))
    def invoice(self, request, invoice_id):
        actor = self.auth.caller(request).actor()
        if request.accept_mimetypes.best_match(["application/json", "application/pdf"]) == "application/pdf":
            document = self._call(self.billing.invoice_pdf, actor, invoice_id)
            return Response(base64.b64decode(document["pdf_base64"]), mimetype="application/pdf", headers={
                "Content-Disposition": f'attachment; filename="{document["filename"]}"'})
        return self._call(self.billing.invoice, actor, invoice_id)
