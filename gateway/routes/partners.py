"""Partners' routes: a workshop's API keys for its tools and partner systems (created with scopes and an expiry,
shown once; listed with their use per day; revoked)."""
from gateway.http import FORBIDDEN, UNAUTHENTICATED, V1, read_json, route
from services.partners import schemas as ps


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
