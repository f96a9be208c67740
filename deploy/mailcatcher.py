"""A real SMTP server that keeps every mail it receives as a file a person can read: `make run` starts it and
prints where the mails are; the tests read back what really went over SMTP.

    python -m deploy.mailcatcher FOLDER --port 8025

Each mail is FOLDER/<received ns>-<recipient>.eml (open it in any mail program), beside it the same as .txt."""
import argparse
import email
import email.policy
import re
import time
from pathlib import Path


class Keeper:
    """aiosmtpd's handler: every message to a file per recipient."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        for recipient in envelope.rcpt_tos:
            stem = f"{time.time_ns()}-{recipient.replace('/', '_')}"
            text = message.get_body(("plain",))
            keep(self.folder / f"{stem}.txt",
                 f"To: {recipient}\nSubject: {message['Subject']}\n\n{text.get_content() if text else ''}".encode())
            keep(self.folder / f"{stem}.eml", envelope.content)
        return "250 Message accepted for delivery"


def keep(path, data):
    """Written whole or not at all: a reader polling the folder never opens a mail half written."""
    partial = path.with_name(f".{path.name}.part")
    partial.write_bytes(data)
    partial.rename(path)


def read(folder, to, since_ns=0, subject=None):
    """The mails to `to` received after `since_ns`, oldest first, as email.message.EmailMessage."""
    found = []
    for path in sorted(Path(folder).glob("*.eml")):
        received, _, recipient = path.stem.partition("-")
        if recipient == to and int(received) > since_ns:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if subject is None or subject in message["Subject"]:
                found.append(message)
    return found


def start(folder, port, log=None):
    """The catcher as a process of its own on 127.0.0.1:port, once it answers; it dies with its parent."""
    import subprocess
    import sys

    from deploy.ports import reachable, stop_with_parent, wait_for
    process = subprocess.Popen([sys.executable, "-m", "deploy.mailcatcher", str(folder), "--port", str(port)],
                               stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT, preexec_fn=stop_with_parent)
    wait_for(lambda: reachable("127.0.0.1", port), 30, "the SMTP catcher")
    return process


def link_token(folder, to, route, since_ns=0, seconds=30):
    """The token of the link to the portal's `route` in the newest mail to `to`, waiting for it to arrive."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = read(folder, to, since_ns)
        if found:
            match = re.search(route + r"\?token=([A-Za-z0-9_\-]+)", found[-1].get_body(("plain",)).get_content())
            if match:
                return match.group(1)
        time.sleep(0.1)
    raise SystemExit(f"no mail to {to} with a {route} link arrived within {seconds} s (mails: {folder})")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m deploy.mailcatcher")
    parser.add_argument("folder")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    from aiosmtpd.controller import Controller
    controller = Controller(Keeper(args.folder), hostname=args.host, port=args.port)
    controller.start()
    print(f"SMTP catcher on {args.host}:{args.port}, mails in {args.folder}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
