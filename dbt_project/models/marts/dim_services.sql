-- One row per version of a procedure in the catalog (sources.md v2 §2): [valid_from, valid_to) from the
-- snapshot that first shows it to the next change, with every catalog attribute the indicators read.
{{ config(tags=['full_refresh_only']) }}
select * from {{ ref('int_services_versioned') }}
