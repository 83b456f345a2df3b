-- One row per (period_type, period_start) whose indicators a scoped refresh
-- recomputes (every period on a full refresh):
--   * periods not complete at the last build (their end is after its as-of time);
--   * periods holding a day on which a changed dossier was submitted, received or
--     ended (before or after the change), or a changed payment was made;
--   * periods whose backlog a changed dossier enters or leaves (its span of change);
--   * every period when a unit appears that the last build did not score (build.units).
{% set scoped = refresh_mode() == 'incremental' %}
with periods as (
    select * from {{ ref('int_periods') }}
),

dossiers as (
    select * from {{ ref('int_refresh_dossiers') }}
),

payments as (
    select * from {{ ref('stg_payment_platform__transactions') }}
),

units as (
    select * from {{ ref('int_units') }}
),

changed_transactions as (
    select distinct intermediary_code, transaction_id from payments
    where batch_date in {{ refresh_batches('payment') }}
),

event_days as (
    select unnest(event_days) as day from dossiers
    union
    -- Payments are credited to their dossier's units on the day they were made.
    select p.paid_at::date from payments as p semi join changed_transactions using (intermediary_code, transaction_id)
    union
    select p.paid_at::date from payments as p
    semi join (select dossier_id from dossiers where list_contains(reasons, 'synced')) using (dossier_id)
),

backlog_spans as (
    select backlog_changed_from, backlog_changed_until from dossiers where backlog_changed_from is not null
),

new_units as (
    {% if scoped %}
    select geography_basis, unit_type, unit_code from units
    except
    select geography_basis, unit_type, unit_code from {{ refresh_build_table('units') }}
    {% else %}
    select null::varchar as geography_basis, null::varchar as unit_type, null::varchar as unit_code where false
    {% endif %}
),

scope as (
    {% if scoped %}
    select period_type, period_start from periods
    where period_end::timestamp > coalesce({{ refresh_previous_as_of() }}, timestamp '-infinity')
        or exists (select 1 from new_units)
    union
    select p.period_type, p.period_start
    from periods as p
    inner join event_days as e on e.day >= p.period_start and e.day < p.period_end
    union
    select p.period_type, p.period_start
    from periods as p
    inner join backlog_spans as b
        on p.period_end::timestamp > b.backlog_changed_from
        and p.period_start::timestamp < b.backlog_changed_until
    {% else %}
    select period_type, period_start from periods
    {% endif %}
)

select * from scope
