{#-
  The plausible date window (issue 16, "poisoned dates"): a timestamp before
  var('plausible_dates_from') or more than var('plausible_dates_ahead') after the
  batch day that delivered it is not a date this province's systems wrote (year 1,
  1900, 9999). It is read as absent, its field is named in the record's
  implausible_date_fields, and the record is kept. The window is fixed per record
  (its own batch day), so an incremental and a full build agree; and no such
  value can stretch the calendar or the periods.
-#}
{% macro is_plausible_date(column, batch_column) -%}
    ({{ column }} >= '{{ var("plausible_dates_from") }}'::timestamp
     and {{ column }} < {{ batch_column }}::timestamp + interval '{{ var("plausible_dates_ahead") }}')
{%- endmacro %}

{% macro plausible_date(column, batch_column) -%}
    case when {{ is_plausible_date(column, batch_column) }} then {{ column }} end
{%- endmacro %}

{#- The source fields (given as {field: column}) whose value lies outside the window, in order. -#}
{% macro implausible_date_fields(fields, batch_column) -%}
    list_filter([
        {%- for field, column in fields.items() %}
        case when {{ column }} is not null and not {{ is_plausible_date(column, batch_column) }}
            then '{{ field }}' end{{ "," if not loop.last }}
        {%- endfor %}
    ], lambda f: f is not null)
{%- endmacro %}
