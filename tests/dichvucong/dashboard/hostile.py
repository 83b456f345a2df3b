"""A small published marts file whose source texts are hostile to spreadsheets: agency codes and names,
service codes and names, dossier ids and district codes that start like formulas. It holds the columns
the agency ranking and overdue tables read (a two-indicator points table included), and nothing else."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

# Texts a spreadsheet would run as a formula, with the form they must take in a file.
HOSTILE = (
    '=HYPERLINK("http://x","y")', "+1", "-1+2", "@SUM(A1)", "\t=1+1", "\r=1", "\n=1", "＝1", "＋1", "－1",
    "＠A1", "﹦1", "−1", " =1", "\u3000=1", "\u200b=1", "\x01=1",
)
# Texts that stay as they are (not a formula's start, whatever comes later), in CSV and XLSX alike.
BENIGN = ("Sở Tư pháp", "a=1", "1-2", "#REF!", "'quoted", "x\t=1")
TEXTS = HOSTILE + BENIGN
FEB = dt.date(2024, 2, 1)
AS_OF = dt.datetime(2024, 3, 1)


def escaped(text: str) -> str:
    """The form a text takes in a CSV file (and, but for characters a worksheet cannot hold, XLSX)."""
    return "'" + text if text in HOSTILE else text


def write_published(path: Path) -> Path:
    """One agency per text (its code the text, its name the reversed list's), with a negative points
    total for some; one overdue dossier per text, of a service whose code and name are texts too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(TEXTS)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create schema meta")
        con.execute("""create table marts.kpi_766 (geography_basis varchar, unit_type varchar, unit_code varchar,
            unit_name varchar, period_type varchar, period_start date, period_end date, is_complete boolean,
            rank_in_level integer, points_total double, points_measurable double, dossiers_received bigint,
            on_time_rate double, online_rate_766 double, points_on_time_rate double, points_online_rate_766 double)""")
        rows = [("as_was", "province", "26", "Tỉnh", "month", FEB, dt.date(2024, 3, 1), True, 1, 30.0, 80.0, 100, 0.9,
                 0.5, 18.0, 12.0)]
        for i, text in enumerate(TEXTS):
            name = TEXTS[n - 1 - i]
            points = -1.5 + i  # a negative number must stay a number
            rows.append(("as_was", "agency", text, name, "month", FEB, dt.date(2024, 3, 1), True, i + 1, points,
                         68.0, 10 + i, 0.5, 0.25, 10.0, 3.0))
            rows.append(("as_was", "agency", text, name, "year", dt.date(2024, 1, 1), dt.date(2025, 1, 1), False,
                         i + 1, points, 68.0, 10 + i, 0.5, 0.25, 10.0, 3.0))
        con.executemany("insert into marts.kpi_766 values (" + ", ".join(["?"] * 16) + ")", rows)
        con.execute("""create table marts.dim_766_indicators as select * from (values
            ('2.1', 'on_time_rate', '2', 'points_progress', 20.0, null::double, 'all', true, true),
            ('3.3', 'online_rate_766', '3', 'points_online_services', 12.0, 0.5, 'all', true, true))
            as t(indicator_code, indicator_name, group_code, group_column, max_points, target, scored_units,
                 is_measurable, is_scored)""")
        con.execute("""create table marts.agg_unit_period_indicators (geography_basis varchar, unit_type varchar,
            unit_code varchar, unit_name varchar, period_type varchar, period_start date)""")
        con.executemany("insert into marts.agg_unit_period_indicators values ('as_was', 'service', ?, ?, 'year', ?)",
                        [(text, TEXTS[(i + 3) % n], dt.date(2024, 1, 1)) for i, text in enumerate(TEXTS)])
        con.execute("create table marts.dim_services (service_code varchar, service_name varchar, valid_from date)")
        con.executemany("insert into marts.dim_services values (?, ?, ?)",
                        [(text, TEXTS[(i + 3) % n], dt.date(2024, 1, 1)) for i, text in enumerate(TEXTS)])
        con.execute("create table marts.dim_agencies (agency_code varchar, agency_name varchar, valid_from date)")
        con.executemany("insert into marts.dim_agencies values (?, ?, ?)",
                        [(text, TEXTS[n - 1 - i], dt.date(2024, 1, 1)) for i, text in enumerate(TEXTS)])
        con.execute("""create table marts.fct_dossiers (dossier_id varchar, service_code varchar,
            agency_code varchar, district_code varchar, received_at timestamp, due_at timestamp,
            supplement_rounds integer, applicant_wait_hours double, is_overdue_at_as_of boolean,
            days_overdue_at_as_of bigint)""")
        con.executemany("insert into marts.fct_dossiers values (?, ?, ?, ?, ?, ?, ?, ?, true, ?)", [
            (text, TEXTS[(i + 1) % n], TEXTS[(i + 2) % n], TEXTS[(i + 5) % n],
             dt.datetime(2024, 1, 2, 8) + dt.timedelta(hours=i), dt.datetime(2024, 2, 1, 17) - dt.timedelta(days=i),
             i % 3, 0.0, 28 + i) for i, text in enumerate(TEXTS)])
        con.execute("create table meta.publication as select ?::timestamp as as_of, ?::timestamptz as published_at, "
                    "'hostile'::varchar as run_id", [AS_OF, dt.datetime(2024, 3, 1, 1, tzinfo=dt.UTC)])
    return path
