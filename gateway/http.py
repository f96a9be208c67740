"""The gateway's HTTP entrypoint and the route declaration every area's routes use (gateway/routes/): JSON in and
out, a body size limit, every error as `{"error": {"code", "message", "details"}}` with its status, what a route
records for the OpenAPI document, the errors routes share, and reading a request's body, query and headers."""
import ipaddress
import json
import logging
from dataclasses import dataclass

import eventlet.semaphore
import orjson
from marshmallow import ValidationError
from nameko.exceptions import UnknownService
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, MethodNotAllowed as WerkzeugMethodNotAllowed
from werkzeug.wrappers import Request, Response

from services.shared import jsonread, logs
from gateway.settings import GatewaySettings
from services.shared.config import of_container
from services.shared.schemas import load
from services.shared.errors import (EXPECTED, AosError, BadRequest, MethodNotAllowed, NotFound, PayloadTooLarge,
                                    Unauthenticated, Unavailable, UnsupportedMediaType, from_validation_error)

log = logging.getLogger(__name__)
V1 = "/api/v1"
# errors many routes answer, as (status, why) for the OpenAPI document
PAYMENT = (402, "not enough credit, or the card was declined: nothing charged")
KEYED = (409, "the Idempotency-Key was used with another body")
THROTTLED = (429, "too many failed attempts: details.retry_after_seconds says how long to wait")
UNAUTHENTICATED = (401, "no token, or an expired, revoked or tampered one")
FORBIDDEN = (403, "your role may not do this")
NO_ACCESS = (402, "no access to vehicle data for this VIN: details.tariffs says what to buy")
NO_VEHICLE = (404, "the registry has no such vehicle")

ROUTES = []  # every Route, in declaration order: the OpenAPI document is built from it


@dataclass
class Route:
    method: str
    path: str
    summary: str
    tag: str
    body: type | None = None
    query: type | None = None  # the query-string parameters' schema
    answer: type | None = None
    status: int = 200
    public: bool = False
    errors: tuple = ()
    content_type: str = "application/json"
    # whose calls: "agents" (a pass-through client mid-flash) or "workshops"; each lane has max_workers of its own,
    # so a burst of one (320 sessions started at once) does not keep the other waiting for a free worker
    lane: str = "workshops"
    keys: str | None = None  # the scope an API key needs to call it too (partners' SCOPES); None: users only


LANES = ("workshops", "agents")


def json_response(payload, status=200, headers=None):
    return Response(_json(payload), status=status, headers=headers, mimetype="application/json")


def _json(payload):
    """orjson, with what json.dumps(default=str) made of a date or a decimal (str) kept; what orjson refuses (a
    client's lone surrogate echoed back, an integer beyond 64 bits) goes through json as before."""
    try:
        return orjson.dumps(payload, default=str, option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        return json.dumps(payload, default=str, separators=(",", ":"))


def harden(response):
    """What every answer says to browsers and caches: never store (tokens, invoices, personal data; the portal's
    files set their own), and never guess a content type."""
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def error_response(error):
    headers = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="aos"'
    if error.status == 429 and "retry_after_seconds" in error.details:
        headers["Retry-After"] = str(error.details["retry_after_seconds"])
    if "reset_seconds" in error.details:  # an API key's rate, spent
        headers.update(rate_headers(error.details))
    return json_response(error.as_body(), error.status, headers)


def rate_headers(rate):
    """An API key's rate as the IETF draft's RateLimit fields say it (requests left in the window, and when it
    turns)."""
    return {"RateLimit-Limit": str(rate["limit"]), "RateLimit-Remaining": str(rate["remaining"]),
            "RateLimit-Reset": str(rate["reset_seconds"])}


def as_aos_error(exc):
    """Whatever went wrong, as the typed error the client sees."""
    if isinstance(exc, AosError):
        return exc
    if isinstance(exc, ValidationError):
        return from_validation_error(exc)
    if isinstance(exc, UnknownService):
        return Unavailable("SERVICE_UNAVAILABLE", "A service is not answering; please try again shortly.")
    if isinstance(exc, WerkzeugMethodNotAllowed):
        return MethodNotAllowed("METHOD_NOT_ALLOWED", "This route does not take that method.",
                                {"allowed": sorted(exc.valid_methods or ())})
    if isinstance(exc, HTTPException) and exc.code == 404:
        return NotFound("ROUTE_NOT_FOUND", "There is no such route; see /api/v1/openapi.json.")
    if isinstance(exc, HTTPException) and exc.code == 413:
        return PayloadTooLarge("BODY_TOO_LARGE", "The request body is too large.")
    if isinstance(exc, HTTPException) and exc.code and exc.code < 500:
        return BadRequest("BAD_REQUEST", exc.description or exc.name)
    log.error("unexpected error in the gateway: %r", exc, exc_info=exc)
    return AosError("INTERNAL_ERROR", "Something went wrong on our side; it has been logged.")


class JsonWsgiApp(WsgiApp):
    """Unknown routes and wrong methods answer in the same JSON error shape as everything else."""

    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)  # as nameko: nothing reads the body before the route
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except HTTPException as exc:
            response = harden(error_response(as_aos_error(exc)))
        return response(environ, start_response)


class JsonWebServer(WebServer):
    def setup(self):
        super().setup()
        size = of_container(self.container, GatewaySettings).max_workers
        self.lanes = {lane: eventlet.semaphore.Semaphore(size) for lane in LANES}

    def get_wsgi_app(self):
        return JsonWsgiApp(self)


class ApiEntrypoint(HttpRequestHandler):
    """nameko's @http, speaking JSON errors and refusing bodies over the limit before any work starts."""
    server = JsonWebServer()

    def __init__(self, method, url, route=None, **kwargs):
        self.route = route
        super().__init__(method, url, **kwargs)

    def setup(self):
        super().setup()
        self.limit = of_container(self.container, GatewaySettings).max_body_bytes

    def handle_request(self, request):
        request.correlation_id = logs.accepted(request.headers.get(logs.HEADER))  # the worker takes it up
        request.route = self.route  # what the route's caller check reads (which API keys it admits)
        response = self._refusal(request)
        if response is None:
            request.max_content_length = self.limit  # a chunked body is cut off at the limit too
            with self.server.lanes[self.route.lane if self.route else "workshops"]:
                response = super().handle_request(request)
        rate = getattr(request, "rate_limit", None)  # an API key's, when one made the request
        if rate is not None:
            response.headers.extend(rate_headers(rate))
        response.headers[logs.HEADER] = request.correlation_id
        return harden(response)

    def _refusal(self, request):
        """The answer to a request refused before any work: a path with text no service may see (NUL, a lone
        surrogate), or a body over the limit; None for one that goes on."""
        try:
            jsonread.check(getattr(request, "path_values", {}), "path")
        except AosError as refused:
            return error_response(refused)
        if (request.content_length or 0) > self.limit:
            return error_response(PayloadTooLarge("BODY_TOO_LARGE", f"The request body is larger than {self.limit} "
                                                  "bytes.", {"limit_bytes": self.limit}))
        return None

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        return json_response(result, self.route.status if self.route else 200)

    def response_from_exception(self, exc):
        return error_response(as_aos_error(exc))


def route(method, path, summary, tag, **meta):
    spec = Route(method, path, summary, tag, **meta)
    if spec.lane not in LANES:  # refused when the gateway is imported, not as a 500 on every request of the route
        raise ValueError(f"{method} {path}: lane {spec.lane!r} is not one of {LANES}")
    ROUTES.append(spec)
    return ApiEntrypoint.decorator(method, path, route=spec, expected_exceptions=EXPECTED)


def file_route(path):
    """A GET that hands out files (the portal's): not part of the API, so not in the OpenAPI document."""
    return ApiEntrypoint.decorator("GET", path, expected_exceptions=EXPECTED)


def client_address(request, trusted_proxies):
    """Who is asking: the peer, or, when the peer is one of our reverse proxies, the last address in
    X-Forwarded-For that is not one of them (what a client writes there itself is never believed)."""
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    chain = hops + [request.remote_addr or ""]
    for hop in reversed(chain):
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            return request.remote_addr or ""
        if not any(address in network for network in trusted_proxies):
            return str(address)
    return chain[0]


def read_json(request, schema_cls):
    """The request body, parsed and checked against `schema_cls`. The JSON as sent goes on to the service,
    which checks it again with the same schema."""
    raw = request.get_data(cache=True)
    if not raw:
        payload = {}
    else:
        mimetype = request.mimetype or ""
        if mimetype and mimetype != "application/json" and not mimetype.endswith("+json"):
            raise UnsupportedMediaType("UNSUPPORTED_MEDIA_TYPE", f"Send JSON (application/json), not {mimetype}.")
        payload = jsonread.parse(raw)
    if not isinstance(payload, dict):
        raise BadRequest("BODY_NOT_OBJECT", "The body must be a JSON object.")
    load(schema_cls, payload)
    return payload


def agent_credentials(request):
    """`Authorization: Agent <agent id>:<credential>`, as given at registration."""
    kind, _, value = request.headers.get("Authorization", "").partition(" ")
    agent_id, _, credential = value.strip().partition(":")
    if kind != "Agent" or not agent_id or not credential:
        raise Unauthenticated("AGENT_CREDENTIAL_MISSING", "Send `Authorization: Agent <agent id>:<credential>`.")
    return {"agent_id": agent_id, "credential": credential}


def query(request):
    """Query parameters as lists (a repeated one stays visible to the service's schema, which refuses it)."""
    return jsonread.check(request.args.to_dict(flat=False), "query")


def single_query(request):
    """Query parameters, one value each."""
    return jsonread.check(dict(request.args), "query")


def idempotency_key(request):
    key = request.headers.get("Idempotency-Key")
    if not key:
        raise BadRequest("IDEMPOTENCY_KEY_REQUIRED", "Send an `Idempotency-Key` header (a new UUID per purchase): "
                         "a retry with the same key is then charged once.", {"header": "Idempotency-Key"})
    return key
