-- One row per landed file: what was read, loaded and quarantined, and when (the ledger of what
-- landed, src/dichvucong/landing/ledger.py).
select
    source as source_name,
    batch_date,
    file_name,
    sha256 as file_sha256,
    bytes as file_bytes,
    rows_read,
    rows_loaded,
    rows_quarantined,
    has_total_line,
    total_line_amount as total_line_amount_vnd,
    file_error,
    landed_at as landed_at_utc
from {{ source('pipeline', 'load_audit') }}
