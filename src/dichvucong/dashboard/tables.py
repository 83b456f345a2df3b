"""Every table the dashboard shows: its SQL over the published marts, the filters
it takes and the kind of each column (which decides formats on pages and in files).

A page shows tables, the API serves them (`/api/v1/<name>`), and exports write
them; all three run the same `Table.sql` with bound parameters, so the numbers
cannot differ between a page and its download. Column names come from the
marts; a unit's column (agency, district, service) is chosen from a fixed list
here, never from a request.

Every query on `marts.kpi_766` and `marts.agg_unit_period_indicators` reads one
geography basis (`$basis`: `as_was`, the units as they were in each period, by
default; or `current`, history recast onto today's units). The 766 indicators,
their groups and maxima are those of `marts.dim_766_indicators` in the
published file, read by each query: nothing here lists them. A unit row's value
for an indicator is read by the indicator's name through the row's JSON form
(`to_json`), which keeps doubles exact.
"""

from __future__ import annotations

from dataclasses import dataclass

# Filters a table can take. `period` = period_type + period_start (+ the derived
# period_end); `code` = the unit's code; `province` = an optional province code (default: the
# province with the most dossiers received in the period); `agency` = an optional agency filter;
# `period_optional` = a period that may be left out (all periods; a change table, below, then reads
# the latest complete period that has a previous one to compare with). A table whose SQL reads
# `$basis` also takes the geography basis. The change tables ("why did the score move?") take `unit`:
# a unit_type of CHANGE_UNITS (default: province) whose `code` may be left out for a province only
# (default as for `province`); `indicator` = an optional indicator code (default: the fraction
# indicator that moved the unit's points most).
FILTERS = ("period", "period_optional", "code", "province", "agency", "unit", "indicator")
BASES = ("as_was", "current")
DEFAULT_BASIS = "as_was"


@dataclass(frozen=True)
class Table:
    name: str
    page: str
    title: str  # key in labels.UI
    description: str  # for the API documentation
    sql: str
    columns: tuple[tuple[str, str], ...]  # (column name, kind)
    filters: tuple[str, ...] = ("period",)

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    @property
    def takes_basis(self) -> bool:
        return "$basis" in self.sql


KINDS = ("text", "label", "int", "vnd", "rate", "points", "days", "month", "date", "timestamp", "bool")

# The unit types of kpi_766 with a page and a ranking, in the order the province page shows them.
RANKED_UNITS = ("agency", "department", "district", "commune")
# The fct_dossiers column that holds a unit's code on each basis (as_was, current). Dossiers are
# placed by their own agency (an agency closed before a period is not followed to its successor
# here, as kpi_766 does); districts have no current form.
UNIT_COLUMNS = {
    "province": ("province_code", "province_code_current"),
    "department": ("department_code", "department_code_current"),
    "district": ("district_code", "district_code"),
    "commune": ("commune_code", "commune_code_current"),
    "agency": ("agency_code", "current_agency_code"),
    "service": ("service_code", "service_code"),
}

_NAMES = """
    service_names as (
        select service_code, arg_max(service_name, valid_from) as service_name from marts.dim_services group by 1
    ),
    agency_names as (
        select agency_code, arg_max(agency_name, valid_from) as agency_name from marts.dim_agencies group by 1
    )"""

# A service's MucDo (dim_services.online_level, 1-4) in the catalog version in force at the period's end, as
# a code the labels translate (online_level_4: toàn trình, 3: một phần, 1-2: information only).
_LEVELS = """
    service_levels as (
        select service_code, 'online_level_' || arg_max(online_level, valid_from)::varchar as online_level
        from marts.dim_services
        where valid_from < $period_end
        group by 1
    )"""


def _dossier_unit(unit_type: str) -> str:
    """The SQL expression of a dossier's unit code on the request's basis."""
    as_was, current = UNIT_COLUMNS[unit_type]
    return as_was if as_was == current else f"(case when $basis = 'current' then {current} else {as_was} end)"


def _unit_filters(unit_type: str) -> tuple[str, ...]:
    return ("period", "province") if unit_type == "province" else ("period", "code")


def _points(unit_type: str) -> Table:
    return Table(
        name=f"{unit_type}_points",
        page=unit_type,
        title="score_title",
        description=f"The {unit_type}'s 766 score in a period, group by group as the points table in force lists "
                    "them (marts.dim_766_indicators): each indicator's rate, target, maximum, points and points "
                    "lost; monitored indicators, those not scored at this level and those not measurable from "
                    "these sources say so; the total is out of the unit's measurable maximum (marts.kpi_766).",
        sql=f"""
    with k as (
        select * from marts.kpi_766
        where geography_basis = $basis and unit_type = '{unit_type}' and unit_code = $code
            and period_type = $period_type and period_start = $period_start
    ),
    unit as (select to_json(k) as doc, points_total, points_measurable from k),
    points_table as (
        select *, scored_units in ('all', '{unit_type}') as applies from marts.dim_766_indicators
    ),
    indicators as (
        select i.group_code, 1 as line, i.indicator_code as section,
            coalesce(i.indicator_name, 'not_measurable_' || i.indicator_code) as indicator,
            json_extract(u.doc, '$.' || i.indicator_name)::double as rate, i.target,
            case when not i.is_measurable or (i.is_scored and i.applies) then i.max_points
                 when i.applies then 0 end as max_points,
            case when i.is_scored and i.applies
                 then json_extract(u.doc, '$.points_' || i.indicator_name)::double end as points,
            case when not i.is_measurable then 'not_measurable' when not i.applies then 'not_scored_here'
                 when not i.is_scored then 'monitored' else 'scored' end as scoring
        from points_table as i cross join unit as u
    ),
    groups as (
        select i.group_code, 0 as line, i.group_code as section, i.group_column as indicator, null::double as rate,
            null::double as target,
            sum(i.max_points) filter (where i.is_scored and i.applies) as max_points,
            json_extract(any_value(u.doc), '$.' || i.group_column)::double as points, 'group' as scoring
        from points_table as i cross join unit as u
        group by i.group_code, i.group_column
        having bool_or(i.is_scored and i.applies)  -- a group with nothing to score is its members' rows
    ),
    total as (
        select null as group_code, 2 as line, '' as section, 'points_total' as indicator, null::double as rate,
            null::double as target, points_measurable as max_points, points_total as points, 'total' as scoring
        from unit
    )
    select section, indicator, rate, target, max_points, points,
        case when scoring in ('scored', 'group', 'total') then max_points - coalesce(points, 0) end as points_lost,
        scoring
    from (select * from indicators union all select * from groups union all select * from total)
    order by group_code nulls last, line, section""",
        columns=(("section", "text"), ("indicator", "label"), ("rate", "rate"), ("target", "rate"),
                 ("max_points", "points"), ("points", "points"), ("points_lost", "points"), ("scoring", "label")),
        filters=_unit_filters(unit_type),
    )


def _supplements(unit_type: str) -> str:
    return f"""
    supplements as (
        select date_trunc('month', ended_at)::date as month_start,
            count(*) filter (where supplement_rounds > 0) / count(*) as supplement_rate
        from marts.fct_dossiers
        where is_ended and ended_at is not null and ended_at < $period_end and {_dossier_unit(unit_type)} = $code
        group by 1
    )"""


# The groups as the portal shows them (metrics.md, published columns of kpi_766); satisfaction has no source.
GROUP_COLUMNS = ("points_transparency", "points_progress", "points_online_services", "points_online_payment",
                 "points_digitisation")
TREND_RATES = ("on_time_rate", "online_rate", "online_rate_766", "online_payment_rate", "e_result_rate",
               "digitised_rate")


def _trend(unit_type: str) -> Table:
    return Table(
        name=f"{unit_type}_trend",
        page=unit_type,
        title="trend_title",
        description=f"The {unit_type}'s month rows up to the end of the chosen period: points and their measurable "
                    "maximum, rank, group points, rates, processing days and supplement rate (marts.kpi_766, "
                    "marts.fct_dossiers).",
        sql=f"""
    with k as (
        select * from marts.kpi_766
        where geography_basis = $basis and unit_type = '{unit_type}' and unit_code = $code
            and period_type = 'month' and period_start < $period_end
    ),{_supplements(unit_type)}
    select k.period_start as month_start, k.points_total, k.points_measurable, k.rank_in_level,
        {", ".join(f"k.{c}" for c in GROUP_COLUMNS + TREND_RATES)}, k.dossiers_received, k.dossiers_ended,
        k.p50_processing_working_days::double as p50_processing_working_days,
        k.p90_processing_working_days::double as p90_processing_working_days, k.deadline_use, s.supplement_rate
    from k left join supplements as s on s.month_start = k.period_start
    order by 1""",
        columns=(("month_start", "month"), ("points_total", "points"), ("points_measurable", "points"),
                 ("rank_in_level", "int"), *((c, "points") for c in GROUP_COLUMNS),
                 *((c, "rate") for c in TREND_RATES), ("dossiers_received", "int"),
                 ("dossiers_ended", "int"), ("p50_processing_working_days", "days"),
                 ("p90_processing_working_days", "days"), ("deadline_use", "rate"), ("supplement_rate", "rate")),
        filters=_unit_filters(unit_type),
    )


# The province a unit is compared with: the province unit of the period with the most dossiers received
# (the province page's default), on the same basis and period as the unit.
_PROVINCE_ROW = """
    province as (
        select * from marts.kpi_766
        where geography_basis = $basis and unit_type = 'province' and period_type = $period_type
            and period_start = $period_start
        order by dossiers_received desc nulls last, unit_code
        limit 1
    )"""


def _ranks(unit_type: str) -> Table:
    return Table(
        name=f"{unit_type}_ranks",
        page="province",
        title=f"{unit_type}_ranks",
        description=f"Every {unit_type} ranked on the 766 points in a period, with its measurable maximum, the "
                    "points it loses, and the indicator where it is furthest below the province (the unit's "
                    "points on it minus the province's, same period and basis), among those the points table "
                    "scores at this level (marts.kpi_766, marts.dim_766_indicators).",
        sql=f"""
    with k as (
        select * from marts.kpi_766
        where geography_basis = $basis and unit_type = '{unit_type}' and period_type = $period_type
            and period_start = $period_start
    ),{_PROVINCE_ROW},
    scored as (
        select indicator_code, indicator_name, max_points from marts.dim_766_indicators
        where is_scored and scored_units in ('all', '{unit_type}')
    ),
    gaps as (
        select k.unit_code, s.indicator_name,
            coalesce(json_extract(to_json(k), '$.points_' || s.indicator_name)::double, 0)
                - coalesce(json_extract(to_json(p), '$.points_' || s.indicator_name)::double, 0) as points_gap,
            json_extract(to_json(k), '$.' || s.indicator_name)::double
                - json_extract(to_json(p), '$.' || s.indicator_name)::double as rate_gap
        from k cross join scored as s cross join province as p
        qualify row_number() over (partition by k.unit_code order by points_gap, s.indicator_code) = 1
    )
    select k.rank_in_level, k.unit_code, k.unit_name, k.points_total,
        k.points_measurable - k.points_total as points_lost, g.indicator_name as largest_gap_indicator,
        g.points_gap as largest_gap_points, g.rate_gap as largest_gap_rate, k.points_measurable,
        k.dossiers_received, k.on_time_rate, k.online_rate_766
    from k left join gaps as g using (unit_code)
    order by k.rank_in_level nulls last, k.unit_code""",
        columns=(("rank_in_level", "int"), ("unit_code", "text"), ("unit_name", "text"),
                 ("points_total", "points"), ("points_lost", "points"), ("largest_gap_indicator", "label"),
                 ("largest_gap_points", "points"), ("largest_gap_rate", "rate"), ("points_measurable", "points"),
                 ("dossiers_received", "int"), ("on_time_rate", "rate"), ("online_rate_766", "rate")),
    )


def _vs_province(unit_type: str) -> Table:
    return Table(
        name=f"{unit_type}_vs_province",
        page=unit_type,
        title="vs_province_title",
        description=f"The {unit_type}'s gap to the province on each indicator the points table scores at its "
                    "level, in a period: the unit's rate and points, the province's, and the unit's minus the "
                    "province's (same period and basis; the province with the most dossiers received in the "
                    "period), the widest gap in points first (marts.kpi_766, marts.dim_766_indicators).",
        sql=f"""
    with unit as (
        select to_json(k) as doc from marts.kpi_766 as k
        where geography_basis = $basis and unit_type = '{unit_type}' and unit_code = $code
            and period_type = $period_type and period_start = $period_start
    ),{_PROVINCE_ROW},
    p as (select to_json(province) as doc from province),
    scored as (
        select indicator_code, indicator_name, max_points from marts.dim_766_indicators
        where is_scored and scored_units in ('all', '{unit_type}')
    ),
    both_rows as (
        select s.indicator_code, s.indicator_name, s.max_points,
            json_extract(u.doc, '$.' || s.indicator_name)::double as rate,
            json_extract(p.doc, '$.' || s.indicator_name)::double as province_rate,
            json_extract(u.doc, '$.points_' || s.indicator_name)::double as points,
            json_extract(p.doc, '$.points_' || s.indicator_name)::double as province_points
        from scored as s cross join unit as u cross join p
    )
    select indicator_code as section, indicator_name as indicator, points - province_points as points_gap,
        rate - province_rate as rate_gap, rate, province_rate, points, province_points, max_points
    from both_rows
    order by points_gap nulls last, indicator_code""",
        columns=(("section", "text"), ("indicator", "label"), ("points_gap", "points"), ("rate_gap", "rate"),
                 ("rate", "rate"), ("province_rate", "rate"), ("points", "points"), ("province_points", "points"),
                 ("max_points", "points")),
        filters=("period", "code"),
    )


def _channel_volume(unit_type: str) -> Table:
    return Table(
        name=f"{unit_type}_channel_volume",
        page=unit_type,
        title="volume_title",
        description=f"Dossiers the {unit_type} received per month, by channel, up to the end of the chosen period "
                    "(marts.fct_dossiers).",
        sql=f"""
    select date_trunc('month', received_at)::date as month_start,
        count(*) filter (where channel = 'in_person') as received_in_person,
        count(*) filter (where channel = 'online') as received_online,
        count(*) filter (where channel = 'postal') as received_postal,
        count(*) as dossiers_received,
        count(*) filter (where channel = 'online') / count(*) as online_share
    from marts.fct_dossiers
    where is_received and received_at is not null and received_at < $period_end
        and {_dossier_unit(unit_type)} = $code
    group by 1
    order by 1""",
        columns=(("month_start", "month"), ("received_in_person", "int"), ("received_online", "int"),
                 ("received_postal", "int"), ("dossiers_received", "int"), ("online_share", "rate")),
        filters=("period", "code"),
    )


def _unit_services(unit_type: str) -> Table:
    return Table(
        name=f"{unit_type}_services",
        page=unit_type,
        title="services_of_unit",
        description=f"The services of the {unit_type}'s dossiers in a period: received and online share (by "
                    "reception day), ended, share ended on time, p90 processing days against the deadline "
                    "(by end day; marts.fct_dossiers).",
        sql=f"""
    with d as (select * from marts.fct_dossiers where {_dossier_unit(unit_type)} = $code),
    {_NAMES.strip()},
    received as (
        select service_code, count(*) as dossiers_received,
            count(*) filter (where channel = 'online') / count(*) as online_share
        from d where is_received and received_at >= $period_start and received_at < $period_end
        group by 1
    ),
    ended as (
        select service_code, count(*) as dossiers_ended,
            count(*) filter (where is_on_time) / nullif(count(is_on_time), 0) as ended_on_time_share,
            quantile_cont(processing_working_days, 0.9) as p90_processing_working_days,
            max(deadline_working_days) as deadline_working_days
        from d where is_ended and ended_at >= $period_start and ended_at < $period_end
        group by 1
    ),{_LEVELS.strip()}
    select service_code, n.service_name, l.online_level,
        e.p90_processing_working_days > e.deadline_working_days as is_slow, e.p90_processing_working_days,
        e.deadline_working_days, coalesce(r.dossiers_received, 0) as dossiers_received, r.online_share,
        coalesce(e.dossiers_ended, 0) as dossiers_ended, e.ended_on_time_share
    from received as r
    full join ended as e using (service_code)
    left join service_names as n using (service_code)
    left join service_levels as l using (service_code)
    order by dossiers_received desc, dossiers_ended desc, service_code""",
        columns=(("service_code", "text"), ("service_name", "text"), ("online_level", "label"), ("is_slow", "bool"),
                 ("p90_processing_working_days", "days"), ("deadline_working_days", "int"),
                 ("dossiers_received", "int"), ("online_share", "rate"), ("dossiers_ended", "int"),
                 ("ended_on_time_share", "rate")),
        filters=("period", "code"),
    )


_SERVICE_DEADLINES = """
    deadlines as (
        select service_code, arg_max(deadline_working_days, month_start) as deadline_working_days
        from marts.agg_processing_time_monthly
        where month_start >= $period_start and month_start < $period_end
        group by 1
    )"""

SERVICES = Table(
    name="services",
    page="services",
    title="services_title",
    description="Every service with dossiers in a period: its MucDo (online level) in the catalog, whether it is "
                "slow (p90 processing days beyond its legal deadline), p90/p50 processing days, volume, digital "
                "take-up, on-time rate (marts.agg_unit_period_indicators, marts.agg_processing_time_monthly, "
                "marts.dim_services).",
    sql=f"""
    with s as (
        select * from marts.agg_unit_period_indicators
        where geography_basis = $basis and unit_type = 'service' and period_type = $period_type
            and period_start = $period_start and (dossiers_submitted > 0 or dossiers_received > 0 or dossiers_ended > 0)
    ),{_SERVICE_DEADLINES},{_LEVELS}
    select s.unit_code as service_code, s.unit_name as service_name, l.online_level,
        s.p90_processing_working_days > d.deadline_working_days as is_slow,
        s.p90_processing_working_days::double as p90_processing_working_days, d.deadline_working_days,
        s.p50_processing_working_days::double as p50_processing_working_days, s.dossiers_received,
        s.digital_take_up, s.on_time_rate, s.dossiers_ended
    from s left join deadlines as d on d.service_code = s.unit_code
    left join service_levels as l on l.service_code = s.unit_code
    order by s.dossiers_received desc, s.dossiers_ended desc, s.unit_code""",
    columns=(("service_code", "text"), ("service_name", "text"), ("online_level", "label"), ("is_slow", "bool"),
             ("p90_processing_working_days", "days"), ("deadline_working_days", "int"),
             ("p50_processing_working_days", "days"), ("dossiers_received", "int"), ("digital_take_up", "rate"),
             ("on_time_rate", "rate"), ("dossiers_ended", "int")),
)

SERVICE_SUMMARY = Table(
    name="service_summary",
    page="service",
    title="service_summary",
    description="One service in a period: its indicators (marts.agg_unit_period_indicators).",
    sql=f"""
    with s as (
        select * from marts.agg_unit_period_indicators
        where geography_basis = $basis and unit_type = 'service' and unit_code = $code
            and period_type = $period_type and period_start = $period_start
    ),{_SERVICE_DEADLINES}
    select s.dossiers_submitted, s.dossiers_received, s.digital_take_up, s.dossiers_ended, s.on_time_rate,
        s.completion_rate, s.avg_processing_working_days,
        s.p50_processing_working_days::double as p50_processing_working_days,
        s.p90_processing_working_days::double as p90_processing_working_days, d.deadline_working_days,
        s.deadline_use, s.in_progress_at_end, s.in_progress_overdue_at_end, s.fees_expected_vnd,
        s.fees_collected_online_vnd
    from s left join deadlines as d on d.service_code = s.unit_code""",
    columns=(("dossiers_submitted", "int"), ("dossiers_received", "int"), ("digital_take_up", "rate"),
             ("dossiers_ended", "int"), ("on_time_rate", "rate"), ("completion_rate", "rate"),
             ("avg_processing_working_days", "days"), ("p50_processing_working_days", "days"),
             ("p90_processing_working_days", "days"), ("deadline_working_days", "int"), ("deadline_use", "rate"),
             ("in_progress_at_end", "int"), ("in_progress_overdue_at_end", "int"), ("fees_expected_vnd", "vnd"),
             ("fees_collected_online_vnd", "vnd")),
    filters=("period", "code"),
)

SERVICE_TREND = Table(
    name="service_trend",
    page="service",
    title="trend_title",
    description="One service's months up to the end of the chosen period: volume, take-up, on-time rate, "
                "p50/p90 processing days, legal deadline, supplement rate (marts.agg_unit_period_indicators, "
                "marts.agg_processing_time_monthly).",
    sql="""
    with k as (
        select * from marts.agg_unit_period_indicators
        where geography_basis = $basis and unit_type = 'service' and unit_code = $code and period_type = 'month'
            and period_start < $period_end
    ),
    t as (
        select * from marts.agg_processing_time_monthly where service_code = $code and month_start < $period_end
    )
    select coalesce(k.period_start, t.month_start) as month_start, k.dossiers_received, k.digital_take_up,
        k.on_time_rate, k.dossiers_ended, t.p50_processing_working_days, t.p90_processing_working_days,
        t.deadline_working_days, t.supplement_share as supplement_rate
    from k full join t on t.month_start = k.period_start
    order by 1""",
    columns=(("month_start", "month"), ("dossiers_received", "int"), ("digital_take_up", "rate"),
             ("on_time_rate", "rate"), ("dossiers_ended", "int"), ("p50_processing_working_days", "days"),
             ("p90_processing_working_days", "days"), ("deadline_working_days", "int"), ("supplement_rate", "rate")),
    filters=("period", "code"),
)

_OVERDUE = f"""
    with {_NAMES.strip()},
    overdue as (
        select f.*, f.days_overdue_at_as_of as days_overdue
        from marts.fct_dossiers as f
        where f.is_overdue_at_as_of
            and ($period_start::date is null or (f.received_at >= $period_start and f.received_at < $period_end))
    )"""

OVERDUE_BY_AGENCY = Table(
    name="overdue_by_agency",
    page="overdue",
    title="overdue_by_agency",
    description="Dossiers in progress past their due date at the data's as-of time, per agency (optionally only "
                "those received in a period; marts.fct_dossiers).",
    sql=f"""{_OVERDUE}
    select o.agency_code, n.agency_name, count(*) as overdue_dossiers, max(o.days_overdue) as max_days_overdue,
        quantile_cont(o.days_overdue, 0.5) as median_days_overdue
    from overdue as o left join agency_names as n using (agency_code)
    group by all
    order by overdue_dossiers desc, max_days_overdue desc, o.agency_code""",
    columns=(("agency_code", "text"), ("agency_name", "text"), ("overdue_dossiers", "int"),
             ("max_days_overdue", "int"), ("median_days_overdue", "days")),
    filters=("period_optional",),
)

OVERDUE_DOSSIERS = Table(
    name="overdue_dossiers",
    page="overdue",
    title="overdue_list",
    description="Each dossier in progress past its due date at the as-of time: dossier id, service, agency, "
                "dates and whole days overdue; no personal data (marts.fct_dossiers).",
    sql=f"""{_OVERDUE}
    select o.dossier_id, o.days_overdue, o.agency_code, n.agency_name, o.service_code, s.service_name,
        o.received_at, o.due_at, o.supplement_rounds, o.district_code
    from overdue as o
    left join agency_names as n using (agency_code)
    left join service_names as s using (service_code)
    where $agency::varchar is null or o.agency_code = $agency
    order by o.days_overdue desc, o.dossier_id""",
    columns=(("dossier_id", "text"), ("days_overdue", "int"), ("agency_code", "text"), ("agency_name", "text"),
             ("service_code", "text"), ("service_name", "text"), ("received_at", "timestamp"),
             ("due_at", "timestamp"), ("supplement_rounds", "int"), ("district_code", "text")),
    filters=("period_optional", "agency"),
)

FEES_BY_INTERMEDIARY = Table(
    name="fees_by_intermediary",
    page="fees",
    title="fees_by_intermediary",
    description="Online fee payments settled in a period, per intermediary and channel: succeeded, collected, "
                "refunds, pending, failed (marts.agg_fees_daily).",
    sql="""
    select f.intermediary_code, i.intermediary_name, f.payment_channel,
        sum(f.payments_succeeded)::bigint as payments_succeeded, sum(f.collected_vnd)::bigint as collected_vnd,
        sum(f.refunds)::bigint as refunds, sum(f.refunded_vnd)::bigint as refunded_vnd,
        sum(f.payments_pending)::bigint as payments_pending, sum(f.pending_vnd)::bigint as pending_vnd,
        sum(f.payments_failed)::bigint as payments_failed
    from marts.agg_fees_daily as f
    left join reference.intermediaries as i using (intermediary_code)
    where f.settlement_date >= $period_start and f.settlement_date < $period_end
    group by all
    order by collected_vnd desc, f.intermediary_code, f.payment_channel""",
    columns=(("intermediary_code", "text"), ("intermediary_name", "text"), ("payment_channel", "label"),
             ("payments_succeeded", "int"), ("collected_vnd", "vnd"), ("refunds", "int"), ("refunded_vnd", "vnd"),
             ("payments_pending", "int"), ("pending_vnd", "vnd"), ("payments_failed", "int")),
)

FEES_RECONCILIATION = Table(
    name="fees_reconciliation",
    page="fees",
    title="fees_reconciliation",
    description="One reconciliation line per month of a period, on the settlement day of the reconciliation files: "
                "collected - refunds - matched - orphans - timing = gap (marts.agg_fees_reconciliation_lines, "
                "whose components partition the month's succeeded payments). Matched: payments of dossiers "
                "received in the same month whose reconciliation state is matched; orphans: payments whose dossier "
                "the dossier source does not know; timing: payments of known dossiers not received in that month "
                "(before, after, or not yet); gap: payments of dossiers received that month whose state is not "
                "matched (underpaid, overpaid, refunded beyond paid).",
    sql="""
    select month_start, collected_vnd, refunded_vnd, matched_vnd, orphan_vnd, timing_vnd, gap_vnd
    from marts.agg_fees_reconciliation_lines
    where month_start >= date_trunc('month', $period_start::date) and month_start < $period_end
    order by month_start""",
    columns=(("month_start", "month"), ("collected_vnd", "vnd"), ("refunded_vnd", "vnd"), ("matched_vnd", "vnd"),
             ("orphan_vnd", "vnd"), ("timing_vnd", "vnd"), ("gap_vnd", "vnd")),
)

FEES_GAP = Table(
    name="fees_gap",
    page="fees",
    title="fees_gap",
    description="What the gap of the monthly reconciliation is made of (fees_reconciliation.gap_vnd): per month "
                "of settlement, the payments of dossiers received that month whose reconciliation state is not "
                "matched, by state (marts.agg_fees_reconciliation_monthly).",
    sql="""
    select month_start, reconciliation_state, payments, amount_vnd
    from marts.agg_fees_reconciliation_monthly
    where component = 'gap' and month_start >= date_trunc('month', $period_start::date)
        and month_start < $period_end
    order by month_start, amount_vnd desc, reconciliation_state""",
    columns=(("month_start", "month"), ("reconciliation_state", "label"), ("payments", "int"),
             ("amount_vnd", "vnd")),
)

RECONCILIATION_STATES = Table(
    name="reconciliation_states",
    page="fees",
    title="reconciliation",
    description="Reconciliation state of the dossiers received in a period, with fees expected and paid online "
                "(marts.fct_dossiers).",
    sql="""
    select reconciliation_state, count(*) as dossiers, sum(fee_expected_vnd)::bigint as fee_expected_vnd,
        sum(fee_paid_vnd)::bigint as fee_paid_vnd
    from marts.fct_dossiers
    where is_received and received_at >= $period_start and received_at < $period_end
    group by 1
    order by dossiers desc, reconciliation_state""",
    columns=(("reconciliation_state", "label"), ("dossiers", "int"), ("fee_expected_vnd", "vnd"),
             ("fee_paid_vnd", "vnd")),
)

PAYMENT_ANOMALIES = Table(
    name="payment_anomalies",
    page="fees",
    title="anomalies",
    description="Orphan payments (no such dossier) and duplicate rows, with amounts, per intermediary and "
                "settlement day in a period (marts.agg_fees_daily).",
    sql="""
    select f.settlement_date, f.intermediary_code, i.intermediary_name, f.payment_channel, f.orphan_payments,
        f.orphan_vnd, f.duplicate_rows, f.duplicated_vnd
    from marts.agg_fees_daily as f
    left join reference.intermediaries as i using (intermediary_code)
    where f.settlement_date >= $period_start and f.settlement_date < $period_end
        and (f.orphan_payments > 0 or f.duplicate_rows > 0)
    order by f.settlement_date, f.intermediary_code, f.payment_channel""",
    columns=(("settlement_date", "date"), ("intermediary_code", "text"), ("intermediary_name", "text"),
             ("payment_channel", "label"), ("orphan_payments", "int"), ("orphan_vnd", "vnd"),
             ("duplicate_rows", "int"), ("duplicated_vnd", "vnd")),
)

_LATEST_VALIDATIONS = """
    with latest as (
        select * from quality.validation_results
        qualify validated_at = max(validated_at) over (partition by suite)
    )"""

QUALITY_GATES = Table(
    name="quality_gates",
    page="quality",
    title="gates",
    description="The latest validation of every Great Expectations suite: checks run, critical failures, "
                "warnings (quality.validation_results).",
    sql=f"""{_LATEST_VALIDATIONS}
    select suite, table_name, interval, max(validated_at) as validated_at, count(*) as expectations,
        count(*) filter (where not success and severity = 'critical') as failed_critical,
        count(*) filter (where not success and severity <> 'critical') as failed_warning,
        case when count(*) filter (where not success and severity = 'critical') > 0 then 'failed' else 'passed' end
            as status
    from latest
    group by all
    order by suite""",
    columns=(("suite", "text"), ("table_name", "text"), ("interval", "text"), ("validated_at", "timestamp"),
             ("expectations", "int"), ("failed_critical", "int"), ("failed_warning", "int"), ("status", "label")),
    filters=(),
)

QUALITY_FAILURES = Table(
    name="quality_failures",
    page="quality",
    title="failures",
    description="The checks that failed in each suite's latest validation, with the rows failing and the rule "
                "(quality.validation_results).",
    sql=f"""{_LATEST_VALIDATIONS}
    select suite, expectation_type, column_name, severity, unexpected_count, element_count, rule
    from latest
    where not success
    order by severity, suite, expectation_type, column_name""",
    columns=(("suite", "text"), ("expectation_type", "label"), ("column_name", "text"), ("severity", "label"),
             ("unexpected_count", "int"), ("element_count", "int"), ("rule", "text")),
    filters=(),
)

LOAD_TOTALS = Table(
    name="load_totals",
    page="quality",
    title="loads",
    description="Rows read, loaded and quarantined per source for the batch days in a period "
                "(quality.load_audit).",
    sql="""
    select source_name, sum(files)::bigint as files, sum(rows_read)::bigint as rows_read,
        sum(rows_loaded)::bigint as rows_loaded, sum(rows_quarantined)::bigint as rows_quarantined,
        sum(file_errors)::bigint as file_errors
    from quality.load_audit
    where batch_date >= $period_start and batch_date < $period_end
    group by 1
    order by 1""",
    columns=(("source_name", "label"), ("files", "int"), ("rows_read", "int"), ("rows_loaded", "int"),
             ("rows_quarantined", "int"), ("file_errors", "int")),
)

QUARANTINE_REASONS = Table(
    name="quarantine_reasons",
    page="quality",
    title="quarantine",
    description="Quarantined lines per source and reason for the batch days in a period; counts only, never the "
                "lines (quality.quarantine_reasons).",
    sql="""
    select source_name, reason, sum(rows)::bigint as rows
    from quality.quarantine_reasons
    where batch_date >= $period_start and batch_date < $period_end
    group by all
    order by rows desc, source_name, reason""",
    columns=(("source_name", "label"), ("reason", "text"), ("rows", "int")),
)

# ------------------------------------------------------------------ why did the score move?

# The unit types whose score moves are explained (those of marts.agg_766_change), in page order; the
# agencies of a unit split its rate changes for all but an agency (marts.agg_766_change_by_agency).
CHANGE_UNITS = ("province", *RANKED_UNITS)
SPLIT_UNITS = ("province", "department", "district", "commune")

_CHANGE_ROWS = """geography_basis = $basis and unit_type = $unit_type and unit_code = $code
            and period_type = $period_type and period_start = $period_start"""

# A dossier's unit of the request's unit type, on its basis (as the unit pages' dossier tables place it).
_DOSSIER_UNIT = "(case $unit_type {} end)".format(
    " ".join(f"when '{unit}' then {_dossier_unit(unit)}" for unit in CHANGE_UNITS))

WHY_TOTAL = Table(
    name="why_total",
    page="why",
    title="why_total",
    description="A unit's 766 total in a period and in the previous period of the same type, and the change "
                "(points_total_after - points_total_before; the indicators' points changes add up to it), "
                "with how many indicators moved (marts.agg_766_change).",
    sql=f"""
    select unit_code, any_value(unit_name) as unit_name, previous_period_start, period_start,
        any_value(points_total_before) as points_total_before, any_value(points_total_after) as points_total_after,
        any_value(points_total_change) as points_total_change,
        count(*) filter (where points_change <> 0) as indicators_moved
    from marts.agg_766_change
    where {_CHANGE_ROWS}
    group by unit_code, previous_period_start, period_start""",
    columns=(("unit_code", "text"), ("unit_name", "text"), ("previous_period_start", "date"),
             ("period_start", "date"), ("points_total_before", "points"), ("points_total_after", "points"),
             ("points_total_change", "points"), ("indicators_moved", "int")),
    filters=("period_optional", "province", "unit"),
)

WHY_INDICATORS = Table(
    name="why_indicators",
    page="why",
    title="why_indicators",
    description="Every scored indicator's change for a unit, from the previous period of the same type: rate "
                "before and after, points before and after and their change, the one that moved the total most "
                "first (change_rank; marts.agg_766_change).",
    sql=f"""
    select indicator_code, indicator_name, group_column, rate_before, rate_after, rate_change, points_before,
        points_after, points_change, change_rank
    from marts.agg_766_change
    where {_CHANGE_ROWS}
    order by change_rank""",
    columns=(("indicator_code", "text"), ("indicator_name", "label"), ("group_column", "label"),
             ("rate_before", "rate"), ("rate_after", "rate"), ("rate_change", "rate"), ("points_before", "points"),
             ("points_after", "points"), ("points_change", "points"), ("change_rank", "int")),
    filters=("period_optional", "province", "unit"),
)

WHY_AGENCIES = Table(
    name="why_agencies",
    page="why",
    title="why_agencies",
    description="For a province, department, district or commune and one indicator that is a fraction of dossier "
                "counts (default: the one that moved the unit's points most, preferring those with a denominator "
                "in both periods), each agency's part in the change from the previous period: its counts before "
                "and after (misses = denominator - numerator, e.g. "
                "late dossiers for 2.1), its numerator and denominator effects on the unit's rate (they add up "
                "exactly to the unit's rate change), its share of the points change (points_effect), and the "
                "reason in one word: more_misses, fewer_misses, more_dossiers or fewer_dossiers. The agencies "
                "that moved the rate the way it went come first; a row without agency_code is the rest of the "
                "unit's dossiers (marts.agg_766_change_by_agency).",
    sql=f"""
    with c as (
        select * from marts.agg_766_change_by_agency
        where {_CHANGE_ROWS}
    ),
    top as (  -- the one that moved most among those the agencies split (both periods with a denominator)
        select indicator_code from marts.agg_766_change
        where {_CHANGE_ROWS} and indicator_code in (select indicator_code from c)
        order by indicator_code in (select indicator_code from c where points_effect is not null) desc, change_rank
        limit 1
    ),
    agency_names as (
        select agency_code, arg_max(agency_name, valid_from) as agency_name from marts.dim_agencies group by 1
    ),
    parts as (
        select c.*, c.numerator_before::bigint as n0, c.numerator_after::bigint as n1,
            c.denominator_before::bigint as d0, c.denominator_after::bigint as d1,
            (c.denominator_before - c.numerator_before)::bigint as m0,
            (c.denominator_after - c.numerator_after)::bigint as m1,
            c.numerator_effect + c.denominator_effect as rate_effect
        from c
        where c.indicator_code = coalesce($indicator::varchar, (select indicator_code from top))
    )
    select p.indicator_code, p.indicator_name, p.agency_code, n.agency_name, p.points_effect,
        case
            when p.rate_effect is null or p.rate_effect = 0 then 'no_effect'
            when p.rate_effect < 0 and p.m1 > p.m0 then 'more_misses'
            when p.rate_effect > 0 and p.m1 < p.m0 then 'fewer_misses'
            when p.d1 > p.d0 then 'more_dossiers'
            when p.d1 < p.d0 then 'fewer_dossiers'
            else 'no_effect'
        end as reason,
        p.numerator_effect, p.denominator_effect, p.rate_effect, p.n0 as numerator_before,
        p.n1 as numerator_after, p.d0 as denominator_before, p.d1 as denominator_after, p.m0 as misses_before,
        p.m1 as misses_after, p.unit_rate_change, p.unit_points_change
    from parts as p
    left join agency_names as n using (agency_code)
    order by case when p.unit_rate_change <> 0 then sign(p.unit_rate_change) * p.rate_effect
                  else abs(p.rate_effect) end desc nulls last,
        p.agency_code nulls last""",
    columns=(("indicator_code", "text"), ("indicator_name", "label"), ("agency_code", "text"),
             ("agency_name", "text"), ("points_effect", "points"), ("reason", "label"),
             ("numerator_effect", "rate"), ("denominator_effect", "rate"), ("rate_effect", "rate"),
             ("numerator_before", "int"), ("numerator_after", "int"), ("denominator_before", "int"),
             ("denominator_after", "int"), ("misses_before", "int"), ("misses_after", "int"),
             ("unit_rate_change", "rate"), ("unit_points_change", "points")),
    filters=("period_optional", "province", "unit", "indicator"),
)

WHY_LATE_OFFICES = Table(
    name="why_late_offices",
    page="why",
    title="why_late_offices",
    description="2.1 (on-time processing): the dossiers of a unit that ended late in a period and in the previous "
                "one, by the office of their first overrunning processing step (first_overrun_office; an office "
                "is the agency that sent the step and its PhongBanXuLy; no office: no overrunning step "
                "recorded), the most late in the period first, then in the one before. Dossiers are placed in the unit "
                "by their own codes on the basis, as the unit pages' dossier tables do (marts.fct_dossiers, "
                "marts.fct_processing_steps).",
    sql=f"""
    with bounds as (
        select $period_start::date - (case $period_type when 'month' then interval 1 month
                                                         when 'quarter' then interval 3 month
                                                         else interval 1 year end) as previous_start
    ),
    late as (
        select f.dossier_id, f.agency_code as dossier_agency_code, f.first_overrun_office as office_name,
            f.ended_at >= $period_start as in_period
        from marts.fct_dossiers as f, bounds as b
        where f.is_ended and f.is_on_time = false and f.ended_at >= b.previous_start and f.ended_at < $period_end
            and {_DOSSIER_UNIT} = $code
    ),
    steps as (
        select dossier_id, office_name, any_value(agency_code) as agency_code from marts.fct_processing_steps
        where is_first_overrun_of_late_dossier
        group by 1, 2
    ),
    offices as (
        select coalesce(s.agency_code, l.dossier_agency_code) as agency_code, l.office_name, l.in_period
        from late as l
        left join steps as s on s.dossier_id = l.dossier_id and s.office_name = l.office_name
    ),
    agency_names as (
        select agency_code, arg_max(agency_name, valid_from) as agency_name from marts.dim_agencies group by 1
    )
    select o.agency_code, n.agency_name, o.office_name, count(*) filter (where not o.in_period) as late_before,
        count(*) filter (where o.in_period) as late_after,
        count(*) filter (where o.in_period) - count(*) filter (where not o.in_period) as late_change
    from offices as o
    left join agency_names as n using (agency_code)
    group by o.agency_code, n.agency_name, o.office_name
    order by late_after desc, late_before desc, o.agency_code, o.office_name nulls last""",
    columns=(("agency_code", "text"), ("agency_name", "text"), ("office_name", "text"), ("late_before", "int"),
             ("late_after", "int"), ("late_change", "int")),
    filters=("period_optional", "province", "unit"),
)

WHY_TABLES = (WHY_TOTAL, WHY_INDICATORS, WHY_AGENCIES, WHY_LATE_OFFICES)

# --- the portal's own figures beside ours (marts.agg_766_portal_comparison) -----------------------

_PORTAL_ITEM_NAMES = """
    item_names as (
        select distinct group_code as item_code, group_name as item_name from marts.dim_766_indicators
        union all
        select indicator_code, indicator_name from marts.dim_766_indicators where indicator_name is not null
        union all
        select 'total', 'points_total'
    )"""

PORTAL_PROVINCE = Table(
    name="portal_province",
    page="portal",
    title="portal_province",
    description="The province's 766 figures as the portal published them (files officials saved of its "
                "evaluation pages) beside ours for the same period, group by group and, where the portal gave "
                "them, indicator by indicator with numerators and denominators; the points no source here "
                "measures say how much of a gap is not ours to explain (marts.agg_766_portal_comparison).",
    sql=f"""
    with c as (
        select * from marts.agg_766_portal_comparison
        where match_status = 'matched' and unit_type = 'province' and period_type = $period_type
            and period_start = $period_start
    ),{_PORTAL_ITEM_NAMES}
    select c.item_code, coalesce(n.item_name, c.item_code) as item_name, c.portal_points, c.our_points,
        c.points_difference, c.unmeasured_max_points, c.portal_rate, c.our_rate,
        c.portal_numerator::bigint as portal_numerator, c.our_numerator::bigint as our_numerator,
        c.portal_denominator::bigint as portal_denominator, c.our_denominator::bigint as our_denominator,
        c.saved_at
    from c left join item_names as n using (item_code)
    order by c.item_kind = 'total', c.item_kind, c.item_code""",
    columns=(("item_code", "text"), ("item_name", "label"), ("portal_points", "points"), ("our_points", "points"),
             ("points_difference", "points"), ("unmeasured_max_points", "points"), ("portal_rate", "rate"),
             ("our_rate", "rate"), ("portal_numerator", "int"), ("our_numerator", "int"),
             ("portal_denominator", "int"), ("our_denominator", "int"), ("saved_at", "timestamp")),
)

PORTAL_UNITS = Table(
    name="portal_units",
    page="portal",
    title="portal_units",
    description="Every department, district and commune the portal scored in a period, matched to ours: the "
                "portal's total and rank, our total, the difference, and the group where ours and the portal's "
                "differ most (marts.agg_766_portal_comparison).",
    sql=f"""
    with c as (
        select * from marts.agg_766_portal_comparison
        where match_status = 'matched' and unit_type <> 'province' and period_type = $period_type
            and period_start = $period_start
    ),{_PORTAL_ITEM_NAMES},
    units as (
        select unit_type, unit_code, any_value(unit_name) as unit_name, any_value(portal_unit_name) as portal_unit_name,
            min(portal_rank) as portal_rank,
            max(portal_points) filter (where item_code = 'total') as portal_total,
            max(our_points) filter (where item_code = 'total') as our_total,
            arg_max(item_code, abs(points_difference)) filter (where item_kind = 'group') as largest_gap_item,
            arg_max(points_difference, abs(points_difference)) filter (where item_kind = 'group')
                as largest_group_difference,
            any_value(match_method) as match_method
        from c
        group by unit_type, unit_code
    )
    select u.unit_type, u.unit_code, u.unit_name, u.portal_unit_name, u.portal_rank, u.portal_total, u.our_total,
        u.our_total - u.portal_total as total_difference, n.item_name as largest_gap_group, u.largest_group_difference,
        u.match_method
    from units as u left join item_names as n on n.item_code = u.largest_gap_item
    order by abs(u.our_total - u.portal_total) desc nulls last, u.unit_type, u.unit_code""",
    columns=(("unit_type", "label"), ("unit_code", "text"), ("unit_name", "text"), ("portal_unit_name", "text"),
             ("portal_rank", "int"), ("portal_total", "points"), ("our_total", "points"),
             ("total_difference", "points"), ("largest_gap_group", "label"), ("largest_group_difference", "points"),
             ("match_method", "label")),
)

PORTAL_UNMATCHED = Table(
    name="portal_unmatched",
    page="portal",
    title="portal_unmatched",
    description="The portal's figures of a period that have no value of ours beside them, and why: a unit the "
                "agency list does not know or names twice (the seed portal_unit_ids maps it), a figure the "
                "project cannot name (the seed portal_766_items maps it) (marts.agg_766_portal_comparison).",
    sql="""
    select match_status, portal_unit_name, portal_unit_id, portal_unit_code, count(*) as figures,
        string_agg(distinct portal_item_code, ', ' order by portal_item_code) as portal_items,
        max(source_file) as source_file
    from marts.agg_766_portal_comparison
    where match_status <> 'matched' and period_type = $period_type and period_start = $period_start
    group by all
    order by match_status, portal_unit_name""",
    columns=(("match_status", "label"), ("portal_unit_name", "text"), ("portal_unit_id", "text"),
             ("portal_unit_code", "text"), ("figures", "int"), ("portal_items", "text"), ("source_file", "text")),
)

PORTAL_TABLES = (PORTAL_PROVINCE, PORTAL_UNITS, PORTAL_UNMATCHED)

TABLES: dict[str, Table] = {
    table.name: table
    for table in (
        _points("province"), _trend("province"), *(_ranks(unit) for unit in RANKED_UNITS),
        *(maker(unit) for unit in RANKED_UNITS
          for maker in (_points, _vs_province, _trend, _channel_volume, _unit_services)),
        SERVICES, SERVICE_SUMMARY, SERVICE_TREND, _channel_volume("service"),
        OVERDUE_BY_AGENCY, OVERDUE_DOSSIERS,
        FEES_RECONCILIATION, FEES_GAP, FEES_BY_INTERMEDIARY, RECONCILIATION_STATES, PAYMENT_ANOMALIES,
        QUALITY_GATES, QUALITY_FAILURES, LOAD_TOTALS, QUARANTINE_REASONS,
        *WHY_TABLES, *PORTAL_TABLES,
    )
}

# Which tables each page shows, in order.
PAGES: dict[str, tuple[str, ...]] = {}
for _table in TABLES.values():
    PAGES.setdefault(_table.page, ())
    PAGES[_table.page] += (_table.name,)
