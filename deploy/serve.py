"""Run one AOS process here: `python -m deploy.serve identity` (or `gateway`, ...: deploy/processes.py)."""
import eventlet

eventlet.monkey_patch()  # noqa: E402  before anything opens a socket

import sys  # noqa: E402

from deploy.processes import BY_NAME  # noqa: E402
from services.shared.serve import run  # noqa: E402


def main(argv):
    if len(argv) != 1 or argv[0] not in BY_NAME:
        raise SystemExit(f"usage: python -m deploy.serve {{{'|'.join(BY_NAME)}}}")
    run(BY_NAME[argv[0]])


if __name__ == "__main__":
    main(sys.argv[1:])
