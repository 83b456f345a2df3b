-- The floor: the least work any pipeline must do to publish the scored kpi_766 month rows —
-- one DuckDB query straight over the landing files (no landing, validation, history or
-- publication). Placeholders: {landing} (directory), {as_of} (local midnight, 'YYYY-MM-DD HH:MM:SS'),
-- {province}. Only batch folders before the as-of day are read.
-- Lines that are not valid JSON are skipped; the Decision 766 points and ranks follow metrics.md.
with raw as (
    select *, row_number() over () as ordinal from read_json(
        '{landing}/dossiers/*/*.jsonl', format = 'newline_delimited', ignore_errors = true, filename = true,
        columns = {
            MaHoSo: 'varchar', MaCoQuan: 'varchar', MaDiaBan: 'varchar', KenhThucHien: 'integer',
            NgayNopHoSo: 'varchar', NgayTiepNhan: 'varchar', NgayHenTra: 'varchar', NgayKetThucXuLy: 'varchar',
            NgayTra: 'varchar', NgayTuChoi: 'varchar', TrangThaiHoSo: 'integer', DuocThanhToanTrucTuyen: 'integer',
            CoKetQuaDienTu: 'integer', DaSoHoa: 'integer',
            DanhSachLePhi: 'struct(Gia bigint)[]', DanhSachBoSung: 'struct(NgayYeuCau varchar, NgayBoSung varchar)[]',
            NgayCapNhat: 'varchar'
        })
),

latest as (
    select
        nullif(trim(nfc_normalize(MaHoSo)), '') as dossier_id,
        -- The latest NgayCapNhat wins; on a tie, the later batch, file and line.
        arg_max(raw, (try_strptime(NgayCapNhat, '%Y%m%d%H%M%S'), filename, ordinal)) as r
    from raw
    where filename < '{landing}/dossiers/' || left('{as_of}', 10)
        and nullif(trim(nfc_normalize(MaHoSo)), '') is not null
        and try_strptime(NgayCapNhat, '%Y%m%d%H%M%S') is not null
        and try_strptime(NgayNopHoSo, '%Y%m%d%H%M%S') is not null
    group by 1
),

dossiers as (
    select
        dossier_id,
        nullif(trim(nfc_normalize(r.MaCoQuan)), '') as agency_code,
        nullif(trim(nfc_normalize(r.MaDiaBan)), '') as district_code,
        r.KenhThucHien = 2 as is_online,
        r.TrangThaiHoSo not in (1, 3) as is_received,
        r.TrangThaiHoSo in (7, 8, 9, 10) as is_ended,
        try_strptime(r.NgayTiepNhan, '%Y%m%d%H%M%S') as received_at,
        try_strptime(r.NgayHenTra, '%Y%m%d%H%M%S') as due_at,
        case when r.TrangThaiHoSo in (7, 8, 9, 10) then coalesce(
            try_strptime(r.NgayKetThucXuLy, '%Y%m%d%H%M%S'), try_strptime(r.NgayTra, '%Y%m%d%H%M%S'),
            try_strptime(r.NgayTuChoi, '%Y%m%d%H%M%S')) end as ended_at,
        coalesce(list_sum(list_transform(r.DanhSachLePhi, lambda f: f.Gia)), 0) > 0 as is_fee_bearing,
        r.DuocThanhToanTrucTuyen in (1, 2) as paid_online,
        r.CoKetQuaDienTu = 1 as has_e_result,
        r.DaSoHoa = 1 as is_digitised,
        list_transform(coalesce(r.DanhSachBoSung, []), lambda s: {
            'asked': try_strptime(s.NgayYeuCau, '%Y%m%d%H%M%S'),
            'answered': try_strptime(s.NgayBoSung, '%Y%m%d%H%M%S')}) as rounds
    from latest
),

judged as (
    select
        *,
        -- applicant_wait, in seconds: each round up to its answer, else the end, else the as-of time.
        coalesce(list_sum(list_transform(rounds, lambda s:
            epoch(coalesce(s.answered, ended_at, timestamp '{as_of}')) - epoch(s.asked))), 0) as wait_seconds
    from dossiers
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
        (select date_trunc('month', min(received_at)) from dossiers)::timestamp,
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
            list_transform(list_filter(u.rounds, lambda s: s.asked < m.period_end), lambda s:
                epoch(least(coalesce(s.answered, m.period_end), m.period_end)) - epoch(s.asked))), 0) * 1e6)::bigint)
            > u.due_at) as overdue
    from units as u
    inner join months as m
        on u.received_at < m.period_end and (u.ended_at is null or u.ended_at >= m.period_end)
    where u.is_received and not (u.is_ended and u.ended_at is null)
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
        coalesce(on_time_rate * 20, 0) + coalesce(least(online_rate / 0.5, 1) * 12, 0)
            + coalesce(online_payment_rate * 10, 0) + coalesce(e_result_rate * 6, 0)
            + coalesce(least(digitised_rate / 0.8, 1) * 4, 0) as points_total
    from rates
)

select
    *,
    dense_rank() over (partition by unit_type, period_start order by points_total desc) as rank_in_level
from points
