"""The queues a service consumes from, as nameko's entrypoints declare them, with one setting more: with
`AOS_QUORUM_QUEUES=true` every durable queue a service shares with its replicas (its RPC queue, its events'
queues) is a quorum queue, replicated over the RabbitMQ cluster's nodes (a node lost loses no message; publisher
confirms come once a majority has it). Queues that live only as long as one consumer (RPC replies, a gateway's
broadcast queue) stay classic: a quorum queue cannot be exclusive or auto-deleted.

A queue's type is fixed when it is first declared: turning this on for a broker that already has the classic
queues needs them deleted first (a new vhost, say)."""
from nameko.events import EventHandler
from nameko.rpc import ReplyListener, Rpc, RpcConsumer
from nameko.rpc import RpcProxy as NamekoRpcProxy

QUORUM = {"x-queue-type": "quorum"}


def _quorum(queue, config):
    if config.get("QUORUM_QUEUES") and queue.durable and not queue.auto_delete and not queue.exclusive:
        queue.queue_arguments = {**(queue.queue_arguments or {}), **QUORUM}


class SharedRpcConsumer(RpcConsumer):
    def setup(self):
        super().setup()
        _quorum(self.queue, self.container.config)


class ServiceRpc(Rpc):
    rpc_consumer = SharedRpcConsumer()


class ServiceEventHandler(EventHandler):
    def setup(self):
        super().setup()
        _quorum(self.queue, self.container.config)


class TransientReplyListener(ReplyListener):
    """A process's RPC replies: a queue of its own that need not outlive it or its broker node. Durable, it
    would stay bound to a dead node by name, and the process could never declare it again on another."""

    def setup(self):
        super().setup()
        self.queue.durable = False


class RpcProxy(NamekoRpcProxy):
    rpc_reply_listener = TransientReplyListener()


rpc = ServiceRpc.decorator
event_handler = ServiceEventHandler.decorator
