"""Small helpers the test tiers share."""
import time

import eventlet


def eventually(check, timeout=10.0, interval=0.05, what="the condition"):
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s (last: {result!r})")
        eventlet.sleep(interval)
