"""The documents partners generate clients from pass validators this project did not write: the OpenAPI document
openapi-spec-validator, the AsyncAPI document the AsyncAPI parser (Node, tests/contracts, installed by make)."""
import json
import subprocess
from pathlib import Path

from openapi_spec_validator import validate

import gateway.service  # noqa: F401  (its routes make the OpenAPI document)
from gateway import asyncapi, openapi

CHECKS = Path(__file__).parents[1] / "contracts"


def test_the_openapi_document_passes_an_independent_validator():
    validate(openapi.build())  # raises, naming the first place that breaks the specification


def test_the_asyncapi_document_passes_the_asyncapi_parser(tmp_path):
    assert (CHECKS / "node_modules" / "@asyncapi" / "parser").is_dir(), "run `make install` (npm ci in tests/contracts)"
    document = tmp_path / "asyncapi.json"
    document.write_text(json.dumps(asyncapi.build()))
    checked = subprocess.run(["node", str(CHECKS / "asyncapi-check.mjs"), str(document)], capture_output=True,
                             text=True, timeout=120)
    diagnostics = [json.loads(line) for line in checked.stdout.splitlines() if line.startswith("{")]
    assert checked.returncode == 0 and not [d for d in diagnostics if d["severity"] in ("error", "warning")], (
        checked.stderr or diagnostics)
