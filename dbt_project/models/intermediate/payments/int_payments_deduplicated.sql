-- One row per (intermediary_code, transaction_id): its latest state. A line
-- repeated identically in one file is one transaction (its extra copies are counted in
-- duplicate_rows); the same key with other content in one file is a conflict: the later
-- row wins and conflicting_rows counts the others (metrics.md, fee reconciliation);
-- across files, the row of the latest NgayDoiSoat wins, and
-- between files of the same NgayDoiSoat (a file delivered again) the first
-- delivered, so that a redelivery changes nothing.
with transactions as (
    select * from {{ ref('stg_payment_platform__transactions') }}
),

-- A file is its name within its batch: the same file delivered again in a later batch is another file.
contents as (
    select
        *,
        md5(concat_ws('|', coalesce(payment_channel_code::varchar, '∅'), coalesce(dossier_id, '∅'),
            coalesce(service_code, '∅'), coalesce(fee_kind_code::varchar, '∅'), coalesce(amount_vnd::varchar, '∅'),
            coalesce(status, '∅'), coalesce(paid_at::varchar, '∅'), coalesce(settlement_date::varchar, '∅')))
            as content_hash
    from transactions
),

per_file as (
    select
        *,
        count(*) over w - count(distinct content_hash) over w as duplicates_in_file,
        count(distinct content_hash) over w - 1 as conflicts_in_file
    from contents
    window w as (partition by intermediary_code, transaction_id, batch_date, source_file)
    qualify row_number() over (
        partition by intermediary_code, transaction_id, batch_date, source_file order by source_line_number desc
    ) = 1
),

latest as (
    select
        *,
        sum(duplicates_in_file) over (partition by intermediary_code, transaction_id) as duplicate_rows,
        sum(conflicts_in_file) over (partition by intermediary_code, transaction_id) as conflicting_rows,
        count(*) over (partition by intermediary_code, transaction_id) as files_seen_in
    from per_file
    qualify row_number() over (
        partition by intermediary_code, transaction_id
        order by settlement_date desc, batch_date asc, source_file asc, source_line_number asc
    ) = 1
)

select * exclude (duplicates_in_file, conflicts_in_file, content_hash) from latest
