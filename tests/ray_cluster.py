"""A real multi-node Ray cluster on loopback only, for the tests of the Ray engine.

Ray binds its services to the machine's interface address, and tests must keep to loopback; so the
cluster lives in a network namespace that has nothing but ``lo`` (``unshare -n``, held open by a
``sleep`` process), and every Ray process (the nodes, the drivers that the tests run) enters it with
``nsenter``. Each node is one ``ray start --block`` process: the head, and worker nodes next to it
(their own raylet, object store and worker processes, on other ports). Killing a node's
``ray start`` process with SIGKILL takes the whole node down with it (Ray makes its children share
its fate), which is what a machine of a cluster dying looks like to the rest.

The cluster's own token (``RAY_AUTH_MODE=token``) keeps anything else on the machine out of it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RAY = str(Path(sys.executable).with_name("ray"))
HEAD_PORT = 6379
OBJECT_STORE_BYTES = 100 * 2**20

_WAIT_FOR_NODES = """
import sys, time, ray
ray.init(address=sys.argv[1], logging_level="ERROR")
deadline = time.time() + float(sys.argv[3])
while len([n for n in ray.nodes() if n["Alive"]]) != int(sys.argv[2]):
    if time.time() > deadline:
        sys.exit(f"alive nodes: {len([n for n in ray.nodes() if n['Alive']])}, wanted {sys.argv[2]}")
    time.sleep(0.2)
"""


def loopback_namespaces_unavailable() -> str | None:
    """Why this machine cannot run the cluster (None when it can)."""
    for tool in ("unshare", "nsenter", "ip"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    if not Path(RAY).exists():
        return "ray is not installed (pip install 'synrl-hf[ray]')"
    probe = subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot make a network namespace here (unshare -n needs root or user namespaces): {probe.stderr.strip()}"
    return None


class LoopbackCluster:
    """A head node with ``head_cpus`` CPUs; :meth:`add_worker` adds nodes, :meth:`kill` kills one."""

    def __init__(self, head_cpus: int = 1):
        self.root = Path(tempfile.mkdtemp(prefix="synrl-ray-"))  # short: Ray's socket paths live under it
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": secrets.token_hex(32),
            "RAY_USAGE_STATS_ENABLED": "0",
            # A killed node is declared dead within about 2 s instead of about 15 s.
            "RAY_health_check_initial_delay_ms": "1000",
            "RAY_health_check_period_ms": "500",
            "RAY_health_check_timeout_ms": "500",
            "RAY_health_check_failure_threshold": "3",
            "HF_HUB_OFFLINE": "1",
        }
        self.address = f"127.0.0.1:{HEAD_PORT}"
        self.workers: list[subprocess.Popen] = []
        self.holder = subprocess.Popen(["unshare", "-n", "bash", "-c", "ip link set lo up && exec sleep infinity"])
        deadline = time.time() + 10
        while os.readlink(f"/proc/{self.holder.pid}/ns/net") == os.readlink("/proc/self/ns/net"):
            if time.time() > deadline:
                raise RuntimeError("the network namespace did not appear")
            time.sleep(0.05)
        self.head = self._node(
            "head",
            ["--head", f"--port={HEAD_PORT}", f"--num-cpus={head_cpus}", "--include-dashboard=false", f"--temp-dir={self.root}"],
        )

    def _node(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "w")
        common = ["--block", "--node-ip-address=127.0.0.1", f"--object-store-memory={OBJECT_STORE_BYTES}", "--disable-usage-stats"]
        return self.popen([RAY, "start", *args, *common], stdout=log, stderr=subprocess.STDOUT)

    def add_worker(self, cpus: int = 1) -> subprocess.Popen:
        """A worker node (its ports apart from the other nodes' on the shared loopback)."""
        base = 52400 + 10 * len(self.workers)
        ports = [
            f"--dashboard-agent-listen-port={base}",
            f"--metrics-export-port={base + 1}",
            f"--runtime-env-agent-port={base + 2}",
            f"--dashboard-agent-grpc-port={base + 3}",
        ]
        node = self._node(f"worker{len(self.workers)}", [f"--address={self.address}", f"--num-cpus={cpus}", *ports])
        self.workers.append(node)
        return node

    def wait_for_nodes(self, count: int, timeout: float = 90) -> None:
        self.run([sys.executable, "-c", _WAIT_FOR_NODES, self.address, str(count), str(timeout)], check=True, timeout=timeout + 30)

    def kill(self, node: subprocess.Popen) -> None:
        """SIGKILL a node's ``ray start`` process: its raylet and workers die with it."""
        node.kill()
        node.wait()

    def command(self, args: list[str]) -> list[str]:
        return ["nsenter", f"--net=/proc/{self.holder.pid}/ns/net", *args]

    def run(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        """Run ``args`` inside the namespace (with the cluster's environment and token)."""
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        return subprocess.run(self.command(args), env={**self.env, **kwargs.pop("env", {})}, cwd=kwargs.pop("cwd", REPO), **kwargs)

    def popen(self, args: list[str], **kwargs) -> subprocess.Popen:
        return subprocess.Popen(self.command(args), env={**self.env, **kwargs.pop("env", {})}, cwd=kwargs.pop("cwd", REPO), **kwargs)

    def close(self) -> None:
        """Stop every node (SIGTERM: ``ray start --block`` stops its processes), then the namespace."""
        for node in [*self.workers, self.head]:
            if node.poll() is None:
                node.terminate()
        for node in [*self.workers, self.head]:
            try:
                node.wait(timeout=30)
            except subprocess.TimeoutExpired:
                node.kill()
                node.wait()
        self.holder.kill()
        self.holder.wait()
        shutil.rmtree(self.root, ignore_errors=True)
