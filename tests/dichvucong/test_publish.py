"""Publication: the quality tables and the CSV exports follow what changed, equal to a build from scratch."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from dichvucong import tasks
from dichvucong.config import Settings
from dichvucong.landing import lake
from dichvucong.publish import QUALITY_TABLES, export_csv, publish_quality
from tests.dichvucong.dashboard.hostile import BENIGN, HOSTILE, escaped

DAY = dt.date(2024, 2, 6)


def _tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with duckdb.connect(str(path), read_only=True) as con:
        catalog = con.execute("select current_database()").fetchall()[0][0]  # "quality", as the schema
        return {t: con.execute(f'select * from "{catalog}".quality.{t} order by all').fetchall()
                for t in QUALITY_TABLES}


def _from_scratch(settings: Settings, folder: Path) -> dict[str, list[tuple[object, ...]]]:
    """The same tables built from every lake file, by a publication with no earlier file."""
    return _tables(publish_quality(settings.model_copy(update={"published_path": folder / "dichvucong.duckdb"})))


def test_quality_tables_follow_relanded_new_and_withdrawn_days(
        dvc_home: Path, small_landing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    monkeypatch.setenv("DVC_LANDING_DIR", str(landing))
    settings = Settings.from_env()
    for source in ("dossiers", "payments"):
        tasks.ingest(source, DAY, DAY + dt.timedelta(days=2))
    tasks.validate_landed("payments", DAY, DAY + dt.timedelta(days=2))  # a validation result, published
    before = _tables(publish_quality(settings))
    assert before["load_audit"] and before["quarantine_reasons"] and before["validation_results"]

    # Since: a day landed again with one sync-call file fewer and another that is no longer JSON
    # (quarantined whole), a new day, a day withdrawn from the lake, and another validation.
    files = sorted((landing / "dossiers" / DAY.isoformat()).glob("*.json"))
    assert len(files) >= 2
    files[0].unlink()
    files[1].write_text(files[1].read_text() + '{"MaHoSo": \n', encoding="utf-8")
    tasks.ingest("dossiers", DAY, DAY + dt.timedelta(days=1))
    tasks.ingest("dossiers", DAY + dt.timedelta(days=2), DAY + dt.timedelta(days=3))
    for table, source in (("raw_payments", None), ("load_audit", "payments"), ("quarantine", "payments")):
        lake.partition_path(settings.lake_dir, table, DAY + dt.timedelta(days=1), source).unlink()
    tasks.validate_landed("dossiers", DAY, DAY + dt.timedelta(days=1))

    after = _tables(publish_quality(settings))
    assert after == _from_scratch(settings, tmp_path / "scratch")
    assert after != before
    days = {(row[0], row[1]) for row in after["load_audit"]}
    assert ("dossiers", DAY + dt.timedelta(days=2)) in days
    assert ("payments", DAY + dt.timedelta(days=1)) not in days
    assert not any(row[:2] == ("dossiers", DAY) and row[2].startswith("invalid JSON")
                   for row in before["quarantine_reasons"])
    assert any(row[:2] == ("dossiers", DAY) and row[2].startswith("invalid JSON")
               for row in after["quarantine_reasons"])
    relanded = {row[:2]: row[2:] for row in after["load_audit"]}[("dossiers", DAY)]
    landed = {row[:2]: row[2:] for row in before["load_audit"]}[("dossiers", DAY)]
    assert (relanded[0], relanded[-1]) == (landed[0] - 1, landed[-1] + 1)  # files, file errors
    # Nothing changed since: the next publication reads nothing and keeps the same tables.
    assert _tables(publish_quality(settings)) == after

    # A validation's file removed by hand: the history is read again, and the record of the files
    # read forgets it (else every later publication would read the whole history again).
    removed = sorted((settings.lake_dir / "quality_results").glob("*/*.parquet"))[0]
    removed.unlink()
    again = _tables(publish_quality(settings))
    assert again == _from_scratch(settings, tmp_path / "scratch-2") and again != after
    with duckdb.connect(str(settings.published_path.with_name("quality.duckdb")), read_only=True) as con:
        catalog = con.execute("select current_database()").fetchall()[0][0]
        recorded = {r[0] for r in con.execute(f'select path from "{catalog}".meta.quality_results_files').fetchall()}
    assert removed.relative_to(settings.lake_dir).as_posix() not in recorded and recorded


def test_exports_rewrite_only_the_months_that_changed(dvc_home: Path) -> None:
    settings = Settings.from_env()
    settings.published_path.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.published_path)) as con:
        con.execute("create schema marts")
        con.execute("""create table marts.fct_dossiers as select * from (values
            ('HS-1', timestamp '2024-01-05 08:00:00', 1), ('HS-2', timestamp '2024-01-20 08:00:00', 2),
            ('HS-3', timestamp '2024-02-01 08:00:00', 3), ('HS-4', null, 4)) as t(dossier_id, submitted_at, n)""")
        con.execute("create table marts.fct_payments as select 'T1' as transaction_id, 50000 as amount_vnd")
        con.execute("create table marts.kpi_766 as select 'province' as unit_type where false")
    folder = export_csv(settings)
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.csv"))
    assert names == ["fct_dossiers/fct_dossiers_2024-01.csv", "fct_dossiers/fct_dossiers_2024-02.csv",
                     "fct_dossiers/fct_dossiers__undated.csv", "fct_payments.csv", "kpi_766.csv"]
    january = folder / "fct_dossiers" / "fct_dossiers_2024-01.csv"
    assert january.read_text().splitlines() == [
        "dossier_id,submitted_at,n", "HS-1,2024-01-05 08:00:00,1", "HS-2,2024-01-20 08:00:00,2"]
    assert (folder / "kpi_766.csv").read_text().strip() == "unit_type"
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.rglob("*.csv")}

    with duckdb.connect(str(settings.published_path)) as con:
        con.execute("update marts.fct_dossiers set n = 20 where dossier_id = 'HS-2'")
        con.execute("delete from marts.fct_dossiers where dossier_id = 'HS-3'")
    export_csv(settings)
    assert "HS-2,2024-01-20 08:00:00,20" in january.read_text()
    assert not (folder / "fct_dossiers" / "fct_dossiers_2024-02.csv").exists()  # the month left the mart
    unchanged = {p.name: p.stat().st_mtime_ns for p in folder.rglob("*.csv") if p.name != january.name}
    assert unchanged == {name: stamp for name, stamp in stamps.items() if name in unchanged}
    assert set(unchanged) == {"fct_dossiers__undated.csv", "fct_payments.csv", "kpi_766.csv"}


def test_a_dossier_in_progress_exports_its_clock_in_one_file_and_its_month_stays(dvc_home: Path) -> None:
    """The values that move with the clock alone (CLOCK_COLUMNS) are empty in the monthly files for a
    dossier in progress and listed in fct_dossiers_in_progress.csv: a day that only moves the clock
    rewrites that file, not the months; a dossier that ends rewrites its month."""
    settings = Settings.from_env()
    settings.published_path.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.published_path)) as con:
        con.execute("create schema marts")
        con.execute("""create table marts.fct_dossiers as select * from (values
            ('HS-1', timestamp '2024-01-05 08:00:00', true, 5.5::double, null, null::bigint),
            ('HS-2', timestamp '2024-01-20 08:00:00', false, 30.25, true, 3),
            ('HS-3', timestamp '2024-02-01 08:00:00', false, 0.0, false, null))
            as t(dossier_id, submitted_at, is_ended, applicant_wait_hours, is_overdue_at_as_of,
                 days_overdue_at_as_of)""")
        con.execute("create table marts.fct_payments as select 'T1' as transaction_id")
        con.execute("create table marts.kpi_766 as select 'province' as unit_type where false")
    folder = export_csv(settings) / "fct_dossiers"
    assert sorted(p.name for p in folder.glob("*.csv")) == [
        "fct_dossiers_2024-01.csv", "fct_dossiers_2024-02.csv", "fct_dossiers_in_progress.csv"]
    january, progress = folder / "fct_dossiers_2024-01.csv", folder / "fct_dossiers_in_progress.csv"
    assert january.read_text().splitlines() == [
        "dossier_id,submitted_at,is_ended,applicant_wait_hours,is_overdue_at_as_of,days_overdue_at_as_of",
        "HS-1,2024-01-05 08:00:00,true,5.5,,", "HS-2,2024-01-20 08:00:00,false,,,"]
    assert progress.read_text().splitlines() == [
        "dossier_id,submitted_at,applicant_wait_hours,is_overdue_at_as_of,days_overdue_at_as_of",
        "HS-2,2024-01-20 08:00:00,30.25,true,3", "HS-3,2024-02-01 08:00:00,0.0,false,"]
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.csv")}

    with duckdb.connect(str(settings.published_path)) as con:  # the next day: the clock moved
        con.execute("update marts.fct_dossiers set applicant_wait_hours = applicant_wait_hours + 24, "
                    "days_overdue_at_as_of = days_overdue_at_as_of + 1 where not is_ended")
    export_csv(settings)
    assert "HS-2,2024-01-20 08:00:00,54.25,true,4" in progress.read_text()
    now = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.csv")}
    assert {n for n in now if now[n] != stamps[n]} == {"fct_dossiers_in_progress.csv"}

    with duckdb.connect(str(settings.published_path)) as con:  # HS-2 ends
        con.execute("update marts.fct_dossiers set is_ended = true, is_overdue_at_as_of = null, "
                    "days_overdue_at_as_of = null where dossier_id = 'HS-2'")
    export_csv(settings)
    assert "HS-2,2024-01-20 08:00:00,true,54.25,," in january.read_text()
    assert [line.split(",")[0] for line in progress.read_text().splitlines()] == ["dossier_id", "HS-3"]
    assert (folder / "fct_dossiers_2024-02.csv").stat().st_mtime_ns == stamps["fct_dossiers_2024-02.csv"]


def _hostile_marts(settings: Settings) -> None:
    """Marts whose texts start like formulas (tests.dichvucong.dashboard.hostile), beside negative numbers."""
    texts = list(HOSTILE + BENIGN)
    settings.published_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.published_path)) as con:
        con.execute("create schema marts")
        con.execute("create type channel as enum ('online', '=1+1')")
        con.execute("""create table marts.fct_dossiers as select 'HS-' || lpad(i::varchar, 2, '0') as dossier_id,
            t.text as service_name, case when i % 4 = 0 then null else timestamp '2024-01-05 08:00:00' end
            as submitted_at, 2 - i as n, (1.5 - i)::decimal(18, 3) as fee, i % 2 = 0 as is_online,
            (case when i % 2 = 0 then '=1+1' else 'online' end)::channel as channel, [t.text] as texts
            from unnest(?::varchar[]) with ordinality as t(text, i)""", [texts])
        con.execute("update marts.fct_dossiers set dossier_id = service_name where n % 3 = 0")
        con.execute("create table marts.fct_payments as select t.text as transaction_id, -50000 * i as amount_vnd "
                    "from unnest(?::varchar[]) with ordinality as t(text, i)", [texts])
        con.execute("create table marts.kpi_766 as select 'agency' as unit_type, t.text as unit_name, "
                    "-0.25 * i as on_time_rate from unnest(?::varchar[]) with ordinality as t(text, i)", [texts])


def _read_exports(folder: Path) -> dict[str, list[dict[str, str]]]:
    return {p.relative_to(folder).as_posix(): list(csv.DictReader(p.open(encoding="utf-8", newline="")))
            for p in sorted(folder.rglob("*.csv"))}


def test_exports_escape_texts_that_would_start_a_formula(dvc_home: Path) -> None:
    settings = Settings.from_env()
    _hostile_marts(settings)
    files = _read_exports(export_csv(settings))
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        payments = dict(con.execute("select transaction_id, amount_vnd from marts.fct_payments").fetchall())
        dossiers = {row[0]: row[1:] for row in con.execute(
            "select n, dossier_id, service_name, fee, is_online, channel, texts::varchar "
            "from marts.fct_dossiers").fetchall()}
        names = dict(con.execute("select unit_name, on_time_rate from marts.kpi_766").fetchall())
    assert sorted((r["transaction_id"], int(r["amount_vnd"])) for r in files["fct_payments.csv"]) == sorted(
        (escaped(text), amount) for text, amount in payments.items())
    assert {r["unit_name"]: float(r["on_time_rate"]) for r in files["kpi_766.csv"]} == {
        escaped(text): pytest.approx(rate) for text, rate in names.items()}
    rows = [row for name, part in files.items() if name.startswith("fct_dossiers/") for row in part]
    assert len(rows) == len(dossiers)
    for row in rows:
        dossier_id, service_name, fee, is_online, channel, texts = dossiers[int(row["n"])]  # n: a number as is
        assert (row["dossier_id"], row["service_name"]) == (escaped(dossier_id), escaped(service_name))
        assert (float(row["fee"]), row["is_online"]) == (float(fee), str(is_online).lower())
        assert row["channel"] == ("'=1+1" if channel == "=1+1" else channel)  # an enum is text too
        assert row["texts"] == texts  # a list, as DuckDB writes it: starts with [
    cells = [value for part in files.values() for row in part for name, value in row.items()
             if name not in ("n", "amount_vnd", "on_time_rate", "fee")]
    assert not [c for c in cells if c.lstrip(" \u3000\u200b\x01").startswith(("=", "+", "-", "@", "\t", "\r", "\n"))
                or c[:1] in ("＝", "＋", "－", "＠", "﹦", "−")], "no text cell starts a formula"


def test_exports_written_before_the_escape_are_rewritten(dvc_home: Path) -> None:
    """Files in place from a version that did not escape: their rows did not change, but they are rewritten."""
    settings = Settings.from_env()
    _hostile_marts(settings)
    folder = export_csv(settings)
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        describe = con.execute("describe marts.fct_payments").fetchall()
        count, total = con.execute("select count(*), sum(hash(*columns(*))::hugeint)::varchar "
                                   "from marts.fct_payments").fetchall()[0]
        con.execute(f"copy marts.fct_payments to '{folder / 'fct_payments.csv'}' (header, delimiter ',')")
    # The file and the fingerprint the earlier version wrote (its layout: the columns and DuckDB's version).
    manifest = json.loads((folder / ".fingerprints.json").read_text(encoding="utf-8"))
    layout = hashlib.sha256(repr((describe, duckdb.__version__)).encode()).hexdigest()[:16]
    manifest["fct_payments.csv"] = f"{layout}:{count}:{total}"
    (folder / ".fingerprints.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert '=HYPERLINK("http://x","y")' in [r["transaction_id"] for r in _read_exports(folder)["fct_payments.csv"]]

    export_csv(settings)
    ids = [r["transaction_id"] for r in _read_exports(folder)["fct_payments.csv"]]
    assert sorted(ids) == sorted(escaped(text) for text in HOSTILE + BENIGN)
