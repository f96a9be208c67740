"""The web portal's static files (built by `make portal` into portal/dist), served at `/`. The portal is a client
of the public API like any other: these routes only hand out files."""
from pathlib import Path

from werkzeug.exceptions import NotFound as FileNotFound
from werkzeug.utils import send_from_directory
from werkzeug.wrappers import Response

from services.shared.config import ROOT
from services.shared.errors import NotFound

BUILT = ROOT / "portal" / "dist"
# Hashed file names never change content: a year. index.html names them, so it is checked on every visit.
IMMUTABLE = "public, max-age=31536000, immutable"
# The portal's own scripts and styles only; pictures and diagrams also come signed from the object store.
POLICY = ("default-src 'self'; img-src 'self' data: http: https:; style-src 'self' 'unsafe-inline'; "
          "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def _send(request, folder, name, cache):
    try:
        response = send_from_directory(folder, name, request.environ, max_age=None)
    except FileNotFound:
        raise NotFound("FILE_NOT_FOUND", f"The portal has no file {name!r}.")
    response.headers["Cache-Control"] = cache
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def page(request, folder=BUILT):
    if not (Path(folder) / "index.html").exists():
        return Response("The portal is not built: run `make portal` (or `make run`, which builds it).\n", status=503,
                        mimetype="text/plain")
    response = _send(request, folder, "index.html", "no-cache")
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def asset(request, name, folder=BUILT):
    return _send(request, Path(folder) / "assets", name, IMMUTABLE)
