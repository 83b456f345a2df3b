-- One row per expectation result of a validation run (raw loads, volume, freshness, marts).
select
    validated_at,
    suite as suite_name,
    table_name,
    interval as validated_interval,
    expectation_type,
    column_name,
    severity,
    rule,
    success,
    element_count,
    unexpected_count,
    observed_value,
    docs_url
from {{ source('pipeline', 'quality_results') }}
