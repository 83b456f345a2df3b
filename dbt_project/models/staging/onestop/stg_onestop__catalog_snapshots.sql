-- One row per procedure per catalog snapshot (sources.md v2 §2); text NFC-normalised and trimmed
-- so one name is one group. A changed snapshot makes the build a full refresh: an incremental
-- build skips this view and its tests.
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
        -- The department in charge; empty where every agency of the level performs it.
        {{ clean_text('MaCoQuanChuTri') }} as agency_code,
        -- CapThucHien: TINH, HUYEN, XA, or several joined by ';' (kept as sent, upper-cased).
        upper(replace({{ clean_text('CapThucHien') }}, ' ', '')) as administrative_level,
        MucDo::integer as online_level,
        DuDieuKienToanTrinh = 1 as is_eligible_fully_online,
        ThoiHanGiaiQuyet::integer as deadline_value,
        -- DonViThoiHan: empty = working days.
        coalesce({{ clean_text('DonViThoiHan') }}, 'NgayLamViec') as deadline_unit,
        PhiLePhi::bigint as fee_vnd,
        CoPhiLePhi = 1 as has_fee,
        CoKetQuaGiay = 1 as has_paper_result,
        DoiTuongCongDan = 1 as is_for_citizens,
        KetNoiCSDLDanCu = 1 as is_connected_to_population_db,
        NgayQuyetDinhCongBo as published_decision_date,
        NgayHieuLucVanBan as legal_basis_effective_date,
        NgayCongKhai as made_public_date,
        SoBoPhanCongKhai::integer as published_parts,
        _batch_date as snapshot_date,
        _source_file as source_file,
        _line_number as source_line_number
    from source
)

select * from renamed
