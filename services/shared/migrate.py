"""Alembic, one history per service (services/<name>/migrations): `upgrade(service, url)` brings a database to head;
`python -m deploy.migrate [service ...]` does it for each service's configured database."""
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import create_engine

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

