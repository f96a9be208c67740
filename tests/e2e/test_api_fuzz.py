"""No input gets a server error: every route of the OpenAPI document, driven by schemathesis with valid and
invalid inputs it makes up (a fixed seed, a bounded number of examples), signed in as a workshop's owner (and
as its agent on the agent's routes). Any 5xx fails the test and names the request."""
import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from gateway import openapi
from tests.e2e.conftest import import_parts
from tests.helpers import eventually

EXAMPLES = 6
LAST = ("/api/v1/auth/logout", "/api/v1/auth/password", "second-factor/reset")  # they end the session: at the end


def test_no_route_answers_a_server_error_whatever_it_is_sent(api, system, workshop, parts_package):
    import_parts(system, parts_package)  # the system as `make run` has it: a parts catalogue to read
    eventually(lambda: api("GET", "/api/v1/parts/catalogue", workshop.token).status_code == 200, timeout=30,
               what="the parts service to index the catalogue")
    agent = api("POST", "/api/v1/agents", workshop.token, json={"name": "bay 1"}).json()
    bearer = {"Authorization": f"Bearer {workshop.token}"}
    as_agent = {"Authorization": f"Agent {agent['id']}:{agent['credential']}"}
    schema = schemathesis.openapi.from_dict(openapi.build())
    operations = sorted((r.ok() for r in schema.get_all_operations()),
                        key=lambda op: (any(part in op.path for part in LAST), op.path, op.method))
    errors, calls = [], [0]
    for operation in operations:
        agent_route = operation.path.startswith(("/api/v1/agents/jobs", "/api/v1/agents/sessions"))
        headers = as_agent if agent_route else bearer
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def send(case):
                response = case.call(base_url=api.base, headers=headers, timeout=30)
                calls[0] += 1
                if response.status_code >= 500:
                    errors.append(f"{response.status_code} {case.as_curl_command()}\n  {response.text[:300]}")
            try:
                send()
            except hypothesis.errors.Unsatisfiable:
                pass  # a strategy with nothing left to make up under the seed: the other mode covers the route
    assert calls[0] > 10 * len(operations)
    assert not errors, "\n".join(errors)
