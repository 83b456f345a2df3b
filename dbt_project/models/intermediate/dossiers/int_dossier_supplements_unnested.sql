-- One row per supplement round of a dossier's latest state.
{{ config(materialized='view') }}
with dossiers as (
    select dossier_id, supplement_rounds from {{ ref('int_dossiers_latest') }}
),

unnested as (
    select
        dossier_id,
        unnest(supplement_rounds) as supplement_round,
        generate_subscripts(supplement_rounds, 1) as round_number
    from dossiers
)

select
    dossier_id,
    round_number,
    supplement_round.requested_at as requested_at,
    supplement_round.supplied_at as supplied_at
from unnested
