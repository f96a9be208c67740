"""The gateway's lanes on a real HTTP server: with every worker of the workshops' lane busy and more of their
requests waiting, an agent's call still goes through, on a lane of its own."""
import eventlet
import requests

from deploy.ports import free_port
from gateway.http import ApiEntrypoint, Route


def route(method, path, lane="workshops"):  # as gateway.http.route, kept out of the OpenAPI document
    return ApiEntrypoint.decorator(method, path, route=Route(method, path, "test", "test", lane=lane))

RELEASE = eventlet.event.Event()


class Front:
    name = "front"

    @route("GET", "/busy")  # a workshop's call waiting on a slow service
    def busy(self, request):
        RELEASE.wait()
        return {"done": True}

    @route("POST", "/beat", lane="agents")
    def beat(self, request):
        return {"alive": True}


def test_an_agents_call_goes_through_while_the_workshops_lane_is_full(container_factory, rabbit_config):
    global RELEASE
    RELEASE = eventlet.event.Event()
    port = free_port()
    config = dict(rabbit_config, max_workers=50, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
                  ENVIRONMENT={"AOS_GATEWAY_MAX_WORKERS": "2"})  # 2 at once in each lane
    container_factory(Front, config).start()
    base = f"http://127.0.0.1:{port}"
    waiting = [eventlet.spawn(requests.get, f"{base}/busy", timeout=30) for _ in range(5)]
    eventlet.sleep(0.3)  # two in hand, three waiting for the workshops' lane
    assert not any(w.dead for w in waiting)
    with eventlet.Timeout(5):  # an assertion with a bound, not a measurement: without lanes it waits for ever
        answer = requests.post(f"{base}/beat", timeout=5)
    assert answer.status_code == 200 and answer.json() == {"alive": True}
    assert not any(w.dead for w in waiting)  # the workshops' calls were still waiting when the agent's went by
    RELEASE.send(True)
    assert [w.wait().status_code for w in waiting] == [200] * 5
