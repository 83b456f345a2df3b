"""The provinces file: what a province derives, and clear errors for a bad file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dichvucong.provinces import ProvinceConfigError, load_provinces, settings_for


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "provinces.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_province_gets_its_own_folders_and_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_WAREHOUSE_PATH", "/elsewhere/warehouse.duckdb")  # must not leak into a province
    monkeypatch.setenv("BN_TOKEN", "secret-from-env")
    path = _write(tmp_path, f"""
home: {tmp_path}/data
provinces:
  - {{slug: vinh_phuc, code: "26", name: Tỉnh Vĩnh Phúc, landing: {tmp_path}/drop}}
  - {{slug: bac_ninh, code: "27", name: Tỉnh Bắc Ninh, source_mode: http, source_url: "https://x.example/api",
     source_token_env: BN_TOKEN}}
""")
    vinh_phuc, bac_ninh = load_provinces(path)
    settings = settings_for(bac_ninh)
    assert settings.province_code == "27" and settings.province_name == "Tỉnh Bắc Ninh"
    assert settings.warehouse_path == tmp_path / "data" / "bac_ninh" / "warehouse" / "warehouse.duckdb"
    assert settings.marts_path == tmp_path / "data" / "bac_ninh" / "warehouse" / "warehouse.marts.duckdb"
    assert settings.landing_dir == tmp_path / "data" / "bac_ninh" / "landing"
    assert settings.source_mode == "http" and settings.source_token == "secret-from-env"
    assert settings.source_url == "https://x.example/api"
    assert settings_for(vinh_phuc).landing_dir == tmp_path / "drop"
    assert settings_for(vinh_phuc).source_token == "" and settings_for(vinh_phuc).source_mode == "file"
    # Built explicitly: the environment is not rewritten for a province, nor read for its paths.
    assert os.environ["DVC_WAREHOUSE_PATH"] == "/elsewhere/warehouse.duckdb"
    assert os.environ.get("DVC_PROVINCE_CODE") != "27"
    assert settings_for(None).warehouse_path == Path("/elsewhere/warehouse.duckdb")


@pytest.mark.parametrize(("text", "message"), [
    ("provinces: []", "at least one province"),
    ("provinces:\n  - {slug: Vinh Phuc, code: '26'}", "must match"),
    ("provinces:\n  - {slug: vp}", "has no code"),
    ("provinces:\n  - {slug: a, code: '1'}\n  - {slug: b, code: '1'}", "share a code"),
    ("provinces:\n  - {slug: a, code: '1', source_mode: ftp}", "source_mode"),
    ("provinces: [", "cannot read"),
])
def test_a_bad_provinces_file_is_refused_with_the_reason(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ProvinceConfigError, match=message):
        load_provinces(_write(tmp_path, text))


def _publish(home: Path, rows: list[tuple[str, str, str, float]], indicators: list[tuple[str, str | None, str, float]]
             ) -> None:
    """A province's published marts, as small as the national layer needs: kpi_766 rows (basis, unit type,
    code, on-time rate) of February 2024, and a points table (code, indicator, group column, max points)."""
    import datetime as dt

    import duckdb

    path = home / "published" / "dichvucong.duckdb"
    path.parent.mkdir(parents=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create schema meta")
        con.execute("create table meta.publication as select timestamp '2024-03-04' as as_of, "
                    "now() as published_at, 'r1' as run_id")
        con.execute("create table marts.dim_766_indicators (indicator_code varchar, indicator_name varchar, "
                    "group_code varchar, group_column varchar, max_points double, is_measurable boolean, "
                    "is_scored boolean)")
        con.executemany("insert into marts.dim_766_indicators values (?, ?, ?, ?, ?, ?, ?)",
                        [(code, name, code[0], group, top, name is not None, name is not None and top > 0)
                         for code, name, group, top in indicators])
        scored = [(name, top) for _, name, _, top in indicators if name and top > 0]
        con.execute("create table marts.kpi_766 (geography_basis varchar, unit_type varchar, unit_code varchar, "
                    "unit_name varchar, period_type varchar, period_start date, period_end date, is_complete boolean, "
                    "measured_until timestamp, spans_reorganisation boolean, dossiers_received bigint, "
                    "dossiers_ended bigint, procedures bigint, "
                    + "".join(f"{name} double, points_{name} double, " for name, _ in scored)
                    + "points_progress double, points_transparency double, points_satisfaction double, "
                    "points_total double, points_measurable double, rank_in_level bigint)")
        for basis, unit_type, code, rate in rows:
            points = [rate * top for _, top in scored]
            con.execute(f"insert into marts.kpi_766 values ({', '.join(['?'] * (19 + 2 * len(scored)))})",
                        [basis, unit_type, code, f"Tỉnh {code}", "month", dt.date(2024, 2, 1), dt.date(2024, 3, 1),
                         True, dt.datetime(2024, 3, 1), False, 100, 80, 50,
                         *[v for (_, _), p in zip(scored, points, strict=True) for v in (rate, p)],
                         sum(points), 0.0, None, sum(points), 80.0, 1])


def test_the_national_ranking_takes_each_province_on_both_bases(tmp_path: Path) -> None:
    """Province rows on both bases (as they were; today's, a merged province's history under today's
    code), the columns its points table names (no list here), ranked across provinces per period and
    basis."""
    import duckdb

    from dichvucong.national import build_national

    path = _write(tmp_path, f"""
home: {tmp_path}/data
provinces:
  - {{slug: vinh_phuc, code: "26", name: Tỉnh Vĩnh Phúc}}
  - {{slug: bac_ninh, code: "27", name: Tỉnh Bắc Ninh}}
  - {{slug: not_yet, code: "28", name: Tỉnh chưa công bố}}
""")
    vinh_phuc, bac_ninh, not_yet = load_provinces(path)
    common = [("2.1", "on_time_rate", "points_progress", 20.0), ("5", None, "points_satisfaction", 18.0)]
    _publish(vinh_phuc.home, [("as_was", "province", "26", 0.9), ("current", "province", "25", 0.8),
                              ("current", "agency", "A", 1.0)], common)
    _publish(bac_ninh.home, [("as_was", "province", "27", 0.5), ("current", "province", "27", 0.95)],
             [*common, ("1.4", "sync_rate", "points_transparency", 6.0)])
    target = tmp_path / "national_ranking.duckdb"
    assert build_national([vinh_phuc, bac_ninh, not_yet], target) == {
        "national": str(target), "provinces_published": 2, "provinces": 3}
    with duckdb.connect(str(target), read_only=True) as con:
        cursor = con.execute("select * from national.kpi_766_provinces where geography_basis = 'current' "
                             "order by national_rank")
        columns = [c[0] for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        as_was = con.execute("select province_slug, province_code, national_rank, provinces_ranked "
                             "from national.kpi_766_provinces where geography_basis = 'as_was' "
                             "order by national_rank").fetchall()
    assert [(r["province_slug"], r["province_code"], r["national_rank"]) for r in rows] == [
        ("bac_ninh", "27", 1), ("vinh_phuc", "25", 2)]
    assert {r["provinces_ranked"] for r in rows} == {2}
    # As they were: Vĩnh Phúc (26) ranks first on its own rates then.
    assert as_was == [("vinh_phuc", "26", 1, 2), ("bac_ninh", "27", 2, 2)]
    assert rows[1]["points_on_time_rate"] == 16.0 and rows[1]["points_total"] == 16.0
    assert rows[0]["points_sync_rate"] == pytest.approx(5.7) and rows[1]["points_sync_rate"] is None
    assert {"on_time_rate", "points_progress", "points_transparency", "points_measurable"} <= set(columns)
    assert "points_satisfaction" in columns and "procedures" not in columns and "rank_in_level" not in columns


def test_the_national_ranking_before_any_province_publishes(tmp_path: Path) -> None:
    import duckdb

    from dichvucong.national import build_national

    (province,) = load_provinces(_write(tmp_path, f"home: {tmp_path}/data\nprovinces:\n  - {{slug: a, code: '1'}}"))
    target = tmp_path / "national_ranking.duckdb"
    assert build_national([province], target)["provinces_published"] == 0
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select count(*) from national.kpi_766_provinces").fetchall() == [(0,)]
        columns = [c[0] for c in con.execute("select * from national.kpi_766_provinces").description]
    assert {"province_slug", "province_code", "points_total", "points_measurable", "national_rank"} <= set(columns)
