-- One row per dossier record of a sync call (sources.md v2 §3), renamed and typed; text cleaned
-- (NFC, trimmed). Codes arrive as text (landing keeps a code outside its set as sent): each is
-- read here into its contract value, an unknown one kept as `*_raw` and flagged. The nested lists
-- become the facts metrics.md v2 reads per dossier (e-result, digitised, reuse, data store,
-- population data). A table, not a view: every later model and test reads it. Incremental: a
-- refresh replaces the changed batch days only.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['batch']},
) }}

with source as (
    select * from {{ source('onestop', 'raw_dossier_syncs') }}
    {{ refresh_scope('batch', '_batch_date') }}
),

live_attachments as (
    select
        *,
        list_filter(coalesce(TaiLieuNop, []), lambda x: coalesce(x.IsDeleted, '0') <> '1') as live_attachments
    from source
),

renamed as (
    select
        {{ clean_text('MaHoSo') }} as dossier_id,
        {{ clean_text('MaTTHC') }} as service_code,
        {{ clean_text('MaLinhVuc') }} as field_code_sent,
        {{ clean_text('MaDinhDanhDV') }} as agency_code,
        {{ clean_text('DonViXuLy') }} as agency_name_sent,
        -- KenhThucHien: empty = in person (sources.md); a code outside 1-3 is null here, kept raw.
        case coalesce(KenhThucHien, '1') when '1' then 1 when '2' then 2 when '3' then 3 end as channel_code,
        KenhThucHien as channel_code_raw,
        try_cast(LoaiDoiTuong as integer) as applicant_kind_code,
        MaNguoiNop as applicant_key,
        {{ plausible_date('NgayNopHoSo', '_batch_date') }} as submitted_at,
        {{ plausible_date('NgayTiepNhan', '_batch_date') }} as received_at,
        {{ plausible_date('NgayHenTra', '_batch_date') }} as due_at_on_receipt,
        {{ plausible_date('NgayKetThucXuLy', '_batch_date') }} as processing_finished_at,
        {{ plausible_date('NgayTra', '_batch_date') }} as returned_at,
        {{ plausible_date('NgayTuChoi', '_batch_date') }} as refused_at,
        TrangThaiHoSo::integer as status_code,
        try_cast(HinhThuc as integer) as delivery_code,
        try_cast(NoiNopHoSo as integer) as submission_place_code,
        -- DuocThanhToanTrucTuyen: absent = 0 (not paid online); any other value is unknown,
        -- kept raw and read as "not paid online" (metrics.md, fee reconciliation).
        case coalesce(DuocThanhToanTrucTuyen, '0') when '0' then 0 when '1' then 1 when '2' then 2 end
            as paid_online_code,
        DuocThanhToanTrucTuyen as paid_online_code_raw,
        coalesce(DuocThanhToanTrucTuyen, '0') not in ('0', '1', '2') as has_unknown_paid_online_code,
        -- metrics.md v2, dossier lifecycle.
        coalesce(list_bool_or(list_transform(coalesce(DanhSachGiayToKetQua, []),
            lambda x: coalesce(x.CoTepTinKetQua, false))), false) as has_e_result,
        coalesce(list_bool_or(list_transform(live_attachments,
            lambda x: x.DuocSoHoa = '1')), false) as is_digitised,
        coalesce(HoSoCoThanhPhanSoHoa = '1', false)
            or coalesce(list_bool_or(list_transform(live_attachments,
                lambda x: x.DuocTaiSuDung in ('1', '2'))), false) as reuses_data,
        coalesce(list_bool_or(list_transform(live_attachments,
            lambda x: x.DuocLayTuKhoDMQG = '1')), false) as from_data_store,
        coalesce(TaiKhoanDuocXacThucVoiVNeID = '1', false)
            or coalesce(list_contains(list_transform(coalesce(DSKetNoiCSDL, []),
                lambda x: {{ clean_text('x') }}), '{{ var("population_database_code") }}'), false)
            as uses_population_data,
        list_transform(
            coalesce(DanhSachLePhi, []),
            lambda x: {
                'fee_code': {{ clean_text('x.MaPhiLePhi') }},
                'fee_kind_code': try_cast(x.LoaiPhiLePhi as integer),
                'collected_at_code': try_cast(x.HinhThucThu as integer),
                'amount_vnd': x.Gia::bigint
            }
        ) as fee_lines,
        -- DanhSachHoSoBoSung, in request order (v2: NgayBoSung is the request, NgayTiepNhanBoSung
        -- the applicant's answer).
        list_sort(list_transform(
            coalesce(DanhSachHoSoBoSung, []),
            lambda x: {
                'requested_at': {{ plausible_date('x.NgayBoSung', '_batch_date') }},
                'supplied_at': {{ plausible_date('x.NgayTiepNhanBoSung', '_batch_date') }},
                'due_before': {{ plausible_date('x.NgayHenTraTruoc', '_batch_date') }},
                'due_after': {{ plausible_date('x.NgayHenTraMoi', '_batch_date') }}
            }
        )) as supplement_rounds,
        {{ implausible_date_fields({
            'NgayNopHoSo': 'NgayNopHoSo', 'NgayTiepNhan': 'NgayTiepNhan', 'NgayHenTra': 'NgayHenTra',
            'NgayKetThucXuLy': 'NgayKetThucXuLy', 'NgayTra': 'NgayTra', 'NgayTuChoi': 'NgayTuChoi',
            'ThoiGianDongBo': 'ThoiGianDongBo',
            'DanhSachHoSoBoSung.NgayBoSung': 'list_min(list_transform(coalesce(DanhSachHoSoBoSung, []), lambda x: '
                'case when not ' ~ is_plausible_date('x.NgayBoSung', '_batch_date') ~ ' then x.NgayBoSung end))',
            'DanhSachHoSoBoSung.NgayTiepNhanBoSung': 'list_min(list_transform(coalesce(DanhSachHoSoBoSung, []), '
                'lambda x: case when not ' ~ is_plausible_date('x.NgayTiepNhanBoSung', '_batch_date')
                ~ ' then x.NgayTiepNhanBoSung end))',
        }, '_batch_date') }} as implausible_date_fields,
        -- The call: flagged when implausible, never read as absent, since it orders a dossier's states.
        ThoiGianDongBo as updated_at,
        LoaiDongBo as sync_kind,
        MaLoiKetQua as sync_error_code,
        coalesce(trim(MaLoiKetQua) = '0', false) as is_accepted_call,
        _record_hash as record_hash,
        _source_file as source_file,
        _line_number as source_line_number,
        _batch_date as batch_date
    from live_attachments
),

-- due_at (metrics.md v2): the first round's NgayHenTraTruoc (the promise before any reset) when
-- the dossier has rounds, else NgayHenTra; a first round without it falls back to NgayHenTra.
final as (
    select
        * exclude (due_at_on_receipt),
        coalesce(supplement_rounds[1].due_before, due_at_on_receipt) as due_at,
        due_at_on_receipt
    from renamed
)

select * from final
