"""Training runs never stay RUNNING after their process is gone (modeling.runs)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import mlflow
from mlflow import MlflowClient

from modeling import runs

REPO = Path(__file__).resolve().parents[2]

# A training stand-in: opens a parent and a child run the way modeling.train
# does, says so, and waits to be stopped.
HOLDER = textwrap.dedent(
    """
    import sys, time, mlflow
    from modeling import runs
    mlflow.set_experiment("holder")
    with runs.failing_on_signals(), mlflow.start_run(tags=runs.process_tags()) as parent:
        with mlflow.start_run(nested=True, tags=runs.process_tags()) as child:
            print(parent.info.run_id, child.info.run_id, flush=True)
            time.sleep(120)
    """
)


def start_holder(tmp_path: Path) -> tuple[subprocess.Popen, list[str]]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    return holder, holder.stdout.readline().split()


def statuses(run_ids: list[str]) -> list[str]:
    return [MlflowClient().get_run(run_id).info.status for run_id in run_ids]


def test_a_terminated_training_fails_its_runs(mlflow_store, tmp_path):
    mlflow.set_tracking_uri(mlflow_store)
    holder, run_ids = start_holder(tmp_path)
    assert statuses(run_ids) == ["RUNNING", "RUNNING"]
    holder.send_signal(signal.SIGTERM)
    assert holder.wait(timeout=60) == 128 + signal.SIGTERM
    assert statuses(run_ids) == ["FAILED", "FAILED"]


def test_runs_of_a_killed_training_are_failed_by_the_next_one(mlflow_store, tmp_path):
    mlflow.set_tracking_uri(mlflow_store)
    holder, run_ids = start_holder(tmp_path)
    holder.kill()  # SIGKILL: nothing runs in the process after it
    holder.wait(timeout=60)
    assert statuses(run_ids) == ["RUNNING", "RUNNING"]

    # A run of a live process (this one) and one of another host stay as they are.
    experiment = mlflow.set_experiment("holder").experiment_id
    with mlflow.start_run(tags=runs.process_tags()) as alive:
        pass
    MlflowClient().update_run(alive.info.run_id, status="RUNNING")
    elsewhere = MlflowClient().create_run(
        experiment, tags={runs.HOST_TAG: "another-host", runs.PID_TAG: str(holder.pid)}
    )
    assert sorted(runs.fail_dangling_runs(MlflowClient(), experiment)) == sorted(run_ids)
    assert statuses(run_ids) == ["FAILED", "FAILED"]
    assert MlflowClient().get_run(run_ids[0]).data.tags["error"] == runs.DANGLING_REASON
    assert statuses([alive.info.run_id, elsewhere.info.run_id]) == ["RUNNING", "RUNNING"]
