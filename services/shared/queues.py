"""The queues a service consumes from, as nameko's entrypoints declare them, with one setting more: with
`AOS_QUORUM_QUEUES=true` every durable queue a service shares with its replicas (its RPC queue, its events'
queues) is a quorum queue, replicated over the RabbitMQ cluster's nodes (a node lost loses no message; publisher
confirms come once a majority has it). Queues that live only as long as one consumer (RPC replies, a gateway's
broadcast queue) stay classic: a quorum queue cannot be exclusive or auto-deleted.

A queue's type is fixed when it is first declared: turning this on for a broker that already has the classic
queues needs them deleted first (a new vhost, say)."""
import functools
import logging
import sys

import eventlet
import eventlet.event
import nameko.messaging
from kombu import Queue
from kombu.serialization import dumps, registry
from nameko.amqp.publish import Publisher
from nameko.constants import (AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY, DEFAULT_TRANSPORT_OPTIONS,
                              LOGIN_METHOD_CONFIG_KEY, NON_PERSISTENT)
from nameko.events import EventHandler
from nameko.exceptions import ContainerBeingKilled, MethodNotFound, UnserializableValueError, serialize
from nameko.rpc import ReplyListener, Rpc, RpcConsumer, get_rpc_exchange
from nameko.rpc import RpcProxy as NamekoRpcProxy

from services.shared import wire  # noqa: F401  importing it makes orjson kombu's json codec

QUORUM = {"x-queue-type": "quorum"}

log = logging.getLogger(__name__)


class QueueConsumer(nameko.messaging.QueueConsumer):
    """nameko's, but a message whose connection the broker reset under it (a node restarted, lost) is left to
    the broker, which hands it out again, instead of killing the process: nameko catches amqp's ConnectionError
    there, not the socket's own. Handlers are idempotent (Store.first_delivery), so the second delivery is
    harmless. One instance per process serves every consumer below (nameko shares an extension by its class)."""

    def ack_message(self, message):
        try:
            super().ack_message(message)
        except OSError as exc:
            log.warning("a message's acknowledgement was lost with its connection (%s): it comes again", exc)

    def requeue_message(self, message):
        try:
            super().requeue_message(message)
        except OSError as exc:
            log.warning("a message's requeue was lost with its connection (%s): it comes again", exc)


def _quorum(queue, config):
    if config.get("QUORUM_QUEUES") and queue.durable and not queue.auto_delete and not queue.exclusive:
        queue.queue_arguments = {**(queue.queue_arguments or {}), **QUORUM}


class SharedRpcConsumer(RpcConsumer):
    queue_consumer = QueueConsumer()
    def setup(self):
        super().setup()
        _quorum(self.queue, self.container.config)

    def handle_result(self, message, result, exc_info):
        result, exc_info = answer(self.container.config, message, result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


def answer(config, message, result, exc_info):
    """An RPC's reply, as nameko's Responder sends it but encoded once, not twice (nameko encodes the result to
    see that it can, then again to send it), and neither persistent nor confirmed: a reply lives in a transient
    queue that dies with its caller, and a caller whose reply is lost times out as it would if the broker had
    lost it after confirming."""
    error = serialize(exc_info[1]) if exc_info is not None else None
    content_type = message.properties["content_type"]
    serializer = registry.type_to_name[content_type]  # answered as asked
    try:
        _, encoding, body = dumps({"result": result, "error": error}, serializer)
    except Exception:  # a result that cannot be encoded is the caller's error, not a dead worker's
        exc_info = sys.exc_info()
        result, error = None, serialize(UnserializableValueError(result))
        _, encoding, body = dumps({"result": None, "error": error}, serializer)
    publisher = Publisher(config[AMQP_URI_CONFIG_KEY], ssl=config.get(AMQP_SSL_CONFIG_KEY),
                          login_method=config.get(LOGIN_METHOD_CONFIG_KEY), use_confirms=False,
                          delivery_mode=NON_PERSISTENT)
    # transport options of its own: nameko's Publisher writes `confirm_publish` into one dict all its publishers
    # share, and a pooled connection keeps that dict; written False here, it could leave a confirming publisher
    # on a channel never put in confirm mode, waiting for ever for the broker's ack
    publisher.publish(body, content_type=content_type, content_encoding=encoding, exchange=get_rpc_exchange(config),
                      routing_key=message.properties["reply_to"],
                      correlation_id=message.properties.get("correlation_id"),
                      transport_options=dict(DEFAULT_TRANSPORT_OPTIONS))
    return result, exc_info


class ServiceRpc(Rpc):
    rpc_consumer = SharedRpcConsumer()


def lane_target(service, lane):
    """The name callers give RpcProxy for a service's lane: `programming-agents`."""
    return f"{service}-{lane}"


class LaneRpcConsumer(SharedRpcConsumer):
    """A lane: some of a service's RPCs on a queue of their own, `rpc-<service>-<lane>`, bound to
    `<service>-<lane>.*`. The service's process takes from both queues, up to max_workers from each, so what piles
    up in one (320 sessions started in the same second) does not hold up the other (the agents' heartbeats, which
    a flash waits on). One subclass per lane (lane_rpc): nameko shares one consumer per class in a container."""
    lane = None

    def setup(self):
        self.target = lane_target(self.container.service_name, self.lane)
        if self.queue is None:
            self.queue = Queue(f"rpc-{self.target}", exchange=get_rpc_exchange(self.container.config),
                               routing_key=f"{self.target}.*", durable=True)
            self.queue_consumer.register_provider(self)
            self._registered = True
        _quorum(self.queue, self.container.config)

    def get_provider_for_method(self, routing_key):
        for provider in self._providers:
            if f"{self.target}.{provider.method_name}" == routing_key:
                return provider
        raise MethodNotFound(routing_key.split(".")[-1])


@functools.cache
def lane_rpc(lane):
    """The RPC entrypoint of a lane: `@lane_rpc("agents").decorator`, or `@api(lane="agents")`."""
    consumer = type(f"{lane.title()}RpcConsumer", (LaneRpcConsumer,), {"lane": lane})
    return type(f"{lane.title()}Rpc", (ServiceRpc,), {"rpc_consumer": consumer(), "lane": lane})


class ServiceEventHandler(EventHandler):
    queue_consumer = QueueConsumer()
    def setup(self):
        super().setup()
        _quorum(self.queue, self.container.config)


class BatchEventHandler(ServiceEventHandler):
    """Takes an event type's messages in batches: those that arrive within `window` seconds of the first (up to
    the prefetch count, max_workers) go to one worker as a list, and are acknowledged together once it returns
    (requeued together when it fails and `requeue_on_error`). Where a worker's fixed cost (its dependencies, a
    transaction, a commit) is most of what handling one message costs, a batch pays it once. With no window, a
    batch is what the consumer read in one turn of the event loop: batches form only when messages queue."""

    def __init__(self, *args, window=0.0, **kwargs):
        self.window = window
        super().__init__(*args, **kwargs)

    def setup(self):
        super().setup()
        self._batch, self._full = None, None

    def handle_message(self, body, message):
        if self._batch is None:
            self._batch, self._full = [], eventlet.event.Event()
            self.container.spawn_managed_thread(self._hand_over)
        self._batch.append((body, message))
        if len(self._batch) >= self.queue_consumer.prefetch_count and not self._full.ready():
            self._full.send()  # the broker sends no more until some are acknowledged

    def _hand_over(self):
        self._full.wait(self.window)  # a window of 0 still yields: what the consumer reads meanwhile joins
        batch, self._batch = self._batch, None
        messages = [message for _, message in batch]
        try:
            self.container.spawn_worker(self, ([body for body, _ in batch],), {},
                                        context_data=self.unpack_message_headers(messages[0]),
                                        handle_result=functools.partial(self.handle_batch_result, messages))
        except ContainerBeingKilled:
            for message in messages:
                self.queue_consumer.requeue_message(message)

    def handle_batch_result(self, messages, worker_ctx, result=None, exc_info=None):
        for message in messages:
            self.handle_message_processed(message, result, exc_info)
        return result, exc_info


class TransientReplyListener(ReplyListener):
    """A process's RPC replies: a queue of its own that need not outlive it or its broker node. Durable, it
    would stay bound to a dead node by name, and the process could never declare it again on another."""
    queue_consumer = QueueConsumer()

    def setup(self):
        super().setup()
        self.queue.durable = False


class RpcProxy(NamekoRpcProxy):
    """Requests are confirmed (that is how a call to a service nobody serves fails at once) but not persistent:
    a request outliving a broker restart would find its caller's reply queue gone."""
    rpc_reply_listener = TransientReplyListener()

    def __init__(self, target_service, **options):
        super().__init__(target_service, **{"delivery_mode": NON_PERSISTENT, **options})


rpc = ServiceRpc.decorator
event_handler = ServiceEventHandler.decorator
batch_event_handler = BatchEventHandler.decorator
