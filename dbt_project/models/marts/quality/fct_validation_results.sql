{{ config(schema='quality', database=target.database) }}
-- One row per expectation result of every validation run, so that data quality can be charted over time.
-- The checks of the marts a build publishes land here at the next build (and in the published copy at once).
select * from {{ ref('stg_pipeline__validation_results') }}
