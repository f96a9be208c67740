"""Alembic, one history per service: `python -m services.shared.migrate [service ...]` upgrades each service's
database to head (the URL from configuration). Tests call `upgrade(service, url)` the same way."""
import sys
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import create_engine

from services.shared import config as settings

SERVICES_DIR = Path(__file__).resolve().parents[1]


def alembic_config(service, url):
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    cfg.set_main_option("version_table", "alembic_version")
    cfg.attributes["url"] = url
    return cfg


def upgrade(service, url, revision="head"):
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(service, url), revision)


def run_env(metadata):
    """The body of every service's migrations/env.py."""
    url = context.config.attributes["url"]
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata,
                          render_as_batch=url.startswith("sqlite"), compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def main(argv):
    config = settings.load()
    for service in argv or settings.SERVICES:
        url = config["DATABASE_URLS"][service]
        upgrade(service, url)
        print(f"{service}: migrated to head")


if __name__ == "__main__":
    main(sys.argv[1:])
