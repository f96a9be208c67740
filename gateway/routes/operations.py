"""Operations: health, readiness, the OpenAPI and AsyncAPI documents, and the web portal's files (not API routes: they
stay out of the OpenAPI document)."""
import eventlet

from gateway import asyncapi, openapi, portal
from gateway.calls import SERVICES
from gateway.http import V1, file_route, json_response, route


class Routes:
    @route("GET", "/health", "The gateway process is alive", "operations", public=True)
    def health(self, request):
        return {"status": "alive"}

    @route("GET", "/ready", "Every service the gateway needs answers", "operations", public=True,
           errors=((503, "a dependency is not reachable"),))
    def ready(self, request):
        checks = {}
        for name in SERVICES:  # each service's proxy is named after it
            proxy = getattr(self, name)
            try:
                with eventlet.Timeout(2):
                    proxy.ping()
                checks[name] = "ok"
            except BaseException as exc:  # eventlet.Timeout is a BaseException
                checks[name] = f"unreachable: {type(exc).__name__}"
        checks["revocations"] = "ok" if self.auth.revocations.loaded else "not yet read from identity"
        ready = all(v == "ok" for v in checks.values())
        return json_response({"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503)

    @route("GET", V1 + "/openapi.json", "This document", "operations", public=True)
    def openapi_document(self, request):
        return openapi.build()

    @route("GET", V1 + "/asyncapi.json", "The event catalogue for partner systems (AsyncAPI 3): every event's "
           "exchange, routing key, schema and an example", "operations", public=True)
    def asyncapi_document(self, request):
        return asyncapi.build()

    # ---- the web portal's files (not API routes: they stay out of the OpenAPI document) ----

    @file_route("/")
    def portal_page(self, request):
        return portal.page(request)

    @file_route("/assets/<path:name>")
    def portal_asset(self, request, name):
        return portal.asset(request, name)
