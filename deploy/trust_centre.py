"""The demo SERMI trust centre for `make run` and the tests: a real OpenID provider (npm `oidc-provider`,
deploy/trust-centre/server.mjs) started on 127.0.0.1:port with AOS as its client and a file of technicians
(authorised, revoked, one acting for another), read again at every request so a test can revoke one."""
import json
import subprocess
from pathlib import Path

from deploy.ports import reachable, stop_with_parent, wait_for

SERVER = Path(__file__).resolve().parent / "trust-centre"


def technician(vat_id, authorisation_id, workshop="Werkstatt Müller GmbH", country="DE", body="DE-CAB-0042",
               revoked=False, chain=None):
    """A technician as the trust centre knows them: the SERMI claims (CABUID, IOUID, IOEUID) and more."""
    return {"cabuid": body, "iouid": {"name": workshop, "address": "Hauptstraße 1, 80331 München", "vat_id": vat_id},
            "ioeuid": {"country": country, "body": body, "authorisation_id": authorisation_id}, "revoked": revoked,
            **({"chain": chain} if chain else {})}


def write_technicians(folder, technicians):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "technicians.json").write_text(json.dumps(technicians, ensure_ascii=False))


def start(folder, port, redirect_uris, technicians=None, log=None):
    """The trust centre as a process of its own, once it answers; it dies with its parent. Returns (process,
    issuer URL)."""
    folder = Path(folder)
    if not (SERVER / "node_modules" / "oidc-provider").exists():
        raise SystemExit("the demo trust centre is not installed: `make install` (npm ci in deploy/trust-centre)")
    if technicians is not None or not (folder / "technicians.json").exists():
        write_technicians(folder, technicians or {})
    issuer = f"http://127.0.0.1:{port}"
    (folder / "config.json").write_text(json.dumps({
        "issuer": issuer, "port": port, "technicians": str(folder / "technicians.json"),
        "clients": [{"client_id": "aos", "redirect_uris": list(redirect_uris), "require_auth_time": True}]}))
    process = subprocess.Popen(["node", str(SERVER / "server.mjs"), str(folder / "config.json")], cwd=SERVER,
                               stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT, preexec_fn=stop_with_parent)
    wait_for(lambda: reachable("127.0.0.1", port), 30, "the demo trust centre")
    return process, issuer
