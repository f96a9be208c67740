"""Local sockets and child processes for the launcher, the tests and the benches: is something listening, a free
port, wait until, and a child that dies with its parent."""
import ctypes
import random
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


def unclaimed_ports(count):
    """`count` ports in a row, free for TCP and UDP (the demo car answers vehicle identification on UDP), below the
    kernel's ephemeral range: free_port's ports, SeaweedFS's own and every outgoing connection's come from that range,
    so a port found free there can be taken before its process binds it, and the one after it was never looked at."""
    while True:
        base = random.randrange(15000, 30000 - count)
        try:
            for port in range(base, base + count):
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    with socket.socket(socket.AF_INET, kind) as probe:
                        probe.bind(("127.0.0.1", port))
            return list(range(base, base + count))
        except OSError:
            continue


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
