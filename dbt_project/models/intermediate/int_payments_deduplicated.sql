-- One row per (intermediary_code, transaction_id): its latest state. A line
-- repeated in one file is one transaction (its extra copies are counted in
-- duplicate_rows); across files, the row of the latest NgayDoiSoat wins, and
-- between files of the same NgayDoiSoat (a file delivered again) the first
-- delivered, so that a redelivery changes nothing.
with transactions as (
    select * from {{ ref('stg_payment_platform__transactions') }}
),

-- A file is its name within its batch: the same file delivered again in a later batch is another file.
per_file as (
    select
        *,
        count(*) over (partition by intermediary_code, transaction_id, batch_date, source_file) - 1
            as duplicates_in_file
    from transactions
    qualify row_number() over (
        partition by intermediary_code, transaction_id, batch_date, source_file order by source_line_number desc
    ) = 1
),

latest as (
    select
        *,
        sum(duplicates_in_file) over (partition by intermediary_code, transaction_id) as duplicate_rows,
        count(*) over (partition by intermediary_code, transaction_id) as files_seen_in
    from per_file
    qualify row_number() over (
        partition by intermediary_code, transaction_id
        order by settlement_date desc, batch_date asc, source_file asc, source_line_number asc
    ) = 1
)

select * exclude (duplicates_in_file) from latest
