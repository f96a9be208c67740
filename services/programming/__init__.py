# what an agent on a workshop's PC calls goes on a lane of the service's own (services.shared.queues.LaneRpcConsumer),
# reached as RpcProxy("programming-agents"): a heartbeat or a report mid-flash never waits behind a burst of the
# workshops' other calls
AGENTS = "agents"
