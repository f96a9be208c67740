"""Partners' routes: a workshop's API keys for its tools and partner systems (created with scopes and an expiry,
shown once; listed with their use per day; revoked), and its webhook endpoints with their delivery logs."""
from gateway.http import FORBIDDEN, UNAUTHENTICATED, V1, read_json, route, single_query
from services.partners import schemas as ps

ENDPOINT = (404, "ENDPOINT_NOT_FOUND: no webhook endpoint of your workshop")


class Routes:
    @route("POST", V1 + "/keys", "Create an API key for a tool or partner system: a name, its scopes, how many days "
           "it lives; the key is in this answer only (stored as a hash)", "partners", body=ps.ApiKeyInput,
           answer=ps.NewApiKey, status=201,
           errors=(UNAUTHENTICATED, FORBIDDEN, (409, "KEY_LIMIT: the workshop has the most active keys it may"),
                   (422, "a field breaks a rule")))
    def issue_key(self, request):
        actor = self.auth.caller(request).actor()
        return self._call(self.partners.issue_key, actor, read_json(request, ps.ApiKeyInput))

    @route("GET", V1 + "/keys", "The workshop's API keys: scopes, expiry, state, last use and requests per day",
           "partners", answer=ps.ApiKeysOut, errors=(UNAUTHENTICATED, FORBIDDEN))
    def keys(self, request):
        return self._call(self.partners.keys, self.auth.caller(request).actor())

    @route("DELETE", V1 + "/keys/<key_id>", "Revoke an API key: the next request made with it is refused", "partners",
           answer=ps.ApiKeyOut, errors=(UNAUTHENTICATED, FORBIDDEN, (404, "KEY_NOT_FOUND: no key of your workshop")))
    def revoke_key(self, request, key_id):
        return self._call(self.partners.revoke_key, self.auth.caller(request).actor(), key_id)

    # ---- webhooks ----

    @route("POST", V1 + "/webhooks", "Add a webhook endpoint: its URL (https, on the internet) and the event types "
           "it takes; its signing secret is in this answer (Standard Webhooks, whsec_...)", "partners",
           body=ps.EndpointInput, answer=ps.EndpointWithSecret, status=201,
           errors=(UNAUTHENTICATED, FORBIDDEN, (422, "WEBHOOK_URL_REFUSED: not https, or an address inside a network; "
                                                     "EVENT_TYPE_UNKNOWN; or a field breaks a rule")))
    def create_endpoint(self, request):
        actor = self.auth.caller(request).actor()
        return self._call(self.partners.create_endpoint, actor, read_json(request, ps.EndpointInput))

    @route("GET", V1 + "/webhooks", "The workshop's webhook endpoints, and every event type one may take", "partners",
           answer=ps.EndpointsOut, errors=(UNAUTHENTICATED, FORBIDDEN), keys="events")
    def endpoints(self, request):
        return self._call(self.partners.endpoints, self._reader(request).actor())

    @route("PATCH", V1 + "/webhooks/<endpoint_id>", "Change an endpoint's event types, or disable or enable it",
           "partners", body=ps.EndpointChange, answer=ps.EndpointOut,
           errors=(UNAUTHENTICATED, FORBIDDEN, ENDPOINT, (422, "a field breaks a rule")))
    def change_endpoint(self, request, endpoint_id):
        actor = self.auth.caller(request).actor()
        return self._call(self.partners.change_endpoint, actor, endpoint_id, read_json(request, ps.EndpointChange))

    @route("POST", V1 + "/webhooks/<endpoint_id>/rotate", "A new signing secret; the one before still signs for 24 "
           "hours beside it, so the receiver can switch without missing a delivery", "partners",
           answer=ps.EndpointWithSecret, errors=(UNAUTHENTICATED, FORBIDDEN, ENDPOINT))
    def rotate_secret(self, request, endpoint_id):
        return self._call(self.partners.rotate_secret, self.auth.caller(request).actor(), endpoint_id)

    @route("DELETE", V1 + "/webhooks/<endpoint_id>", "Remove an endpoint and its delivery log", "partners",
           answer=ps.EndpointDeleted, errors=(UNAUTHENTICATED, FORBIDDEN, ENDPOINT))
    def delete_endpoint(self, request, endpoint_id):
        return self._call(self.partners.delete_endpoint, self.auth.caller(request).actor(), endpoint_id)

    @route("GET", V1 + "/webhooks/<endpoint_id>/deliveries", "The endpoint's deliveries, newest first (`limit`), "
           "each with every attempt and the receiver's answer", "partners", query=ps.DeliveriesQuery,
           answer=ps.DeliveriesOut, errors=(UNAUTHENTICATED, FORBIDDEN, ENDPOINT, (422, "a parameter breaks a rule")),
           keys="events")
    def deliveries(self, request, endpoint_id):
        return self._call(self.partners.deliveries, self._reader(request).actor(), endpoint_id,
                          single_query(request))

    @route("POST", V1 + "/webhooks/<endpoint_id>/deliveries/<delivery_id>/redeliver", "Send a delivery again now, as "
           "it was (the same webhook-id)", "partners", answer=ps.Redelivery,
           errors=(UNAUTHENTICATED, FORBIDDEN, ENDPOINT, (404, "DELIVERY_NOT_FOUND")), keys="events")
    def redeliver(self, request, endpoint_id, delivery_id):
        return self._call(self.partners.redeliver, self._reader(request).actor(), endpoint_id, delivery_id)
