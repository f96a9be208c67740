"""Group commit: work handed in by a process's many green threads, applied together in one transaction.

A consumer that records each fact in a transaction of its own pays a commit, a lock and a round trip per fact.
With a GroupCommit, whoever takes the turn applies everything waiting at that moment, its own item among it; the
others find theirs done when the turn comes to them. Each caller returns only once its item has committed, so a
message is still acknowledged after its effect, and under load one transaction carries many items. A group that
fails is applied again one item at a time, so a bad item fails alone, in its own caller.
"""
from eventlet.event import Event
from eventlet.semaphore import Semaphore
from nameko.extensions import DependencyProvider


class GroupCommit:
    def __init__(self, apply, most=100):
        self._apply = apply  # apply(items): all of them in one transaction, or raise
        self._most = most
        self._waiting = []
        self._turn = Semaphore()

    def __call__(self, item):
        done = Event()
        self._waiting.append((item, done))
        while not done.ready():
            with self._turn:
                if not done.ready():
                    group, self._waiting = self._waiting[:self._most], self._waiting[self._most:]
                    try:
                        self._run(group)
                    except BaseException as exc:  # this worker killed: its group's callers hear it, none waits
                        for _, other in group:
                            if not other.ready():
                                other.send_exception(exc)
                        raise
        return done.wait()

    def _run(self, group):
        try:
            self._apply([item for item, _ in group])
        except Exception as exc:  # noqa: BLE001  handed to the caller whose item it was
            if len(group) == 1:
                group[0][1].send_exception(exc)
                return
            for one in group:
                self._run([one])
        else:
            for _, done in group:
                done.send(None)


class GroupCommits(DependencyProvider):
    """One GroupCommit per service container, shared by its workers."""

    def __init__(self, apply, most=100):
        self.apply, self.most = apply, most
        self.group = None

    def setup(self):
        self.group = GroupCommit(self.apply, self.most)

    def get_dependency(self, worker_ctx):
        return self.group
