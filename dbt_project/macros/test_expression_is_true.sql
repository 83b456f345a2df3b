{#- Rows where `expression` is false fail the test (the few lines of dbt_utils.expression_is_true we need). -#}
{% test expression_is_true(model, expression) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}
