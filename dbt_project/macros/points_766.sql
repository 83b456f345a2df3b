{#- points = min(rate / target, 1) x max_points with a target, rate x max_points without (metrics.md, "766 points"). -#}
{% macro points_766(indicator) -%}
    {%- if indicator.target is not none -%}
        least({{ indicator.name }} / {{ indicator.target }}, 1.0) * {{ indicator.max_points }}
    {%- else -%}
        {{ indicator.name }} * {{ indicator.max_points }}
    {%- endif -%}
{%- endmacro %}
