"""The house a newcomer finds by name: each service laid out the same way (DESIGN's terms), the gateway's routes
one module per area and none over 300 lines, and identity's and billing's rules in their domain (their use cases
write no rule: no refusal is made there, only raised as the domain made it)."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SERVICES = ("identity", "billing", "vehicle_data", "shop", "air", "programming", "audit")
LAYOUT = ("service.py", "use_cases.py", "domain.py", "schemas.py", "models.py", "settings.py", "metrics.py",
          "process.py", "migrations")
REFUSALS = {"AosError", "BadRequest", "Unauthenticated", "PaymentRequired", "Forbidden", "NotFound", "Conflict",
            "InvalidInput", "TooManyRequests", "Unavailable", "invalid_field"}


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_is_laid_out_the_same_way(service):
    folder = ROOT / "services" / service
    assert [name for name in LAYOUT if not (folder / name).exists()] == []
    from services.catalogue import CATALOGUE
    publishes = any(r.owner == service for r in CATALOGUE.values())
    assert (folder / "contracts.py").exists() == publishes, "a service that publishes facts owns their contracts"


def test_no_gateway_module_is_over_300_lines():
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "gateway").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 300}
    assert long == {}


@pytest.mark.parametrize("service", ["identity", "billing"])
def test_the_use_cases_make_no_refusal_their_domain_does(service):
    tree = ast.parse((ROOT / "services" / service / "use_cases.py").read_text())
    made = sorted({node.func.id if isinstance(node.func, ast.Name) else node.func.attr
                   for node in ast.walk(tree) if isinstance(node, ast.Call)
                   and (getattr(node.func, "id", None) in REFUSALS or getattr(node.func, "attr", None) in REFUSALS)})
    assert made == []
