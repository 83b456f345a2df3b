-- One row per (geography_basis, unit, period) for every unit (province, department, district, commune,
-- agency, service, field) and every period (day, ISO week, month, quarter, year): every period
-- indicator of metrics.md v2, the Decision 766 points of the scored ones (the points table in
-- data/reference/indicators_766.csv), the six groups as the portal shows them, and the unit's rank
-- among units of the same type, period and basis. kpi_766 is its scored part. Months, quarters and
-- years have a row for every unit valid at the period's end (ranks need all peers; districts only for
-- periods ending on or before var districts_end); days and ISO weeks only for units with activity or
-- backlog in them. A period with days on both sides of a reorganisation (var reorganisation_dates) is
-- scored on the units valid at its end, today's: its `as_was` row holds the recast (`current`)
-- counts, and it is marked spans_reorganisation.
-- Computed here from the four period models, not copied from an intermediate table: a day's build
-- writes the periods in scope once (each write of this wide table is a checkpoint of its rows).
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['period']},
) }}
-- depends_on: {{ ref('int_refresh_periods') }}
-- depends_on: {{ ref('indicators_766') }}
{%- set scored = scored_indicators_766() %}
{%- set reorganisations = var('reorganisation_dates') %}
with units as (
    select * from {{ ref('int_units') }}
),

periods as (
    select
        *,
        {% if reorganisations %}
        ({% for day in reorganisations %}(period_start < date '{{ day }}' and period_end > date '{{ day }}'){% if not loop.last %} or {% endif %}{% endfor %})
        {% else %}false{% endif %} as spans_reorganisation
    from {{ ref('int_periods') }}
    {{ refresh_scope('period') }}
),

-- The four period models have one row per (basis, unit, period) each: merged by an aggregate (which
-- spills to disk past DuckDB's memory limit) rather than by four hash joins held in memory at once.
-- Each row carries its own model's columns and nulls for the others' (union by name); any_value
-- keeps the non-null one.
{% set flow_columns = ['dossiers_submitted', 'dossiers_received', 'dossiers_received_online',
                       'dossiers_received_synced', 'dossiers_received_online_meeting_result', 'dossiers_ended',
                       'ended_on_time', 'ended_early', 'ended_late', 'dossiers_without_due_at',
                       'fee_bearing_dossiers', 'fee_bearing_dossiers_paid_online',
                       'fee_bearing_dossiers_paid_on_platform', 'dossiers_completed',
                       'dossiers_completed_needing_e_result', 'dossiers_completed_with_e_result',
                       'dossiers_received_digitised', 'dossiers_received_reusing_data',
                       'dossiers_received_from_data_store', 'dossiers_received_using_population_data',
                       'fees_expected_vnd'] %}
{% set flow_statistics = ['avg_processing_working_days', 'p50_processing_working_days',
                          'p90_processing_working_days', 'deadline_use'] %}
{% set backlog_columns = ['in_progress_at_end', 'in_progress_with_due_at_end', 'in_progress_overdue_at_end'] %}
{% set procedure_columns = ['procedures', 'services_online', 'procedures_fully_online',
                            'procedures_eligible_fully_online', 'services_with_online_dossiers_count',
                            'procedures_with_fee', 'procedures_with_fee_data', 'procedures_with_online_payment',
                            'procedures_for_citizens', 'procedures_for_citizens_connected'] %}
{% set province_procedure_columns = ['procedures_published', 'procedures_published_on_time',
                                     'procedures_public_on_time', 'procedures_public', 'procedures_public_complete'] %}
{% set keys = 'geography_basis, unit_type, unit_code, period_type, period_start' %}
merged as (
    select
        {{ keys }},
        {% for column in flow_columns + flow_statistics + backlog_columns + procedure_columns
                         + province_procedure_columns + ['fees_collected_online_vnd'] %}
        any_value({{ column }}) as {{ column }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from (
        select {{ keys }}, {{ (flow_columns + flow_statistics) | join(', ') }}
        from {{ ref('int_unit_period_flow_metrics') }}
        union all by name
        select {{ keys }}, {{ backlog_columns | join(', ') }}
        from {{ ref('int_unit_period_backlog_metrics') }}
        union all by name
        select {{ keys }}, {{ (procedure_columns + province_procedure_columns) | join(', ') }}
        from {{ ref('int_unit_period_procedure_metrics') }}
        union all by name
        select {{ keys }}, fees_collected_online_vnd
        from {{ ref('int_unit_period_fee_metrics') }}
    )
    {{ refresh_scope('period') }}
    group by all
),

-- Days and weeks have rows for units with activity or backlog in them (keys only: a second narrow scan).
active as (
    select {{ keys }} from {{ ref('int_unit_period_flow_metrics') }} {{ refresh_scope('period') }}
    union select {{ keys }} from {{ ref('int_unit_period_backlog_metrics') }} {{ refresh_scope('period') }}
    union select {{ keys }} from {{ ref('int_unit_period_fee_metrics') }} {{ refresh_scope('period') }}
),

-- A unit is scored in a period when it is valid at the period's end (an undated unit always is);
-- on the `current` basis every unit of today is scored in every period.
{% set valid_at_end = "(u.geography_basis = 'current' or ((u.unit_valid_from is null or u.unit_valid_from < p.period_end)"
                      " and (u.unit_valid_to is null or u.unit_valid_to >= p.period_end)))"
                      " and (u.unit_type <> 'district' or p.period_end <= date '" ~ var('districts_end') ~ "')" %}
grid as (
    select u.geography_basis, u.unit_type, u.unit_code, u.unit_name, u.unit_valid_from, u.unit_valid_to,
        p.period_type, p.period_start, p.period_end, p.is_complete, p.judged_at as measured_until,
        p.spans_reorganisation
    from units as u
    cross join periods as p
    where p.period_type in ('month', 'quarter', 'year') and {{ valid_at_end }}
    union all
    select u.geography_basis, u.unit_type, u.unit_code, u.unit_name, u.unit_valid_from, u.unit_valid_to,
        p.period_type, p.period_start, p.period_end, p.is_complete, p.judged_at as measured_until,
        p.spans_reorganisation
    from active as g
    inner join units as u using (geography_basis, unit_type, unit_code)
    inner join periods as p using (period_type, period_start)
    where p.period_type not in ('month', 'quarter', 'year') and {{ valid_at_end }}
),

-- The basis whose counts a row takes: a spanning period's `as_was` row takes the recast counts.
keyed as (
    select *, case when spans_reorganisation then 'current' else geography_basis end as counts_basis
    from grid
),

counts as (
    select
        g.* exclude (counts_basis),
        {% for column in flow_columns + backlog_columns %}
        coalesce(m.{{ column }}, 0) as {{ column }},
        {% endfor %}
        {% for column in flow_statistics %}
        m.{{ column }},
        {% endfor %}
        {% for column in procedure_columns %}
        coalesce(m.{{ column }}, 0) as {{ column }},
        {% endfor %}
        {% for column in province_procedure_columns %}
        -- 1.1-1.3 score the province only: null counts elsewhere.
        case when g.unit_type = 'province' then coalesce(m.{{ column }}, 0) end as {{ column }},
        {% endfor %}
        coalesce(m.fees_collected_online_vnd, 0) as fees_collected_online_vnd
    from keyed as g
    left join merged as m
        on m.geography_basis = g.counts_basis and m.unit_type = g.unit_type and m.unit_code = g.unit_code
        and m.period_type = g.period_type and m.period_start = g.period_start
),

{%- set procedures = procedure_indicator_fractions() %}
rates as (
    select
        *,
        {% for name, fraction in indicator_fractions().items() %}
        {{ safe_divide(fraction[0], fraction[1]) }} as {{ name }},
        {% endfor %}
        {{ safe_divide(*procedures['procedures_published_on_time_rate']) }} as procedures_published_on_time_rate,
        {{ safe_divide(*procedures['procedures_public_on_time_rate']) }} as procedures_public_on_time_rate,
        {{ safe_divide(*procedures['procedures_complete_rate']) }} as procedures_complete_rate,
        {{ safe_divide('services_online', 'procedures') }} as procedures_online_rate,
        {{ safe_divide('procedures_fully_online', 'procedures_eligible_fully_online') }}
            as procedures_fully_online_rate,
        {{ safe_divide('services_with_online_dossiers_count', 'services_online') }} as services_with_online_dossiers,
        {{ safe_divide('dossiers_received_online', 'dossiers_received') }} as online_rate,
        {{ safe_divide('dossiers_received_online_meeting_result', 'dossiers_received') }}
            * {{ safe_divide('dossiers_received_synced', 'dossiers_received') }} as online_rate_766,
        {{ safe_divide(*procedures['procedures_with_fee_data_rate']) }} as procedures_with_fee_data_rate,
        {{ safe_divide(*procedures['procedures_with_online_payment_rate']) }} as procedures_with_online_payment_rate,
        {{ safe_divide('fee_bearing_dossiers_paid_on_platform', 'fee_bearing_dossiers') }}
            as online_payment_rate_platform,
        {{ safe_divide(*procedures['population_db_procedures_rate']) }} as population_db_procedures_rate,
        {{ safe_divide('dossiers_completed', 'dossiers_ended') }} as completion_rate,
        {{ safe_divide('dossiers_received_online', 'dossiers_received') }} as digital_take_up
    from counts
),

points as (
    select
        *,
        {% for indicator in scored %}
        {{ points_766(indicator) }} as points_{{ indicator.name }},
        {% endfor %}
        -- The scored indicators of the unit with no data (a null rate, 0 points).
        list_filter([
            {% for indicator in scored %}
            case when ({{ scores_unit(indicator) }}) and {{ indicator.name }} is null
                then '{{ indicator.code }}' end{% if not loop.last %},{% endif %}
            {% endfor %}
        ], lambda x: x is not null) as indicators_without_data,
        -- The maxima of the indicators this unit can be scored on from these sources.
        (0
            {% for indicator in scored %}
            + case when {{ scores_unit(indicator) }} then {{ indicator.max_points }} else 0 end
            {% endfor %}
        )::double as points_measurable
    from rates
),

{% set groups = {} %}
{% for indicator in indicators_766() %}
    {% do groups.setdefault(indicator.group_column, []) %}
    {% if indicator in scored %}{% do groups[indicator.group_column].append(indicator) %}{% endif %}
{% endfor %}
grouped as (
    select
        *,
        {% for group_column, members in groups.items() %}
        {% if members %}
        ({% for indicator in members %}coalesce(points_{{ indicator.name }}, 0){% if not loop.last %} + {% endif %}{% endfor %})::double
        {% else %}
        -- No indicator of this group can be measured from these sources.
        null::double
        {% endif %} as {{ group_column }},
        {% endfor %}
        (0
            {% for indicator in scored %}
            + coalesce(points_{{ indicator.name }}, 0)
            {% endfor %}
        )::double as points_total
    from points
),

final as (
    select
        g.*,
        dense_rank() over (
            partition by geography_basis, unit_type, period_type, period_start order by points_total desc
        ) as rank_in_level
    from grouped as g
)

select * from final
