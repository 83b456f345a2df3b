-- One row per transaction line of a reconciliation file, renamed and typed; duplicates kept.
-- A table, as the sync records: later models read DuckDB's storage, not a file per batch day
-- of the lake. Incremental: a refresh replaces the changed payment batch days only (by the
-- partition folder's batch_date, so DuckDB opens only their files).
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['payment_batch']},
) }}

with source as (
    select * from {{ source('payment_platform', 'raw_payments') }}
    {{ refresh_scope('payment_batch', 'batch_date') }}
),

renamed as (
    select
        {{ clean_text('MaTrungGian') }} as intermediary_code,
        {{ clean_text('MaGiaoDich') }} as transaction_id,
        KenhThanhToan::integer as payment_channel_code,
        {{ clean_text('MaHoSo') }} as dossier_id,
        {{ clean_text('MaTTHC') }} as service_code,
        LoaiPhiLePhi::integer as fee_kind_code,
        SoTien::bigint as amount_vnd,
        case TrangThai when '00' then 'succeeded' when '01' then 'failed' when '02' then 'pending' end as status,
        {{ plausible_date('ThoiGianGiaoDich', '_batch_date') }} as paid_at,
        NgayDoiSoat as settlement_date,
        {{ implausible_date_fields({'ThoiGianGiaoDich': 'ThoiGianGiaoDich'}, '_batch_date') }}
            as implausible_date_fields,
        _source_file as source_file,
        _line_number as source_line_number,
        _batch_date as batch_date
    from source
)

select * from renamed
