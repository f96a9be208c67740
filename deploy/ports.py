"""Local sockets and child processes for the launcher, the tests and the benches: is something listening, a free
port, wait until, and a child that dies with its parent."""
import ctypes
import signal
import socket
import sys
import time

PR_SET_PDEATHSIG = 1


def reachable(host, port, timeout=1.0):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise SystemExit(f"{what} did not come up within {seconds} s")


def stop_with_parent():
    """On Linux, a child (SeaweedFS, the SMTP catcher) gets SIGTERM when the process that started it dies, however it dies (a test run
    killed by a timeout, a launcher killed with SIGKILL): no server is left behind holding its ports."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
