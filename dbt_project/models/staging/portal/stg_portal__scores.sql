-- One row per figure the portal published and an official saved (source portal, raw_portal_scores):
-- renamed, the period as its first day, the unit name cleaned and keyed for matching (NFC, lower case,
-- spacing folded, a leading "UBND" / "Ủy ban nhân dân" dropped: the portal writes a commune's
-- committee where the agency list writes the commune).
with source as (
    select * from {{ source('portal', 'raw_portal_scores') }}
),

renamed as (
    select
        service,
        period_type,
        case period_type
            when 'month' then make_date(period_year, period_number, 1)
            when 'quarter' then make_date(period_year, 3 * (period_number - 1) + 1, 1)
            when 'half_year' then make_date(period_year, 6 * (period_number - 1) + 1, 1)
            else make_date(period_year, 1, 1)
        end as period_start,
        {{ clean_text('portal_province_id') }} as portal_province_id,
        {{ clean_text('portal_unit_id') }} as portal_unit_id,
        {{ clean_text('unit_code') }} as unit_code,
        {{ clean_text('unit_name') }} as unit_name,
        {{ clean_text('portal_unit_level') }} as portal_unit_level,
        {{ clean_text('parent_unit_code') }} as parent_unit_code,
        rank as portal_rank,
        upper({{ clean_text('item_code') }}) as portal_item_code,
        {{ clean_text('item_name') }} as portal_item_name,
        points,
        max_points,
        average_points,
        numerator,
        denominator,
        saved_at,
        _source_file as source_file,
        _line_number as source_line_number,
        _batch_date as batch_date
    from source
)

select
    *,
    {{ unit_name_key('unit_name') }} as unit_name_key
from renamed
