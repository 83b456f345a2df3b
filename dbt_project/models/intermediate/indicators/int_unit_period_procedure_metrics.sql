-- One row per (geography_basis, unit, period): the unit's procedures and the indicators counted over
-- them (metrics.md v2, "Period indicators": 3.1, 3.2, 3.5a, 3.5b, 4.5a). "Procedures of the unit"
-- are the catalog procedures valid in the period (each in its version in force at the period's end,
-- or the last one valid in it) that the unit's agencies perform:
--   * the province: all; a district: those whose CapThucHien lists HUYEN; a commune: XA;
--   * a department: those it is in charge of (MaCoQuanChuTri), and those it performs (its agencies
--     received a dossier of them in the period);
--   * an agency: the same as a department, and, for a district- or commune-level agency, those whose
--     CapThucHien lists its level;
--   * a service: itself; a field: its procedures.
-- A procedure counts as used (3.2, 3.5a, 3.5b) through dossiers received in the period by the unit's
-- agencies; for a service or a field (no agency), by anyone: rolled up from the days' or months'
-- rows of int_unit_day_procedure_use, int_unit_month_procedure_use,
-- int_day_procedure_use and int_month_procedure_use.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['period']},
) }}
-- depends_on: {{ ref('int_refresh_periods') }}
with periods as (
    select * from {{ ref('int_periods') }}
    {{ refresh_scope('period') }}
),

versions as (
    select * from {{ ref('int_services_versioned') }}
),

procedures as (
    select
        p.period_type,
        p.period_start,
        v.service_code,
        v.field_code,
        v.agency_code as lead_agency_code,
        coalesce(list_contains(string_split(v.administrative_level, ';'), 'HUYEN'), false) as is_district_level,
        coalesce(list_contains(string_split(v.administrative_level, ';'), 'XA'), false) as is_commune_level,
        coalesce(v.online_level in (3, 4), false) as is_online,
        coalesce(v.online_level = 4, false) as is_fully_online,
        coalesce(v.is_eligible_fully_online = 1, false) as is_eligible_fully_online,
        coalesce(v.has_fee, false) as has_fee,
        coalesce(v.is_for_citizens, false) as is_for_citizens,
        coalesce(v.is_for_citizens and v.is_connected_to_population_db, false) as is_connected_for_citizens
    from versions as v
    inner join periods as p
        on v.valid_from < p.period_end and (v.valid_to is null or v.valid_to > p.period_start)
    qualify row_number() over (
        partition by p.period_type, p.period_start, v.service_code order by v.valid_from desc
    ) = 1
),

-- What each unit's dossiers did with each procedure in the period, from its days' rows (days, ISO
-- weeks: int_unit_day_procedure_use) or its months' rows (months, quarters, years:
-- int_unit_month_procedure_use); by anyone (service and field units), from int_day_procedure_use and
-- int_month_procedure_use.
{% set grains = [
    ('day', 'received_day', 'int_unit_day_procedure_use', 'int_day_procedure_use'),
    ('month', 'received_month', 'int_unit_month_procedure_use', 'int_month_procedure_use'),
] %}
-- A row's period of each type starts at the row's day truncated to that type (int_periods' series
-- start at a truncated day and step by whole types): an equality join, not a range join.
{% set day_types = "('" ~ day_grain_period_types() | join("', '") ~ "')" %}
{% for use, unit_columns in [('unit_use', 'u.geography_basis, u.unit_type, u.unit_code, '), ('any_use', '')] %}
{{ use }} as (
    {% for grain, column, unit_model, any_model in grains %}
    {% set in_grain = ('' if grain == 'day' else 'not ') ~ 'in ' ~ day_types %}
    {% set grain_types = [] %}
    {% for period_type in var('period_types') if (period_type in day_grain_period_types()) == (grain == 'day') %}
        {% do grain_types.append("'" ~ period_type ~ "'") %}
    {% endfor %}
    select {{ unit_columns }}p.period_type, p.period_start, u.service_code,
        bool_or(u.has_online_dossier) as has_online_dossier,
        bool_or(u.has_fee_data) as has_fee_data,
        bool_or(u.has_online_payment) as has_online_payment
    from (
        select u.*, t.period_type, date_trunc(t.period_type, u.{{ column }})::date as period_start
        from {{ ref(unit_model if use == 'unit_use' else any_model) }} as u
        cross join unnest([{{ grain_types | join(', ') }}]::varchar[]) as t(period_type)
        where u.{{ column }} >= (select min(period_start) from periods where period_type {{ in_grain }})
            and u.{{ column }} < (select max(period_end) from periods where period_type {{ in_grain }})
    ) as u
    inner join periods as p on p.period_type = u.period_type and p.period_start = u.period_start
    group by all
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

{% endfor %}
units as (
    select distinct u.geography_basis, u.unit_type, u.unit_code, a.agency_level
    from {{ ref('int_units') }} as u
    left join (
        select agency_code, arg_max(agency_level, valid_from) as agency_level
        from {{ ref('int_agencies_versioned') }} group by agency_code
    ) as a on u.unit_type = 'agency' and a.agency_code = u.unit_code
),

-- The level class whose procedures are the unit's: all (the province), HUYEN (a district, a
-- district-level agency), XA (a commune, a commune-level agency); none for the others.
unit_classes as (
    select
        geography_basis,
        unit_type,
        unit_code,
        case
            when unit_type = 'province' then 'all'
            when unit_type = 'district' or (unit_type = 'agency' and agency_level = 'HUYEN') then 'HUYEN'
            when unit_type = 'commune' or (unit_type = 'agency' and agency_level = 'XA') then 'XA'
        end as level_class
    from units
),

{% set in_class = "(uc.level_class = 'all' or (uc.level_class = 'HUYEN' and pr.is_district_level)"
                  " or (uc.level_class = 'XA' and pr.is_commune_level))" %}
{% set counted = ["count(*) as procedures",
                  "count(*) filter (where pr.is_online) as services_online",
                  "count(*) filter (where pr.is_fully_online) as procedures_fully_online",
                  "count(*) filter (where pr.is_eligible_fully_online) as procedures_eligible_fully_online",
                  "count(*) filter (where pr.has_fee) as procedures_with_fee",
                  "count(*) filter (where pr.is_for_citizens) as procedures_for_citizens",
                  "count(*) filter (where pr.is_connected_for_citizens) as procedures_for_citizens_connected"] %}
-- A class's procedures are counted once per period, not once per unit.
class_counts as (
    select pr.period_type, pr.period_start, uc.level_class, {{ counted | join(', ') }}
    from procedures as pr
    inner join (select distinct level_class from unit_classes where level_class is not null) as uc
        on {{ in_class }}
    group by all
),

-- Procedures a unit holds outside its class: in charge of, performed, or (a service, a field) its own.
explicit as (
    select u.geography_basis, u.unit_type, u.unit_code, pr.period_type, pr.period_start, pr.service_code
    from units as u
    inner join procedures as pr on u.unit_type in ('department', 'agency') and pr.lead_agency_code = u.unit_code
    union
    select geography_basis, unit_type, unit_code, period_type, period_start, service_code
    from unit_use
    where unit_type in ('department', 'agency')
    union
    -- A service's and a field's apart: one equality each, so each is a hash join (a join on their
    -- disjunction compared every unit with every procedure).
    select u.geography_basis, u.unit_type, u.unit_code, pr.period_type, pr.period_start, pr.service_code
    from units as u
    inner join procedures as pr on u.unit_type = 'service' and pr.service_code = u.unit_code
    union
    select u.geography_basis, u.unit_type, u.unit_code, pr.period_type, pr.period_start, pr.service_code
    from units as u
    inner join procedures as pr on u.unit_type = 'field' and pr.field_code = u.unit_code
),

explicit_counts as (
    select e.geography_basis, e.unit_type, e.unit_code, e.period_type, e.period_start, {{ counted | join(', ') }}
    from explicit as e
    inner join procedures as pr using (period_type, period_start, service_code)
    inner join unit_classes as uc using (geography_basis, unit_type, unit_code)
    where uc.level_class is null or not {{ in_class }}
    group by all
),

-- Used procedures of the unit: a department's or an agency's are all its own (it performed them);
-- a class unit's, those of its class; a service's or a field's, used by anyone.
used as (
    select uu.geography_basis, uu.unit_type, uu.unit_code, uu.period_type, uu.period_start, pr.*
        exclude (period_type, period_start), uu.has_online_dossier, uu.has_fee_data, uu.has_online_payment
    from unit_use as uu
    inner join procedures as pr using (period_type, period_start, service_code)
    inner join unit_classes as uc using (geography_basis, unit_type, unit_code)
    where uu.unit_type in ('department', 'agency') or {{ in_class }}
    union all
    select e.geography_basis, e.unit_type, e.unit_code, e.period_type, e.period_start, pr.*
        exclude (period_type, period_start), au.has_online_dossier, au.has_fee_data, au.has_online_payment
    from explicit as e
    inner join procedures as pr using (period_type, period_start, service_code)
    inner join any_use as au using (period_type, period_start, service_code)
    where e.unit_type in ('service', 'field')
),

used_counts as (
    select
        geography_basis, unit_type, unit_code, period_type, period_start,
        count(*) filter (where is_online and has_online_dossier) as services_with_online_dossiers_count,
        count(*) filter (where has_fee and has_fee_data) as procedures_with_fee_data,
        count(*) filter (where has_fee and has_online_payment) as procedures_with_online_payment
    from used
    group by all
),

calendar as (
    select
        calendar_date,
        -- Working days before the day (the day itself excluded).
        working_day_index - is_working_day::integer as working_days_before,
        working_day_index,
        is_working_day
    from {{ ref('int_calendar_days') }}
),

-- 1.1 and 1.2 (the province's publication of procedures): each procedure whose publication decision
-- (NgayQuyetDinhCongBo) falls in the period, with the dates of the last version stating it.
-- Published on time: at least 5 working days before its legal basis takes effect (NgayHieuLucVanBan
-- - 5 working days, i.e. 5 working days in [decision, effect)); made public on time: NgayCongKhai
-- no later than the 5th working day after the decision. A missing date, or one outside the calendar
-- (int_calendar_days covers the data's years and one on each side), fails the test.
publications as (
    select p.period_type, p.period_start, v.service_code,
        arg_max(v.legal_basis_effective_date, v.valid_from) as legal_basis_effective_date,
        arg_max(v.made_public_date, v.valid_from) as made_public_date,
        arg_max(v.published_decision_date, v.valid_from) as published_decision_date
    from versions as v
    inner join periods as p
        on v.published_decision_date >= p.period_start and v.published_decision_date < p.period_end
    group by all
),

publication_counts as (
    select
        pb.period_type,
        pb.period_start,
        count(*) as procedures_published,
        count(*) filter (
            where effect.working_days_before - decision.working_days_before >= 5
        ) as procedures_published_on_time,
        -- On or before the 5th working day after the decision: fewer than 5 working days in
        -- (decision, made public], or exactly 5 with the day itself a working day.
        count(*) filter (
            where made_public.working_day_index - decision.working_day_index < 5
                or (made_public.working_day_index - decision.working_day_index = 5 and made_public.is_working_day)
        ) as procedures_public_on_time
    from publications as pb
    left join calendar as decision on decision.calendar_date = pb.published_decision_date
    left join calendar as effect on effect.calendar_date = pb.legal_basis_effective_date
    left join calendar as made_public on made_public.calendar_date = pb.made_public_date
    group by all
),

-- 1.3: procedures valid in the period (as the last version valid in it states them) made public
-- before its end, and of those, the ones with all 7 parts published (SoBoPhanCongKhai = 7).
completeness_counts as (
    select
        period_type,
        period_start,
        count(*) as procedures_public,
        count(*) filter (where published_parts = 7) as procedures_public_complete
    from (
        select p.period_type, p.period_start, p.period_end, v.published_parts, v.made_public_date
        from periods as p
        inner join versions as v
            on v.valid_from < p.period_end and (v.valid_to is null or v.valid_to > p.period_start)
        qualify row_number() over (
            partition by p.period_type, p.period_start, v.service_code order by v.valid_from desc
        ) = 1
    )
    where made_public_date < period_end
    group by all
),

keys as (
    select uc.geography_basis, uc.unit_type, uc.unit_code, c.period_type, c.period_start
    from unit_classes as uc
    inner join class_counts as c using (level_class)
    union
    select geography_basis, unit_type, unit_code, period_type, period_start from explicit_counts
    union
    select geography_basis, unit_type, unit_code, period_type, period_start from used_counts
),

final as (
    select
        k.geography_basis,
        k.unit_type,
        k.unit_code,
        k.period_type,
        k.period_start,
        {% for column in ['procedures', 'services_online', 'procedures_fully_online',
                          'procedures_eligible_fully_online', 'procedures_with_fee', 'procedures_for_citizens',
                          'procedures_for_citizens_connected'] %}
        (coalesce(c.{{ column }}, 0) + coalesce(e.{{ column }}, 0))::bigint as {{ column }},
        {% endfor %}
        coalesce(u.services_with_online_dossiers_count, 0)::bigint as services_with_online_dossiers_count,
        coalesce(u.procedures_with_fee_data, 0)::bigint as procedures_with_fee_data,
        coalesce(u.procedures_with_online_payment, 0)::bigint as procedures_with_online_payment,
        -- 1.1-1.3 score the province only.
        case when k.unit_type = 'province' then coalesce(pc.procedures_published, 0) end::bigint
            as procedures_published,
        case when k.unit_type = 'province' then coalesce(pc.procedures_published_on_time, 0) end::bigint
            as procedures_published_on_time,
        case when k.unit_type = 'province' then coalesce(pc.procedures_public_on_time, 0) end::bigint
            as procedures_public_on_time,
        case when k.unit_type = 'province' then coalesce(cc.procedures_public, 0) end::bigint as procedures_public,
        case when k.unit_type = 'province' then coalesce(cc.procedures_public_complete, 0) end::bigint
            as procedures_public_complete
    from keys as k
    inner join unit_classes as uc
        on uc.geography_basis = k.geography_basis and uc.unit_type = k.unit_type and uc.unit_code = k.unit_code
    left join class_counts as c
        on c.level_class = uc.level_class and c.period_type = k.period_type and c.period_start = k.period_start
    left join explicit_counts as e
        on e.geography_basis = k.geography_basis and e.unit_type = k.unit_type and e.unit_code = k.unit_code
        and e.period_type = k.period_type and e.period_start = k.period_start
    left join used_counts as u
        on u.geography_basis = k.geography_basis and u.unit_type = k.unit_type and u.unit_code = k.unit_code
        and u.period_type = k.period_type and u.period_start = k.period_start
    left join publication_counts as pc on pc.period_type = k.period_type and pc.period_start = k.period_start
    left join completeness_counts as cc on cc.period_type = k.period_type and cc.period_start = k.period_start
)

select * from final
