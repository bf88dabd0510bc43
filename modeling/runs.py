"""MLflow runs that never stay RUNNING after their process is gone.

MLflow ends a run as FAILED when an exception leaves its `start_run` block,
but a terminating signal ends the process without one, and nothing runs
after `kill -9`. So training (1) turns SIGTERM and SIGHUP into an exception
inside its runs (`failing_on_signals`), and (2) tags every run with the host
and process that own it, and when it starts marks FAILED the RUNNING runs of
its experiment whose process on this host no longer exists
(`fail_dangling_runs`).
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from mlflow import MlflowClient

HOST_TAG, PID_TAG = "process.host", "process.pid"
DANGLING_REASON = "its process ended without finishing the run (killed)"


def process_tags() -> dict[str, str]:
    """Tags naming the process that owns a run."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


@contextmanager
def failing_on_signals(signals=(signal.SIGTERM, signal.SIGHUP)) -> Iterator[None]:
    """Within the block, these signals raise SystemExit(128 + signal), so that the
    runs open in it end as FAILED (signal handlers exist in the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    previous = {number: signal.signal(number, stop) for number in signals}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def fail_dangling_runs(client: MlflowClient, experiment_id: str) -> list[str]:
    """Mark FAILED the RUNNING runs of the experiment that a process of this host
    owned and that process is gone; returns their ids. Runs of other hosts are
    left alone (their processes cannot be seen from here)."""
    host = socket.gethostname().replace("'", "")
    found = client.search_runs(
        [experiment_id],
        filter_string=f"attributes.status = 'RUNNING' and tags.`{HOST_TAG}` = '{host}'",
    )
    dangling = [
        run.info.run_id
        for run in found
        if run.data.tags.get(PID_TAG, "").isdigit() and not is_running(int(run.data.tags[PID_TAG]))
    ]
    for run_id in dangling:
        client.set_tag(run_id, "error", DANGLING_REASON)
        client.set_terminated(run_id, "FAILED")
    return dangling
