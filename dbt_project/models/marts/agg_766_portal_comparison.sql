-- The portal's own Decision 766 figures beside ours (issue "the whole measurable 766", item 5): one
-- row per figure the portal published and an official saved (stg_portal__scores; the latest saved
-- one where several give the same unit, period and item), with kpi_766's value for the same unit,
-- period and item, and the differences (ours - the portal's).
--
-- Periods: as the portal scored them, on the units of their time (kpi_766's `as_was` basis).
-- Units, first that matches: the unit the answer names by code (unit_code, priority province,
-- department, district, commune, agency where one code is several); the province itself where the
-- portal's unit id is the request's p_tinh_id; the portal id listed in the seed portal_unit_ids; the
-- unit whose name key (macro unit_name_key) is the portal's, when exactly one unit of the first type
-- having that name has it.
-- Items (seed portal_766_items, else the portal's code read as an indicator_code): a group of
-- dim_766_indicators (points only), `total`, or an indicator (points, rate, and its numerator and
-- denominator where it is one fraction of counts). A group with no measurable indicator (5) has no
-- value of ours; unmeasured_max_points says how much of an item these sources cannot measure
-- (electronic certified copies in group 4, group 5), so that part of a gap is named.
-- match_method: by_code | by_province_id | by_portal_unit_ids | by_name.
-- match_status: matched | item_unknown | period_not_scored (a half year, or a period this build has
-- not scored) | unit_not_found | unit_ambiguous.
-- depends_on: {{ ref('indicators_766') }}
{%- set indicators = indicators_766() %}
{%- set scored = scored_indicators_766() %}
{%- set fractions = indicator_fractions() %}
{%- do fractions.update(procedure_indicator_fractions()) %}
{%- set groups = {} %}
{%- for indicator in indicators %}
    {%- do groups.setdefault(indicator.group, {'column': indicator.group_column, 'scored': [], 'unmeasured': 0}) %}
    {%- if indicator in scored %}{% do groups[indicator.group].scored.append(indicator) %}
    {%- elif not indicator.is_measurable %}{% do groups[indicator.group].update({'unmeasured': groups[indicator.group].unmeasured + indicator.max_points}) %}
    {%- endif %}
{%- endfor %}
with kpi as (
    select * from {{ ref('kpi_766') }}
    where geography_basis = 'as_was'
),

portal as (
    select * from {{ ref('stg_portal__scores') }}
),

items as (
    select * from {{ ref('portal_766_items') }}
),

unit_ids as (
    select * from {{ ref('portal_unit_ids') }}
),

dim as (
    select * from {{ ref('dim_766_indicators') }}
),

ours as (
    {% for code, group in groups.items() %}
    select unit_type, unit_code, period_type, period_start, '{{ code }}' as item_code,
        {% if group.scored %}{{ group.column }}{% else %}null::double{% endif %} as our_points,
        null::double as our_rate, null::double as our_numerator, null::double as our_denominator
    from kpi
    union all
    {% endfor %}
    select unit_type, unit_code, period_type, period_start, 'total', points_total, null, null, null
    from kpi
    {% for indicator in scored %}
    union all
    select unit_type, unit_code, period_type, period_start, '{{ indicator.code }}',
        points_{{ indicator.name }}, {{ indicator.name }},
        {% if indicator.name in fractions %}({{ fractions[indicator.name][0] }})::double,
        ({{ fractions[indicator.name][1] }})::double{% else %}null, null{% endif %}
    from kpi
    {% endfor %}
),

item_names as (
    {% for code, group in groups.items() %}
    select '{{ code }}' as item_code, 'group' as item_kind,
        {{ group.unmeasured }}::double as unmeasured_max_points
    union all
    {% endfor %}
    select 'total', 'total', (select sum(max_points) from dim where not is_measurable)::double
    {% for indicator in scored %}
    union all
    select '{{ indicator.code }}', 'indicator', 0::double
    {% endfor %}
),

candidates as (
    select distinct unit_type, unit_code, unit_name, period_type, period_start,
        {{ unit_name_key('unit_name') }} as name_key,
        case unit_type when 'province' then 1 when 'department' then 2 when 'district' then 3
            when 'commune' then 4 else 5 end as type_priority
    from kpi
),

scored_periods as (
    select distinct period_type, period_start from kpi
),

-- The latest saved figure per unit (as the portal names it), period and item.
latest as (
    select
        p.*,
        coalesce(i.item_code, d.indicator_code) as item_code
    from portal as p
    left join items as i
        on upper(i.portal_item_code) = p.portal_item_code and i.service = p.service
    left join dim as d
        on upper(d.indicator_code) = p.portal_item_code and d.is_scored
    qualify row_number() over (
        partition by p.period_type, p.period_start, coalesce(p.unit_code, p.portal_unit_id, p.unit_name_key),
            p.portal_item_code
        order by p.batch_date desc, p.saved_at desc nulls last, p.denominator is not null desc, p.source_file desc,
            p.source_line_number desc
    ) = 1
),

-- Each unit entry of a saved answer, matched once.
entries as (
    select distinct batch_date, source_file, source_line_number, period_type, period_start, unit_code,
        portal_unit_id, portal_province_id, unit_name_key
    from latest
),

by_code as (
    select e.batch_date, e.source_file, e.source_line_number, c.unit_type, c.unit_code
    from entries as e
    inner join candidates as c
        on c.unit_code = e.unit_code and c.period_type = e.period_type and c.period_start = e.period_start
    qualify row_number() over (partition by e.batch_date, e.source_file, e.source_line_number
                               order by c.type_priority) = 1
),

by_province_id as (
    select e.batch_date, e.source_file, e.source_line_number, 'province' as unit_type,
        '{{ var("province_code") }}' as unit_code
    from entries as e
    where e.portal_unit_id = e.portal_province_id
),

by_portal_id as (
    select e.batch_date, e.source_file, e.source_line_number, u.unit_type, u.unit_code
    from entries as e
    inner join unit_ids as u on u.portal_unit_id = e.portal_unit_id
),

-- By name: the units of the first type (province, department, ...) having the name; one matches.
by_name as (
    select e.batch_date, e.source_file, e.source_line_number,
        any_value(c.unit_type) as unit_type,
        any_value(c.unit_code) as unit_code,
        count(*) as units_with_name
    from entries as e
    inner join candidates as c
        on c.name_key = e.unit_name_key and c.period_type = e.period_type and c.period_start = e.period_start
    group by e.batch_date, e.source_file, e.source_line_number, c.type_priority
    qualify c.type_priority = min(c.type_priority) over (partition by e.batch_date, e.source_file, e.source_line_number)
),

matches as (
    select
        e.batch_date, e.source_file, e.source_line_number,
        coalesce(bc.unit_type, bp.unit_type, bi.unit_type,
            case when bn.units_with_name = 1 then bn.unit_type end) as unit_type,
        coalesce(bc.unit_code, bp.unit_code, bi.unit_code,
            case when bn.units_with_name = 1 then bn.unit_code end) as matched_unit_code,
        case
            when bc.unit_code is not null then 'by_code'
            when bp.unit_code is not null then 'by_province_id'
            when bi.unit_code is not null then 'by_portal_unit_ids'
            when bn.units_with_name = 1 then 'by_name'
        end as match_method,
        coalesce(bn.units_with_name, 0) > 1 as is_ambiguous
    from entries as e
    left join by_code as bc using (batch_date, source_file, source_line_number)
    left join by_province_id as bp using (batch_date, source_file, source_line_number)
    left join by_portal_id as bi using (batch_date, source_file, source_line_number)
    left join by_name as bn using (batch_date, source_file, source_line_number)
),

matched as (
    select l.*, m.unit_type, m.matched_unit_code, m.match_method, m.is_ambiguous
    from latest as l
    inner join matches as m using (batch_date, source_file, source_line_number)
),

final as (
    select
        m.period_type,
        m.period_start,
        m.unit_type,
        m.matched_unit_code as unit_code,
        c.unit_name,
        m.portal_unit_id,
        m.unit_code as portal_unit_code,
        m.unit_name as portal_unit_name,
        m.portal_rank,
        m.item_code,
        n.item_kind,
        m.portal_item_code,
        m.portal_item_name,
        m.points as portal_points,
        m.max_points as portal_max_points,
        m.average_points as portal_average_points,
        m.numerator as portal_numerator,
        m.denominator as portal_denominator,
        case when m.denominator > 0 then m.numerator / m.denominator end as portal_rate,
        o.our_points,
        o.our_rate,
        o.our_numerator,
        o.our_denominator,
        o.our_points - m.points as points_difference,
        o.our_rate - case when m.denominator > 0 then m.numerator / m.denominator end as rate_difference,
        o.our_numerator - m.numerator as numerator_difference,
        o.our_denominator - m.denominator as denominator_difference,
        n.unmeasured_max_points,
        m.match_method,
        case
            when m.item_code is null then 'item_unknown'
            when sp.period_start is null then 'period_not_scored'
            when m.matched_unit_code is not null then 'matched'
            when m.is_ambiguous then 'unit_ambiguous'
            else 'unit_not_found'
        end as match_status,
        m.service,
        m.saved_at,
        m.source_file,
        m.source_line_number,
        m.batch_date
    from matched as m
    left join scored_periods as sp
        on sp.period_type = m.period_type and sp.period_start = m.period_start
    left join candidates as c
        on c.unit_type = m.unit_type and c.unit_code = m.matched_unit_code
        and c.period_type = m.period_type and c.period_start = m.period_start
    left join ours as o
        on o.unit_type = m.unit_type and o.unit_code = m.matched_unit_code
        and o.period_type = m.period_type and o.period_start = m.period_start and o.item_code = m.item_code
    left join item_names as n on n.item_code = m.item_code
)

select * from final
