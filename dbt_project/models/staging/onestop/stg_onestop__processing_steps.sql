-- One row per processing-log record of a sync call (sources.md v2 §4), renamed and typed; text
-- cleaned (NFC, trimmed). The official's name and the step's free text never reached the lake. A
-- table, not a view: the step mart and the refresh scope read it at every build, and a view cleaned
-- every record's text again each time. Incremental: a refresh replaces the changed batch days only,
-- and its tests read those (the others were tested by the build that first read them).
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['processing_batch']},
) }}

with source as (
    select * from {{ source('onestop', 'raw_processing_steps') }}
    {{ refresh_scope('processing_batch', '_batch_date') }}
),

renamed as (
    select
        {{ clean_text('MaHoSo') }} as dossier_id,
        {{ clean_text('MaDinhDanhDV') }} as agency_code,
        {{ clean_text('PhongBanXuLy') }} as office_name,
        {{ clean_text('ChucDanh') }} as official_title,
        TrangThai::integer as status_code,
        {{ plausible_date('ThoiDiemXuLy', '_batch_date') }} as recorded_at,
        {{ plausible_date('NgayBatDau', '_batch_date') }} as started_at,
        {{ plausible_date('NgayKetThucTheoQuyDinh', '_batch_date') }} as step_due_at,
        ThoiGianDongBo as synced_at,
        coalesce(trim(MaLoiKetQua) = '0', false) as is_accepted_call,
        _record_hash as record_hash,
        _source_file as source_file,
        _line_number as source_line_number,
        _batch_date as batch_date
    from source
)

select * from renamed
