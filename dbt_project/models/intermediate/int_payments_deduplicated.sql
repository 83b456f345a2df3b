-- One row per (intermediary_code, transaction_id): its latest state. A line
-- repeated in one file is one transaction (its extra copies are counted in
-- duplicate_rows); across files, the row of the latest NgayDoiSoat wins.
with transactions as (
    select * from {{ ref('stg_payment_platform__transactions') }}
),

per_file as (
    select
        *,
        count(*) over (partition by intermediary_code, transaction_id, source_file) - 1 as duplicates_in_file
    from transactions
    qualify row_number() over (
        partition by intermediary_code, transaction_id, source_file order by source_line_number desc
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
        order by settlement_date desc, batch_date desc, source_file desc, source_line_number desc
    ) = 1
)

select * exclude (duplicates_in_file) from latest
