"""Benchmark: an unrelated user's GET /me while an attacker keeps an account slowed down, against the same /me
with nobody attacking, in one run.

The attacker fails sign-ins from ever new addresses (the account's slowdown grows to its 8 s cap) while ten
threads ask to sign in to that account from unknown devices, each again `--pause` seconds after its answer (1 s:
ten slowed sign-ins a second, which held all ten of identity's workers when a slowed attempt slept in one; 0: a
flood, which measures only what answering costs). Each is answered 429 SIGN_IN_SLOWED at once; identity holds
none in a worker, so another workshop's /me should stay as fast as without them. Prints /me's p50/p95/p99 both
ways, their ratio, and how fast the slowed attempts were answered.

    python -m bench.slowed_sign_ins [--seconds 10] [--concurrency 4] [--pause 1] [--database-url postgresql://...]
"""
import threading
import time

import requests

from bench import system

ATTEMPTS = 10  # slowed sign-ins in flight at any time


def attack(base, email, stop, answered, pause):
    """Failed sign-ins from new addresses, and ATTEMPTS threads of sign-ins slowed down, until `stop`."""
    def fail():
        n = 0
        while not stop.is_set():
            n += 1
            requests.post(f"{base}/api/v1/auth/login", json={"email": email, "password": "Falsch-Falsch-99"},
                          headers={"X-Forwarded-For": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"}, timeout=30)
            stop.wait(0.2)

    def slowed(index):
        http = requests.Session()
        while not stop.is_set():
            started = time.perf_counter()
            answer = http.post(f"{base}/api/v1/auth/login", json={"email": email, "password": "Falsch-Falsch-99"},
                               headers={"X-Forwarded-For": f"192.0.2.{index}"}, timeout=30)
            answered.append((answer.status_code, (time.perf_counter() - started) * 1000))
            stop.wait(pause)
    threads = [threading.Thread(target=fail)] + [threading.Thread(target=slowed, args=(i,)) for i in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    return threads


def main(argv=None):
    parser = system.parser(__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds each attacker waits between attempts")
    opts = parser.parse_args(argv)
    with system.running(opts.database_url, extra_env={"AOS_TRUSTED_PROXIES": "127.0.0.1"}) as running:
        victim = system.owner_of(running.base)  # the attacked account
        token, _ = system.workshop(running.base)  # the unrelated user
        c, s = opts.concurrency, opts.seconds
        quiet = running.load("http", running.base, token, "/api/v1/me", c, s)
        stop, answered = threading.Event(), []
        threads = attack(running.base, victim, stop, answered, opts.pause)
        time.sleep(3)  # the slowdown reaches its cap
        answered.clear()
        attacked = running.load("http", running.base, token, "/api/v1/me", c, s)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    report(quiet, attacked, answered, opts)


def report(quiet, attacked, answered, opts):
    print(f"\nGET /api/v1/me of an unrelated user, concurrency {opts.concurrency}, {opts.seconds:g} s each way; "
          f"{ATTEMPTS} attackers' sign-ins slowed down during the second, each again {opts.pause:g} s after its answer")
    system.table({"GET /me, nobody attacking": quiet, "GET /me, sign-ins slowed": attacked}, 28)
    print(f"/me p95 attacked / quiet: {attacked['p95_ms'] / quiet['p95_ms']:.2f} ({quiet['p95_ms']:.1f} -> "
          f"{attacked['p95_ms']:.1f} ms)")
    slowed = sorted(ms for status, ms in answered if status == 429)
    if slowed:
        print(f"slowed sign-ins answered: {len(slowed)} (429), p50 {slowed[len(slowed) // 2]:.1f} ms, "
              f"p95 {slowed[int(len(slowed) * 0.95)]:.1f} ms; other answers: {len(answered) - len(slowed)}")


if __name__ == "__main__":
    main()
