"""The workshop agent's loop: register once, then take jobs from AOS and do them against the car.

    python -m agent register --api http://127.0.0.1:8000 --token <access token> --name "bay 2" --save agent.json
    python -m agent run --config agent.json --vehicle 127.0.0.1:13400 --manufacturer-key manufacturer.pub.pem \
        --odx odx/

Jobs: `preflight` (read the car: VIN, battery, each ECU's identification), `download` (every flash file of the
plan, resumed with Range requests, checked for size, SHA-256 and the manufacturer's signature before anything
touches the car), `flash` (each ECU in the plan's order, with heartbeats and progress; an ECU that already runs
its target version is skipped, so a restarted agent resumes where the car is). Reports are numbered; the server
tells the next number, so a restart neither repeats nor skips one. `diagnosis` (with `--odx DIR`): a quick test,
live data, an actuator test or a clear, decoded through the ECU types' ODX files (agent.diagnose); the car's
coding read and decoded, or written and read back."""
import argparse
import json
import logging
import socket
import struct
import sys
import threading
import time
from pathlib import Path

import requests

from agent.diagnose import (Diagnosis, backup_unit, clear_all, quick_test, read_coding, restore_unit, sample,
                            write_coding)
from agent.flash import Ecu, Failure
from automotive import manifest
from automotive.odx import Library

log = logging.getLogger("agent")
HEARTBEAT_SECONDS = 2.0
CHUNK = 1 << 20


class Refused(RuntimeError):
    """AOS refused a step (a 4xx answer): final for this job. The agent never asks the same again; AOS has ended the
    session it belonged to, with the refusal in words for the workshop."""

    def __init__(self, path, status, error):
        self.path, self.status = path, status
        self.code, self.message = error.get("code", "REFUSED"), error.get("message", "")
        super().__init__(f"{path}: {status} {self.code}: {self.message}")


class Agent:
    def __init__(self, api, agent_id, credential, vehicle, manufacturer_key, workdir, ecus=None, odx=None):
        self.api = api.rstrip("/") + "/api/v1"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Agent {agent_id}:{credential}"
        self.host, port = vehicle.rsplit(":", 1)
        self.port = int(port)
        self.public_key = manufacturer_key
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sequence = 1
        self.progress = None
        self.library = Library(odx) if odx else None  # the ECU types' diagnostic descriptions (PDX files)
        self.after_coding_write = lambda: None  # what happens between a coding write and its read-back (tests)

    # ---- talking to AOS ----

    def _post(self, path, body):
        answer = self.http.post(self.api + path, json=body, timeout=30)
        if 400 <= answer.status_code < 500 and answer.status_code != 429:
            try:
                error = answer.json()["error"]
            except (ValueError, KeyError, TypeError):
                error = {"message": answer.text[:200]}
            raise Refused(path, answer.status_code, error)
        if answer.status_code >= 400:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text}")
        return answer.json()

    def report(self, session_id, kind, **body):
        answer = self._post(f"/agents/sessions/{session_id}/report", {"sequence": self.sequence, "kind": kind, **body})
        self.sequence += 1
        return answer

    def job(self):
        answer = self.http.get(self.api + "/agents/jobs", timeout=30)
        answer.raise_for_status()
        return answer.json()

    # ---- the loop ----

    def run(self, stop=lambda: False, idle=0.5):
        """Jobs until `stop()`; a job that breaks (AOS or the car unreachable) is logged and asked for again."""
        while not stop():
            try:
                job = self.job()
                if job["kind"] == "none":
                    time.sleep(idle)
                    continue
                self.sequence = job["next_sequence"]
                log.info("%s for session %s", job["kind"], job["session_id"])
                getattr(self, "do_" + job["kind"])(job)
            except Refused as refused:  # final: AOS ended the job's session; the next job is another one
                log.warning("AOS refused, not asking again: %s", refused)
            except (requests.RequestException, RuntimeError, OSError) as exc:
                log.warning("job failed, asking again: %s", exc)
                time.sleep(max(idle, 1.0))

    def do_preflight(self, job):
        vin = self.read_vin()
        readings, voltage = [], 0
        for address in job.get("ecus") or self.scan():
            try:
                with Ecu(self.host, self.port, int(address, 16), self._no_key) as ecu:
                    found = ecu.identification()
            except Failure as failure:
                log.warning("ECU %s does not answer: %s", address, failure)
                continue
            voltage = max(voltage, found["voltage_mv"])
            readings.append({"address": address, "software_version": found["software_version"],
                             "hardware_part_number": found["hardware_part_number"], "state": found["state"]})
        self.report(job["session_id"], "preflight", vehicle={"vin": vin, "voltage_mv": voltage, "ecus": readings})

    def do_download(self, job):
        for file in job["files"]:
            check = self.fetch(file)
            if check is not None:
                self.report(job["session_id"], "file_rejected", package_id=file["package_id"], check=check)
                return
        self.report(job["session_id"], "files_verified", package_ids=[f["package_id"] for f in job["files"]])

    def do_flash(self, job):
        session_id = job["session_id"]
        files = {f["package_id"]: f for f in job["files"]}
        beating = threading.Event()
        state = {"alive": True}
        self._post(f"/agents/sessions/{session_id}/heartbeat", {})  # back after a restart: the clock resumes
        beat = threading.Thread(target=self._heartbeats, args=(session_id, beating, state), daemon=True)
        beat.start()
        try:
            for step in job["plan"]:
                if step["status"] == "done" or not state["alive"]:
                    continue
                file = files[step["package_id"]]
                image = self._verified_image(file)
                if image is None:
                    self.report(session_id, "file_rejected", package_id=file["package_id"], check="sha256")
                    return
                self.report(session_id, "flash_started", ecu_address=step["ecu_address"])
                started = time.monotonic()
                try:
                    with Ecu(self.host, self.port, int(step["ecu_address"], 16), self._key(session_id)) as ecu:
                        result = ecu.flash(image, step["to_version"], progress=self._progress(step))
                except Failure as failure:
                    self.report(session_id, "flash_failed", ecu_address=step["ecu_address"], cause=failure.cause,
                                step=failure.step, detail=failure.detail)
                    return
                self.report(session_id, "flash_completed", ecu_address=step["ecu_address"],
                            software_version=result.version_after,
                            duration_seconds=int(time.monotonic() - started))
        finally:
            beating.set()
            beat.join(timeout=5)

    def do_program_key(self, job):
        """A key into the immobiliser, in a workshop's security job; its security key asked for this task only."""
        path = f"/agents/tasks/{job['task_id']}"

        def key_for(address, level, seed):
            answer = self._post(path + "/security-key", {"ecu_address": f"0x{address:02X}", "seed": seed.hex()})
            return bytes.fromhex(answer["key"])
        self._task(path, job, key_for, lambda ecu: ecu.program_key(job["slot"], bytes.fromhex(job["key_id"])))

    def do_pair_ecu(self, job):
        """A theft-relevant replacement paired with the car, in a workshop's SERMI security job: its challenge
        read, the pairing token asked for this task, written."""
        path = f"/agents/tasks/{job['task_id']}"

        def token_for(challenge):
            return bytes.fromhex(self._post(path + "/pairing-token", {"challenge": challenge.hex()})["token"])
        self._task(path, job, self._no_key, lambda ecu: ecu.pair(token_for))

    def do_unlock_gateway(self, job):
        """The secure gateway unlocked online: its challenge read, AOS's token for it written."""
        path = f"/agents/tasks/{job['task_id']}"

        def token_for(challenge):
            return bytes.fromhex(self._post(path + "/gateway-token", {"challenge": challenge.hex()})["token"])
        self._task(path, job, self._no_key, lambda ecu: ecu.unlock_gateway(token_for))

    def do_diagnosis(self, job):
        """A quick test, live data, an actuator test or a clear, decoded through the ODX; the result reported."""
        path, kind, params = f"/agents/runs/{job['run_id']}", job["run"], job["params"]
        result = None
        try:
            if self.library is None:
                raise Failure(kind, "refused", "this agent has no ODX descriptions (--odx)")
            if kind == "quick_test":
                result = {"ecus": quick_test(self.host, self.port, job["targets"], self.library)}
            elif kind == "read_coding":
                result = {"ecus": read_coding(self.host, self.port, job["targets"], self.library)}
            elif kind in ("backup_ecu", "restore_ecu"):
                ecu = job["targets"][0]
                description = self.library.of(ecu["name"])
                if description is None:
                    raise Failure(kind, "refused", f"no ODX description for {ecu['name']}")
                result = {"unit": backup_unit(self.host, self.port, ecu, description) if kind == "backup_ecu" else
                          restore_unit(self.host, self.port, ecu, description, params)}
            elif kind == "write_coding":
                result = {"writes": write_coding(self.host, self.port, params["writes"], job["targets"],
                                                 self.library, self.after_coding_write)}
            elif kind == "clear":
                result = {"ecus": clear_all(self.host, self.port, job["targets"], self.library)}
            else:
                ecu = job["targets"][0]
                description = self.library.of(ecu["name"])
                if description is None:
                    raise Failure(kind, "refused", f"no ODX description for {ecu['name']}")
                with Diagnosis(self.host, self.port, int(ecu["address"], 16), description) as connection:
                    if kind == "routine":
                        result = {"result": connection.routine(params["routine"])}
                    else:
                        seconds = params["seconds"] if job.get("budget_seconds") is None else \
                            min(params["seconds"], max(0.0, job["budget_seconds"] - 5))
                        sample(connection, params["identifiers"], params["rate"], seconds,
                               lambda batch: self._post(path + "/samples", {"samples": batch})["go_on"])
        except Failure as failure:
            self._post(path + "/report", {"outcome": "failed", "detail": f"{failure.step}: {failure.detail}"[:500]})
            return
        except KeyError as unknown:
            self._post(path + "/report", {"outcome": "failed",
                                          "detail": f"{unknown} is not described in this ECU's ODX"[:500]})
            return
        self._post(path + "/report", {"outcome": "done", "result": result})

    def _task(self, path, job, key_for, work):
        try:
            with Ecu(self.host, self.port, int(job["ecu_address"], 16), key_for) as ecu:
                work(ecu)
        except Failure as failure:
            self._post(path + "/report", {"outcome": "failed", "detail": f"{failure.step}: {failure.detail}"[:500]})
            return
        self._post(path + "/report", {"outcome": "done"})

    def _heartbeats(self, session_id, stop, state):
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                answer = self._post(f"/agents/sessions/{session_id}/heartbeat", {"progress": self.progress})
                state["alive"] = answer["state"] in ("running", "interrupted")
            except (requests.RequestException, RuntimeError) as exc:
                log.warning("heartbeat failed: %s", exc)

    def _progress(self, step):
        def update(done, total):
            self.progress = {"ecu_address": step["ecu_address"], "bytes_done": done, "bytes_total": total}
        return update

    def _key(self, session_id):
        def key_for(address, level, seed):
            answer = self._post(f"/agents/sessions/{session_id}/security-key",
                                {"ecu_address": f"0x{address:02X}", "seed": seed.hex()})
            return bytes.fromhex(answer["key"])
        return key_for

    @staticmethod
    def _no_key(address, level, seed):
        raise Failure("security access", "refused", "pre-flight reads only")

    # ---- the car ----

    def read_vin(self):
        """The VIN from the car's DoIP entity (vehicle identification over UDP)."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.settimeout(5)
            udp.sendto(struct.pack(">BBHI", 2, 0xFD, 0x0001, 0), (self.host, self.port))
            answer, _ = udp.recvfrom(1024)
        return answer[8:25].decode("ascii")

    @staticmethod
    def scan():
        return ["0x10", "0x12", "0x18", "0x29", "0x40", "0x60", "0x63", "0x72"]

    # ---- files ----

    def fetch(self, file):
        """Download (resuming a partial file with a Range request) and check it; None when genuine, else which
        check failed."""
        target = self.workdir / f"{file['manifest']['sha256']}.bin"
        if not target.exists():
            partial = target.with_suffix(".part")
            have = partial.stat().st_size if partial.exists() else 0
            try:
                headers = {"Range": f"bytes={have}-"} if have else {}
                with requests.get(file["url"], headers=headers, stream=True, timeout=60) as answer:
                    if answer.status_code not in (200, 206):
                        return "download"
                    mode = "ab" if answer.status_code == 206 else "wb"
                    with open(partial, mode) as out:
                        for chunk in answer.iter_content(CHUNK):
                            out.write(chunk)
            except requests.RequestException:
                return "download"
            partial.rename(target)
        try:
            manifest.verify(self.public_key, file["manifest"], file["signature"], target.read_bytes())
        except manifest.NotGenuine as exc:
            target.unlink()
            return exc.what
        return None

    def _verified_image(self, file):
        if self.fetch(file) is not None:
            return None
        return (self.workdir / f"{file['manifest']['sha256']}.bin").read_bytes()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m agent", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    register = commands.add_parser("register")
    register.add_argument("--api", required=True)
    register.add_argument("--token", required=True, help="a workshop user's access token")
    register.add_argument("--name", required=True)
    register.add_argument("--save", required=True, help="where to keep the agent's id and credential")
    run = commands.add_parser("run")
    run.add_argument("--config", required=True)
    run.add_argument("--vehicle", required=True, help="the car's DoIP entity, host:port")
    run.add_argument("--manufacturer-key", required=True, help="the manufacturer's public key (PEM)")
    run.add_argument("--workdir", default="agent-files")
    run.add_argument("--odx", help="a folder of PDX files: the ECU types' diagnostic descriptions")
    args = parser.parse_args(argv)
    # warnings from the UDS and DoIP libraries (they log every request at INFO), the agent's own steps at INFO
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s agent %(levelname)s %(name)s %(message)s")
    log.setLevel(logging.INFO)
    if args.command == "register":
        answer = requests.post(args.api.rstrip("/") + "/api/v1/agents", json={"name": args.name},
                               headers={"Authorization": f"Bearer {args.token}"}, timeout=30)
        answer.raise_for_status()
        Path(args.save).write_text(json.dumps({"api": args.api, **answer.json()}, indent=2))
        print(f"agent {answer.json()['id']} registered; its credential is in {args.save}")
        return 0
    conf = json.loads(Path(args.config).read_text())
    agent = Agent(conf["api"], conf["id"], conf["credential"], args.vehicle,
                  manifest.load_public(Path(args.manufacturer_key).read_text()), args.workdir, odx=args.odx)
    agent.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
