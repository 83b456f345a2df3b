-- One row per quarantined line, with its reason; raw text already masked of personal data.
select
    source as source_name,
    batch_date,
    file_name,
    line_number,
    reason,
    raw_text as raw_text_masked
from {{ source('pipeline', 'quarantine') }}
