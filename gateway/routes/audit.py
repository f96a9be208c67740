"""The audit trail: the workshop's, as JSON or as a spreadsheet opens it (CSV)."""
import csv
import io
import json

from werkzeug.wrappers import Response

from gateway.http import UNAUTHENTICATED, V1, route, single_query
from services.audit import schemas as aus


class Routes:
    @route("GET", V1 + "/audit/trail", "The workshop's audit trail, newest first (`vin`, `user_id`, `kind`, `since`, "
           "`until`, `limit`): the owner and admins see the workshop's, a technician their own; as CSV with "
           "`Accept: text/csv`", "audit", query=aus.TrailQuery, answer=aus.Trail,
           errors=(UNAUTHENTICATED, (422, "a parameter breaks a rule")))
    def audit_trail(self, request):
        actor = self.auth.caller(request).actor()
        if request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv":
            found = self._call(self.audit.export_trail, actor, single_query(request))
            return Response(trail_csv(found["entries"]), mimetype="text/csv", headers={
                "Content-Disposition": 'attachment; filename="aos-audit-trail.csv"'})
        return self._call(self.audit.trail, actor, single_query(request))


def trail_csv(entries):
    """The trail as a spreadsheet opens it: one entry a row, the fact's detail as JSON in its last column."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["occurred_at", "kind", "summary", "vin", "user_id", "seq", "hash", "detail"])
    for e in entries:
        writer.writerow([as_text(cell) for cell in (
            e["occurred_at"], e["kind"], e["summary"], e["vin"] or "", e["user_id"] or "", e["seq"], e["hash"],
            json.dumps(e["detail"], ensure_ascii=False, sort_keys=True))])
    return out.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text(cell):
    """A cell a spreadsheet would run as a formula (a name or a complaint typed as =HYPERLINK(...)) is written with
    a leading apostrophe, which makes it text (OWASP's CSV injection rule)."""
    text = str(cell)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
