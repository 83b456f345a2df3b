-- One row per agency per agency-list snapshot (sources.md v2 §1); text NFC-normalised and trimmed.
-- A changed snapshot makes the build a full refresh: an incremental build skips this view and its tests.
{{ config(tags=['full_refresh_only']) }}
with source as (
    select * from {{ source('onestop', 'raw_agencies') }}
),

renamed as (
    select
        {{ clean_text('MaDinhDanh') }} as agency_code,
        {{ clean_text('TenCoQuan') }} as agency_name,
        upper({{ clean_text('CapCoQuan') }}) as agency_level,
        {{ clean_text('MaCoQuanCha') }} as parent_agency_code,
        {{ clean_text('MaDVHC') }} as admin_unit_code,
        NgayHieuLuc as valid_from,
        NgayHetHieuLuc as valid_to,
        {{ clean_text('MaCoQuanKeThua') }} as successor_agency_code,
        _batch_date as snapshot_date,
        _source_file as source_file,
        _line_number as source_line_number
    from source
)

select * from renamed
