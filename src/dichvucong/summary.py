"""The main job's closing summary, read from the published marts (what an
official would see) and the lake's load audit."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from dichvucong.config import Settings

INDICATORS = (("on_time_rate", "2.1", 20), ("online_rate", "3.3", 12), ("online_payment_rate", "3.6", 10),
              ("e_result_rate", "4.1", 6), ("digitised_rate", "4.2", 4))


def _fmt_rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:6.2f} %"


def build_summary(settings: Settings) -> str:
    lines: list[str] = []
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        as_of, published_at = con.sql("select as_of, published_at from meta.publication").fetchall()[0]
        month = con.sql(
            "select max(period_start) from marts.kpi_766 where period_type = 'month' and period_end <= ?",
            params=[as_of.date()],
        ).fetchall()[0][0]
        lines.append(f"Marts as of {as_of:%Y-%m-%d %H:%M} (local), published {published_at:%Y-%m-%d %H:%M %Z}")
        if month is None:
            lines.append("No full month in the data yet: no 766 score to show.")
        else:
            row = con.sql(
                "select * from marts.kpi_766 where unit_type = 'province' and period_type = 'month' "
                "and period_start = ?", params=[month],
            ).df().iloc[0]
            lines.append("")
            lines.append(f"Province, 766 indicators for {month:%m/%Y} (last full month):")
            for name, section, max_points in INDICATORS:
                points = row[f"points_{name}"]
                shown = "  n/a" if points != points else f"{points:5.2f}"  # NaN for a null rate
                lines.append(f"  {section} {name:<22} {_fmt_rate(None if row[name] != row[name] else row[name])}"
                             f"   {shown} / {max_points} points")
            lines.append(f"  total {row['points_total']:.2f} / 52 points "
                         "(the other 48 of 100 come from data this pipeline does not receive)")
            lines.append(f"  dossiers submitted {row['dossiers_submitted']:,}, received {row['dossiers_received']:,}"
                         f", ended {row['dossiers_ended']:,}, in progress at month end {row['in_progress_at_end']:,}")
            agencies = con.sql(
                "select rank_in_level, unit_code, coalesce(unit_name, '') as unit_name, points_total, "
                "on_time_rate, dossiers_received from marts.kpi_766 where unit_type = 'agency' "
                "and period_type = 'month' and period_start = ? and dossiers_received > 0 "
                "order by points_total desc, unit_code", params=[month],
            ).fetchall()
            if agencies:
                lines.append("")
                lines.append("Agencies (with dossiers received that month), best three and worst three:")
                chosen = agencies[:3] + [("...",)] + agencies[-3:] if len(agencies) > 6 else agencies
                for agency in chosen:
                    if agency[0] == "...":
                        lines.append("  ...")
                        continue
                    rank, code, name, points, on_time, received = agency
                    lines.append(f"  #{rank:<3} {code:<15} {name[:45]:<45} {points:5.2f} pts"
                                 f"  on-time {_fmt_rate(on_time)}  received {received:,}")
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
    host = os.environ.get("DVC_DASHBOARD_HOST", "127.0.0.1")
    port = os.environ.get("DVC_DASHBOARD_PORT", "8050")
    lines.append(f"Dashboard:      http://{host}:{port}/  (start: source scripts/env.sh && dichvucong dashboard)")
    return "\n".join(lines)


def write_summary(settings: Settings) -> tuple[str, Path]:
    text = build_summary(settings)
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    path = settings.reports_dir / "summary.txt"
    path.write_text(text + "\n", encoding="utf-8")
    return text, path
