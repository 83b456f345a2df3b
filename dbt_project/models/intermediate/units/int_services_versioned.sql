-- One row per version of a procedure (catalog v2 columns) (SCD2 built from the full catalog snapshots).
-- A version is valid on [valid_from, valid_to): a change applies from the day
-- of the snapshot that first shows it, never retroactively. A service missing
-- from a snapshot is closed on that snapshot's day.
-- Built from the catalog alone: a changed snapshot makes the build a full refresh
-- (dichvucong.transform), so an incremental build leaves this table as it is.
{{ config(tags=['full_refresh_only']) }}
with snapshots as (
    select * from {{ ref('stg_onestop__catalog_snapshots') }}
),

snapshot_days as (
    select
        snapshot_date,
        row_number() over (order by snapshot_date) as snapshot_number,
        lead(snapshot_date) over (order by snapshot_date) as next_snapshot_date
    from (select distinct snapshot_date from snapshots)
),

-- The same code twice in one snapshot: the last line wins.
deduplicated as (
    select *
    from snapshots
    qualify row_number() over (
        partition by service_code, snapshot_date order by source_line_number desc
    ) = 1
),

hashed as (
    select
        d.*,
        s.snapshot_number,
        -- concat_ws skips nulls: each attribute is quoted so that a null never equals a shift.
        md5(concat_ws('|', coalesce(service_name::varchar, '∅'),
            coalesce(field_code::varchar, '∅'),
            coalesce(field_name::varchar, '∅'),
            coalesce(agency_code::varchar, '∅'),
            coalesce(administrative_level::varchar, '∅'),
            coalesce(online_level::varchar, '∅'),
            coalesce(is_eligible_fully_online::varchar, '∅'),
            coalesce(deadline_value::varchar, '∅'),
            coalesce(deadline_unit::varchar, '∅'),
            coalesce(fee_vnd::varchar, '∅'),
            coalesce(has_fee::varchar, '∅'),
            coalesce(has_paper_result::varchar, '∅'),
            coalesce(is_for_citizens::varchar, '∅'),
            coalesce(is_connected_to_population_db::varchar, '∅'),
            coalesce(published_decision_date::varchar, '∅'),
            coalesce(legal_basis_effective_date::varchar, '∅'),
            coalesce(made_public_date::varchar, '∅'),
            coalesce(published_parts::varchar, '∅'))) as attributes_hash
    from deduplicated as d
    inner join snapshot_days as s using (snapshot_date)
),

flagged as (
    select
        *,
        case
            when lag(snapshot_number) over w is null then 1
            when lag(snapshot_number) over w <> snapshot_number - 1 then 1
            when lag(attributes_hash) over w <> attributes_hash then 1
            else 0
        end as starts_version
    from hashed
    window w as (partition by service_code order by snapshot_number)
),

numbered as (
    select
        *,
        sum(starts_version) over (
            partition by service_code order by snapshot_number rows unbounded preceding
        ) as version_number
    from flagged
),

versions as (
    select
        service_code,
        version_number,
        min(snapshot_date) as valid_from,
        max(snapshot_number) as last_snapshot_number,
        any_value(service_name) as service_name,
        any_value(field_code) as field_code,
        any_value(field_name) as field_name,
        any_value(agency_code) as agency_code,
        any_value(administrative_level) as administrative_level,
        any_value(online_level) as online_level,
        any_value(is_eligible_fully_online) as is_eligible_fully_online,
        any_value(deadline_value) as deadline_value,
        any_value(deadline_unit) as deadline_unit,
        any_value(fee_vnd) as fee_vnd,
        any_value(has_fee) as has_fee,
        any_value(has_paper_result) as has_paper_result,
        any_value(is_for_citizens) as is_for_citizens,
        any_value(is_connected_to_population_db) as is_connected_to_population_db,
        any_value(published_decision_date) as published_decision_date,
        any_value(legal_basis_effective_date) as legal_basis_effective_date,
        any_value(made_public_date) as made_public_date,
        any_value(published_parts) as published_parts
    from numbered
    group by service_code, version_number
),

final as (
    select
        v.service_code || '@' || strftime(v.valid_from, '%Y-%m-%d') as service_version_id,
        v.service_code,
        v.version_number,
        v.valid_from,
        s.next_snapshot_date as valid_to,
        s.next_snapshot_date is null as is_current,
        v.service_name,
        v.field_code,
        v.field_name,
        v.agency_code,
        v.administrative_level,
        v.is_eligible_fully_online,
        v.fee_vnd,
        v.has_fee,
        v.has_paper_result,
        v.is_for_citizens,
        v.is_connected_to_population_db,
        v.published_decision_date,
        v.legal_basis_effective_date,
        v.made_public_date,
        v.published_parts,
        v.online_level,
        v.online_level in (3, 4) as is_online,
        v.deadline_value,
        v.deadline_unit,
        -- The deadline in working days where the catalog gives it so (deadline_use, processing time).
        case when v.deadline_unit = 'NgayLamViec' then v.deadline_value end as deadline_working_days
    from versions as v
    inner join snapshot_days as s on s.snapshot_number = v.last_snapshot_number
)

select * from final
