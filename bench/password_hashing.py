"""Benchmark: how long concurrent logins stall everything else in identity's process, with argon2id run inline
versus in eventlet's thread pool (what identity does). Prints the worst stall a 1 ms ticker saw.

    python -m bench.password_hashing [--logins 8]
"""
import eventlet

eventlet.monkey_patch()  # noqa: E402

import argparse  # noqa: E402
import time  # noqa: E402

from eventlet import tpool  # noqa: E402

from services.identity.domain import Passwords  # noqa: E402


def worst_stall(passwords, logins):
    """Seconds until all logins are done, and the longest a green thread waiting 1 ms had to wait."""
    stored = passwords.hash("Bremsscheibe-Drehmoment-42")
    ticks, done = [], []

    def ticker():
        while not done:
            before = time.perf_counter()
            eventlet.sleep(0.001)
            ticks.append(time.perf_counter() - before)

    watcher = eventlet.spawn(ticker)
    eventlet.sleep(0.01)
    started = time.perf_counter()
    pool = eventlet.GreenPool()
    for _ in range(logins):
        pool.spawn(passwords.verify, stored, "Bremsscheibe-Drehmoment-42")
    pool.waitall()
    took = time.perf_counter() - started
    done.append(True)
    watcher.wait()
    return took, max(ticks)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--logins", type=int, default=8)
    opts = parser.parse_args(argv)
    print(f"{opts.logins} concurrent argon2id verifications (time_cost 3, 64 MiB):")
    for name, offload in (("inline", None), ("thread pool (identity)", tpool.execute)):
        took, stall = worst_stall(Passwords(offload=offload), opts.logins)
        print(f"  {name:24} all done in {took:5.2f} s; worst stall of other requests {stall * 1000:5.0f} ms")


if __name__ == "__main__":
    main()
