{#- NFC-normalise, fold runs of white space and trim; empty becomes null (metrics.md, "Text"). -#}
{% macro clean_text(column) -%}
    nullif(trim(regexp_replace(nfc_normalize({{ column }}), '\s+', ' ', 'g')), '')
{%- endmacro %}
