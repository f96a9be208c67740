"""A load generator process: N green threads hammer one target for a fixed time and print JSON figures.

  python -m bench.load http  <base url> <bearer token> <path> <concurrency> <seconds> [<values file>]
  python -m bench.load rpc   <amqp uri> <service.method> <JSON list of args> <concurrency> <seconds> [<values file>]
  python -m bench.load post  <base url> <bearer token> <path>:<JSON body> <concurrency> <seconds> [<values file>]

`post` sends the body with a fresh Idempotency-Key each time (a purchase, say); 200 and 201 count as answered.

`{value}` in the path or the arguments is replaced, request by request, by the values file's lines in turn (a
VIN each, say). Both kinds run in the same kind of Python client, so their rates compare like with like."""
import eventlet

eventlet.monkey_patch()  # noqa: E402

import http.client  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from urllib.parse import urlparse  # noqa: E402

from bench.system import percentile  # noqa: E402

WARMUP = 2.0


def http_worker(base, token, path, values, until, record, body=None):
    url = urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    while time.perf_counter() < until:
        target = path.replace("{value}", next(values))
        started = time.perf_counter()
        try:
            if body is None:
                conn.request("GET", target, headers=headers)
            else:
                conn.request("POST", target, body=body.replace("{value}", next(values)),
                             headers=headers | {"Idempotency-Key": uuid.uuid4().hex})
            answer = conn.getresponse()
            answer.read()
            ok = answer.status in (200, 201)
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        record(started, ok)
    conn.close()


def post_worker(base, token, target, values, until, record):
    path, _, body = target.partition(":")
    http_worker(base, token, path, values, until, record, body)


def rpc_worker(amqp_uri, target, args, values, until, record):
    from nameko.standalone.rpc import ClusterRpcProxy
    service, method = target.split(".")
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=30) as cluster:  # one proxy each: they are not shared safely
        call = getattr(getattr(cluster, service), method)
        while time.perf_counter() < until:
            arguments = json.loads(args.replace("{value}", next(values)))
            started = time.perf_counter()
            try:
                call(*arguments)
                ok = True
            except Exception:
                ok = False
            record(started, ok)


def run(worker, concurrency, seconds, *args):
    begin = time.perf_counter()
    measure_from, until = begin + WARMUP, begin + WARMUP + seconds
    latencies, errors = [], [0]

    def record(started, ok):
        now = time.perf_counter()
        if started >= measure_from and now <= until:
            latencies.append(now - started)
            if not ok:
                errors[0] += 1

    pool = eventlet.GreenPool(concurrency)
    for _ in range(concurrency):
        pool.spawn(worker, *args, until, record)
    pool.waitall()
    return {"requests": len(latencies), "errors": errors[0], "seconds": seconds, "rate": len(latencies) / seconds,
            **{f"p{p}_ms": percentile(latencies, p) * 1000 for p in (50, 95, 99)}}


def main(argv):
    if len(argv) not in (6, 7) or argv[0] not in WORKERS:
        raise SystemExit(__doc__)
    kind, where, who, what, concurrency, seconds = argv[:6]
    values = itertools.cycle([v for v in open(argv[6]).read().splitlines() if v] if len(argv) == 7 else [""])
    print(json.dumps(run(WORKERS[kind], int(concurrency), float(seconds), where, who, what, values)))


WORKERS = {"http": http_worker, "post": post_worker, "rpc": rpc_worker}

if __name__ == "__main__":
    main(sys.argv[1:])
