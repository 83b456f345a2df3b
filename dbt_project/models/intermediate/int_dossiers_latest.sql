-- One row per dossier: its latest sync record (the latest NgayCapNhat wins; on a
-- tie, the later batch, then the later file and line). Incremental: a refresh
-- recomputes the dossiers with a record in a changed batch, from all their records.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    meta={'refresh_scope': ['synced_dossier']},
    pre_hook="{{ refresh_delete_scope() }}",
) }}

with syncs as (
    select * from {{ ref('stg_onestop__dossier_syncs') }}
    {{ refresh_scope('synced_dossier') }}
),

ranked as (
    select
        *,
        count(*) over (partition by dossier_id) as sync_records,
        min(batch_date) over (partition by dossier_id) as first_batch_date
    from syncs
    qualify row_number() over (
        partition by dossier_id
        order by updated_at desc, batch_date desc, source_file desc, source_line_number desc
    ) = 1
)

select * from ranked
