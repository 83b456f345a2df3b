-- The floor: the least work any pipeline must do to publish the scored kpi_766 month rows —
-- one DuckDB query straight over the landing files (no landing, validation, history or
-- publication). Placeholders: {landing} (directory), {as_of} (local midnight, 'YYYY-MM-DD HH:MM:SS'),
-- {province}. Only batch folders (and agency-list snapshots) before the as-of day are read.
-- Sources are those of sources.md v2: one dossier sync call per file (a UTF-16 file decoded by its
-- byte-order mark, a file that is not JSON skipped: the landing quarantines it), string-valued
-- records, the state in the latest accepted call winning; the agency list gives each dossier's
-- district. A record the landing quarantines (not an object, no MaHoSo, a date that is not one, a
-- status outside 1-10, a fee amount that is not a whole number) is skipped. The Decision 766 points
-- and ranks follow metrics.md.
with files as (
    select
        filename,
        content,
        content[1:2] = '\xFF\xFE'::blob as utf16le,
        content[1:2] = '\xFE\xFF'::blob as utf16be
    from read_blob('{landing}/dossiers/*/*.json')
    where filename < '{landing}/dossiers/' || left('{as_of}', 10)
),

-- Each file's text: UTF-8 (less a byte-order mark), or UTF-16 of either byte order after its
-- byte-order mark, decoded code unit by code unit from the bytes in hex (a surrogate pair read with
-- the unit after it); a file that is neither reads as null. No branch is costly for the other
-- files, whatever order the optimizer evaluates them in.
texts as (
    select
        filename,
        case
            when utf16le or utf16be then array_to_string(list_transform(list_zip(units, units[2:] || [0]), lambda p:
                case
                    when p[1] between 55296 and 56319 then chr(65536 + (p[1] - 55296) * 1024 + (p[2] - 56320))
                    when p[1] between 56320 and 57343 then ''
                    else chr(p[1])
                end), '')
            else ltrim(try(decode(content)), chr(65279))
        end as text
    from (
        select
            *,
            list_transform(regexp_extract_all(hex(if(utf16le, content[3:], ''::blob)), '[0-9A-F]{4}'),
                lambda c: ('0x' || c[3:4] || c[1:2])::integer)
            || list_transform(regexp_extract_all(hex(if(utf16be, content[3:], ''::blob)), '[0-9A-F]{4}'),
                lambda c: ('0x' || c)::integer) as units
        from files
    )
),

-- One sync call per file; a file that is not a JSON object (cut short, say) is skipped, as the
-- landing quarantines it. A record that is not an object reads as one without MaHoSo.
raw_calls as (
    select filename, c.MaDinhDanhDV, c.ThoiGianDongBo, c.KetQua.error_code as error_code, c.data
    from (
        select filename, json_transform(text, '{
            "MaDinhDanhDV": "VARCHAR", "ThoiGianDongBo": "VARCHAR", "KetQua": {"error_code": "VARCHAR"},
            "data": [{
                "MaHoSo": "VARCHAR", "KenhThucHien": "VARCHAR", "TrangThaiHoSo": "VARCHAR",
                "NgayNopHoSo": "VARCHAR", "NgayTiepNhan": "VARCHAR", "NgayHenTra": "VARCHAR",
                "NgayKetThucXuLy": "VARCHAR", "NgayTra": "VARCHAR", "NgayTuChoi": "VARCHAR",
                "DuocThanhToanTrucTuyen": "VARCHAR",
                "TaiLieuNop": [{"IsDeleted": "VARCHAR", "DuocSoHoa": "VARCHAR"}],
                "DanhSachLePhi": [{"Gia": "VARCHAR"}],
                "DanhSachHoSoBoSung": [{"NgayBoSung": "VARCHAR", "NgayTiepNhanBoSung": "VARCHAR",
                                        "NgayHenTraTruoc": "VARCHAR", "NgayHenTraMoi": "VARCHAR"}],
                "DanhSachGiayToKetQua": [{"DuongDanTepTinKetQua": "VARCHAR"}]
            }]
        }') as c
        from texts
        where json_valid(text)
    )
),

-- The envelope. A call without its agency or a valid time is quarantined whole. (Its records are
-- dropped in the projection, not by a filter: a filter here would be pushed down and parse each
-- file's JSON once per condition, a vector of files at a time.)
calls as (
    select
        filename,
        batch_date,
        agency_code,
        updated_at,
        is_accepted_call,
        case when agency_code is not null and updated_at is not null then data else [] end as data
    from (
        select
            filename,
            regexp_extract(filename, '/dossiers/(\d{4}-\d{2}-\d{2})/[^/]*$', 1)::date as batch_date,
            nullif(trim(regexp_replace(nfc_normalize(MaDinhDanhDV), '\s+', ' ', 'g')), '') as agency_code,
            try_strptime(trim(ThoiGianDongBo), '%Y%m%d%H%M%S') as updated_at,
            coalesce(try_cast(trim(error_code) as double) = 0, false) as is_accepted_call,
            coalesce(data, []) as data
        from raw_calls
    )
),

-- Each record with its call's envelope and its position in the call.
records as (
    select filename, batch_date, agency_code, updated_at, is_accepted_call, e.r as r, e.position as position
    from (
        select
            filename, batch_date, agency_code, updated_at, is_accepted_call,
            unnest(list_transform(data, lambda r, i: {'r': r, 'position': i})) as e
        from calls
    )
),

-- What the landing types: a timestamp is blank or 14 digits of a real time; a status 1-10; a fee a whole number.
typed as (
    select
        *,
        list_transform([r.NgayNopHoSo, r.NgayTiepNhan, r.NgayHenTra, r.NgayKetThucXuLy, r.NgayTra, r.NgayTuChoi]
            || flatten(list_transform(coalesce(r.DanhSachHoSoBoSung, []), lambda s:
                [s.NgayBoSung, s.NgayTiepNhanBoSung, s.NgayHenTraTruoc, s.NgayHenTraMoi])),
            lambda t: nullif(trim(t), '') is null
                or (regexp_full_match(trim(t), '\d{14}') and try_strptime(trim(t), '%Y%m%d%H%M%S') is not null))
            as dates_ok
    from records
),

valid as (
    select
        filename, batch_date, agency_code, updated_at, is_accepted_call, position,
        nullif(trim(regexp_replace(nfc_normalize(r.MaHoSo), '\s+', ' ', 'g')), '') as dossier_id,
        r
    from typed
    where nullif(trim(r.MaHoSo), '') is not null
        and list_bool_and(dates_ok)
        and (nullif(trim(r.TrangThaiHoSo), '') is null
            or (regexp_full_match(trim(r.TrangThaiHoSo), '[+-]?\d+(\.0*)?')
                and try_cast(trim(r.TrangThaiHoSo) as double) between 1 and 10))
        and coalesce(list_bool_and(list_transform(r.DanhSachLePhi, lambda f:
            nullif(trim(f.Gia), '') is null or regexp_full_match(trim(f.Gia), '[+-]?\d+(\.0*)?'))), true)
),

latest as (
    select
        dossier_id,
        -- The latest accepted call wins (ThoiGianDongBo; on a tie, the later batch, file and position);
        -- a dossier with no accepted call takes its latest call.
        arg_max({'agency_code': agency_code, 'batch_date': batch_date, 'r': r},
            (is_accepted_call, updated_at, filename, position)) as d
    from valid
    group by 1
),

-- Timestamps outside the plausible window (before 2015, or more than a year after the batch day) are
-- absent; the supplement rounds in staging's order (list_sort of the same structs).
plausible as (
    select
        dossier_id,
        d.agency_code,
        d.r,
        list_transform(
            [[d.r.NgayNopHoSo, d.r.NgayTiepNhan, d.r.NgayHenTra, d.r.NgayKetThucXuLy, d.r.NgayTra, d.r.NgayTuChoi]]
            || list_transform(coalesce(d.r.DanhSachHoSoBoSung, []), lambda s:
                [s.NgayBoSung, s.NgayTiepNhanBoSung, s.NgayHenTraTruoc, s.NgayHenTraMoi]),
            lambda l: list_transform(l, lambda t: case
                when try_strptime(trim(t), '%Y%m%d%H%M%S') >= timestamp '2015-01-01'
                    and try_strptime(trim(t), '%Y%m%d%H%M%S') < d.batch_date::timestamp + interval 1 year
                then try_strptime(trim(t), '%Y%m%d%H%M%S') end)) as stamps
    from latest
),

stamped as (
    select
        dossier_id,
        agency_code,
        r,
        stamps[1] as ts,
        list_sort(list_transform(stamps[2:], lambda x:
            {'requested_at': x[1], 'supplied_at': x[2], 'due_before': x[3], 'due_after': x[4]})) as rounds,
        try_cast(trim(r.TrangThaiHoSo) as double)::integer as status
    from plausible
),

-- The agency list: the union of the snapshots, each (code, NgayHieuLuc) as the latest snapshot states it.
agency_rows as (
    select
        nullif(trim(regexp_replace(nfc_normalize(MaDinhDanh), '\s+', ' ', 'g')), '') as agency_code,
        nullif(trim(regexp_replace(nfc_normalize(MaCoQuanCha), '\s+', ' ', 'g')), '') as parent_agency_code,
        nullif(trim(regexp_replace(nfc_normalize(MaDVHC), '\s+', ' ', 'g')), '') as admin_unit_code,
        try_strptime(trim(NgayHieuLuc), '%Y-%m-%d')::date as valid_from,
        try_strptime(trim(NgayHetHieuLuc), '%Y-%m-%d')::date as valid_to,
        strptime(regexp_extract(filename, 'coquan_(\d{8})\.csv$', 1), '%Y%m%d')::date as snapshot_date
    from read_csv('{landing}/agencies/coquan_*.csv', all_varchar = true, header = true, filename = true)
    where strptime(regexp_extract(filename, 'coquan_(\d{8})\.csv$', 1), '%Y%m%d')::date < '{as_of}'::date
),

agencies as (
    select
        agency_code, parent_agency_code, admin_unit_code, valid_from,
        least(valid_to, lead(valid_from) over (partition by agency_code order by valid_from)) as valid_to
    from (
        select * from agency_rows
        where agency_code is not null and valid_from is not null
        qualify row_number() over (partition by agency_code, valid_from order by snapshot_date desc) = 1
    )
),

dossiers as (
    select
        dossier_id,
        agency_code,
        coalesce(try_cast(trim(r.KenhThucHien) as double), 1) = 2 as is_online,
        status not in (1, 3) as is_received,
        status in (7, 8, 9, 10) as is_ended,
        ts[1] as submitted_at,
        ts[2] as received_at,
        coalesce(rounds[1].due_before, ts[3]) as due_at,
        case when status in (7, 8, 9, 10) then coalesce(ts[4], ts[5], ts[6]) end as ended_at,
        coalesce(list_sum(list_transform(r.DanhSachLePhi, lambda f: try_cast(trim(f.Gia) as decimal(38, 6)))), 0)
            > 0 as is_fee_bearing,
        coalesce(try_cast(trim(r.DuocThanhToanTrucTuyen) as double) in (1, 2), false) as paid_online,
        coalesce(list_bool_or(list_transform(r.DanhSachGiayToKetQua, lambda g:
            nullif(trim(g.DuongDanTepTinKetQua), '') is not null)), false) as has_e_result,
        coalesce(list_bool_or(list_transform(r.TaiLieuNop, lambda a:
            coalesce(try_cast(trim(a.IsDeleted) as double), 0) <> 1 and try_cast(trim(a.DuocSoHoa) as double) = 1)),
            false) as is_digitised,
        rounds
    from stamped
),

-- The district: the first agency up the chain (MaCoQuanCha) with a 3-digit administrative unit,
-- as the agency list stands on the reception day (the submission day if never received).
placed as (
    select
        d.*,
        case
            when length(a0.admin_unit_code) = 3 then a0.admin_unit_code
            when length(a1.admin_unit_code) = 3 then a1.admin_unit_code
            when length(a2.admin_unit_code) = 3 then a2.admin_unit_code
            when length(a3.admin_unit_code) = 3 then a3.admin_unit_code
        end as district_code
    from dossiers as d
    left join agencies as a0
        on a0.agency_code = d.agency_code
        and coalesce(d.received_at, d.submitted_at)::date >= a0.valid_from
        and (coalesce(d.received_at, d.submitted_at)::date < a0.valid_to or a0.valid_to is null)
    left join agencies as a1
        on a1.agency_code = a0.parent_agency_code
        and coalesce(d.received_at, d.submitted_at)::date >= a1.valid_from
        and (coalesce(d.received_at, d.submitted_at)::date < a1.valid_to or a1.valid_to is null)
    left join agencies as a2
        on a2.agency_code = a1.parent_agency_code
        and coalesce(d.received_at, d.submitted_at)::date >= a2.valid_from
        and (coalesce(d.received_at, d.submitted_at)::date < a2.valid_to or a2.valid_to is null)
    left join agencies as a3
        on a3.agency_code = a2.parent_agency_code
        and coalesce(d.received_at, d.submitted_at)::date >= a3.valid_from
        and (coalesce(d.received_at, d.submitted_at)::date < a3.valid_to or a3.valid_to is null)
),

judged as (
    select
        *,
        -- applicant_wait, in seconds: each round up to its answer, else the end, else the as-of time.
        coalesce(list_sum(list_transform(rounds, lambda s:
            epoch(coalesce(s.supplied_at, ended_at, timestamp '{as_of}')) - epoch(s.requested_at))), 0) as wait_seconds
    from placed
),

flagged as (
    select
        *,
        case when is_ended and ended_at is not null and due_at is not null then
            ended_at - to_microseconds(round(wait_seconds * 1e6)::bigint) <= due_at and len(rounds) <= 1
        end as is_on_time
    from judged
),

months as (
    select m::date as period_start, (m + interval 1 month)::timestamp as period_end
    from generate_series(
        (select date_trunc('month', min(submitted_at)) from dossiers)::timestamp,
        date_trunc('month', timestamp '{as_of}') - interval 1 month, interval 1 month) as t(m)
),

units as (
    select d.*, u.unit_type, u.unit_code
    from flagged as d, unnest([
        {'unit_type': 'province', 'unit_code': '{province}'},
        {'unit_type': 'agency', 'unit_code': d.agency_code},
        {'unit_type': 'district', 'unit_code': d.district_code}]) as x(u)
    where u.unit_code is not null
),

received as (
    select unit_type, unit_code, date_trunc('month', received_at)::date as period_start,
        count(*) as n, count(*) filter (where is_online) as online,
        count(*) filter (where is_digitised) as digitised,
        count(*) filter (where is_fee_bearing) as fee_bearing,
        count(*) filter (where is_fee_bearing and paid_online) as paid_online
    from units where is_received and received_at is not null group by all
),

ended as (
    select unit_type, unit_code, date_trunc('month', ended_at)::date as period_start,
        count(*) as n, count(*) filter (where is_on_time) as on_time, count(*) filter (where not is_on_time) as late,
        count(*) filter (where has_e_result) as e_result
    from units where is_ended and ended_at is not null group by all
),

backlog as (
    select u.unit_type, u.unit_code, m.period_start,
        count(*) filter (where u.due_at is not null) as with_due,
        count(*) filter (where u.due_at is not null and m.period_end - to_microseconds(round(coalesce(list_sum(
            list_transform(list_filter(u.rounds, lambda s: s.requested_at < m.period_end), lambda s:
                epoch(least(coalesce(s.supplied_at, m.period_end), m.period_end)) - epoch(s.requested_at))), 0) * 1e6)::bigint)
            > u.due_at) as overdue
    from units as u
    inner join months as m
        on u.received_at < m.period_end and (u.ended_at is null or u.ended_at >= m.period_end)
    where u.is_received and u.received_at is not null and not (u.is_ended and u.ended_at is null)
    group by all
),

grid as (
    select distinct unit_type, unit_code from units
),

rates as (
    select
        g.unit_type, g.unit_code, m.period_start,
        coalesce(r.online, 0) / nullif(coalesce(r.n, 0), 0) as online_rate,
        (coalesce(e.on_time, 0) + coalesce(b.with_due, 0) - coalesce(b.overdue, 0))
            / nullif(coalesce(e.on_time, 0) + coalesce(e.late, 0) + coalesce(b.with_due, 0), 0) as on_time_rate,
        coalesce(r.paid_online, 0) / nullif(coalesce(r.fee_bearing, 0), 0) as online_payment_rate,
        coalesce(e.e_result, 0) / nullif(coalesce(e.n, 0), 0) as e_result_rate,
        coalesce(r.digitised, 0) / nullif(coalesce(r.n, 0), 0) as digitised_rate
    from grid as g
    cross join months as m
    left join received as r using (unit_type, unit_code, period_start)
    left join ended as e using (unit_type, unit_code, period_start)
    left join backlog as b using (unit_type, unit_code, period_start)
),

points as (
    select
        *,
        -- least() skips nulls: a null rate must not reach the cap (it earns 0 points).
        coalesce(on_time_rate * 20, 0)
            + coalesce(case when online_rate is not null then least(online_rate / 0.5, 1) * 12 end, 0)
            + coalesce(online_payment_rate * 10, 0) + coalesce(e_result_rate * 6, 0)
            + coalesce(case when digitised_rate is not null then least(digitised_rate / 0.8, 1) * 4 end, 0)
            as points_total
    from rates
)

select
    *,
    dense_rank() over (partition by unit_type, period_start order by points_total desc) as rank_in_level
from points
