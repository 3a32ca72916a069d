"""Where a build's (and an audit's) work runs: local processes or a Ray cluster, behind one interface.

An executor maps a picklable function over work items and yields the results **in the items'
order**, however the work was spread; so the caller's loop (the build writing shards and its
manifest, the audit collecting its results) is the same for every engine, and so is its output.

- ``local``: ``num_proc`` spawned processes (a ``multiprocessing`` pool), or this process alone for 1.
- ``ray``: plain Ray tasks (not Ray Data: see docs/distributed.md), on the cluster at ``ray_address``
  (``auto``, or the head's ``HOST:PORT``), or on a Ray instance of its own started here when no
  address is given. Items go out in batches with a bounded number in flight, each task asking for
  one CPU and the memory one worker needs; a batch lost with its worker or node (killed, out of
  memory, the node gone) is sent again, up to :data:`MAX_ATTEMPTS` times, and each such loss is
  reported. An error raised by the work itself is not retried (the same item would
  fail again): it stops the run.

Nothing here knows what the work is: the build renders rows, the audit checks families.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = [
    "ENGINES",
    "MAX_ATTEMPTS",
    "Executor",
    "LocalExecutor",
    "RayExecutor",
    "add_engine_arguments",
    "check_engine",
    "open_executor",
    "ray_address",
]

ENGINES = ("local", "ray")
MAX_ATTEMPTS = 4  # a batch lost with its worker is sent again up to 3 times
_ADDRESS = re.compile(r"^(?P<host>[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5})$")


def ray_address(text: str) -> str:
    """``auto`` or ``HOST:PORT`` (the head node's GCS address, as ``ray start --head`` prints it)."""
    if text == "auto":
        return text
    match = _ADDRESS.match(text)
    if not match or not 1 <= int(match["port"]) <= 65535:
        raise ValueError(f"a Ray address is 'auto' or HOST:PORT with a port in 1..65535 (e.g. 10.0.0.5:6379), got {text!r}")
    return text


def add_engine_arguments(parser: Any) -> None:
    """``--engine`` and ``--ray-address``: where a command's work runs."""
    from .argtypes import ray_address as ray_address_type

    parser.add_argument(
        "--engine", choices=ENGINES, default="local", help="local: processes on this machine (default); ray: tasks on a Ray cluster"
    )
    parser.add_argument(
        "--ray-address",
        type=ray_address_type,
        default=None,
        metavar="auto|HOST:PORT",
        help="with --engine ray: the cluster to use ('auto': the one this machine belongs to; default: start Ray on this machine)",
    )


def check_engine(engine: str, ray_address_: str | None = None, num_proc: int | None = None) -> None:
    """Refuse an engine setting that cannot work, before any work: an unknown engine, an address
    without Ray, Ray not installed, a bad worker count."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; valid engines: {', '.join(ENGINES)}")
    if ray_address_ is not None:
        if engine != "ray":
            raise ValueError("--ray-address needs --engine ray")
        ray_address(ray_address_)
    if num_proc is not None and (isinstance(num_proc, bool) or not isinstance(num_proc, int) or num_proc < 1):
        raise ValueError(f"num_proc must be at least 1, got {num_proc!r}")
    if engine == "ray":
        from .extras import require

        require("ray", "--engine ray")


class Executor:
    """Maps a function over items, yielding results in the items' order (a context manager)."""

    description = ""
    in_process = False  # whether the work runs in this very process (then it may call back into it)

    def imap(self, fn: Callable[[Any], Any], items: Iterable[Any], batch: int = 1) -> Iterator[Any]:
        raise NotImplementedError

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


class LocalExecutor(Executor):
    """A process pool for ``num_proc`` > 1, this process otherwise (a single process stays debuggable)."""

    def __init__(self, num_proc: int = 1):
        self.num_proc = num_proc
        self.in_process = num_proc == 1
        self.pool = None
        self.description = f"{num_proc} local process{'es' if num_proc > 1 else ''}"

    def __enter__(self) -> LocalExecutor:
        if self.num_proc > 1:
            with _one_math_thread_each():
                self.pool = multiprocessing.get_context("spawn").Pool(self.num_proc)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.pool is not None:
            self.pool.terminate() if exc[0] else self.pool.close()
            self.pool.join()

    def imap(self, fn: Callable[[Any], Any], items: Iterable[Any], batch: int = 1) -> Iterator[Any]:
        return self.pool.imap(fn, items, chunksize=batch) if self.pool else map(fn, items)


# The math libraries' own thread pools (numpy's OpenBLAS, OpenMP): num_proc workers, one core each.
_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def _one_math_thread_each() -> Iterator[None]:
    """Workers spawned inside start their math libraries with one thread (unless the user chose a
    number). Each worker already has a core of its own: a BLAS pool of its own per worker would put
    several threads on each core, and OpenBLAS's spinning threads then slow every solve many times
    over. Spawned processes read these variables at start, so the parent's own setting is restored."""
    unset = [name for name in _THREAD_VARIABLES if name not in os.environ]
    os.environ.update(dict.fromkeys(unset, "1"))
    try:
        yield
    finally:
        for name in unset:
            os.environ.pop(name, None)


def _run_batch(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    return [fn(item) for item in items]


def _worker_identity() -> dict[str, str]:
    import synrl_hf
    from synrl_hf.version import GENERATOR_VERSION, __version__

    return {"version": __version__, "generator": GENERATOR_VERSION, "file": synrl_hf.__file__}


class RayExecutor(Executor):
    """Ray tasks on the cluster at ``address`` (a Ray instance with ``num_proc`` CPUs started here when None).

    ``num_proc`` on a cluster caps the tasks running at once (default: every CPU of the cluster);
    ``task_memory`` (bytes) is what each task asks Ray for, so no node takes more tasks than its
    memory holds. ``log`` receives one line per lost batch (and the connection line).
    """

    def __init__(
        self, address: str | None = None, num_proc: int | None = None, task_memory: int = 0, log: Callable[[str], None] | None = None
    ):
        self.address, self.num_proc, self.task_memory = address, num_proc, task_memory
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.started_ray = False
        self.window = 0
        self.lost = 0  # batches sent again after their worker or node was lost

    def __enter__(self) -> RayExecutor:
        import logging

        import ray

        from .version import GENERATOR_VERSION, __version__

        if not ray.is_initialized():
            try:
                if self.address is None:  # "local": a new Ray of its own, not one that RAY_ADDRESS or a `ray start` here names
                    ray.init(address="local", num_cpus=self.num_proc, include_dashboard=False, logging_level=logging.WARNING)
                else:
                    ray.init(address=self.address, logging_level=logging.WARNING)
            except ConnectionError as error:
                raise ValueError(
                    f"cannot reach a Ray cluster at {self.address!r} ({error}); start one with `ray start --head` "
                    "and pass the address it prints (or 'auto' on one of its nodes)"
                ) from None
            self.started_ray = True
        try:
            self._check_cluster(ray)
            identity = ray.get(ray.remote(_worker_identity).options(num_cpus=1).remote())
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        if (identity["version"], identity["generator"]) != (__version__, GENERATOR_VERSION):
            self.__exit__(None, None, None)
            raise ValueError(
                f"the Ray workers run synrl-hf {identity['version']} (generator {identity['generator']}, from {identity['file']}) but this "
                f"driver runs {__version__} (generator {GENERATOR_VERSION}): the same arguments would not give the same data; "
                "install the same synrl-hf on every node"
            )
        self.description = (
            f"Ray at {ray.get_runtime_context().gcs_address}: {self.nodes} node(s), {self.cpus:g} CPU(s), "
            f"up to {self.window} task(s) in flight; workers import synrl_hf {identity['version']} from {identity['file']}"
        )
        return self

    def _check_cluster(self, ray: Any) -> None:
        alive = [node for node in ray.nodes() if node["Alive"]]
        self.nodes = len(alive)
        self.cpus = sum(node["Resources"].get("CPU", 0) for node in alive)
        fits = [node for node in alive if node["Resources"].get("CPU", 0) >= 1 and node["Resources"].get("memory", 0) >= self.task_memory]
        if not fits:
            gib = 2**30
            largest = max((node["Resources"].get("memory", 0) for node in alive), default=0)
            raise ValueError(
                f"no node of the Ray cluster can run a task: each needs 1 CPU and about {self.task_memory / gib:.1f} GiB "
                f"(the largest node offers {largest / gib:.1f} GiB to tasks, and the cluster {self.cpus:g} CPU(s)); "
                "use a lower resolution or larger nodes"
            )
        # A cap asked for is kept; otherwise twice the CPUs, so each worker has its next batch waiting.
        self.window = self.num_proc if self.num_proc and self.address is not None else 2 * max(1, int(self.cpus))

    def __exit__(self, *exc: Any) -> None:
        if self.started_ray:
            import ray

            ray.shutdown()
            self.started_ray = False

    def imap(self, fn: Callable[[Any], Any], items: Iterable[Any], batch: int = 1) -> Iterator[Any]:
        import ray
        from ray.exceptions import RayError, RayTaskError

        resources = {"num_cpus": 1, **({"memory": self.task_memory} if self.task_memory else {})}
        remote = ray.remote(_run_batch).options(max_retries=0, **resources)  # losses are retried below, where they are seen
        fn_ref = ray.put(fn)
        source = iter(items)
        in_flight: dict[Any, tuple[int, list[Any], int]] = {}  # ref → (batch number, items, attempt)
        finished: dict[int, list[Any]] = {}
        submitted = next_out = 0
        try:
            while True:
                while len(in_flight) + len(finished) < self.window:
                    items_ = list(itertools.islice(source, batch))
                    if not items_:
                        break
                    in_flight[remote.remote(fn_ref, items_)] = (submitted, items_, 1)
                    submitted += 1
                if next_out in finished:
                    yield from finished.pop(next_out)
                    next_out += 1
                    continue
                if not in_flight:
                    return
                (ref,), _ = ray.wait(list(in_flight), num_returns=1)
                number, items_, attempt = in_flight.pop(ref)
                try:
                    finished[number] = ray.get(ref)
                except RayTaskError as error:  # the work itself failed: the same items would fail again
                    raise error.as_instanceof_cause() from None
                except RayError as error:  # the worker, its node or the result was lost
                    if attempt >= MAX_ATTEMPTS:
                        raise RuntimeError(
                            f"a batch of {len(items_)} item(s) was lost {attempt} times, the last time with: {error}"
                        ) from None
                    self.lost += 1
                    reason = str(error).strip().split(". ")[0][:200] or type(error).__name__
                    self.log(
                        f"ray: lost a batch of {len(items_)} item(s) ({type(error).__name__}: {reason}); sending it again (attempt {attempt + 1})"
                    )
                    in_flight[remote.remote(fn_ref, items_)] = (number, items_, attempt + 1)
        finally:  # stopped early (an error, an interrupt): nothing keeps running for nobody
            for ref in in_flight:
                try:
                    ray.cancel(ref, force=True)
                except RayError:
                    pass


def open_executor(
    engine: str, num_proc: int | None = None, address: str | None = None, task_memory: int = 0, log: Callable[[str], None] | None = None
) -> Executor:
    """The executor for ``engine`` (checked with :func:`check_engine` first); enter it to start it."""
    check_engine(engine, address, num_proc)
    if engine == "ray":
        return RayExecutor(address, num_proc, task_memory, log)
    return LocalExecutor(num_proc or 1)
