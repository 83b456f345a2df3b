-- One row per (unit, period): online services (MucDo 3 or 4 in a catalog
-- version valid in the period) and how many received at least one online
-- dossier (766 · 3.2). An agency's services are those its catalog rows name,
-- a field's those of the field, a service is its own; a service counts as used
-- when anyone's online dossier for it was received. A district (and the
-- province) is measured against every online service, counting the online
-- dossiers of its own applicants.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    meta={'refresh_scope': ['period']},
    pre_hook="{{ refresh_delete_scope() }}",
) }}
-- depends_on: {{ ref('int_refresh_periods') }}
with services as (
    select * from {{ ref('int_services_versioned') }} where is_online
),

periods as (
    select * from {{ ref('int_periods') }}
    {{ refresh_scope('period') }}
),

-- The dossiers first, then their units (macros/unit_memberships.sql): the filter then reads
-- dossiers, not dossiers x units.
online_dossiers as (
    select * from {{ ref('int_dossiers_joined_to_payments') }}
    where is_received and received_at is not null and channel = 'online'
        {% if refresh_is_scoped() %}
        and received_at >= (select min(period_start) from periods)::timestamp
        and received_at < (select max(period_end) from periods)::timestamp
        {% endif %}
),

unit_dossiers as (
    select u.unit.unit_type as unit_type, u.unit.unit_code as unit_code, d.service_code, d.received_at
    from online_dossiers as d, {{ unit_memberships('d') }} as u(unit)
    where u.unit.unit_type in ('province', 'district') and u.unit.unit_code is not null
),

online_in_period as (
    select distinct p.period_type, p.period_start, s.service_code, s.agency_code, s.field_code
    from services as s
    inner join periods as p
        on s.valid_from < p.period_end and (s.valid_to is null or s.valid_to > p.period_start)
),

used_in_period as (
    select distinct u.unit_type, u.unit_code, p.period_type, p.period_start, u.service_code
    from unit_dossiers as u
    inner join periods as p
        on u.received_at >= p.period_start::timestamp and u.received_at < p.period_end::timestamp
),

-- A district and the province are measured against the same online services: those are counted
-- once per period, and a unit's used services only where it has any (no unit x service rows).
online_services as (
    select distinct period_type, period_start, service_code from online_in_period
),

online_counts as (
    select period_type, period_start, count(*) as services_online from online_services group by all
),

used_counts as (
    select u.unit_type, u.unit_code, u.period_type, u.period_start, count(*) as services_used
    from used_in_period as u
    inner join online_services as o using (period_type, period_start, service_code)
    group by all
),

province_and_districts as (
    select
        units.unit_type,
        units.unit_code,
        o.period_type,
        o.period_start,
        o.services_online,
        coalesce(used.services_used, 0) as services_with_online_dossiers_count
    from (select distinct unit_type, unit_code from {{ ref('int_units') }} where unit_type in ('province', 'district')) as units
    cross join online_counts as o
    left join used_counts as used
        on used.unit_type = units.unit_type and used.unit_code = units.unit_code
        and used.period_type = o.period_type and used.period_start = o.period_start
),

catalog_units as (
    select 'agency' as unit_type, agency_code as unit_code, period_type, period_start, service_code
    from online_in_period
    union
    select 'field', field_code, period_type, period_start, service_code from online_in_period
    union
    select 'service', service_code, period_type, period_start, service_code from online_in_period
),

by_catalog as (
    select
        c.unit_type,
        c.unit_code,
        c.period_type,
        c.period_start,
        count(distinct c.service_code) as services_online,
        count(distinct c.service_code) filter (where used.service_code is not null)
            as services_with_online_dossiers_count
    from catalog_units as c
    left join (
        select distinct period_type, period_start, service_code from used_in_period where unit_type = 'province'
    ) as used
        on used.period_type = c.period_type and used.period_start = c.period_start
        and used.service_code = c.service_code
    where c.unit_code is not null
    group by all
)

select * from province_and_districts
union all
select * from by_catalog
