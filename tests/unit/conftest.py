"""What several unit tests share."""
import pytest

from deploy import odx


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The demo manufacturer's PDX files (deploy.odx), written once a module."""
    out = tmp_path_factory.mktemp("odx")
    odx.write_all(out)
    return out
