"""A local stand-in for the EU's VIES over HTTP, for `make run` and the tests: POST /check-vat-number answers as
VIES's REST API does, from `registry.json` in its folder, read at every request so a test can change it:
{"valid": {"FR40303265045": "Garage Dupont"}, "accept_well_formed": false, "down": false}. `down` answers as
VIES does when a member state's register is unavailable; `accept_well_formed` (make run's demo) takes every id
of 4 to 14 letters and digits after the country."""
import json
import re
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def _handler(folder):
    class Vies(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            registry = json.loads((folder / "registry.json").read_text())
            length = int(self.headers.get("Content-Length") or 0)
            try:
                asked = json.loads(self.rfile.read(length))
                vat_id = asked["countryCode"].replace("EL", "GR") + asked["vatNumber"]
            except (ValueError, KeyError, TypeError, AttributeError):
                return self._answer(400, {"actionSucceed": False, "errorWrappers": [{"error": "INVALID_INPUT"}]})
            if self.path.rstrip("/") != "/check-vat-number":
                return self._answer(404, {"actionSucceed": False})
            if registry.get("down"):
                return self._answer(200, {"actionSucceed": False, "errorWrappers": [{"error": "MS_UNAVAILABLE"}]})
            name = registry.get("valid", {}).get(vat_id)
            valid = name is not None or (registry.get("accept_well_formed")
                                         and re.fullmatch(r"[A-Z]{2}[0-9A-Z]{4,14}", vat_id) is not None)
            body = {"countryCode": asked["countryCode"], "vatNumber": asked["vatNumber"], "valid": bool(valid),
                    "name": name or ("---" if valid else None)}
            if valid and asked.get("requesterNumber"):
                body["requestIdentifier"] = "WAPI" + uuid.uuid4().hex[:12].upper()
            self._answer(200, body)

        def _answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass
    return Vies


def write_registry(folder, registry):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "registry.json").write_text(json.dumps(registry))


def serve(folder, port):
    ThreadingHTTPServer(("127.0.0.1", port), _handler(Path(folder))).serve_forever()


def start(folder, port, registry=None, log=None):
    """The stand-in as a process of its own on 127.0.0.1:port, once it answers; it dies with its parent. Its
    registry is `registry` when given, else the one in the folder (an empty one at first)."""
    import subprocess
    import sys

    from deploy.ports import reachable, stop_with_parent, wait_for
    if registry is not None or not (Path(folder) / "registry.json").exists():
        write_registry(folder, registry or {"valid": {}})
    process = subprocess.Popen([sys.executable, "-m", "deploy.vies", str(folder), str(port)],
                               stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT, preexec_fn=stop_with_parent)
    wait_for(lambda: reachable("127.0.0.1", port), 30, "the VIES stand-in")
    return process


if __name__ == "__main__":
    import sys
    serve(sys.argv[1], int(sys.argv[2]))
