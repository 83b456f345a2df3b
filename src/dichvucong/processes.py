"""Child processes that never outlive the process that owns them.

A writer of the warehouse (dbt) or of the lake (landing workers) that survives
its owner goes on writing after the owner's task is marked failed and retried:
the retry then reads, or builds on, half of a dead run's work. On Linux each
child asks the kernel for SIGKILL when its parent dies
(`prctl(PR_SET_PDEATHSIG)`), which holds for a SIGKILL of the parent too,
where no handler or `finally` runs. Elsewhere these functions do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
from typing import Any

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None = None) -> None:
    """Make the calling process receive SIGKILL when its parent exits.

    Call it first thing in a child (a `preexec_fn`, a pool initializer).
    `parent_pid`, when given, closes the race where the parent died before the
    request was made: the child then kills itself at once.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if parent_pid is not None and os.getppid() != parent_pid:
        os.kill(os.getpid(), signal.SIGKILL)


def run_owned(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """`subprocess.run(command, text=True, capture_output=True, **kwargs)` for a child that dies
    with this process: killed by the kernel if this process is killed, and killed (then reaped)
    here if this process is interrupted while waiting (a task's SIGTERM raises in Python).

    The child is started through this module's `main`, which makes the request and then execs
    the command (the request survives exec): a `preexec_fn` would do the same but is unsafe in a
    process with threads, as Airflow's task runner is.
    """
    owned = [sys.executable, "-m", "dichvucong.processes", str(os.getpid()), *command]
    with subprocess.Popen(owned, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs) as process:
        try:
            stdout, stderr = process.communicate()
        except BaseException:
            process.kill()
            process.wait()
            raise
        return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def main(argv: list[str]) -> None:
    """`python -m dichvucong.processes PARENT_PID COMMAND...`: exec COMMAND, bound to PARENT_PID's life."""
    parent, command = int(argv[0]), argv[1:]
    die_with_parent(parent)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
