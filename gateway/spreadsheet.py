"""What the gateway hands out as CSV (the audit trail, parts requests): cells a spreadsheet would run as formulas
made text, and the response a browser saves under a name."""
import csv
import io

from werkzeug.wrappers import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text(cell):
    """A cell a spreadsheet would run as a formula (a name or a complaint typed as =HYPERLINK(...)) is written with
    a leading apostrophe, which makes it text (OWASP's CSV injection rule)."""
    text = str(cell)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def wants_csv(request):
    return request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"


def csv_response(header, rows, filename):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([as_text(cell) for cell in row])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})
