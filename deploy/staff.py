"""Platform staff's access to the staff RPCs (tariffs, invoice limits, settlements, outages, the books, the shop's
catalogue and shipments). A staff RPC acts only on a staff token: signed with operations' own Ed25519 key, which
stays with the people who run AOS; services hold only its public half (AOS_STAFF_PUBLIC_KEY_FILE).

    python -m deploy.staff token anna.berger@aos.example --minutes 30
    python -m deploy.staff call anna.berger@aos.example billing check_books
    python -m deploy.staff call anna.berger@aos.example billing set_invoice_limit \
        '{"operator_id": "...", "limit_cents": 150000}'

`make run` creates a development key pair in var/keys on its first start; production keeps the private half
off every service's machine (AOS_STAFF_PRIVATE_KEY_FILE where the staff member works).
"""
import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from services.shared import config as settings
from services.shared.caller import ProofSettings
from services.shared.config import data_path, variable
from services.shared.tokens import STAFF_MAX_TTL, generate_keypair, read_key, staff_token


@dataclass(frozen=True)
class StaffSettings:
    private_key_file: Path = variable("AOS_STAFF_PRIVATE_KEY_FILE", data_path, "keys/staff-signing.pem")


def ensure_keys(environ):
    """Operations' key pair for staff tokens, created once (development: `make run`, the benches)."""
    private = settings.build(StaffSettings, environ).private_key_file
    public = settings.build(ProofSettings, environ).staff_key_file
    if not private.exists():
        generate_keypair(private, public)
        return private
    return None


def token(environ, who, minutes=60):
    """A staff token for `who` (their address), valid for `minutes`."""
    if not 1 <= minutes * 60 <= STAFF_MAX_TTL:
        raise SystemExit(f"--minutes: 1 to {STAFF_MAX_TTL // 60}")
    private = settings.build(StaffSettings, environ).private_key_file
    return staff_token(read_key(str(private), "staff private"), who, minutes * 60)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m deploy.staff", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sign = commands.add_parser("token", help="print a staff token")
    sign.add_argument("who", help="the staff member's address")
    sign.add_argument("--minutes", type=int, default=60)
    call = commands.add_parser("call", help="call a staff RPC with a fresh token, print its answer as JSON")
    call.add_argument("who")
    call.add_argument("service")
    call.add_argument("method")
    call.add_argument("arguments", nargs="*", help="each a JSON value")
    opts = parser.parse_args(argv)
    signed = token(os.environ, opts.who, getattr(opts, "minutes", 10))
    if opts.command == "token":
        print(signed)
        return
    from nameko.standalone.rpc import ClusterRpcProxy
    with ClusterRpcProxy({"AMQP_URI": settings.load(process="operations")["AMQP_URI"]}, timeout=60) as aos:
        answer = getattr(getattr(aos, opts.service), opts.method)(signed, *map(json.loads, opts.arguments))
    json.dump(answer, sys.stdout, indent=1, default=str)
    print()


if __name__ == "__main__":
    main()
