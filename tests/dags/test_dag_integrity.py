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


def test_a_provinces_file_gives_each_province_its_own_dags_assets_and_pool(tmp_path, monkeypatch) -> None:
    from airflow.dag_processing.dagbag import DagBag

    config = tmp_path / "provinces.yml"
    config.write_text(f"home: {tmp_path}\nprovinces:\n  - {{slug: vinh_phuc, code: '26', name: Tỉnh Vĩnh Phúc}}\n"
                      "  - {slug: bac_ninh, code: '27', name: Tỉnh Bắc Ninh}\n", encoding="utf-8")
    monkeypatch.setenv("DVC_PROVINCES_FILE", str(config))
    bag = DagBag(str(DAGS))
    assert not bag.import_errors
    expected = {f"{dag}__{slug}" for dag in ("ingest_catalog", "ingest_dossiers", "ingest_payments", "build_marts")
                for slug in ("vinh_phuc", "bac_ninh")}
    assert set(bag.dag_ids) == expected | {"national_ranking"}
    for slug in ("vinh_phuc", "bac_ninh"):
        build = bag.get_dag(f"build_marts__{slug}")
        assert {t.pool for t in build.tasks if t.task_id in ("dbt_build", "validate_marts", "publish")} == {
            f"duckdb_warehouse__{slug}"}
        assert [o.name for o in build.get_task("publish").outlets] == [f"published_marts__{slug}"]
        validate = bag.get_dag(f"ingest_dossiers__{slug}").get_task("validate")
        assert [o.name for o in validate.outlets] == [f"raw_dossiers__{slug}"]
    national = bag.get_dag("national_ranking")
    assert "published_marts__vinh_phuc" in str(national.timetable.asset_condition)
    assert "published_marts__bac_ninh" in str(national.timetable.asset_condition)
