"""A load generator process: N green threads hammer one target for a fixed time and print JSON figures.

  python -m bench.load http  <base url> <bearer token> <concurrency> <seconds>
  python -m bench.load rpc   <amqp uri> <method> <arg or -> <concurrency> <seconds>

Both kinds run in the same kind of Python client, so their rates compare like with like."""
import eventlet

eventlet.monkey_patch()  # noqa: E402

import http.client  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from urllib.parse import urlparse  # noqa: E402

from bench.system import percentile  # noqa: E402

WARMUP = 2.0


def http_worker(base, token, until, record):
    url = urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    while time.perf_counter() < until:
        started = time.perf_counter()
        try:
            conn.request("GET", "/api/v1/me", headers=headers)
            answer = conn.getresponse()
            answer.read()
            ok = answer.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        record(started, ok)
    conn.close()


def rpc_worker(amqp_uri, method, arg, until, record):
    from nameko.standalone.rpc import ClusterRpcProxy
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=30) as cluster:  # one proxy each: they are not shared safely
        call = getattr(cluster.identity, method)
        args = () if arg == "-" else (arg,)
        while time.perf_counter() < until:
            started = time.perf_counter()
            try:
                call(*args)
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
    kind = argv[0]
    if kind == "http":
        base, token, concurrency, seconds = argv[1], argv[2], int(argv[3]), float(argv[4])
        result = run(http_worker, concurrency, seconds, base, token)
    elif kind == "rpc":
        amqp_uri, method, arg, concurrency, seconds = argv[1], argv[2], argv[3], int(argv[4]), float(argv[5])
        result = run(rpc_worker, concurrency, seconds, amqp_uri, method, arg)
    else:
        raise SystemExit(__doc__)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
