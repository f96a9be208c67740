"""Each AOS process its own broker user with only the permissions it needs, read off the code, not written twice.

What a process may do on RabbitMQ:
- declare, bind and consume its own queues only: `rpc-<process>` and `rpc-<process>-<lane>` (its RPC entrypoints),
  `rpc.reply-<process>-...` (answers to its own calls), `evt-<source>-<Event>--<process>.<handler>` (the events it
  consumes);
- publish on `nameko-rpc` only the calls its code makes (`self.<proxy>.<method>` of its RpcProxy dependencies,
  never another service's staff RPC) and answers (a reply queue's random id), checked on the routing key by
  RabbitMQ's topic authorisation;
- publish events only on its own exchange `<process>.events`, only the event types it owns (its contracts.py).
Platform staff's console (`operations`, deploy/staff.py) may call staff RPCs and pings only; a partner system (`partner`) may
only subscribe to events through queues named `partner-...`.

    python -m deploy.broker definitions > definitions.json   # RabbitMQ's definitions: users, permissions
    python -m deploy.broker apply --vhost /aos   # into a running broker, through its management API

Passwords come from AOS_BROKER_PASSWORD_<USER>, the management API's address with an administrator's password
from AOS_BROKER_ADMIN_URL (http://admin:password@host:15672); each process then connects as its own user with
AOS_<PROCESS>_AMQP_URI (or AOS_AMQP_URI in its own environment: services.shared.config).
"""
import argparse
import ast
import base64
import hashlib
import inspect
import json
import os
import re
import secrets
import sys
import textwrap
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from deploy.processes import BY_NAME, NAMES, PROCESSES, SERVICES
from services.catalogue import CATALOGUE
from services.shared.queues import lane_target

RPC_EXCHANGE = "nameko-rpc"
REPLY_KEY = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # nameko's reply routing key, a uuid4
EVENT_EXCHANGES = r"[a-z_]+\.events"
USERS = NAMES + ("operations", "partner")


@dataclass(frozen=True)
class Grant:
    """One broker user's permissions on the vhost, as RabbitMQ's regular expressions."""
    configure: str
    write: str
    read: str
    topics: dict  # exchange -> (write, read): routing keys it may publish with, bind with


def rpc_methods(cls, process):
    """The RPC entrypoints of a service class, by the name callers give them (the process, or one of its lanes:
    services.shared.queues.lane_target): {target: {method: whose proof it needs (actor, holder, staff or None)}}."""
    from nameko.rpc import Rpc
    found = {}
    for name, fn in inspect.getmembers(cls, inspect.isfunction):
        if any(isinstance(e, Rpc) for e in getattr(fn, "nameko_entrypoints", ())):
            lane = getattr(fn, "lane", None)
            found.setdefault(lane_target(process, lane) if lane else process, {})[name] = getattr(fn, "proof", None)
    return found


def calls_made(cls):
    """The RPCs a class's code calls: {(service, method)} from `self.<proxy>.<method>` in its source and its bases'
    (the gateway is made of one class of routes per area), and the `ping` of every service it has a proxy for
    (readiness checks ping whatever they depend on)."""
    from nameko.rpc import RpcProxy
    ours = [c for c in cls.__mro__ if c is not object]
    proxies = {name: dep.target_service for c in reversed(ours) for name, dep in vars(c).items()
               if isinstance(dep, RpcProxy)}
    trees = [ast.parse(textwrap.dedent(inspect.getsource(c))) for c in ours]
    return {(proxies[node.value.attr], node.attr) for tree in trees for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
            and isinstance(node.value.value, ast.Name) and node.value.value.id == "self"
            and node.value.attr in proxies} | {(target, "ping") for target in proxies.values()
                                               if target in SERVICES}  # a lane has no ping of its own


def _any(names):
    return "|".join(re.escape(n) for n in sorted(names)) or "(?!)"


def _own_queues(process, lanes=()):
    """Its RPC queue and those of the lanes it declares (services.shared.process), its reply queues, the queues of
    the events it consumes."""
    lane = f"(-({_any(lanes)}))?" if lanes else ""
    return rf"rpc-{process}{lane}|rpc\.reply-{process}-.+|evt-[a-z_]+-[A-Za-z]+--{process}\..+"


def grants():
    """Every broker user's grant, from the code: what each process serves, calls and publishes."""
    classes = {p.name: p.service_class() for p in PROCESSES}
    methods = {target: found for p, c in classes.items() if p in SERVICES
               for target, found in rpc_methods(c, p).items()}
    granted = {}
    for process, cls in classes.items():
        calls = calls_made(cls)
        wrong = sorted(f"{s}.{m}" for s, m in calls if methods.get(s, {}).get(m, "missing") in ("staff", "missing"))
        if wrong:
            raise SystemExit(f"{process} calls what it may not or what does not exist: {', '.join(wrong)}")
        own, owned = _own_queues(process, BY_NAME[process].lanes), [t for t, r in CATALOGUE.items()
                                                                     if r.owner == process]
        granted[process] = Grant(
            configure=rf"^({RPC_EXCHANGE}|{EVENT_EXCHANGES}|{own})$",
            write=rf"^({RPC_EXCHANGE}|{process}\.events|{own})$",
            read=rf"^({RPC_EXCHANGE}|{EVENT_EXCHANGES}|{own})$",
            topics={RPC_EXCHANGE: (rf"^({REPLY_KEY}|{_any(f'{s}.{m}' for s, m in calls)})$",
                                   rf"^({REPLY_KEY}|{process}(-[a-z]+)?\.\*)$"),
                    f"{process}.events": (rf"^({_any(owned)})$", ".*")})
    console = {f"{s}.{m}" for s, found in methods.items() for m, proof in found.items()
               if proof == "staff" or m == "ping"}
    own = r"rpc\.reply-standalone_rpc_proxy-.+"
    granted["operations"] = Grant(configure=rf"^({RPC_EXCHANGE}|{own})$", write=rf"^({RPC_EXCHANGE}|{own})$",
                                  read=rf"^({RPC_EXCHANGE}|{own})$",
                                  topics={RPC_EXCHANGE: (rf"^({_any(console)})$", rf"^({REPLY_KEY})$")})
    granted["partner"] = Grant(configure=r"^(partner-.+)$", write=r"^(partner-.+)$",
                               read=rf"^({EVENT_EXCHANGES}|partner-.+)$", topics={})
    return granted


def password_hash(password):
    """RabbitMQ's stored form (rabbit_password_hashing_sha256): base64 of a 4-byte salt and sha256(salt+password)."""
    salt = secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def passwords(environ):
    missing = [u for u in USERS if not environ.get(f"AOS_BROKER_PASSWORD_{u.upper()}")]
    if missing:
        raise SystemExit("set " + ", ".join(f"AOS_BROKER_PASSWORD_{u.upper()}" for u in missing))
    return {u: environ[f"AOS_BROKER_PASSWORD_{u.upper()}"] for u in USERS}


def definitions(vhost, given):
    """RabbitMQ's definitions file (load_definitions): the vhost, a user per process, their permissions."""
    granted = grants()
    return {
        "vhosts": [{"name": vhost}],
        "users": [{"name": u, "password_hash": password_hash(given[u]),
                   "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []} for u in USERS],
        "permissions": [{"user": u, "vhost": vhost, "configure": g.configure, "write": g.write, "read": g.read}
                        for u, g in granted.items()],
        "topic_permissions": [{"user": u, "vhost": vhost, "exchange": x, "write": w, "read": r}
                              for u, g in granted.items() for x, (w, r) in g.topics.items()],
    }


def apply(management_url, vhost, given, prefix=""):
    """The users and their grants into a running broker through its management API; user names get `prefix`
    (tests give each vhost its own). Returns {user: password} as given."""
    import requests
    parts = urlsplit(management_url)
    base = f"{parts.scheme}://{parts.hostname}:{parts.port}/api"
    http = requests.Session()
    http.auth = (parts.username or "guest", parts.password or "guest")

    def put(path, body):
        answer = http.put(f"{base}/{path}", json=body, timeout=30)
        if answer.status_code not in (201, 204):
            raise SystemExit(f"the broker refused {path}: {answer.status_code} {answer.text}")
    v = quote(vhost, safe="")
    put(f"vhosts/{v}", {})
    for user, grant in grants().items():
        name = prefix + user
        put(f"users/{quote(name, safe='')}", {"password": given[user], "tags": ""})
        put(f"permissions/{v}/{quote(name, safe='')}",
            {"configure": grant.configure, "write": grant.write, "read": grant.read})
        for exchange, (write, read) in grant.topics.items():
            put(f"topic-permissions/{v}/{quote(name, safe='')}", {"exchange": exchange, "write": write, "read": read})
    return given


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m deploy.broker", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("definitions", help="print RabbitMQ's definitions (users, permissions) as JSON")
    show.add_argument("--vhost", default="/")
    put = commands.add_parser("apply", help="create the users and grants in a running broker")
    put.add_argument("--vhost", default="/")
    put.add_argument("--prefix", default="", help="before each user's name (one broker, several systems)")
    opts = parser.parse_args(argv)
    given = passwords(os.environ)
    if opts.command == "definitions":
        json.dump(definitions(opts.vhost, given), sys.stdout, indent=1)
        print()
    elif not os.environ.get("AOS_BROKER_ADMIN_URL"):
        raise SystemExit("set AOS_BROKER_ADMIN_URL: the management API with an administrator, http://user:pw@host:15672")
    else:
        apply(os.environ["AOS_BROKER_ADMIN_URL"], opts.vhost, given, opts.prefix)
        print(f"broker users {opts.prefix}{{{','.join(USERS)}}} on vhost {opts.vhost} granted")


if __name__ == "__main__":
    main()
