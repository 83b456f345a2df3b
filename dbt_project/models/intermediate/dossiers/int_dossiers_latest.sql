-- One row per dossier: its state in the latest accepted sync call (sources.md v2 §3: the latest
-- ThoiGianDongBo among calls the portal accepted; on a tie, the later batch, then the later file
-- and position). A dossier none of whose calls was accepted takes its latest call's state and is
-- not synced (metrics.md v2, is_synced). Records of one dossier in calls made at the same moment
-- with different content are a conflict: counted, and the tie-break above decides.
-- Incremental: a refresh recomputes the dossiers with a record in a changed batch, from all their records.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['synced_dossier']},
) }}

with syncs as (
    select * from {{ ref('stg_onestop__dossier_syncs') }}
    {{ refresh_scope('synced_dossier') }}
),

ranked as (
    select
        *,
        count(*) over (partition by dossier_id) as sync_records,
        count(*) filter (where not is_accepted_call) over (partition by dossier_id) as rejected_sync_records,
        bool_or(is_accepted_call) over (partition by dossier_id) as is_synced,
        min(batch_date) over (partition by dossier_id) as first_batch_date
    from syncs
    qualify row_number() over (
        partition by dossier_id
        order by is_accepted_call desc, updated_at desc, batch_date desc, source_file desc, source_line_number desc
    ) = 1
),

-- The same dossier at the same call time with other content: a conflict (the same content is a
-- duplicate and is not counted).
conflicts as (
    select dossier_id, count(distinct record_hash) - 1 as conflicting_records
    from syncs
    group by dossier_id, updated_at, is_accepted_call
    having count(distinct record_hash) > 1
),

final as (
    select
        r.*,
        coalesce(c.conflicting_records, 0) as conflicting_records
    from ranked as r
    left join (
        select dossier_id, sum(conflicting_records)::integer as conflicting_records
        from conflicts group by dossier_id
    ) as c using (dossier_id)
)

select * from final
