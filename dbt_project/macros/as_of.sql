{#- The build's as-of time, a local timestamp: var('as_of') (a literal), else the build plan's
    (build.plan, macros/refresh.sql), else the day after the latest landed batch. -#}
{% macro as_of_timestamp() -%}
    {%- if var('as_of') -%}
        timestamp '{{ var('as_of') }}'
    {%- else -%}
        coalesce(
            (select max(as_of) from {{ refresh_build_table('plan') }}),
            (select (max(batch_date) + interval 1 day)::timestamp from {{ ref('stg_onestop__dossier_syncs') }})
        )
    {%- endif -%}
{%- endmacro %}

{#- The last local day the build covers: the day before its as-of midnight. -#}
{% macro as_of_day() -%}
    ({{ as_of_timestamp() }} - interval 1 microsecond)::date
{%- endmacro %}
