"""The demo SERMI trust centre for `make run` and the tests: a real OpenID provider (npm `oidc-provider`,
deploy/trust-centre/server.mjs) started on 127.0.0.1:port with AOS as its client and a file of technicians
(authorised, revoked, one acting for another), read again at every request so a test can revoke one."""
import json
import re
import subprocess
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from deploy.ports import reachable, stop_with_parent, wait_for

SERVER = Path(__file__).resolve().parent / "trust-centre"


def technician(vat_id, authorisation_id, workshop="Werkstatt Müller GmbH", country="DE", body="DE-CAB-0042",
               revoked=False, chain=None):
    """A technician as the trust centre knows them: the SERMI claims (CABUID, IOUID, IOEUID) and more."""
    return {"cabuid": body, "iouid": {"name": workshop, "address": "Hauptstraße 1, 80331 München", "vat_id": vat_id},
            "ioeuid": {"country": country, "body": body, "authorisation_id": authorisation_id}, "revoked": revoked,
            **({"chain": chain} if chain else {})}


def read_technicians(folder):
    path = Path(folder) / "technicians.json"
    return json.loads(path.read_text()) if path.exists() else {}


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


def sign_in(authorization_url, login, password="demo"):
    """A technician's browser at the demo trust centre, scripted: its sign-in page, then the redirects until the
    trust centre sends the browser back to the relying party. Returns that address (AOS's callback with the code
    and the state, or with the error)."""
    import requests
    browser, home = requests.Session(), urlsplit(authorization_url).netloc
    page = browser.get(authorization_url, timeout=30)
    action = re.search(r'action="([^"]+)"', page.text).group(1)
    answer = browser.post(urljoin(page.url, action), data={"prompt": "login", "login": login, "password": password},
                          allow_redirects=False, timeout=30)
    while 300 <= answer.status_code < 400 and urlsplit(urljoin(answer.url, answer.headers["Location"])).netloc == home:
        answer = browser.get(urljoin(answer.url, answer.headers["Location"]), allow_redirects=False, timeout=30)
    return urljoin(answer.url, answer.headers["Location"])
