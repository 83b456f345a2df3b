{#- Parquet files of one lake table; the lake directory comes from the environment. -#}
{% macro lake_path(table) -%}
    {{ env_var('DVC_LAKE_DIR') }}/{{ table }}
{%- endmacro %}
