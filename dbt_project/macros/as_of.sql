{#- The build's as-of time, a local timestamp: var('as_of') or the day after the latest landed batch. -#}
{% macro as_of_timestamp() -%}
    {%- if var('as_of') -%}
        timestamp '{{ var("as_of") }}'
    {%- else -%}
        (select (max(batch_date) + interval 1 day)::timestamp from {{ ref('stg_onestop__dossier_syncs') }})
    {%- endif -%}
{%- endmacro %}
