"""The DAG files: they import, are wired as designed, stay light to parse, validate the conf
they accept, and fail a run with a deterministic error at once, without retries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dichvucong.config import REPO_ROOT
from dichvucong.landing.layout import SOURCES
from tests.conftest import main_job_env

INGEST = tuple(f"ingest_{source}" for source in SOURCES)

DAGS = REPO_ROOT / "dags"
OWNER = "dichvucong-data"


@pytest.fixture(scope="module")
def bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(str(DAGS))


def test_dags_import_without_errors(bag) -> None:
    assert not bag.import_errors
    assert set(bag.dag_ids) == {*INGEST, "build_marts", "monthly_report"}


@pytest.mark.parametrize("dag_id", [*INGEST, "build_marts", "monthly_report"])
def test_every_dag_follows_the_house_rules(bag, dag_id: str) -> None:
    dag = bag.get_dag(dag_id)
    assert dag.tags and dag.doc_md and dag.doc_md.strip().startswith("#")
    assert dag.description and len(dag.description) > 20
    assert dag.owner == OWNER and {task.owner for task in dag.tasks} == {OWNER}
    assert dag.catchup is False
    assert dag.start_date.tzinfo is not None and dag.start_date.utcoffset().total_seconds() == 0
    assert all(task.retries is not None for task in dag.tasks)


def test_ingestion_is_daily_with_real_data_intervals(bag) -> None:
    from airflow.timetables.interval import CronDataIntervalTimetable

    for source in SOURCES:
        dag = bag.get_dag(f"ingest_{source}")
        assert isinstance(dag.timetable, CronDataIntervalTimetable)
        assert [t.task_id for t in dag.topological_sort()] == ["check_layout", "land", "validate"]
        (outlet,) = dag.get_task("validate").outlets
        assert outlet.name == f"raw_{source}"


def test_the_build_waits_for_all_three_sources_and_holds_the_single_writer_pool(bag) -> None:
    dag = bag.get_dag("build_marts")
    assert dag.max_active_runs == 1
    condition = dag.timetable.asset_condition
    assert type(condition).__name__ == "AssetAll"  # all three, not any one of them
    # The required sources; the optional processing log does not hold the build back.
    assert {a.name for a in condition.objects} == {"raw_agencies", "raw_catalog", "raw_dossiers", "raw_payments"}
    order = [t.task_id for t in dag.topological_sort()]
    assert order == ["check_landing", "check_freshness", "dbt_build", "validate_marts", "publish"]
    for task_id in ("dbt_build", "validate_marts", "publish"):
        assert dag.get_task(task_id).pool == "duckdb_warehouse"
    assert dag.get_task("validate_marts").retries == 0


def _scheduler_params(dag):
    """The DAG's params as the scheduler and the API hold them (serialized and read back): what
    `create_dagrun` validates a run's conf against."""
    from airflow.serialization.serialized_objects import DagSerialization

    return DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag)).params


@pytest.mark.parametrize("dag_id", INGEST)
def test_ingestion_params_validate_the_range_conf(bag, dag_id: str) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    params = _scheduler_params(bag.get_dag(dag_id))
    assert set(params) == {"start", "end"}
    for name in ("start", "end"):
        assert params.get_param(name).schema["type"] == ["null", "string"]
        assert params.get_param(name).schema["format"] == "date"
    for conf in ({}, {"start": None, "end": None}, {"start": "2024-01-01", "end": "2024-02-01"}):
        assert params.deep_merge(conf).validate() == {"start": None, "end": None} | conf
    for conf in ({"start": "2024-02-30", "end": "2024-03-01"}, {"start": "01/02/2024", "end": "2024-03-01"},
                 {"start": "2024-01-01", "end": 20240201}, {"start": "2024-01-01T00:00:00", "end": "2024-01-02"}):
        with pytest.raises(ParamValidationError):
            params.deep_merge(conf).validate()


def test_build_params_validate_as_of(bag) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    params = _scheduler_params(bag.get_dag("build_marts"))
    assert set(params) == {"as_of"}
    # The main job's form, a date, a date-time with minutes only or with a space, and none.
    for as_of in ("2024-03-04T00:00:00", "2024-03-04", "2024-03-04T07:30", "2024-03-04 07:30:00", None):
        assert params.deep_merge({"as_of": as_of}).validate() == {"as_of": as_of}
    for as_of in ("2024-03-04T00:00:00+07:00", "2024-03-04T00:00:00Z", "2024-13-01", "2024-03-04T24:00",
                  "yesterday", 20240304):
        with pytest.raises(ParamValidationError):
            params.deep_merge({"as_of": as_of}).validate()


_RUN_DAGS = """
import json, sys, time
from airflow.dag_processing.dagbag import DagBag
from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session

bag = DagBag(sys.argv[1])
for dag_id, conf in json.loads(sys.argv[2]):
    began = time.monotonic()
    run = bag.get_dag(dag_id).test(run_conf=conf)
    with create_session() as session:
        tis = session.query(TaskInstance).filter_by(dag_id=dag_id, run_id=run.run_id).all()
        states = {ti.task_id: [str(ti.state), ti.try_number] for ti in tis}
    print("RESULT " + json.dumps({"dag_id": dag_id, "state": str(run.state), "tasks": states,
                                  "seconds": time.monotonic() - began}), flush=True)
"""


def test_a_deterministic_error_fails_an_ingestion_run_at_once_without_retries(tmp_path: Path) -> None:
    """Real dag.test runs, in a home of their own: a conf with `start` alone (which the data interval
    used to replace silently) and a landing directory without the source's folder (which used to
    land an empty day, or retry for minutes) fail `check_layout` on its first try, with a message
    naming the cause; nothing is landed. A build with an as_of that is no day fails its first task
    the same way. The retry delay is one second, so a retry would show as a second try rather than
    as a slow test."""
    home = tmp_path / "home"
    landing = tmp_path / "landing"
    (landing / "dossiers" / "2024-02-05").mkdir(parents=True)
    (landing / "payments").mkdir()
    env = main_job_env(home, DVC_LANDING_DIR=str(landing), DVC_RETRY_DELAY_SECONDS="1")
    (home / "airflow").mkdir(parents=True)
    subprocess.run(["airflow", "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    # The third: an as_of of the right shape (the param's pattern passes it) but no real day.
    runs = [["ingest_dossiers", {"start": "2024-02-05"}],
            ["ingest_catalog", {"start": "2024-02-05", "end": "2024-02-06"}],
            ["build_marts", {"as_of": "2024-02-30"}]]
    out = subprocess.run([sys.executable, "-c", _RUN_DAGS, str(DAGS), json.dumps(runs)], env=env,
                         capture_output=True, text=True, timeout=600, check=False)
    results = [json.loads(line.removeprefix("RESULT ")) for line in out.stdout.splitlines()
               if line.startswith("RESULT ")]
    assert len(results) == 3, out.stdout[-3000:] + out.stderr[-3000:]
    for result, (first, second) in zip(results, [("check_layout", "land")] * 2 + [("check_landing", "check_freshness")],
                                       strict=True):
        assert result["state"] == "failed", result
        assert result["tasks"][first] == ["failed", 1], result
        assert result["tasks"][second][0] == "upstream_failed", result
    logs = out.stdout + out.stderr
    assert "AirflowFailException: conf gives start without end" in logs
    assert "AirflowFailException: conf as_of '2024-02-30' is not a local date or date-time" in logs
    assert f"AirflowFailException: landing directory {landing} has no catalog/ folder" in logs
    assert "catalog/services_YYYYMMDD.csv" in logs and "(it holds: dossiers/, payments/)" in logs
    assert not (home / "lake" / "raw_catalog").exists() and not (home / "lake" / "raw_dossier_syncs").exists()


def test_dag_files_import_nothing_heavy() -> None:
    code = (
        "import runpy, sys\n"
        f"for f in ['ingest_sources.py', 'build_marts.py', 'monthly_report.py']: runpy.run_path(r'{DAGS}/' + f)\n"
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
    expected = {f"{dag}__{slug}" for dag in (*INGEST, "build_marts", "monthly_report")
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
    for dag_id in bag.dag_ids:
        assert bag.get_dag(dag_id).owner == OWNER and bag.get_dag(dag_id).description, dag_id
    assert "Bắc Ninh" in bag.get_dag("build_marts__bac_ninh").description
    assert "published_marts__vinh_phuc" in str(national.timetable.asset_condition)
    assert "published_marts__bac_ninh" in str(national.timetable.asset_condition)
