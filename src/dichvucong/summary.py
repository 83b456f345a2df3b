"""The main job's closing summary, read from the published marts (what an
official would see) and the lake's load audit.

The 766 score is the province's last full month on the `as_was` basis (the
units as they were in that month: the configured province, or the one with the
most dossiers when the month has several), indicator by indicator and group by group
as the points table in force lists them (`marts.dim_766_indicators`, the one
copy of the maxima), then the rankings of that month. When the marts hold
months on both sides of 1 July 2025, June 2025 follows on both bases side by
side: the province as it was, and its history recast onto today's province.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb

from dichvucong.config import Settings

BASIS = "as_was"
REORGANISATION = dt.date(2025, 7, 1)
BASIS_WORDS = {"as_was": "units then", "current": "today's units"}
RANKED_LEVELS = (("department", "departments"), ("district", "districts"), ("commune", "communes"))


def _fmt_rate(value: float | None) -> str:
    return "    n/a" if value is None else f"{value * 100:6.2f} %"


def _fmt_points(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:5.2f}"


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _score_lines(row: dict[str, Any], indicators: list[dict[str, Any]]) -> list[str]:
    """A unit's row of kpi_766, group by group, each scored indicator with its rate and points."""
    lines = []
    groups = dict.fromkeys((i["group_code"], i["group_name"], i["group_column"]) for i in indicators)
    for code, name, column in groups:
        members = [i for i in indicators if i["group_code"] == code]
        scored = [i for i in members if i["is_scored"] and i["scored_units"] in ("all", row["unit_type"])]
        unmeasured = sum(i["max_points"] for i in members if not i["is_measurable"])
        if not scored:
            lines.append(f"  {code:<3} {name:<43} not measurable from these sources ({unmeasured:g} points)")
            continue
        extra = f"   (+{unmeasured:g} not measurable here)" if unmeasured else ""
        lines.append(f"  {code:<3} {name:<43} {_fmt_points(row.get(column))} / {sum(i['max_points'] for i in scored):g}"
                     f"{extra}")
        for i in scored:
            rate, points = row.get(i["indicator_name"]), row.get(f"points_{i['indicator_name']}")
            lines.append(f"      {i['indicator_code']:<5} {i['indicator_name']:<36} {_fmt_rate(rate)}"
                         f"  {_fmt_points(points)} / {i['max_points']:g}")
    return lines


def _ranking_lines(con: duckdb.DuckDBPyConnection, month: dt.date, provinces: list[dict[str, Any]]) -> list[str]:
    lines = []
    if len(provinces) > 1:
        lines.append("Provinces of the month:")
        lines += [f"  #{p['rank_in_level']:<3} {p['unit_code']:<5} {(p['unit_name'] or '')[:40]:<40} "
                  f"{p['points_total']:5.2f} / {p['points_measurable']:g} pts"
                  for p in sorted(provinces, key=lambda p: (p["rank_in_level"], p["unit_code"]))]
    agencies = con.execute(
        "select rank_in_level, unit_code, coalesce(unit_name, '') as unit_name, points_total, "
        "on_time_rate, dossiers_received from marts.kpi_766 where geography_basis = ? and unit_type = 'agency' "
        "and period_type = 'month' and period_start = ? and dossiers_received > 0 "
        "order by points_total desc, unit_code", [BASIS, month],
    ).fetchall()
    if agencies:
        lines.append("Agencies (with dossiers received that month), best three and worst three:")
        chosen = agencies[:3] + [("...",)] + agencies[-3:] if len(agencies) > 6 else agencies
        for agency in chosen:
            if agency[0] == "...":
                lines.append("  ...")
                continue
            rank, code, name, points, on_time, received = agency
            lines.append(f"  #{rank:<3} {code:<15} {name[:45]:<45} {points:5.2f} pts"
                         f"  on-time {_fmt_rate(on_time)}  received {received:,}")
    for unit_type, words in RANKED_LEVELS:
        ranked = con.execute(
            "select unit_code || ' ' || coalesce(unit_name, ''), points_total from marts.kpi_766 "
            "where geography_basis = ? and unit_type = ? and period_type = 'month' and period_start = ? "
            "and dossiers_received > 0 order by points_total desc, unit_code", [BASIS, unit_type, month]).fetchall()
        if ranked:
            (best, top), (worst, bottom) = ranked[0], ranked[-1]
            lines.append(f"{words.capitalize()}: {len(ranked):,} with dossiers; best {best[:40]} {top:.2f} pts, "
                         f"worst {worst[:40]} {bottom:.2f} pts")
    return lines


def _both_bases_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """June 2025 on both bases, when the marts have months before and after 1 July 2025."""
    first, last = con.execute(
        "select min(period_start), max(period_start) from marts.kpi_766 where geography_basis = ? "
        "and unit_type = 'province' and period_type = 'month'", [BASIS]).fetchall()[0]
    if first is None or not first < REORGANISATION <= last:
        return []
    june = REORGANISATION - dt.timedelta(days=30)
    rows = _rows(con, "select geography_basis, unit_code, unit_name, dossiers_received, on_time_rate, points_total, "
                 "points_measurable from marts.kpi_766 where unit_type = 'province' and period_type = 'month' "
                 "and period_start = ? order by geography_basis, dossiers_received desc, unit_code", [june])
    lines = ["", "June 2025, the last month before the reorganisation, on both bases:"]
    lines += [f"  {r['geography_basis']:<8} ({BASIS_WORDS.get(r['geography_basis'], '')[:13]:<13}) "
              f"{r['unit_code']:<5} {(r['unit_name'] or '')[:28]:<28} received {r['dossiers_received']:>9,}"
              f"  on-time {_fmt_rate(r['on_time_rate'])}  total {r['points_total']:6.2f} / {r['points_measurable']:g}"
              for r in rows]
    return lines


def build_summary(settings: Settings) -> str:
    lines: list[str] = []
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        as_of, published_at = con.sql("select as_of, published_at from meta.publication").fetchall()[0]
        month = con.execute(
            "select max(period_start) from marts.kpi_766 where geography_basis = ? and unit_type = 'province' "
            "and period_type = 'month' and period_end <= ?", [BASIS, as_of.date()],
        ).fetchall()[0][0]
        lines.append(f"Marts as of {as_of:%Y-%m-%d %H:%M} (local), published {published_at:%Y-%m-%d %H:%M %Z}")
        if month is None:
            lines.append("No full month in the data yet: no 766 score to show.")
        else:
            indicators = _rows(con, "select * from marts.dim_766_indicators order by group_code, indicator_code")
            provinces = _rows(con, "select * from marts.kpi_766 where geography_basis = ? and unit_type = 'province' "
                              "and period_type = 'month' and period_start = ? "
                              "order by dossiers_received desc, unit_code", [BASIS, month])
            # The configured province when the month has it (a pipeline may hold several before a merger),
            # else the one with the most dossiers.
            row = next((p for p in provinces if p["unit_code"] == settings.province_code), provinces[0])
            whole = sum(i["max_points"] for i in indicators)
            lines.append("")
            lines.append(f"Province, 766 indicators for {month:%m/%Y} (last full month), on the units then: "
                         f"{row['unit_code']} {row['unit_name'] or ''}")
            lines += _score_lines(row, indicators)
            lines.append(f"  total {row['points_total']:.2f} / {row['points_measurable']:g} points "
                         f"(the measurable maximum; the other {whole - row['points_measurable']:g} of {whole:g} "
                         "are not measurable from these sources)")
            lines.append(f"  dossiers submitted {row['dossiers_submitted']:,}, received {row['dossiers_received']:,}"
                         f", ended {row['dossiers_ended']:,}, in progress at month end {row['in_progress_at_end']:,}")
            lines.append("")
            lines += _ranking_lines(con, month, provinces)
        lines += _both_bases_lines(con)
        dossiers, ended = con.sql(
            "select count(*), count(*) filter (where is_ended) from marts.fct_dossiers"
        ).fetchall()[0]
        payments = con.sql(
            "select count(*), count(*) filter (where status = 'succeeded'), "
            "coalesce(sum(amount_vnd) filter (where status = 'succeeded'), 0), "
            "count(*) filter (where is_orphan), sum(duplicate_rows) from marts.fct_payments"
        ).fetchall()[0]
        lines.append("")
        lines.append(f"Dossiers: {dossiers:,} ({ended:,} ended)")
        lines.append(f"Payments: {payments[0]:,} transactions, {payments[1]:,} succeeded, "
                     f"{payments[2]:,} VND collected net of refunds, {payments[3]:,} orphans, "
                     f"{payments[4] or 0:,} duplicate rows")
        states = con.sql(
            "select reconciliation_state, count(*) from marts.fct_dossiers group by 1 order by 2 desc"
        ).fetchall()
        lines.append("Reconciliation: " + ", ".join(f"{s} {n:,}" for s, n in states))
    audit_glob = settings.lake_dir / "load_audit" / "*" / "*" / "data.parquet"
    with duckdb.connect() as con:
        quarantine = con.execute(
            f"select source, sum(rows_read), sum(rows_loaded), sum(rows_quarantined) "
            f"from read_parquet('{audit_glob}') group by 1 order by 1"
        ).fetchall()
    lines.append("Landing: " + "; ".join(
        f"{s} read {r:,}, loaded {ld:,}, quarantined {q:,}" for s, r, ld, q in quarantine))
    lines.append("")
    lines.append(f"Warehouse:      {settings.warehouse_path}  (marts built into {settings.marts_path.name})")
    lines.append(f"Published marts: {settings.published_path}  (schema marts)")
    lines.append(f"Reports:        {settings.reports_dir}  (exports/, quality/, summary.txt)")
    host, port = settings.dashboard_host, settings.dashboard_port
    lines.append(f"Dashboard:      http://{host}:{port}/  (start: source scripts/env.sh && dichvucong dashboard)")
    return "\n".join(lines)


def write_summary(settings: Settings) -> tuple[str, Path]:
    text = build_summary(settings)
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    path = settings.reports_dir / "summary.txt"
    path.write_text(text + "\n", encoding="utf-8")
    return text, path
