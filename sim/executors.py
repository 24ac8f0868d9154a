"""Where the runs of an ensemble execute: this machine's processes, or Dask.

One interface for every command that runs many simulations: `map(function,
tasks)` yields `(key, result)` as each task finishes, in whatever order; the
caller assembles results by key, so the numbers never depend on the executor
or on the number of workers.

* `LocalExecutor(jobs)`: in this process when jobs is 1, else a process pool
  started with forkserver (workers do not inherit this process's threads).
  Each worker runs the compiled kernels on one thread: the workers already
  fill the cores, and more threads than cores only contend (with two Dask
  workers of two kernel threads each on two cores, an ensemble took 4.5 times
  as long).  The results do not depend on the number of threads.
* `DaskExecutor(address, jobs)`: a Dask distributed cluster at `address`
  (tcp://HOST:PORT, or the ZJSIM_SCHEDULER environment variable), or a
  LocalCluster of `jobs` single-threaded worker processes when no address is
  given; its tasks too run the kernels on one thread.  Tasks are retried on
  another worker if theirs dies.  Dask is an
  optional extra: `pip install -e '.[dask]'`.
"""

import concurrent.futures
import contextlib
import multiprocessing
import os
import re
import socket
from collections.abc import Callable, Iterator

from .errors import InputError

SCHEDULER_VARIABLE = "ZJSIM_SCHEDULER"
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}


def single_threaded_kernels() -> None:
    """Run the compiled kernels called from this thread on one thread.

    Through `numba.set_num_threads`, not the NUMBA_NUM_THREADS variable: a
    worker may have imported numba already (the forkserver preloads the main
    module), and numba refuses to compile once that variable disagrees with
    the threads it has launched."""
    import numba

    numba.set_num_threads(1)


def call_single_threaded(function: Callable, *args):
    """function(*args) with the compiled kernels on one thread (numba's thread
    count is per calling thread, and Dask runs tasks in a worker thread)."""
    single_threaded_kernels()
    return function(*args)


class LocalExecutor:
    name = "local"

    def __init__(self, jobs: int = 1):
        self.jobs = jobs

    def map(self, function: Callable, tasks: dict) -> Iterator[tuple]:
        if self.jobs == 1:
            for key, args in tasks.items():
                yield key, function(*args)
            return
        with self.futures() as pool:
            futures = {pool.submit(function, *args): key for key, args in tasks.items()}
            for future in concurrent.futures.as_completed(futures):
                yield futures[future], future.result()

    @contextlib.contextmanager
    def futures(self) -> Iterator[concurrent.futures.Executor]:
        """The pool as a concurrent.futures executor (for pyabc's sampler)."""
        context = multiprocessing.get_context("forkserver")
        with concurrent.futures.ProcessPoolExecutor(max_workers=self.jobs, mp_context=context,
                                                    initializer=single_threaded_kernels) as pool:
            yield pool


class DaskExecutor:
    name = "dask"

    def __init__(self, address: str | None = None, jobs: int = 2):
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise InputError("--executor dask needs Dask distributed: pip install -e '.[dask]'") from None
        self.address = address or os.environ.get(SCHEDULER_VARIABLE) or None
        self.jobs = jobs

    @contextlib.contextmanager
    def client(self):
        """A client of the scheduler at `address`, or of a LocalCluster of `jobs` workers."""
        from distributed import Client, LocalCluster

        cluster = None
        try:
            if self.address:
                client = Client(self.address, timeout="20s")
            else:
                import dask

                # The cluster's own bookkeeping takes the interpreter lock
                # from the simulation, and this cluster serves no dashboard:
                # no sampling of the tasks' stacks every 10 ms (the
                # dashboard's profile); the event loops' health checks, the
                # system monitor and the memory monitor every second or
                # five instead of every 20, 500 and 100 ms (Dask's defaults).
                # An ensemble took 6% less CPU time on the cluster with the
                # last three (benchmarks/README.md, thirteenth round).
                with dask.config.set(LOCAL_CLUSTER_CONFIG):
                    cluster = LocalCluster(n_workers=self.jobs, threads_per_worker=1, processes=True,
                                           dashboard_address=None, host="127.0.0.1")
                client = Client(cluster)
        except OSError as err:
            raise InputError(f"cannot reach the Dask scheduler at {self.address} ({err})", key="--scheduler") from None
        try:
            yield client
        finally:
            client.close()
            if cluster is not None:
                cluster.close()

    def map(self, function: Callable, tasks: dict) -> Iterator[tuple]:
        from distributed import as_completed

        with self.client() as client:
            futures = {client.submit(call_single_threaded, function, *args, pure=False, retries=2): key
                       for key, args in tasks.items()}
            for future in as_completed(futures):
                yield futures[future], future.result()

    @contextlib.contextmanager
    def futures(self) -> Iterator[concurrent.futures.Executor]:
        """The cluster as a concurrent.futures executor (for pyabc's sampler); tasks
        are retried on another worker if theirs dies."""
        with self.client() as client:
            yield client.get_executor(pure=False, retries=2)


ADDRESS = re.compile(r"^(?:(?P<protocol>tcp|tls)://)?(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(?P<port>[0-9]{1,5})$")


def check_scheduler(address: str) -> str:
    """A scheduler address, tcp://HOST:PORT (or tls://, or HOST:PORT), checked
    for form and reached within 5 s, before anything is written."""
    match = ADDRESS.match(address.strip())
    if not match or not 0 < int(match["port"]) < 65536:
        raise InputError(f"{address!r} is not a scheduler address; expected tcp://HOST:PORT", key="--scheduler")
    try:
        socket.create_connection((match["host"].strip("[]"), int(match["port"])), timeout=5).close()
    except OSError as err:
        raise InputError(f"cannot reach the Dask scheduler at {address} ({err.strerror or err.__class__.__name__})",
                         key="--scheduler") from None
    return address.strip()


def make_executor(kind: str, jobs: int, scheduler: str | None = None):
    if kind == "local":
        if scheduler:
            raise InputError("--scheduler is only for --executor dask", key="--scheduler")
        return LocalExecutor(jobs)
    if kind == "dask":
        address = scheduler or os.environ.get(SCHEDULER_VARIABLE) or None
        return DaskExecutor(check_scheduler(address) if address else None, jobs)
    raise InputError(f"unknown executor {kind!r}; allowed: local, dask", key="--executor")
