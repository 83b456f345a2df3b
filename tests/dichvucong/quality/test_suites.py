"""The Great Expectations suites: well-formed, and able to fail (data that must fail is tested)."""

from __future__ import annotations

from pathlib import Path

import great_expectations.expectations as gxe
import pandas as pd
import pytest

from dichvucong.config import REPO_ROOT
from dichvucong.quality import QualityGateFailed, enforce, suites, validate
from dichvucong.quality.suites import _class_name, load_suite_spec

EXPECTATIONS = REPO_ROOT / "expectations"
TABLES = sorted(p.stem for p in EXPECTATIONS.glob("*.yml"))


def test_there_is_a_suite_for_every_load_and_every_mart() -> None:
    assert set(TABLES) == {"raw_agencies", "raw_catalog", "raw_dossier_syncs", "raw_processing_steps", "raw_payments",
                           "raw_portal_scores",
                           "fct_dossiers", "fct_payments", "kpi_766", "raw_volume", "raw_files", "landing_freshness"}


@pytest.mark.parametrize("table", TABLES)
def test_suite_is_well_formed(table: str) -> None:
    spec = load_suite_spec(EXPECTATIONS, table)
    assert spec["expectations"]
    for item in spec["expectations"]:
        assert hasattr(gxe, _class_name(item["type"])), item["type"]
        assert item["severity"] in {"critical", "warning"}
    assert any(i["severity"] == "critical" for i in spec["expectations"])


def _payments(**columns: list) -> pd.DataFrame:
    base = {
        "MaGiaoDich": ["T1", "T2", "T3"], "MaTrungGian": ["VCB", "VCB", "MOMO"], "KenhThanhToan": [1, 1, 2],
        "MaHoSo": ["A", "B", "C"], "MaTTHC": ["S", "S", "S"], "LoaiPhiLePhi": [1, 2, 2],
        "SoTien": [1000, 2000, -1000], "TrangThai": ["00", "01", "02"],
        "ThoiGianGiaoDich": pd.to_datetime(["2024-01-01 10:00"] * 3), "NgayDoiSoat": pd.to_datetime(["2024-01-01"] * 3),
        "_source_file": ["f"] * 3, "_line_number": [2, 3, 4], "_batch_date": pd.to_datetime(["2024-01-01"] * 3),
        "dossier_is_known": [True, True, True],
    }
    return pd.DataFrame(base | columns)


def test_clean_rows_pass() -> None:
    summary = validate(_payments(), "raw_payments", "t", EXPECTATIONS)
    assert summary.success and summary.critical_failures == 0 and summary.warnings == 0
    enforce(summary)


def test_a_critical_failure_closes_the_gate_with_counts() -> None:
    summary = validate(_payments(TrangThai=["00", "09", "09"]), "raw_payments", "t", EXPECTATIONS)
    assert not summary.success and summary.critical_failures == 1
    failed = next(r for r in summary.results if not r.success)
    assert failed.column == "TrangThai" and failed.unexpected_count == 2 and failed.severity == "critical"
    assert "sources.md" in failed.rule
    with pytest.raises(QualityGateFailed, match="raw_payments"):
        enforce(summary)


def test_a_warning_reports_but_does_not_close_the_gate() -> None:
    frame = _payments(MaTrungGian=["VCB", "VCB", "UNKNOWNPAY"], MaGiaoDich=["T1", "T1", "T3"])
    summary = validate(frame, "raw_payments", "t", EXPECTATIONS)
    assert summary.success and summary.warnings == 2
    by_type = {r.expectation_type: r for r in summary.results if not r.success}
    assert by_type["expect_column_values_to_be_in_set"].unexpected_count == 1
    assert by_type["expect_compound_columns_to_be_unique"].unexpected_count == 2
    enforce(summary)


# The personal fields (◆) of sources.md v2 §3 and §4: none of them may reach the lake.
PERSONAL_FIELDS = [
    *(("raw_dossier_syncs", c) for c in ("ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai", "Email", "Fax", "MaDoiTuong",
                                          "DinhDanhCHS", "TrichYeuHoSo", "ThongTinTra", "GhiChu")),
    *(("raw_processing_steps", c) for c in ("NguoiXuLy", "NoiDungXuLy")),
]


@pytest.mark.parametrize(("table", "personal"), PERSONAL_FIELDS)
def test_personal_data_columns_fail_the_raw_dossier_suite(table: str, personal: str) -> None:
    spec = load_suite_spec(EXPECTATIONS, table)
    columns = next(i for i in spec["expectations"] if i["type"] == "expect_table_columns_to_match_set")
    contract = {c: [] for c in columns["kwargs"]["column_set"]}
    assert personal not in contract
    clean = validate(pd.DataFrame(contract), table, "t", EXPECTATIONS)
    assert clean.critical_failures == 0
    summary = validate(pd.DataFrame(contract | {personal: []}), table, "t", EXPECTATIONS)
    assert summary.critical_failures >= 1
    failed = next(r for r in summary.results if not r.success)
    assert failed.expectation_type == "expect_table_columns_to_match_set" and failed.severity == "critical"
    with pytest.raises(QualityGateFailed, match=table):
        enforce(summary)


def kpi_frame(n: int, **columns: list) -> pd.DataFrame:
    """`n` rows of kpi_766 holding every column its suite checks, valid unless `columns` says otherwise."""
    frame: dict[str, list] = {
        "geography_basis": ["as_was"] * n, "unit_type": ["agency"] * n, "unit_code": [f"A{i}" for i in range(n)],
        "period_type": ["month"] * n, "period_start": pd.to_datetime(["2024-01-01"] * n),
        "rank_in_level": list(range(1, n + 1)), "points_total": [5.0] * n}
    for item in load_suite_spec(EXPECTATIONS, "kpi_766")["expectations"]:
        column = item["kwargs"].get("column")
        if column and column not in frame:
            frame[column] = [0.5] * n
    return pd.DataFrame(frame | columns)


def test_kpi_rates_outside_zero_one_fail(tmp_path: Path) -> None:
    summary = validate(kpi_frame(1, on_time_rate=[1.2]), "kpi_766", "t", EXPECTATIONS)
    failed = [r.column for r in summary.results if not r.success]
    assert failed == ["on_time_rate"]


def test_kpi_766_is_keyed_by_basis_and_knows_the_new_levels() -> None:
    """The same unit and period on both bases is two rows; a repeated key or an unknown basis or level fails."""
    both = kpi_frame(5, geography_basis=["as_was", "current", "as_was", "as_was", "current"],
                     unit_type=["province", "province", "department", "commune", "commune"],
                     unit_code=["26", "26", "000.00.01.H62", "08707", "08707"])
    assert validate(both, "kpi_766", "t", EXPECTATIONS).success
    bad = both.assign(geography_basis=["as_was", "as_was", "then", "as_was", "current"],
                      unit_type=["province", "province", "department", "ward", "commune"])
    failed = {r.column for r in validate(bad, "kpi_766", "t", EXPECTATIONS).results if not r.success}
    assert failed == {"geography_basis", "unit_type",
                      "geography_basis,unit_type,unit_code,period_type,period_start"}


def test_a_payment_for_an_unknown_dossier_warns() -> None:
    summary = validate(_payments(dossier_is_known=[True, False, True]), "raw_payments", "t", EXPECTATIONS)
    assert summary.success and summary.warnings == 1
    assert next(r for r in summary.results if not r.success).column == "dossier_is_known"


def test_a_volume_jump_against_the_same_weekday_warns() -> None:
    frame = pd.DataFrame({"batch_date": pd.to_datetime(["2024-01-08", "2024-01-09", "2024-01-10"]),
                          "rows_loaded": [1000, 4000, 50], "trailing_mean": [1100.0, 1000.0, None]})
    frame["volume_ratio"] = frame["rows_loaded"] / frame["trailing_mean"]
    summary = validate(frame, "raw_volume", "t", EXPECTATIONS)
    assert summary.success and summary.warnings == 1
    assert next(r for r in summary.results if not r.success).unexpected_count == 1  # no history: not judged


def test_a_stale_source_warns_and_a_missing_one_closes_the_gate() -> None:
    stale = pd.DataFrame({"source": ["dossiers", "payments"], "latest_landed_day": pd.to_datetime(["2024-01-05"] * 2),
                          "latest_batch_date": pd.to_datetime(["2024-01-01"] * 2), "lag_days": [5, 1]})
    assert validate(stale, "landing_freshness", "t", EXPECTATIONS).warnings == 1
    empty = stale.assign(latest_batch_date=[None, pd.Timestamp("2024-01-01")], lag_days=[None, 1])
    summary = validate(empty, "landing_freshness", "t", EXPECTATIONS)
    assert summary.success and summary.warnings == 1  # landed, but no row yet: a warning, not a closed gate
    missing = stale.assign(latest_landed_day=[None, pd.Timestamp("2024-01-05")])
    assert validate(missing, "landing_freshness", "t", EXPECTATIONS).critical_failures == 1


def test_data_docs_are_built_and_linked(tmp_path: Path) -> None:
    summary = validate(_payments(TrangThai=["00", "09", "00"]), "raw_payments", "2024-01-01_2024-01-02",
                       EXPECTATIONS, docs_root=tmp_path)
    assert summary.docs_url and summary.docs_url.startswith("file://")
    page = Path(summary.docs_url.removeprefix("file://"))
    assert page.exists() and "TrangThai" in page.read_text(encoding="utf-8")
    assert (tmp_path / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").exists()


def test_the_data_docs_index_lists_the_latest_validations_only(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The index reads every result it lists: it lists the latest DATA_DOCS_INDEX_LIMIT, and the older
    pages stay in the site."""
    monkeypatch.setattr(suites, "DATA_DOCS_INDEX_LIMIT", 2)
    intervals = ["2024-01-01_2024-01-02", "2024-01-02_2024-01-03", "2024-01-03_2024-01-04"]
    pages = [validate(_payments(TrangThai=["00", "09", "00"]), "raw_payments", interval, EXPECTATIONS,
                      docs_root=tmp_path).docs_url for interval in intervals]
    index = (tmp_path / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").read_text(encoding="utf-8")
    listed = [interval for interval in intervals if interval in index]
    assert listed == intervals[1:]
    assert all(Path(str(page).removeprefix("file://")).exists() for page in pages)


def test_file_level_checks_warn_and_a_file_not_accounted_for_closes_the_gate() -> None:
    files = pd.DataFrame({
        "batch_date": pd.to_datetime(["2024-01-01"] * 3), "file_name": ["a.csv", "b.csv", None],
        "is_accounted": [True, True, True], "file_error": [None, "separator ';', not ','", None],
        "quarantined_share": [0.0, 1.0, None], "day_quarantined_share": [0.5, 0.5, None],
        "unknown_columns": [1, 0, 0], "missing_columns": [0, 2, 0], "total_line_matches": [False, None, None],
        "files_in_day": [2, 2, 0]})
    summary = validate(files, "raw_files", "t", EXPECTATIONS)
    assert summary.critical_failures == 0
    failed = {r.column for r in summary.results if not r.success}
    assert failed == {"file_error", "quarantined_share", "unknown_columns", "missing_columns", "total_line_matches",
                      "files_in_day"}
    assert next(r for r in summary.results if r.column == "missing_columns").unexpected_count == 1
    broken = validate(files.assign(is_accounted=[True, False, True]), "raw_files", "t", EXPECTATIONS)
    assert broken.critical_failures == 1
    with pytest.raises(QualityGateFailed, match="raw_files"):
        enforce(broken)
