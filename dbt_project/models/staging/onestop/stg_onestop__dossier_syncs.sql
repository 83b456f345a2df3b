-- One row per dossier sync record, renamed and typed; codes cleaned (NFC, trimmed).
-- A table, not a view: every later model and test reads it, and a table is read
-- far faster than the lake's Parquet. Incremental: a refresh replaces the changed
-- batch days only (the lake partitions are one per batch day, and DuckDB reads
-- only the matching partitions' row groups).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    meta={'refresh_scope': ['batch']},
    pre_hook="{{ refresh_delete_scope() }}",
) }}

with source as (
    select * from {{ source('onestop', 'raw_dossiers') }}
    {{ refresh_scope('batch', '_batch_date') }}
),

renamed as (
    select
        {{ clean_text('MaHoSo') }} as dossier_id,
        {{ clean_text('MaTTHC') }} as service_code,
        {{ clean_text('MaCoQuan') }} as agency_code,
        {{ clean_text('MaDiaBan') }} as district_code,
        KenhThucHien::integer as channel_code,
        LoaiDoiTuong::integer as applicant_kind_code,
        MaNguoiNop as applicant_key,
        {{ plausible_date('NgayNopHoSo', '_batch_date') }} as submitted_at,
        {{ plausible_date('NgayTiepNhan', '_batch_date') }} as received_at,
        {{ plausible_date('NgayHenTra', '_batch_date') }} as due_at,
        {{ plausible_date('NgayKetThucXuLy', '_batch_date') }} as processing_finished_at,
        {{ plausible_date('NgayTra', '_batch_date') }} as returned_at,
        {{ plausible_date('NgayTuChoi', '_batch_date') }} as refused_at,
        TrangThaiHoSo::integer as status_code,
        DuocThanhToanTrucTuyen::integer as paid_online_code,
        CoKetQuaDienTu = 1 as has_e_result,
        DaSoHoa = 1 as is_digitised,
        list_transform(
            coalesce(DanhSachLePhi, []),
            lambda x: {
                'fee_code': {{ clean_text('x.MaPhiLePhi') }},
                'fee_kind_code': x.LoaiPhiLePhi::integer,
                'amount_vnd': x.Gia::bigint
            }
        ) as fee_lines,
        list_transform(
            coalesce(DanhSachBoSung, []),
            lambda x: {
                'requested_at': {{ plausible_date('x.NgayYeuCau', '_batch_date') }},
                'supplied_at': {{ plausible_date('x.NgayBoSung', '_batch_date') }}
            }
        ) as supplement_rounds,
        {{ implausible_date_fields({
            'NgayNopHoSo': 'NgayNopHoSo', 'NgayTiepNhan': 'NgayTiepNhan', 'NgayHenTra': 'NgayHenTra',
            'NgayKetThucXuLy': 'NgayKetThucXuLy', 'NgayTra': 'NgayTra', 'NgayTuChoi': 'NgayTuChoi',
            'NgayCapNhat': 'NgayCapNhat',
            'DanhSachBoSung.NgayYeuCau': 'list_min(list_transform(coalesce(DanhSachBoSung, []), lambda x: '
                'case when not ' ~ is_plausible_date('x.NgayYeuCau', '_batch_date') ~ ' then x.NgayYeuCau end))',
            'DanhSachBoSung.NgayBoSung': 'list_min(list_transform(coalesce(DanhSachBoSung, []), lambda x: '
                'case when not ' ~ is_plausible_date('x.NgayBoSung', '_batch_date') ~ ' then x.NgayBoSung end))',
        }, '_batch_date') }} as implausible_date_fields,
        -- Flagged when implausible, never read as absent: it orders a dossier's states.
        NgayCapNhat as updated_at,
        _source_file as source_file,
        _line_number as source_line_number,
        _batch_date as batch_date
    from source
)

select * from renamed
