"""Every service's database upgraded to head, or the ones named: `python -m deploy.migrate [service ...]`."""
import os
import sys

from deploy.processes import SERVICES
from services.shared import config as settings
from services.shared.migrate import upgrade


def main(argv):
    for service in argv or SERVICES:
        if service not in SERVICES:
            raise SystemExit(f"{service}: not a service with a database ({', '.join(SERVICES)})")
        upgrade(service, settings.database_url(dict(os.environ), service))
        print(f"{service}: migrated to head")


if __name__ == "__main__":
    main(sys.argv[1:])
