{#- A rate whose denominator is 0 is null, never 0 and never an error (metrics.md). -#}
{% macro safe_divide(numerator, denominator) -%}
    ({{ numerator }})::double / nullif({{ denominator }}, 0)
{%- endmacro %}
