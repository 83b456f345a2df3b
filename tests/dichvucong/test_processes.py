"""Children die with the process that owns them (dbt under a build, landing workers under a landing)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

OWNER = {
    "run_owned": """
        from dichvucong.processes import run_owned
        run_owned(["sleep", "300"])
    """,
    "pool": """
        import multiprocessing, os, time
        from concurrent.futures import ProcessPoolExecutor
        from dichvucong.processes import die_with_parent
        if __name__ == "__main__":
            with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"),
                                     initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
                list(pool.map(time.sleep, [300, 300]))
    """,
}


def _wait(condition, seconds: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("kind", sorted(OWNER))
def test_children_die_when_their_owner_is_killed(kind: str) -> None:
    owner = subprocess.Popen([sys.executable, "-c", textwrap.dedent(OWNER[kind])], start_new_session=True)
    process = psutil.Process(owner.pid)
    try:
        expected = 1 if kind == "run_owned" else 3  # the pool: two workers and the resource tracker
        assert _wait(lambda: len(process.children(recursive=True)) >= expected), process.children(recursive=True)
        time.sleep(0.5)  # the workers have run their initializer
        children = process.children(recursive=True)
        os.kill(owner.pid, signal.SIGKILL)  # no handler, no finally: only the kernel can act
        owner.wait(10)
        assert _wait(lambda: not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children)), [
            (c.pid, c.cmdline()) for c in children if c.is_running()]
    finally:
        try:
            os.killpg(owner.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_an_interrupted_owner_kills_and_reaps_its_child() -> None:
    from dichvucong.processes import run_owned

    owner = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import signal, sys
        from dichvucong.processes import run_owned
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))  # as a task's SIGTERM raises in Python
        run_owned(["sleep", "300"])
    """)], start_new_session=True)
    process = psutil.Process(owner.pid)
    try:
        assert _wait(lambda: bool(process.children()))
        child = process.children()[0]
        owner.send_signal(signal.SIGTERM)
        assert owner.wait(10) == 3
        assert _wait(lambda: not child.is_running())
    finally:
        try:
            os.killpg(owner.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert run_owned([sys.executable, "-c", "print('ok')"]).stdout == "ok\n"
