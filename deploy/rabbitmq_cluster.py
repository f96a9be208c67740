"""A RabbitMQ cluster of three nodes (or more) on this machine, each with its own ports and data folder, joined
into one cluster: what the benches kill nodes of, and a way to try AOS on quorum queues
(`AOS_QUORUM_QUEUES=true`, `AOS_AMQP_URI` the cluster's URIs joined with `;`, which kombu fails over between).

    python -m deploy.rabbitmq_cluster FOLDER [--nodes 3] [--port 5711]    (runs until Ctrl-C)

Uses the Debian package's scripts; the nodes share an Erlang cookie in FOLDER, never the system broker's."""
import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
CTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"


class Cluster:
    def __init__(self, folder, nodes=3, port=5711):
        self.folder, self.count, self.port = Path(folder), nodes, port
        self.children = {}

    def name(self, i):
        return f"aos{self.port}n{i}@localhost"

    def amqp_port(self, i):
        return self.port + i

    def uri(self):
        """Every node's AMQP address: kombu tries the next when one is gone."""
        return ";".join(f"amqp://guest:guest@127.0.0.1:{self.amqp_port(i)}/" for i in range(self.count))

    def _env(self, i):
        home = self.folder / f"node{i}"
        return dict(os.environ, HOME=str(self.folder), RABBITMQ_NODENAME=self.name(i),
                    RABBITMQ_NODE_PORT=str(self.amqp_port(i)), RABBITMQ_DIST_PORT=str(self.port + 100 + i),
                    RABBITMQ_MNESIA_BASE=str(home / "mnesia"), RABBITMQ_LOG_BASE=str(home / "log"),
                    RABBITMQ_CONFIG_FILE=str(home / "rabbitmq.conf"),
                    RABBITMQ_ENABLED_PLUGINS_FILE=str(home / "enabled_plugins"),
                    RABBITMQ_PID_FILE=str(home / "pid"),
                    ERL_CRASH_DUMP=str(home / "erl_crash.dump"))  # a node that fails writes it here, not in our cwd

    def ctl(self, i, *args, check=True):
        """rabbitmqctl against node i: only the cookie's HOME (the CLI is an Erlang node of its own, and would
        take a node's distribution port from its variables)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("RABBITMQ_")} | {"HOME": str(self.folder)}
        return subprocess.run([CTL, "-n", self.name(i), *args], env=env, capture_output=True, text=True,
                              check=check, timeout=120, cwd=self.folder)

    def start_node(self, i):
        home = self.folder / f"node{i}"
        home.mkdir(parents=True, exist_ok=True)
        (home / "rabbitmq.conf").write_text(f"listeners.tcp.default = {self.amqp_port(i)}\n")
        (home / "enabled_plugins").write_text("[].\n")
        self.children[i] = subprocess.Popen([SERVER], env=self._env(i), stdout=open(home / "server.log", "ab"),
                                            stderr=subprocess.STDOUT, start_new_session=True, cwd=home)
        deadline = time.monotonic() + 90
        while self.ctl(i, "await_startup", check=False).returncode != 0:  # until its VM answers at all
            if time.monotonic() > deadline or self.children[i].poll() is not None:
                raise RuntimeError(f"RabbitMQ node {self.name(i)} did not start; see {home / 'server.log'}")
            time.sleep(0.5)

    def start(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        cookie = self.folder / ".erlang.cookie"
        if not cookie.exists():
            cookie.write_text(secrets.token_hex(20))
            cookie.chmod(0o400)
        for i in range(self.count):
            self.start_node(i)
        for i in range(1, self.count):
            self.ctl(i, "stop_app")
            self.ctl(i, "join_cluster", self.name(0))
            self.ctl(i, "start_app")
        return self

    def running(self):
        """The nodes the cluster sees running, asked of any node that answers."""
        for i in range(self.count):
            answer = self.ctl(i, "cluster_status", "--formatter", "json", check=False)
            if answer.returncode == 0:
                return sorted(json.loads(answer.stdout)["running_nodes"])
        return []

    def kill(self, i):
        """SIGKILL node i's Erlang VM: a machine lost, no goodbye to its peers."""
        pid = int((self.folder / f"node{i}" / "pid").read_text().strip())
        os.kill(pid, signal.SIGKILL)
        self.children[i].wait(timeout=30)

    def restart(self, i):
        """The node comes back and rejoins (its membership is on its disk)."""
        self.start_node(i)

    def stop(self):
        for i in range(self.count):
            self.ctl(i, "stop", check=False)
        for child in self.children.values():
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m deploy.rabbitmq_cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--port", type=int, default=5711)
    args = parser.parse_args(argv)
    with Cluster(args.folder, args.nodes, args.port) as cluster:
        print(f"RabbitMQ cluster running: {', '.join(cluster.running())}\n"
              f"AOS_AMQP_URI='{cluster.uri()}' AOS_QUORUM_QUEUES=true", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
