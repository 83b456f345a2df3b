"""The DAG files: they import, are wired as designed, and stay light to parse."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dichvucong.config import REPO_ROOT

DAGS = REPO_ROOT / "dags"


@pytest.fixture(scope="module")
def bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(str(DAGS))


def test_dags_import_without_errors(bag) -> None:
    assert not bag.import_errors
    assert set(bag.dag_ids) == {"ingest_catalog", "ingest_dossiers", "ingest_payments", "build_marts"}


@pytest.mark.parametrize("dag_id", ["ingest_catalog", "ingest_dossiers", "ingest_payments", "build_marts"])
def test_every_dag_follows_the_house_rules(bag, dag_id: str) -> None:
    dag = bag.get_dag(dag_id)
    assert dag.tags and dag.doc_md and dag.doc_md.strip().startswith("#")
    assert dag.catchup is False
    assert dag.start_date.tzinfo is not None and dag.start_date.utcoffset().total_seconds() == 0
    assert all(task.retries is not None for task in dag.tasks)


def test_ingestion_is_daily_with_real_data_intervals(bag) -> None:
    from airflow.timetables.interval import CronDataIntervalTimetable

    for source in ("catalog", "dossiers", "payments"):
        dag = bag.get_dag(f"ingest_{source}")
        assert isinstance(dag.timetable, CronDataIntervalTimetable)
        assert [t.task_id for t in dag.topological_sort()] == ["land", "validate"]
        (outlet,) = dag.get_task("validate").outlets
        assert outlet.name == f"raw_{source}"


def test_the_build_waits_for_all_three_sources_and_holds_the_single_writer_pool(bag) -> None:
    dag = bag.get_dag("build_marts")
    assert dag.max_active_runs == 1
    condition = dag.timetable.asset_condition
    assert type(condition).__name__ == "AssetAll"  # all three, not any one of them
    assert {a.name for a in condition.objects} == {"raw_catalog", "raw_dossiers", "raw_payments"}
    order = [t.task_id for t in dag.topological_sort()]
    assert order == ["check_landing", "check_freshness", "dbt_build", "validate_marts", "publish"]
    for task_id in ("dbt_build", "validate_marts", "publish"):
        assert dag.get_task(task_id).pool == "duckdb_warehouse"
    assert dag.get_task("validate_marts").retries == 0


def test_dag_files_import_nothing_heavy() -> None:
    code = (
        "import runpy, sys\n"
        f"for f in ['ingest_sources.py', 'build_marts.py']: runpy.run_path(r'{DAGS}/' + f)\n"
        "heavy = [m for m in ('duckdb', 'pandas', 'great_expectations', 'pyarrow', 'dbt') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=os.environ.copy())
    last_line = (out.stdout.strip().splitlines() or [""])[-1]
    assert last_line == "", f"DAG files import {last_line} at parse time"
