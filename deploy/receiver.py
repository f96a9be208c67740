"""The demo partner receiver: what a partner system's webhook endpoint does, the way a partner would write it.

    python -m deploy.receiver FOLDER --port 8088

Its secrets are in FOLDER/secrets, one `whsec_...` per line (read again on every request: add an endpoint's secret
there, and after a rotation the new one). Each delivery is verified with the `standardwebhooks` library (the
signature over webhook-id, webhook-timestamp and the body as received; five minutes of clock skew at most) and
kept once by its webhook-id in FOLDER/received.jsonl (a redelivery of one it has is answered 200 and not kept
again); one whose signature does not verify is answered 401 and kept in FOLDER/refused.jsonl. `make run` starts it
beside the system; a partner's own needs no more than `handle` below."""
import argparse
import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks import Webhook, WebhookVerificationError


def handle(secrets, headers, body, seen):
    """(status, the CloudEvent) of one delivery: 401 when no secret verifies it, 200 with None for one seen."""
    for secret in secrets:
        try:
            event = Webhook(secret).verify(body, headers)
        except WebhookVerificationError:
            continue
        if headers.get("webhook-id") in seen:
            return 200, None
        return 200, event
    return 401, None


def _handler(folder):
    lock = threading.Lock()
    received = folder / "received.jsonl"
    seen = {json.loads(line)["webhook_id"] for line in received.read_text().splitlines()} if received.exists() \
        else set()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            secrets_file = folder / "secrets"
            secrets = secrets_file.read_text().split() if secrets_file.exists() else []
            with lock:
                status, event = handle(secrets, headers, body, seen)
                line = {"webhook_id": headers.get("webhook-id"), "received_at": datetime.now(timezone.utc).isoformat()}
                if event is not None:
                    seen.add(headers["webhook-id"])
                    with received.open("a") as out:
                        out.write(json.dumps(line | {"event": event}) + "\n")
                elif status == 401:
                    with (folder / "refused.jsonl").open("a") as out:
                        out.write(json.dumps(line | {"signature": headers.get("webhook-signature")}) + "\n")
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    return Receiver


def read(folder):
    """What the receiver kept: one line per delivery, in the order it came."""
    path = Path(folder) / "received.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def serve(folder, port):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ThreadingHTTPServer(("127.0.0.1", port), _handler(folder)).serve_forever()


def start(folder, port, log=None):
    """The receiver as a process of its own on 127.0.0.1:port, once it answers; it dies with its parent."""
    import subprocess
    import sys

    from deploy.ports import reachable, stop_with_parent, wait_for
    process = subprocess.Popen([sys.executable, "-m", "deploy.receiver", str(folder), "--port", str(port)],
                               stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT, preexec_fn=stop_with_parent)
    wait_for(lambda: reachable("127.0.0.1", port), 30, "the demo partner receiver")
    return process


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder")
    parser.add_argument("--port", type=int, default=8088)
    opts = parser.parse_args()
    serve(opts.folder, opts.port)
