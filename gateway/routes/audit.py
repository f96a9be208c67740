"""The audit trail: the workshop's, as JSON or as a spreadsheet opens it (CSV)."""
import json

from gateway.http import UNAUTHENTICATED, V1, route, single_query
from gateway.spreadsheet import csv_response, wants_csv
from services.audit import schemas as aus

COLUMNS = ("occurred_at", "kind", "summary", "vin", "user_id", "seq", "hash", "detail")


class Routes:
    @route("GET", V1 + "/audit/trail", "The workshop's audit trail, newest first (`vin`, `user_id`, `kind`, `since`, "
           "`until`, `limit`): the owner and admins see the workshop's, a technician their own; as CSV with "
           "`Accept: text/csv`", "audit", query=aus.TrailQuery, answer=aus.Trail,
           errors=(UNAUTHENTICATED, (422, "a parameter breaks a rule")))
    def audit_trail(self, request):
        actor = self.auth.caller(request).actor()
        if wants_csv(request):
            found = self._call(self.audit.export_trail, actor, single_query(request))
            return csv_response(COLUMNS, trail_rows(found["entries"]), "aos-audit-trail.csv")
        return self._call(self.audit.trail, actor, single_query(request))


def trail_rows(entries):
    """The trail as a spreadsheet opens it: one entry a row, the fact's detail as JSON in its last column."""
    for e in entries:
        yield (e["occurred_at"], e["kind"], e["summary"], e["vin"] or "", e["user_id"] or "", e["seq"], e["hash"],
               json.dumps(e["detail"], ensure_ascii=False, sort_keys=True))
