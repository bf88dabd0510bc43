"""Shared by the benchmark scripts: the conditions every figure is printed with,
and a way to time a command in its own process with its peak memory."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path

TIME_BIN = Path("/usr/bin/time")  # GNU time: peak RSS of exactly one process


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    python = platform.python_version()
    return f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB RAM, Python {python}"


def run_measured(cmd: list[str], env: dict | None = None, cwd: Path | None = None):
    """Run cmd to completion; return (wall seconds, peak RSS MiB or nan, stdout)."""
    timed = [str(TIME_BIN), "-f", "%M"] if TIME_BIN.exists() else []
    started = time.perf_counter()
    result = subprocess.run(
        timed + cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=cwd
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        output = result.stdout[-3000:] + result.stderr[-3000:]
        raise SystemExit(f"{' '.join(cmd[:3])} failed:\n{output}")
    peak_mib = int(result.stderr.strip().splitlines()[-1]) / 1024 if timed else float("nan")
    return elapsed, peak_mib, result.stdout
