"""The OpenAPI 3 document of the gateway's API, built from its routes and the services' marshmallow schemas."""
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from gateway.http import ROUTES


class ErrorDetail(Schema):
    code = fields.String(required=True, metadata={"description": "the rule, in SNAKE_CASE"})
    message = fields.String(required=True)
    details = fields.Dict(metadata={"description": "field, rule and whatever helps to fix it"})


class Error(Schema):
    error = fields.Nested(ErrorDetail, required=True)


def build(server_url="/"):
    spec = APISpec(title="AOS public API", version="1.0.0", openapi_version="3.0.3",
                   info={"description": "The gateway's contract with web and mobile clients."},
                   servers=[{"url": server_url}], plugins=[MarshmallowPlugin()])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.security_scheme("apiKey", {
        "type": "http", "scheme": "bearer", "bearerFormat": "aos_<id>_<secret>",
        "description": "A workshop's API key (POST /api/v1/keys), on the routes that name its scope: counted and "
                       "throttled per key (429 with Retry-After; RateLimit-Limit, -Remaining, -Reset on every answer)"})
    spec.components.schema("Error", schema=Error)
    error_ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    paths = {}
    for r in ROUTES:
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.path)
        operation = {"summary": r.summary, "tags": [r.tag], "operationId": _operation_id(r)}
        params = re.findall(r"{(\w+)}", path)
        operation["parameters"] = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                                   for p in params]
        if r.query is not None:  # the marshmallow plugin expands a schema into one parameter per field
            operation["parameters"].append({"in": "query", "schema": r.query})
        if not operation["parameters"]:
            del operation["parameters"]
        if r.body is not None:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": r.body}}}
        answer = {"description": "OK"}
        if r.answer is not None:
            answer["content"] = {r.content_type: {"schema": r.answer}}
        operation["responses"] = {str(r.status): answer, "default": {"description": "an error", **error_ref}}
        for status, why in r.errors:
            operation["responses"][str(status)] = {"description": why, **error_ref}
        operation["security"] = [] if r.public else [{"bearer": []}] + ([{"apiKey": []}] if r.keys else [])
        if r.keys:
            operation["description"] = f"API keys with the `{r.keys}` scope may call this too."
        paths.setdefault(path, {})[r.method.lower()] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _operation_id(r):
    words = re.sub(r"[^a-z0-9]+", "_", f"{r.method} {r.path.replace('/api/v1', '')}".lower()).strip("_")
    return words
