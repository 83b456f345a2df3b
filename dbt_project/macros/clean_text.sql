{#- NFC-normalise, fold runs of white space and trim; empty becomes null (metrics.md, "Text"). -#}
{% macro clean_text(column) -%}
    nullif(trim(regexp_replace(nfc_normalize({{ column }}), '\s+', ' ', 'g')), '')
{%- endmacro %}

{#- A unit name as a key to match the portal's names with the agency list's: cleaned, lower case, a
    leading "UBND" / "Ủy ban nhân dân" (either accent placement) dropped. -#}
{% macro unit_name_key(column) -%}
    regexp_replace(lower({{ clean_text(column) }}), '^(ubnd|ủy ban nhân dân|uỷ ban nhân dân)\s+', '')
{%- endmacro %}
