"""The shop's routes: the catalogue and the workshop's orders."""
from gateway.http import KEYED, UNAUTHENTICATED, V1, idempotency_key, read_json, route, single_query
from services.shop import schemas as ss


class Routes:
    @route("GET", V1 + "/shop/products", "The catalogue with stock, prices excl. and incl. VAT for a country "
           "(`?country=DE`)", "shop", public=True, answer=ss.Catalogue, errors=((422, "unsupported country"),))
    def products(self, request):
        return self._call(self.shop.catalogue, single_query(request))

    @route("GET", V1 + "/shop/products/<sku>", "One product: technical data, what it is needed for, a picture",
           "shop", public=True, answer=ss.ProductOut, errors=((404, "no such product"),))
    def product(self, request, sku):
        return self._call(self.shop.product, sku, single_query(request))

    @route("POST", V1 + "/shop/orders", "Order tools (`Idempotency-Key` required): the stock is reserved, billing "
           "takes the price from the credit account", "shop", body=ss.OrderInput, answer=ss.OrderOut, status=201,
           errors=(UNAUTHENTICATED, KEYED, (404, "unknown SKU"), (409, "not enough in stock, or the key was used "
                                                                     "with another body"), (422, "a bad line")))
    def place_order(self, request):
        caller = self.auth.caller(request)
        body = read_json(request, ss.OrderInput)
        return self._call(self.shop.place_order, caller.actor(), body, idempotency_key(request))

    @route("GET", V1 + "/shop/orders", "The workshop's orders", "shop", answer=ss.OrderList, errors=(UNAUTHENTICATED,))
    def orders(self, request):
        return self._call(self.shop.orders, self.auth.caller(request).actor())

    @route("GET", V1 + "/shop/orders/<order_id>", "One order and its status", "shop", answer=ss.OrderOut,
           errors=(UNAUTHENTICATED, (404, "no such order in your workshop")))
    def order(self, request, order_id):
        return self._call(self.shop.order, self.auth.caller(request).actor(), order_id)

    @route("POST", V1 + "/shop/orders/<order_id>/cancel", "Cancel an order before it ships: the stock goes back, "
           "what was paid comes back to the credit account", "shop", answer=ss.OrderOut,
           errors=(UNAUTHENTICATED, (404, "no such order in your workshop"), (409, "it has shipped")))
    def cancel_order(self, request, order_id):
        return self._call(self.shop.cancel_order, self.auth.caller(request).actor(), order_id)
