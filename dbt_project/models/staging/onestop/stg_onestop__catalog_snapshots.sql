-- One row per service per catalog snapshot; text NFC-normalised and trimmed so one name is one group.
-- A changed snapshot makes the build a full refresh: an incremental build skips this view and its tests.
{{ config(tags=['full_refresh_only']) }}
with source as (
    select * from {{ source('onestop', 'raw_catalog') }}
),

renamed as (
    select
        {{ clean_text('MaTTHC') }} as service_code,
        {{ clean_text('TenTTHC') }} as service_name,
        {{ clean_text('MaLinhVuc') }} as field_code,
        {{ clean_text('TenLinhVuc') }} as field_name,
        {{ clean_text('MaCoQuan') }} as agency_code,
        {{ clean_text('TenCoQuan') }} as agency_name,
        {{ clean_text('CapThucHien') }} as administrative_level,
        MucDo::integer as online_level,
        ThoiHanGiaiQuyet::integer as deadline_working_days,
        PhiLePhi::bigint as fee_vnd,
        _batch_date as snapshot_date,
        _source_file as source_file,
        _line_number as source_line_number
    from source
)

select * from renamed
