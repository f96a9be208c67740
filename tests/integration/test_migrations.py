"""Each service's Alembic history builds exactly the tables its models describe: a model changed without a
migration (or the reverse) fails here, not on a workshop's database."""
import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from deploy.processes import SERVICES
from services.shared.migrate import upgrade


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_build_what_the_models_describe(service, tmp_path):
    url = f"sqlite:///{tmp_path / service}.db"
    upgrade(service, url)
    metadata = importlib.import_module(f"services.{service}.models").Base.metadata
    engine = create_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert differences == []
