-- One row per dossier a scoped refresh recomputes, with why, and (for dossiers
-- with new sync records) the days and the span of time whose indicators their
-- change can move. Empty on a full refresh. The state before the change is the
-- latest record outside the changed batches, so a refresh that failed halfway
-- finds the same scope again.
{% set scoped = refresh_mode() == 'incremental' %}
-- Not materialized: each use reads only what it needs (a fraction of the records) from the table.
with syncs as not materialized (
    select * from {{ ref('stg_onestop__dossier_syncs') }}
),

latest as not materialized (
    select * from {{ ref('int_dossiers_latest') }}
),

payments as not materialized (
    select * from {{ ref('stg_payment_platform__transactions') }}
),

steps as not materialized (
    select * from {{ ref('stg_onestop__processing_steps') }}
),

synced as (
    select distinct dossier_id from syncs
    where {{ 'true' if scoped else 'false' }} and batch_date in {{ refresh_batches('dossier') }}
),

before_change as (
    select s.*
    from syncs as s
    semi join synced using (dossier_id)
    where not coalesce(s.batch_date in {{ refresh_batches('dossier') }}, false)
    -- The same order as int_dossiers_latest: the latest accepted call first.
    qualify row_number() over (
        partition by s.dossier_id
        order by s.is_accepted_call desc, s.updated_at desc, s.batch_date desc, s.source_file desc,
            s.source_line_number desc
    ) = 1
),

{% for side, relation in [('old', 'before_change'), ('new', 'latest')] %}
{{ side }}_state as (
    select
        dossier_id,
        agency_code,
        service_code,
        channel_code,
        submitted_at,
        case when status_code not in (1, 3) then received_at end as received_at,
        status_code in (7, 8, 9, 10) as is_ended,
        case when status_code in (7, 8, 9, 10) then coalesce(processing_finished_at, returned_at, refused_at) end
            as ended_at,
        due_at,
        supplement_rounds,
        is_digitised,
        has_e_result,
        fee_lines,
        paid_online_code,
        status_code
    from {{ relation }}
    semi join synced using (dossier_id)
),
{% endfor %}

compared as (
    select
        n.dossier_id,
        o.dossier_id is null as is_new,
        o.submitted_at as old_submitted_at,
        n.submitted_at as new_submitted_at,
        o.received_at as old_received_at,
        n.received_at as new_received_at,
        o.ended_at as old_ended_at,
        n.ended_at as new_ended_at,
        o.dossier_id is not null and (
            o.agency_code is distinct from n.agency_code
            or o.service_code is distinct from n.service_code
            -- The agency's units are read from the agency list on the reception (else submission) day.
            or coalesce(o.received_at, o.submitted_at)::date
                is distinct from coalesce(n.received_at, n.submitted_at)::date
        ) as units_changed,
        o.submitted_at is distinct from n.submitted_at as submitted_changed,
        o.dossier_id is not null and o.channel_code is distinct from n.channel_code as channel_changed,
        o.received_at is distinct from n.received_at
            or o.channel_code is distinct from n.channel_code
            or (o.due_at is null) <> (n.due_at is null)
            or o.is_digitised is distinct from n.is_digitised
            or o.fee_lines is distinct from n.fee_lines
            or o.paid_online_code is distinct from n.paid_online_code as received_facts_changed,
        -- Backlog at T counts a dossier received before T and not ended before T, overdue when
        -- T - wait(T) > due_at: the earliest moment from which its contribution can differ.
        least(
            case when o.dossier_id is null then n.received_at end,
            case when o.received_at is distinct from n.received_at
                or (o.due_at is null) <> (n.due_at is null)
                or (o.is_ended and o.ended_at is null) or (n.is_ended and n.ended_at is null)
                then least(o.received_at, n.received_at) end,
            case when o.ended_at is distinct from n.ended_at or o.is_ended <> n.is_ended
                then least(o.ended_at, n.ended_at) end,
            case when o.due_at is distinct from n.due_at then least(o.due_at, n.due_at) end,
            case when o.supplement_rounds is distinct from n.supplement_rounds then list_min(
                list_transform(
                    range(1, greatest(len(o.supplement_rounds), len(n.supplement_rounds)) + 1),
                    lambda i: case when o.supplement_rounds[i] is distinct from n.supplement_rounds[i]
                        then least(o.supplement_rounds[i].requested_at, n.supplement_rounds[i].requested_at) end
                )
            ) end
        ) as backlog_changed_from,
        -- ... and the latest: its end (or now, for a dossier still open) before or after the change.
        greatest(
            coalesce(o.ended_at, case when o.dossier_id is not null then timestamp '9999-12-31' end),
            coalesce(n.ended_at, timestamp '9999-12-31')
        ) as backlog_changed_until
    from new_state as n
    left join old_state as o using (dossier_id)
),

synced_scope as (
    select
        dossier_id,
        'synced' as reason,
        list_distinct(list_filter([
            case when is_new or units_changed or submitted_changed or channel_changed then old_submitted_at::date end,
            case when is_new or units_changed or submitted_changed or channel_changed then new_submitted_at::date end,
            case when is_new or units_changed or received_facts_changed then old_received_at::date end,
            case when is_new or units_changed or received_facts_changed then new_received_at::date end,
            old_ended_at::date,
            new_ended_at::date
        ], lambda d: d is not null)) as event_days,
        case when units_changed then least(old_submitted_at, old_received_at, new_submitted_at, new_received_at)
            else backlog_changed_from end as backlog_changed_from,
        backlog_changed_until
    from compared
),

-- Their values depend on the as-of time: waits of unanswered rounds and overdue-now.
open_at_as_of as (
    select dossier_id, 'open' as reason, []::date[] as event_days, null::timestamp as backlog_changed_from,
        null::timestamp as backlog_changed_until
    from latest
    where {{ 'true' if scoped else 'false' }}
        and (status_code not in (7, 8, 9, 10) or coalesce(processing_finished_at, returned_at, refused_at) is null)
),

-- Steps (fct_processing_steps, and the office of a late dossier's first overrunning step): a
-- dossier with a processing-log record in a changed batch. Steps move no period's indicators.
stepped as (
    select distinct dossier_id, 'stepped' as reason, []::date[] as event_days, null::timestamp as backlog_changed_from,
        null::timestamp as backlog_changed_until
    from steps
    where {{ 'true' if scoped else 'false' }} and batch_date in {{ refresh_batches('processing') }}
        and dossier_id is not null
),

-- Fee paid and reconciliation state: every version of a transaction in a changed payment batch.
paid as (
    select distinct p.dossier_id, 'paid' as reason, []::date[] as event_days, null::timestamp as backlog_changed_from,
        null::timestamp as backlog_changed_until
    from payments as p
    semi join (
        select intermediary_code, transaction_id from payments
        where {{ 'true' if scoped else 'false' }} and batch_date in {{ refresh_batches('payment') }}
    ) as changed using (intermediary_code, transaction_id)
    where p.dossier_id is not null
),

reasons as (
    select * from synced_scope
    union all select * from open_at_as_of
    union all select * from paid
    union all select * from stepped
),

final as (
    select
        dossier_id,
        list_sort(list(distinct reason)) as reasons,
        list_sort(list_distinct(flatten(list(event_days)))) as event_days,
        min(backlog_changed_from) as backlog_changed_from,
        max(backlog_changed_until) as backlog_changed_until
    from reasons
    group by dossier_id
)

select * from final
