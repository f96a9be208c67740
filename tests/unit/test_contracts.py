"""Contracts are leaves: the gateway process and the workshop's agent load the services' contracts (schemas,
the flash manifest) and a few shared leaves, never a service's rules, tables or the libraries behind them."""
import json
import subprocess
import sys

SERVER_SIDE_LIBRARIES = ("argon2", "zxcvbn", "pyotp", "tantivy", "fpdf", "minio", "alembic", "psycopg2")


def loaded_by(module):
    """The modules a fresh interpreter holds after importing `module`."""
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    return json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)


def ours(modules):
    return {m for m in modules if m.split(".")[0] in ("services", "gateway", "agent", "deploy", "simulator",
                                                      "automotive")}


LEAVES = (".schemas", ".contracts")  # a service's RPC contract and its facts' contracts


def test_the_gateway_imports_contracts_and_no_domain_code():
    loaded = loaded_by("gateway.service")
    services = {m for m in ours(loaded) if m.startswith("services.") and m.count(".") == 2}
    service_modules = {m for m in services if not m.startswith("services.shared.")}
    assert service_modules and all(m.endswith(LEAVES) for m in service_modules), service_modules
    assert not {"services.shared.database", "services.shared.outbox", "services.shared.blobs"} & services
    assert not [lib for lib in SERVER_SIDE_LIBRARIES if lib in loaded]


def test_the_agent_and_the_car_import_the_vehicle_side_package_and_nothing_of_the_server():
    """A workshop's PC and a car carry no part of the manufacturer's server: they share automotive/ with it."""
    for program, apart in (("agent.cli", "simulator"), ("simulator.doip", "agent")):
        loaded = ours(loaded_by(program))
        assert "automotive.odx" in loaded and not [m for m in loaded if m.startswith(("services", "gateway", "deploy",
                                                                                      apart))], (program, loaded)
        assert not [lib for lib in SERVER_SIDE_LIBRARIES if lib in loaded_by(program)]


def test_the_vehicle_side_package_imports_nothing_of_aos_but_itself():
    loaded = ours(loaded_by("automotive.odx, automotive.manifest, automotive.security, automotive.uds"))
    assert {m.split(".")[0] for m in loaded} == {"automotive"}, loaded


def test_a_service_s_contracts_are_leaves():
    """What publishers and consumers of a fact import (and the gateway, and partners' documents) carries nothing of
    the service that owns it but the fact's words."""
    for service in ("identity", "billing", "air", "vehicle_data", "programming", "shop", "parts", "partners"):
        loaded = ours(loaded_by(f"services.{service}.contracts"))
        assert {m for m in loaded if m.count(".") == 2 and not m.startswith("services.shared.")} == {
            f"services.{service}.contracts"}, (service, loaded)


def test_shared_is_infrastructure_and_imports_no_service_and_no_gateway():
    """services/shared knows no service: each declares its own process and owns its facts' contracts."""
    import ast
    from pathlib import Path
    shared = Path(__file__).parents[2] / "services" / "shared"
    found = {}
    for path in shared.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                if name.startswith(("services.", "gateway")) and not name.startswith("services.shared"):
                    found.setdefault(path.name, []).append(name)
    assert found == {}
    loaded = ours(loaded_by(", ".join(f"services.shared.{p.stem}" for p in sorted(shared.glob("*.py"))
                                      if p.stem not in ("__init__", "serve"))))
    assert {m for m in loaded if not m.startswith("services.shared")} <= {"services"}, loaded
