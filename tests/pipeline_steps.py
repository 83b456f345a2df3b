"""The build DAGs' work as one process, stage by stage, for tests that kill it anywhere.

    python -m tests.pipeline_steps START END [FROM_STAGE]

Runs, over batch days [START, END) of the landing directory in DVC_LANDING_DIR, the task
functions the DAGs call, in their order: land every source, check the landing accounts, build
the marts, validate them, publish. It prints `STAGE <name>` before each step and `DONE <name>`
after it (flushed), and starts at FROM_STAGE when given, as a retry of a failed task and the
tasks after it would.
"""

from __future__ import annotations

import datetime as dt
import sys

# every source the main job lands, in its order (sources.md v2)
from dichvucong.landing.layout import SOURCES

STAGES = (*(f"land:{source}" for source in SOURCES), "check", "build", "validate", "publish")


def main(argv: list[str]) -> int:
    from dichvucong import tasks

    start, end = dt.date.fromisoformat(argv[0]), dt.date.fromisoformat(argv[1])
    first = STAGES.index(argv[2]) if len(argv) > 2 else 0
    as_of = f"{end.isoformat()}T00:00:00"
    for stage in STAGES[first:]:
        print(f"STAGE {stage}", flush=True)
        if stage.startswith("land:"):
            tasks.ingest(stage.removeprefix("land:"), start, end)
        elif stage == "check":
            tasks.check_landing_accounts()
        elif stage == "build":
            tasks.build_marts(as_of)
        elif stage == "validate":
            tasks.validate_marts(as_of[:10])
        else:
            tasks.publish_marts(as_of, "kill-test")
        print(f"DONE {stage}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
