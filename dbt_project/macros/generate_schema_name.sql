{#- Published schemas have fixed names (`marts`, not `main_marts`): metrics.md makes them an interface. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name is not none else target.schema }}
{%- endmacro %}
