{#- Mean of numerator / denominator over the rows meeting `condition`, summed as DECIMAL(38, 12):
    exact and the same in any row order (a float sum depends on the order, and ordering a large
    aggregate costs a sort per group). Null when no row meets the condition. -#}
{% macro exact_mean_of_ratio(numerator, denominator, condition) -%}
    (
        sum(case when {{ condition }} then ({{ numerator }}::double / nullif({{ denominator }}, 0))::decimal(38, 12) end)
        / nullif(count(*) filter (where {{ condition }}), 0)
    )::double
{%- endmacro %}
