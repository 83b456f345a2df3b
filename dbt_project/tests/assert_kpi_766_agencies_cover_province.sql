{{ config(severity="warn") }}
-- Severity warn: dirty dates can leave a dossier with the province alone for a period.
-- metrics.md v2, units: every dossier of a known province is counted for exactly one agency unit, on
-- either basis, while a dossier whose agency is not in the agency list has an agency unit and no
-- province. So, per basis and period, the agency units' dossiers submitted, received and ended are at
-- least the province units'. (Districts no longer partition the province: departments and
-- province-level agencies sit under no district.) Returns the (basis, period) where they are not.
with totals as (
    select
        geography_basis, period_type, period_start,
        coalesce(sum(dossiers_submitted) filter (where unit_type = 'agency'), 0) as agency_submitted,
        coalesce(sum(dossiers_submitted) filter (where unit_type = 'province'), 0) as province_submitted,
        coalesce(sum(dossiers_received) filter (where unit_type = 'agency'), 0) as agency_received,
        coalesce(sum(dossiers_received) filter (where unit_type = 'province'), 0) as province_received,
        coalesce(sum(dossiers_ended) filter (where unit_type = 'agency'), 0) as agency_ended,
        coalesce(sum(dossiers_ended) filter (where unit_type = 'province'), 0) as province_ended
    from {{ ref('kpi_766') }}
    group by all
)

select *
from totals
where agency_submitted < province_submitted
    or agency_received < province_received
    or agency_ended < province_ended
