"""The whole chain on small generated data: the main job's command runs the real
DAGs (dag.test) over four weeks of sources spanning Lunar New Year 2024, and
the published marts are compared, value by value, with an independent plain
Python computation from the same source files (tests/reference_metrics.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests import reference_metrics as ref
from tests.conftest import SMALL_END, SMALL_START, closing_expectations, personal_values
from tests.conftest import main_job_env as _env
from tests.conftest import run_main_job as _run

AS_OF = dt.datetime.combine(SMALL_END, dt.time())
PROVINCE = "26"
TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def run(main_job_run: tuple[Path, subprocess.CompletedProcess[str]]) -> tuple[Path, subprocess.CompletedProcess[str]]:
    return main_job_run


@pytest.fixture(scope="module")
def published(run: tuple[Path, subprocess.CompletedProcess[str]]) -> duckdb.DuckDBPyConnection:
    home, _ = run
    con = duckdb.connect(str(home / "published" / "dichvucong.duckdb"), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def reference(small_landing: Path) -> tuple[dict[str, ref.Dossier], dict[tuple[str, str], ref.Payment]]:
    dossiers = ref.load_dossiers(small_landing, AS_OF)
    payments = ref.load_payments(small_landing)
    ref.reconcile(dossiers, payments)
    return dossiers, payments


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_main_job_prints_the_summary(run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    _, result = run
    assert "Province, 766 indicators for 02/2024 (last full month)" in result.stdout
    assert re.search(r"total \d+\.\d\d / 80 points", result.stdout)
    assert "Dashboard:      http://127.0.0.1:8050/" in result.stdout
    assert "Dossiers:" in result.stdout and "Payments:" in result.stdout and "Reconciliation:" in result.stdout
    assert "quarantined" in result.stdout and "Published marts:" in result.stdout
    docs = re.search(r"dbt docs \(models, columns, lineage\): (\S+)", result.stdout)
    assert docs and Path(docs.group(1)).stat().st_size > 100_000


def test_airflow_shows_each_run_with_its_real_start(run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """dag.test() stamps a run's start with its logical date (here 2024): the main job writes the real
    start back, so the UI's run durations are minutes, not years."""
    import sqlite3

    home, _ = run
    with sqlite3.connect(home / "airflow" / "airflow.db") as db:
        runs = db.execute("select dag_id, logical_date, start_date, end_date from dag_run").fetchall()
    assert {dag_id for dag_id, *_ in runs} >= {"ingest_dossiers", "build_marts"}
    for dag_id, logical, start, end in runs:
        assert logical.startswith("2024-"), (dag_id, logical)
        began, ended = dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end)
        assert dt.timedelta(0) <= ended - began < dt.timedelta(minutes=15), (dag_id, start, end)


def test_dbt_docs_describe_every_model_and_column(run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """The docs the main job generates: every model and every built column has a description."""
    home, _ = run
    target = home / "dbt" / "target"
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    undescribed = []
    for unique_id, built in catalog["nodes"].items():
        if not unique_id.startswith("model."):
            continue
        node = manifest["nodes"][unique_id]
        if not node["description"].strip():
            undescribed.append(unique_id)
        described = {name for name, col in node["columns"].items() if col["description"].strip()}
        undescribed += [f"{unique_id}.{name}" for name in built["columns"] if name not in described]
    assert len(catalog["nodes"]) > 25
    assert not undescribed, f"run scripts/dbt_column_docs.py, then describe: {undescribed[:20]}"
    lineage = manifest["parent_map"]["model.dichvucong.kpi_766"]
    assert "model.dichvucong.agg_unit_period_indicators" in lineage


def test_months_rows_carry_every_column_of_the_days_rows(run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """Months, quarters and years are rolled up from the months' rows, which list the days' additive
    columns by hand (macros/period_rollup.sql): a column added to a day model and not to its month
    model would be missing from every month, quarter and year."""
    home, _ = run
    catalog = json.loads((home / "dbt" / "target" / "catalog.json").read_text())["nodes"]

    def columns(model: str, key: str) -> list[str]:
        return [name for name in catalog[f"model.dichvucong.{model}"]["columns"] if name != key]

    pairs = [("int_unit_day_flow_metrics", "activity_date", "int_unit_month_flow_metrics", "activity_month"),
             ("int_unit_day_procedure_use", "received_day", "int_unit_month_procedure_use", "received_month"),
             ("int_day_procedure_use", "received_day", "int_month_procedure_use", "received_month")]
    for day_model, day_key, month_model, month_key in pairs:
        assert sorted(columns(month_model, month_key)) == sorted(columns(day_model, day_key)), month_model


KPI_INDICATORS = {
    "dossiers_submitted", "dossiers_received", "dossiers_received_online", "online_rate", "dossiers_ended",
    "ended_on_time", "ended_early", "ended_late", "dossiers_without_due_at", "in_progress_at_end",
    "in_progress_overdue_at_end", "on_time_rate", "avg_processing_working_days", "p50_processing_working_days",
    "p90_processing_working_days", "deadline_use", "fee_bearing_dossiers", "online_payment_rate",
    "online_payment_rate_platform", "services_online", "services_with_online_dossiers", "e_result_rate",
    "digitised_rate", "completion_rate", "digital_take_up", "fees_expected_vnd", "fees_collected_online_vnd",
    # metrics.md v2
    "procedures_published_on_time_rate", "procedures_public_on_time_rate", "procedures_complete_rate", "sync_rate",
    "procedures_online_rate", "procedures_fully_online_rate", "online_rate_766", "procedures_with_fee_data_rate",
    "procedures_with_online_payment_rate", "data_reuse_rate", "data_store_rate", "population_db_procedures_rate",
    "population_db_dossiers_rate",
}
POINTS_GROUPS = {"points_transparency", "points_progress", "points_online_services", "points_online_payment",
                 "points_digitisation", "points_satisfaction"}


def test_published_marts_have_the_columns_of_metrics_md(published: duckdb.DuckDBPyConnection) -> None:
    columns = {t: {r[0] for r in published.execute(
        "select column_name from information_schema.columns where table_schema = 'marts' and table_name = ?", [t]
    ).fetchall()} for t in ("fct_dossiers", "fct_payments", "kpi_766")}
    assert {"dossier_id", "service_code", "agency_code", "district_code", "channel", "status_code",
            "submitted_at", "received_at", "due_at", "ended_at", "is_received", "is_ended", "is_on_time",
            "is_early", "supplement_rounds", "processing_working_days", "fee_expected_vnd", "fee_paid_vnd",
            "reconciliation_state", "paid_online_via", "department_code", "commune_code", "commune_code_current",
            "legal_deadline_at", "has_e_result", "is_digitised", "reuses_data", "from_data_store",
            "uses_population_data", "is_synced", "first_overrun_office"} <= columns["fct_dossiers"]
    assert {"intermediary_code", "transaction_id", "dossier_id", "amount_vnd", "status", "paid_at",
            "settlement_date", "payment_channel", "is_orphan", "duplicate_rows"} <= columns["fct_payments"]
    scored = {r[0] for r in published.execute(
        "select indicator_name from marts.dim_766_indicators where is_scored").fetchall()}
    assert len(scored) == 15
    assert KPI_INDICATORS | POINTS_GROUPS | {f"points_{i}" for i in scored} | {
        "geography_basis", "unit_type", "unit_code", "period_type", "period_start", "points_total",
        "points_measurable", "rank_in_level", "spans_reorganisation", "unit_name", "unit_valid_from",
        "unit_valid_to"} <= columns["kpi_766"]
    # The points table: 100 points in six groups, 80 measurable from these sources.
    assert published.execute(
        "select sum(max_points), sum(max_points) filter (where is_measurable) from marts.dim_766_indicators"
    ).fetchall() == [(100.0, 80.0)]
    for table in ("fct_dossiers", "fct_payments", "kpi_766", "agg_service_usage_daily", "agg_processing_time_monthly",
                  "agg_fees_daily"):
        assert published.execute(f"select count(*) from marts.{table}").fetchall()[0][0] > 0
    assert {r[0] for r in published.execute("select distinct period_type from marts.kpi_766").fetchall()} == {
        "month", "quarter", "year"}


def test_fct_dossiers_match_the_independent_computation(published, reference) -> None:
    dossiers, _ = reference
    rows = {r["dossier_id"]: r for r in _rows(published, "select * from marts.fct_dossiers")}
    assert set(rows) == set(dossiers)
    mismatches = []
    for dossier_id, d in dossiers.items():
        row = rows[dossier_id]
        expected = {"status_code": d.status, "is_received": d.is_received, "is_ended": d.is_ended,
                    "ended_at": d.ended, "is_on_time": d.on_time, "is_early": d.early,
                    "processing_working_days": d.pwd, "supplement_rounds": len(d.rounds),
                    "fee_expected_vnd": d.fee_expected, "fee_paid_vnd": d.fee_paid,
                    "reconciliation_state": d.state, "agency_code": d.agency,
                    "district_code": d.district, "due_at": d.due, "is_synced": d.synced,
                    "legal_deadline_at": d.legal, "department_code": d.units.department,
                    "commune_code": d.units.commune, "commune_code_current": d.current["commune"],
                    "reuses_data": d.reuses, "from_data_store": d.data_store, "uses_population_data": d.population,
                    "has_e_result": d.e_result, "is_digitised": d.digitised,
                    "channel": {1: "in_person", 2: "online", 3: "postal"}.get(d.channel)}
        for name, value in expected.items():
            if row[name] != value:
                mismatches.append((dossier_id, name, row[name], value))
    assert not mismatches, mismatches[:10]
    # The fixture exercises the rules: late by a second round, early, withdrawn, no due date.
    assert any(d.on_time is False for d in dossiers.values())
    assert any(d.early for d in dossiers.values())
    assert any(d.due is None and d.is_received for d in dossiers.values())
    assert any(d.due is None and d.legal and d.on_time is not None for d in dossiers.values())
    # v2: communes' and districts' dossiers sit under a district before July 2025, departments'
    # own do not.
    assert any(d.district for d in dossiers.values()) and any(d.district is None for d in dossiers.values())


def test_fct_payments_match_the_independent_computation(published, reference) -> None:
    dossiers, payments = reference
    rows = {(r["intermediary_code"], r["transaction_id"]): r
            for r in _rows(published, "select * from marts.fct_payments")}
    assert set(rows) == set(payments)
    for key, p in payments.items():
        row = rows[key]
        assert (row["amount_vnd"], row["status"], row["duplicate_rows"]) == (p.amount, p.status, p.duplicate_rows), key
        assert row["is_orphan"] == (p.status == "succeeded" and p.dossier not in dossiers), key
    assert sum(r["duplicate_rows"] for r in rows.values()) > 0
    assert any(r["is_orphan"] for r in rows.values())


def _compare(row: dict, expected: dict, label: str) -> list[str]:
    problems = []
    for name, value in expected.items():
        got = row[name]
        if value is None or got is None:
            ok = value is None and got is None
        elif isinstance(value, float) or isinstance(got, float):
            ok = abs(float(got) - float(value)) <= TOLERANCE
        else:
            ok = got == value
        if not ok:
            problems.append(f"{label} {name}: mart {got!r} != reference {value!r}")
    return problems


def _check_period(published, reference, landing: Path, table: str, period_type: str, start: dt.datetime,
                  end: dt.datetime, unit_types: tuple[str, ...], bases: tuple[str, ...] = ("as_was", "current")) -> int:
    """Every row of `table` for the period and unit types, on both bases, against the independent
    computation; every unit the reference finds activity for has a row (days and weeks list only
    units with activity or backlog)."""
    dossiers, payments = reference
    snapshots = ref.load_snapshots(landing)
    levels = ref.agency_levels(ref.load_agencies(landing))
    everyone = list(dossiers.values())
    later = dt.datetime(9999, 1, 1)
    candidates: dict[tuple[str, str, str], list[ref.Dossier]] = {}
    for d in everyone:
        for basis in bases:
            for unit_type in unit_types:
                for code in {d.unit(basis, unit_type, None), d.unit(basis, unit_type, later)} - {None}:
                    candidates.setdefault((basis, unit_type, code), []).append(d)
    rows = {(r["geography_basis"], r["unit_type"], r["unit_code"]): r for r in _rows(
        published, f"select * from marts.{table} where period_type = ? and period_start = ?",
        [period_type, start.date()])}
    known = set(dossiers)
    elsewhere = {(b, t, c) for b, t, c in published.execute(
        f"select distinct geography_basis, unit_type, unit_code from marts.{table} where unit_valid_from >= ? "
        "or unit_valid_to < ?", [end.date(), end.date()]).fetchall()}
    problems: list[str] = []
    checked = 0
    keys = set(rows) | {k for k in candidates}
    if "province" in unit_types:
        keys |= {(basis, "province", ref.PROVINCE_OF_ORPHANS if basis == "as_was" else "25") for basis in bases}
    for basis, unit_type, unit_code in sorted(keys):
        if basis not in bases or unit_type not in unit_types:
            continue
        members = everyone if unit_type in ("service", "field") else candidates.get((basis, unit_type, unit_code), [])
        expected = ref.period_indicators(members, list(payments.values()), snapshots, start, end, AS_OF, basis,
                                         unit_type, unit_code, levels, known)
        row = rows.get((basis, unit_type, unit_code))
        if row is None:
            # A unit that does not exist at the period's end has no row (metrics.md v2: units valid then).
            if (basis, unit_type, unit_code) in elsewhere:
                continue
            if any(expected[k] for k in ("dossiers_submitted", "dossiers_received", "dossiers_ended",
                                         "in_progress_at_end", "fees_collected_online_vnd")):
                problems.append(f"{period_type} {basis} {unit_type} {unit_code}: no row, reference has activity")
            continue
        problems += _compare(row, expected, f"{period_type} {basis} {unit_type} {unit_code}")
        checked += 1
    assert not problems, "\n".join(problems[:20])
    return checked


def test_kpi_766_matches_for_every_unit_type_on_both_bases(published, reference, small_landing: Path) -> None:
    checked = _check_period(published, reference, small_landing, "kpi_766", "month", dt.datetime(2024, 2, 1),
                            dt.datetime(2024, 3, 1), ("province", "department", "district", "commune", "agency"))
    assert checked > 400
    # The current basis recasts the old province onto the merged one, and its 121 communes onto 36.
    bases = dict(published.execute(
        "select geography_basis, list(distinct unit_code order by unit_code) from marts.kpi_766 "
        "where unit_type = 'province' and period_type = 'month' and period_start = date '2024-02-01' group by 1"
    ).fetchall())
    assert bases == {"as_was": [PROVINCE], "current": ["25"]}


def test_every_unit_and_period_matches(published, reference, small_landing: Path) -> None:
    """Services and fields by month; every unit type by ISO week (across Lunar New Year) and by day."""
    checked = _check_period(published, reference, small_landing, "agg_unit_period_indicators", "month",
                            dt.datetime(2024, 2, 1), dt.datetime(2024, 3, 1), ("service", "field"), ("as_was",))
    checked += _check_period(published, reference, small_landing, "agg_unit_period_indicators", "week",
                             dt.datetime(2024, 2, 5), dt.datetime(2024, 2, 12),
                             ("province", "department", "district", "commune", "agency", "field"))
    checked += _check_period(published, reference, small_landing, "agg_unit_period_indicators", "day",
                             dt.datetime(2024, 2, 19), dt.datetime(2024, 2, 20),
                             ("province", "department", "district", "agency"), ("as_was",))
    assert checked > 100


def test_ranks_are_dense_by_points_total(published) -> None:
    for basis, period_type, period_start, unit_type in published.execute(
            "select distinct geography_basis, period_type, period_start, unit_type from marts.kpi_766").fetchall():
        rows = published.execute(
            "select points_total, rank_in_level from marts.kpi_766 where geography_basis = ? and period_type = ? "
            "and period_start = ? and unit_type = ? order by points_total desc",
            [basis, period_type, period_start, unit_type]).fetchall()
        distinct_points = sorted({round(p, 12) for p, _ in rows}, reverse=True)
        for points, rank in rows:
            assert rank == distinct_points.index(round(points, 12)) + 1


def test_why_it_moved_adds_up_exactly(published) -> None:
    """The change of a unit's points splits into its indicators, and each fraction indicator's rate
    change into its agencies' numerator and denominator effects, exactly (every unit and period)."""
    by_indicator = published.execute(
        "select count(*), max(abs(s - t)) from (select sum(points_change) as s, any_value(points_total_change) as t "
        "from marts.agg_766_change group by geography_basis, unit_type, unit_code, period_type, period_start)"
    ).fetchall()[0]
    assert by_indicator[0] > 300 and by_indicator[1] < 1e-9
    # ...and the totals are those of kpi_766.
    assert published.execute(
        "select count(*) from marts.agg_766_change as c inner join marts.kpi_766 as k using (geography_basis, "
        "unit_type, unit_code, period_type, period_start) where abs(c.points_total_after - k.points_total) > 1e-9"
    ).fetchall()[0][0] == 0
    by_agency = published.execute(
        "select count(*), max(abs(s - r)), max(abs(ps - pc)), count(*) filter (where n > 1) from ("
        "select sum(numerator_effect + denominator_effect) as s, any_value(unit_rate_change) as r, "
        "sum(points_effect) as ps, any_value(unit_points_change) as pc, count(*) as n "
        "from marts.agg_766_change_by_agency where unit_rate_change is not null "
        "group by geography_basis, unit_type, unit_code, period_type, period_start, indicator_code)").fetchall()[0]
    assert by_agency[0] > 200 and by_agency[1] < 1e-9 and by_agency[2] < 1e-9
    assert by_agency[3] > 50, "units with several agencies are split among them"


def test_no_personal_data_reaches_marts_exports_reports_or_logs(run, published, small_landing: Path) -> None:
    home, result = run
    pii = personal_values(small_landing)
    assert len(pii) > 100
    texts = [result.stdout, result.stderr]
    for table in ("fct_dossiers", "fct_payments", "kpi_766"):
        texts.append(published.execute(f"select * from marts.{table}").df().to_csv())
    for folder in (home / "reports", home / "lake", home / "airflow" / "logs"):
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix in {".csv", ".json", ".txt", ".log", ""}:
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
    with duckdb.connect() as con:
        for pattern in ("*/*/data.parquet", "*/*/*/data.parquet"):  # raw tables; audit and quarantine
            query = f"select * from read_parquet('{home}/lake/{pattern}', union_by_name=true)"
            texts.append(con.sql(query).df().to_csv())
    blob = "\n".join(texts)
    leaked = [v for v in pii if v in blob]
    assert not leaked, leaked[:5]


def test_exports_hold_every_published_row(run, published) -> None:
    home, _ = run
    exports = home / "reports" / "exports"
    in_progress = exports / "fct_dossiers" / "fct_dossiers_in_progress.csv"
    monthly = sorted(str(p) for p in (exports / "fct_dossiers").glob("fct_dossiers_*.csv") if p != in_progress)
    with duckdb.connect() as con:
        for table, files in (("fct_dossiers", monthly), ("fct_payments", [str(exports / "fct_payments.csv")]),
                             ("kpi_766", [str(exports / "kpi_766.csv")])):
            exported = con.execute("select count(*) from read_csv(?, header = true)", [files]).fetchall()
            assert exported[0][0] == published.execute(f"select count(*) from marts.{table}").fetchall()[0][0] > 0
        # The clock's values of the dossiers in progress, one file: as published.
        # (Hours have three decimals: summed as whole thousandths, exact in any order.)
        measures = ("count(*), sum(round(applicant_wait_hours * 1000)::bigint), "
                    "count(*) filter (where is_overdue_at_as_of), sum(days_overdue_at_as_of)")
        clock = con.execute(f"select {measures} from read_csv(?, header = true)", [str(in_progress)]).fetchall()
    assert clock == published.execute(
        f"select {measures} from marts.fct_dossiers where is_ended is not true").fetchall()
    assert clock[0][0] > 0
    assert len(monthly) == published.execute(  # a month a file, and one for dossiers without a submission time
        "select count(distinct coalesce(strftime(submitted_at, '%Y-%m'), '')) from marts.fct_dossiers").fetchall()[0][0]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_failed_critical_gate_withholds_publication_and_a_rerun_changes_no_mart(
        run, small_landing: Path, tmp_path: Path) -> None:
    home, _ = run
    published_file = home / "published" / "dichvucong.duckdb"
    before = _digest(published_file)
    with duckdb.connect(str(home / "warehouse" / "warehouse.marts.duckdb"), read_only=True) as con:
        marts_before = {t: con.sql(f"select * from marts.{t} order by all").df()
                        for t in ("fct_dossiers", "fct_payments", "kpi_766")}
    strict = closing_expectations(tmp_path / "expectations")

    result = _run(home, small_landing, DVC_EXPECTATIONS_DIR=str(strict))
    assert result.returncode != 0
    assert "QualityGateFailed" in result.stdout + result.stderr
    assert _digest(published_file) == before, "officials keep the last good marts"
    # The rerun landed the same interval and rebuilt the warehouse: every mart is identical.
    with duckdb.connect(str(home / "warehouse" / "warehouse.marts.duckdb"), read_only=True) as con:
        for table, frame in marts_before.items():
            assert con.sql(f"select * from marts.{table} order by all").df().equals(frame), table


def _mart_digests(database: Path) -> dict[str, str]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {t: hashlib.sha256(con.sql(f"select * from marts.{t} order by all").df().to_csv().encode()).hexdigest()
                for t in ("fct_dossiers", "fct_payments", "kpi_766")}


def test_extracting_over_http_with_faults_gives_identical_marts(run, small_landing: Path,
                                                                tmp_path_factory: pytest.TempPathFactory) -> None:
    file_home, _ = run
    home = tmp_path_factory.mktemp("e2e_http")
    subprocess.run(["airflow", "db", "migrate"], env=_env(home), check=True, capture_output=True)
    result = _run(home, small_landing, "--source", "http")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    output = result.stdout + result.stderr
    served = re.search(r"faults served \{'429': (\d+), '5xx': (\d+), 'slow': (\d+), 'drop': (\d+)\}", output)
    assert served and all(int(n) > 0 for n in served.groups()), "every kind of fault was served"
    assert _mart_digests(home / "published" / "dichvucong.duckdb") == _mart_digests(
        file_home / "published" / "dichvucong.duckdb")


def test_rollups_add_up_to_the_facts(published) -> None:
    usage = published.execute("select sum(dossiers_submitted), sum(dossiers_ended) from marts.agg_service_usage_daily"
                              ).fetchall()[0]
    facts = published.execute("select count(*), count(ended_at) filter (where is_ended) from marts.fct_dossiers"
                              ).fetchall()[0]
    assert usage == facts
    fees = published.execute("select sum(collected_vnd) - sum(refunded_vnd), sum(duplicate_rows), sum(orphan_payments) "
                             "from marts.agg_fees_daily").fetchall()[0]
    payments = published.execute(
        "select sum(amount_vnd) filter (where status = 'succeeded'), sum(duplicate_rows), "
        "count(*) filter (where is_orphan) from marts.fct_payments").fetchall()[0]
    assert fees == payments


def test_a_range_that_starts_between_catalog_snapshots_uses_the_one_in_force(tmp_path: Path) -> None:
    from dichvucong.cli import snapshot_start

    (tmp_path / "catalog").mkdir()
    for day in ("20231215", "20240115"):
        (tmp_path / "catalog" / f"services_{day}.csv").write_text("MaTTHC\n", encoding="utf-8")
    assert snapshot_start(tmp_path, dt.date(2024, 1, 1)) == dt.date(2023, 12, 15)
    assert snapshot_start(tmp_path, dt.date(2024, 1, 15)) == dt.date(2024, 1, 15)
    assert snapshot_start(tmp_path, dt.date(2023, 1, 1)) == dt.date(2023, 1, 1)


def test_without_a_range_the_main_job_covers_every_batch_day_of_the_landing(small_landing: Path,
                                                                           tmp_path: Path) -> None:
    from dichvucong.cli import landing_range

    assert landing_range(small_landing) == (SMALL_START, SMALL_END)
    (tmp_path / "payments" / "2024-01-03").mkdir(parents=True)
    (tmp_path / "dossiers" / "2024-01-05").mkdir(parents=True)
    (tmp_path / "dossiers" / "not-a-day").mkdir()
    assert landing_range(tmp_path) == (dt.date(2024, 1, 3), dt.date(2024, 1, 6))
    assert landing_range(tmp_path / "missing") is None
