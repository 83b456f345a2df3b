{#-
    Periods are rolled up from two grains: days and ISO weeks from the days' rows, months, quarters
    and years from the months' rows (int_unit_month_flow_metrics, int_unit_month_procedure_use,
    int_month_procedure_use), which a refresh recomputes for the months in scope only.
-#}

{#- The period types read from the days' rows; every other one starts and ends on a month boundary. -#}
{% macro day_grain_period_types() -%}
    {{ return(['day', 'week']) }}
{%- endmacro %}

{#- Stops dbt (as it parses the project) when var period_types lacks 'month' (the months' rows and
    their refresh scope need it) or names a type that is neither a day's nor a whole number of months.
    Called once, by int_periods, which turns those types into periods. -#}
{% macro require_month_periods() -%}
    {%- set types = var('period_types') | list -%}
    {%- if 'month' not in types -%}
        {{ exceptions.raise_compiler_error("var period_types must include 'month': quarters and years are rolled up from months") }}
    {%- endif -%}
    {%- for period_type in types if period_type not in ['day', 'week', 'month', 'quarter', 'year'] -%}
        {{ exceptions.raise_compiler_error("var period_types: unknown period type " ~ period_type) }}
    {%- endfor -%}
{%- endmacro %}

{#- The additive columns of int_unit_day_flow_metrics (and its months' rows), in their order. -#}
{% macro flow_additive_columns() -%}
    {{ return([
        'dossiers_submitted', 'dossiers_received', 'dossiers_received_online', 'dossiers_without_due_at',
        'dossiers_received_synced', 'dossiers_received_online_meeting_result', 'dossiers_received_digitised',
        'dossiers_received_reusing_data', 'dossiers_received_from_data_store',
        'dossiers_received_using_population_data', 'fee_bearing_dossiers', 'fee_bearing_dossiers_paid_online',
        'fee_bearing_dossiers_paid_on_platform', 'fees_expected_vnd', 'dossiers_ended', 'ended_on_time',
        'ended_early', 'ended_late', 'dossiers_completed', 'dossiers_completed_needing_e_result',
        'dossiers_completed_with_e_result', 'processing_working_days_sum', 'processing_working_days_count',
        'deadline_use_sum', 'deadline_use_count',
    ]) }}
{%- endmacro %}

{#- The rows of `counts` with their processing-days histogram: `buckets` has the same `keys` and one
    row per (keys, days) with its dossiers; the histogram is the list of {days, dossiers} in days'
    order, [] for a row without buckets (int_unit_day_flow_metrics, int_unit_month_flow_metrics). -#}
{% macro with_processing_days_histogram(counts, buckets, keys) -%}
    select c.*, coalesce(h.processing_days_histogram, []) as processing_days_histogram
    from {{ counts }} as c
    left join (
        select {{ keys | join(', ') }}, list({'days': days, 'dossiers': dossiers} order by days) as processing_days_histogram
        from {{ buckets }}
        group by all
    ) as h using ({{ keys | join(', ') }})
{%- endmacro %}

{#- A month's procedure use: the days' rows of `day_model` (received_day, service_code, the three
    flags, and the `keys` before them) merged per month (int_unit_month_procedure_use,
    int_month_procedure_use). -#}
{% macro procedure_use_by_month(day_model, keys=[]) -%}
    select
        {% for key in keys %}{{ key }}, {% endfor %}date_trunc('month', received_day)::date as received_month,
        service_code,
        bool_or(has_online_dossier) as has_online_dossier,
        bool_or(has_fee_data) as has_fee_data,
        bool_or(has_online_payment) as has_online_payment
    from {{ ref(day_model) }}
    {{ refresh_scope('event_month', "date_trunc('month', received_day)::date") }}
    group by all
{%- endmacro %}
