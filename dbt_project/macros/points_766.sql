{#- points = min(rate / target, 1) x max_points with a target, rate x max_points without (metrics.md, "766 points").
    A null rate gives null points: DuckDB's least() skips nulls, so the cap must not see one. -#}
{% macro points_766(indicator) -%}
    {%- if indicator.target is not none -%}
        case when {{ indicator.name }} is not null
            then least({{ indicator.name }} / {{ indicator.target }}, 1.0) * {{ indicator.max_points }} end
    {%- else -%}
        {{ indicator.name }} * {{ indicator.max_points }}
    {%- endif -%}
{%- endmacro %}
