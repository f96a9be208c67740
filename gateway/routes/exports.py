"""Exports and change feeds for partners' mirrors: the data streamed as NDJSON (gzip when the client takes it),
page by page from the service that owns it, never all in memory. Every line carries its `cursor`; the last line is
`{"cursor": ..., "end": true}`, or, when the stream broke off, `{"error": ..., "cursor": ...}`: the mirror resumes
with `after=` that cursor. An export holds the current documents, a feed the changes after a cursor, withdrawn ones
as tombstones (`deleted: true`), so a mirror that applies them in order equals the source. ETag and If-None-Match:
nothing new since, 304."""
import base64
import zlib

import orjson
from werkzeug.wrappers import Response

from gateway.http import NO_ACCESS, UNAUTHENTICATED, V1, as_aos_error, route, single_query
from services.air import schemas as airs
from services.parts import schemas as ps
from services.programming import schemas as prs
from services.vehicle_data import schemas as vs
from services.shared.schemas import load

NDJSON = "application/x-ndjson"
PAGE = 500  # documents per RPC: a page is what the gateway holds at once
GONE = (410, "CURSOR_UNKNOWN: a cursor never given; start over with a full export")
PARTS_ACCESS = (402, "PARTS_ACCESS_REQUIRED: the whole catalogue's numbers need parts access")
REGISTRY_ACCESS = (402, "VEHICLE_DATA_ACCESS_REQUIRED: the registry needs access to every car's data")


class Routes:
    @route("GET", V1 + "/exports/air", "Every current technical document (of a `series`), as NDJSON lines in the "
           "order of their cursors, ending with the cursor to follow the feed from; resume a broken export with "
           "`after`", "partners", query=airs.ExportQuery, answer=airs.ExportedDocument, content_type=NDJSON,
           keys="air", errors=(UNAUTHENTICATED, NO_ACCESS, GONE, (422, "a parameter breaks a rule")))
    def export_air(self, request):
        return self._stream(request, "air", self.air.changes, airs.ExportQuery, tombstones=False)

    @route("GET", V1 + "/feeds/air", "What changed in the technical information after the cursor `after`: "
           "documents new or updated, withdrawn ones as tombstones (`deleted`), as NDJSON lines oldest first, "
           "ending with the next cursor", "partners", query=airs.ExportQuery, answer=airs.ExportedDocument,
           content_type=NDJSON, keys="air", errors=(UNAUTHENTICATED, NO_ACCESS, GONE,
                                                    (422, "a parameter breaks a rule")))
    def feed_air(self, request):
        return self._stream(request, "air", self.air.changes, airs.ExportQuery, tombstones=True)

    @route("GET", V1 + "/exports/vehicles", "The registry's cars (of a `series`): build data and installed ECUs, as "
           "NDJSON lines in the order of their cursors, ending with the cursor to follow the feed from; resume with "
           "`after`", "partners", query=vs.ExportQuery, answer=vs.ExportedVehicle, content_type=NDJSON,
           keys="vehicles", errors=(UNAUTHENTICATED, REGISTRY_ACCESS, GONE, (422, "a parameter breaks a rule")))
    def export_vehicles(self, request):
        return self._stream(request, "vehicles", self.vehicle_data.registry_changes, vs.ExportQuery,
                            tombstones=False)

    @route("GET", V1 + "/feeds/vehicles", "The registry's cars imported or re-imported after the cursor `after` "
           "(the registry keeps every car: no tombstones), as NDJSON lines oldest first, ending with the next cursor",
           "partners", query=vs.ExportQuery, answer=vs.ExportedVehicle, content_type=NDJSON, keys="vehicles",
           errors=(UNAUTHENTICATED, REGISTRY_ACCESS, GONE, (422, "a parameter breaks a rule")))
    def feed_vehicles(self, request):
        return self._stream(request, "vehicles", self.vehicle_data.registry_changes, vs.ExportQuery,
                            tombstones=True)

    @route("GET", V1 + "/exports/maintenance", "The manufacturer's maintenance schedules: the `default` and each series "
           "set apart (of a `series`), every rule with its distance and time, as NDJSON lines, ending with the cursor "
           "to follow the feed from", "partners", query=vs.ExportQuery, answer=vs.ExportedSchedule,
           content_type=NDJSON, keys="vehicles", errors=(UNAUTHENTICATED, REGISTRY_ACCESS, GONE,
                                                         (422, "a parameter breaks a rule")))
    def export_maintenance(self, request):
        return self._stream(request, "maintenance", self.vehicle_data.maintenance_changes, vs.ExportQuery,
                            tombstones=False)

    @route("GET", V1 + "/feeds/maintenance", "The maintenance schedules again when the rules changed after the "
           "cursor `after` (they change together, with the rules' revision), as NDJSON lines, ending with the next "
           "cursor", "partners", query=vs.ExportQuery, answer=vs.ExportedSchedule, content_type=NDJSON,
           keys="vehicles", errors=(UNAUTHENTICATED, REGISTRY_ACCESS, GONE, (422, "a parameter breaks a rule")))
    def feed_maintenance(self, request):
        return self._stream(request, "maintenance", self.vehicle_data.maintenance_changes, vs.ExportQuery,
                            tombstones=True)

    @route("GET", V1 + "/exports/parts", "Every part number of the parts catalogue (drawn for a `series`): names, "
           "weight, prices by country, kits, supersessions and where it is drawn with each row's validity, as NDJSON "
           "lines in the order of their cursors, ending with the cursor to follow the feed from; resume with `after`",
           "partners", query=ps.ExportQuery, answer=ps.ExportedPart, content_type=NDJSON, keys="parts",
           errors=(UNAUTHENTICATED, PARTS_ACCESS, GONE, (422, "a parameter breaks a rule")))
    def export_parts(self, request):
        return self._stream(request, "parts", self.parts.changes, ps.ExportQuery, tombstones=False)

    @route("GET", V1 + "/feeds/parts", "What changed in the parts catalogue after the cursor `after`: part numbers "
           "new or changed by an import, those it dropped as tombstones (`deleted`), as NDJSON lines oldest first, "
           "ending with the next cursor", "partners", query=ps.ExportQuery, answer=ps.ExportedPart,
           content_type=NDJSON, keys="parts", errors=(UNAUTHENTICATED, PARTS_ACCESS, GONE,
                                                      (422, "a parameter breaks a rule")))
    def feed_parts(self, request):
        return self._stream(request, "parts", self.parts.changes, ps.ExportQuery, tombstones=True)

    @route("GET", V1 + "/exports/diagnostics", "Every ECU type's diagnostic description: fault codes with their texts "
           "and test plans, data identifiers with unit and limits, routines, and where to take its PDX file, as "
           "NDJSON lines in the order of their cursors, ending with the cursor to follow the feed from",
           "partners", query=prs.DescriptionsQuery, answer=prs.ExportedDescription, content_type=NDJSON,
           keys="diagnostics", errors=(UNAUTHENTICATED, NO_ACCESS, GONE, (422, "a parameter breaks a rule")))
    def export_diagnostics(self, request):
        return self._stream(request, "diagnostics", self.programming.description_changes, prs.DescriptionsQuery,
                            tombstones=False)

    @route("GET", V1 + "/feeds/diagnostics", "The diagnostic descriptions new or changed after the cursor `after`, "
           "withdrawn ones as tombstones (`deleted`), as NDJSON lines oldest first, ending with the next cursor",
           "partners", query=prs.DescriptionsQuery, answer=prs.ExportedDescription, content_type=NDJSON,
           keys="diagnostics", errors=(UNAUTHENTICATED, NO_ACCESS, GONE, (422, "a parameter breaks a rule")))
    def feed_diagnostics(self, request):
        return self._stream(request, "diagnostics", self.programming.description_changes, prs.DescriptionsQuery,
                            tombstones=True)

    @route("GET", V1 + "/diagnostics/descriptions/<ecu_type>/file", "An ECU type's PDX file (ODX, ISO 22901): a "
           "redirect to a link signed for five minutes; its SHA-256 in `Digest`", "partners", keys="diagnostics",
           status=303, errors=(UNAUTHENTICATED, NO_ACCESS, (404, "DESCRIPTION_NOT_FOUND")))
    def description_file(self, request, ecu_type):
        found = self._call(self.programming.description_file, self._reader(request).actor(), ecu_type)
        answer = Response(status=303, headers={"Location": found["url"], "Cache-Control": "no-store",
                                               "Repr-Digest": f"sha-256=:{_base64(found['sha256'])}:"})
        return answer

    def _stream(self, request, kind, changes, schema, tombstones):
        actor = self._reader(request).actor()
        asked = single_query(request)
        load(schema, asked)  # a bad parameter is answered before the stream starts
        query = dict(asked, tombstones=tombstones, limit=PAGE)
        first = self._call(changes, actor, query)  # access and the cursor checked: their refusals are answers
        # the same question while the library stands still has the same answer
        tag = (f'{kind}-{"feed" if tombstones else "export"}-{asked.get("series") or "all"}-'
               f'{asked.get("after", 0)}-{first["latest"]}')
        if request.if_none_match.contains_weak(tag):
            answer = Response(status=304)
            answer.set_etag(tag, weak=True)
            return answer

        def lines():
            page = first
            while True:
                yield b"".join(orjson.dumps(item) + b"\n" for item in page["items"])
                if not page["more"]:
                    yield orjson.dumps({"cursor": str(page["next"]), "end": True}) + b"\n"
                    return
                try:
                    page = self._call(changes, actor, dict(query, after=page["next"]))
                except Exception as broke:  # the mirror resumes from the last cursor it got
                    yield orjson.dumps({"error": as_aos_error(broke).as_body()["error"],
                                        "cursor": str(page["next"])}) + b"\n"
                    return

        gzip = "gzip" in request.headers.get("Accept-Encoding", "")
        headers = {"Cache-Control": "no-cache"} | ({"Content-Encoding": "gzip"} if gzip else {})
        answer = Response(_gzipped(lines()) if gzip else lines(), mimetype=NDJSON, headers=headers,
                          direct_passthrough=True)
        answer.set_etag(tag, weak=True)
        return answer


def _base64(hex_digest):
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def _gzipped(chunks):
    """gzip, a chunk at a time (flushed, so the client reads lines as they come)."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    for chunk in chunks:
        yield packer.compress(chunk) + packer.flush(zlib.Z_SYNC_FLUSH)
    yield packer.flush()
