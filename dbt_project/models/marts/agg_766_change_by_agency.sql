-- Why a rate moved, by agency: for a province, department, district or commune and a period against
-- the previous one, each agency's share of the change of every indicator that is one fraction of
-- dossier counts (macros/indicator_fractions.sql). With the unit's numerator N and denominator D and
-- an agency's n and d in the period before (0) and after (1):
--   rate_after - rate_before = N1/D1 - N0/D0
--     = sum over agencies of (n1 - n0)/D1                 (numerator_effect)
--     + sum over agencies of -N0 (d1 - d0) / (D1 D0)      (denominator_effect),
-- exactly. The agencies are those whose dossiers the unit's counted (int_dossiers_lifecycle, on the
-- row's basis); a last row, agency_code null, holds what those agencies' own rows do not (a closed
-- agency with no row in the period, an agency shared with another unit), so the parts always add up
-- to the whole. points_effect splits the indicator's points change in the same proportions (null
-- where the rate did not change, or a period has no denominator).
{%- set fractions = indicator_fractions() %}
-- Each unit's numerator and denominator of every fraction indicator, one row per indicator.
with fractions as (
    {% for name, fraction in fractions.items() %}
    select
        geography_basis, unit_type, unit_code, period_type, period_start,
        '{{ name }}' as indicator_name,
        ({{ fraction[0] }})::double as numerator,
        ({{ fraction[1] }})::double as denominator
    from {{ ref('kpi_766') }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

dossiers as (
    select * from {{ ref('int_dossiers_lifecycle') }}
),

-- Which agencies' dossiers a unit counts, on each basis.
members as (
    {% for unit_type in ['province', 'department', 'district', 'commune'] %}
    select distinct 'as_was' as geography_basis, '{{ unit_type }}' as unit_type, {{ unit_type }}_code as unit_code,
        agency_code
    from dossiers
    union
    select distinct 'as_was', '{{ unit_type }}', successor_{{ unit_type }}_code, successor_agency_code from dossiers
    union
    {% endfor %}
    select distinct 'current', 'province', province_code_current, current_agency_code from dossiers
    union
    select distinct 'current', 'department', department_code_current, current_agency_code from dossiers
    union
    select distinct 'current', 'commune', commune_code_current, current_agency_code from dossiers
),

changes as (
    select * from {{ ref('agg_766_change') }}
    where unit_type in ('province', 'department', 'district', 'commune')
        and indicator_name in ('{{ fractions.keys() | join("', '") }}')
),

{% set same_fraction = "{f}.geography_basis = {c}.geography_basis and {f}.unit_type = {c}.unit_type "
                       "and {f}.unit_code = {c}.unit_code and {f}.period_type = {c}.period_type "
                       "and {f}.indicator_name = {c}.indicator_name" %}
parent_fractions as (
    select
        c.*,
        b.numerator as unit_numerator_before,
        b.denominator as unit_denominator_before,
        a.numerator as unit_numerator_after,
        a.denominator as unit_denominator_after
    from changes as c
    inner join fractions as a
        on {{ same_fraction.format(f='a', c='c') }} and a.period_start = c.period_start
    inner join fractions as b
        on {{ same_fraction.format(f='b', c='c') }} and b.period_start = c.previous_period_start
),

agency_rows as (
    select
        p.geography_basis, p.unit_type, p.unit_code, p.period_type, p.period_start, p.indicator_code,
        m.agency_code,
        coalesce(b.numerator, 0) as numerator_before,
        coalesce(b.denominator, 0) as denominator_before,
        coalesce(a.numerator, 0) as numerator_after,
        coalesce(a.denominator, 0) as denominator_after
    from parent_fractions as p
    inner join members as m
        on m.geography_basis = p.geography_basis and m.unit_type = p.unit_type and m.unit_code = p.unit_code
    left join fractions as a
        on a.geography_basis = p.geography_basis and a.unit_type = 'agency' and a.unit_code = m.agency_code
        and a.period_type = p.period_type and a.period_start = p.period_start
        and a.indicator_name = p.indicator_name
    left join fractions as b
        on b.geography_basis = p.geography_basis and b.unit_type = 'agency' and b.unit_code = m.agency_code
        and b.period_type = p.period_type and b.period_start = p.previous_period_start
        and b.indicator_name = p.indicator_name
    where m.agency_code is not null and (a.unit_code is not null or b.unit_code is not null)
),

-- What the agencies' rows leave of the unit's counts.
rest as (
    select
        p.geography_basis, p.unit_type, p.unit_code, p.period_type, p.period_start, p.indicator_code,
        null::varchar as agency_code,
        any_value(p.unit_numerator_before) - coalesce(sum(r.numerator_before), 0) as numerator_before,
        any_value(p.unit_denominator_before) - coalesce(sum(r.denominator_before), 0) as denominator_before,
        any_value(p.unit_numerator_after) - coalesce(sum(r.numerator_after), 0) as numerator_after,
        any_value(p.unit_denominator_after) - coalesce(sum(r.denominator_after), 0) as denominator_after
    from parent_fractions as p
    left join agency_rows as r using (geography_basis, unit_type, unit_code, period_type, period_start, indicator_code)
    group by p.geography_basis, p.unit_type, p.unit_code, p.period_type, p.period_start, p.indicator_code
),

parts as (
    select * from agency_rows
    union all
    select * from rest
    where numerator_before <> 0 or denominator_before <> 0 or numerator_after <> 0 or denominator_after <> 0
),

final as (
    select
        p.geography_basis,
        p.unit_type,
        p.unit_code,
        p.period_type,
        p.period_start,
        u.previous_period_start,
        p.indicator_code,
        u.indicator_name,
        p.agency_code,
        p.numerator_before,
        p.denominator_before,
        p.numerator_after,
        p.denominator_after,
        (p.numerator_after - p.numerator_before) / nullif(u.unit_denominator_after, 0) as numerator_effect,
        -u.unit_numerator_before * (p.denominator_after - p.denominator_before)
            / nullif(u.unit_denominator_after * u.unit_denominator_before, 0) as denominator_effect,
        u.rate_change as unit_rate_change,
        u.points_change as unit_points_change,
        case when u.rate_change <> 0 then
            u.points_change * (
                (p.numerator_after - p.numerator_before) / nullif(u.unit_denominator_after, 0)
                - u.unit_numerator_before * (p.denominator_after - p.denominator_before)
                    / nullif(u.unit_denominator_after * u.unit_denominator_before, 0)
            ) / u.rate_change
        end as points_effect
    from parts as p
    inner join parent_fractions as u
        using (geography_basis, unit_type, unit_code, period_type, period_start, indicator_code)
)

select * from final
