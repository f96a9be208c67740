"""A service's lane on a real broker: the calls on it have a queue of their own, so a backlog on the service's
main queue (hundreds of sessions started at once) does not hold them up; and nothing is answered twice."""
import eventlet
from nameko.standalone.rpc import ClusterRpcProxy

from services.shared.queues import lane_rpc, lane_target, rpc

SLOW_CALLS = 24
DONE = []  # what the service finished, in order


class Desk:
    name = "desk"

    @rpc
    def slow(self, n):
        eventlet.sleep(0.05)  # a start, say: a few round trips to the database and another service
        DONE.append(n)
        return n

    @lane_rpc("agents").decorator
    def beat(self):
        DONE.append("beat")
        return "alive"


def test_a_call_on_the_lane_overtakes_a_backlog_on_the_main_queue(container_factory, rabbit_config):
    DONE.clear()
    container_factory(Desk, dict(rabbit_config, max_workers=2)).start()  # 24 calls of 50 ms on 2 workers: 0.6 s
    with ClusterRpcProxy(rabbit_config) as cluster:
        backlog = [cluster.desk.slow.call_async(n) for n in range(SLOW_CALLS)]
        eventlet.sleep(0.1)  # the backlog is queued before the agent's call is sent
        assert getattr(cluster, lane_target("desk", "agents")).beat() == "alive"
        assert sorted(r.result() for r in backlog) == list(range(SLOW_CALLS))  # the backlog answered, each once
    # the agent's call went by the main queue's backlog: answered with most of it still waiting
    assert DONE.index("beat") < SLOW_CALLS // 2, DONE
    assert sorted(x for x in DONE if x != "beat") == list(range(SLOW_CALLS))


def test_the_lane_answers_only_its_own_methods(container_factory, rabbit_config):
    container_factory(Desk, rabbit_config).start()
    with ClusterRpcProxy(rabbit_config, timeout=10) as cluster:
        lane = getattr(cluster, lane_target("desk", "agents"))
        assert lane.beat() == "alive"
        try:
            lane.slow(1)
            raise AssertionError("a main-queue method answered on the lane")
        except Exception as exc:
            assert type(exc).__name__ == "MethodNotFound" or "MethodNotFound" in str(exc)
        assert cluster.desk.slow(7) == 7
