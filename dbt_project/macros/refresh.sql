{#-
    Incremental refresh. The build task (dichvucong.transform) writes its plan
    into the warehouse (meta.build_plan) before it runs dbt:

        {"mode": "incremental",
         "as_of": "YYYY-MM-DD HH:MM:SS",             -- the build's as-of time
         "previous_as_of": "YYYY-MM-DD HH:MM:SS",    -- as-of time of the last successful build
         "dossier_batches": ["YYYY-MM-DD", ...],     -- lake partitions changed since that build
         "payment_batches": ["YYYY-MM-DD", ...]}

    or {"mode": "full", "as_of": ...} for a full refresh, which it also runs with
    --full-refresh. The plan is read when dbt executes, not passed as a var: vars
    that change at every build make dbt re-parse the whole project every time.
    A hand-run build can pass var('refresh') (and var('as_of')) instead.
    Incremental models recompute a scope and replace it: a pre-hook deletes the
    scope's rows, the model's select appends them again. The scope is derived
    from the changed batches alone (never from what a model wrote last time), so
    a build that failed halfway is repaired by the next one, which sees the same
    batches as changed.
-#}

{#- The build plan: var('refresh') when given, else meta.build_plan; {} while dbt parses or without a plan. -#}
{% macro refresh_plan() -%}
    {%- if var('refresh') is not none -%}
        {{ return(var('refresh')) }}
    {%- endif -%}
    {%- if not execute -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(database=target.database, schema='meta', identifier='build_plan') -%}
    {%- if relation is none -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set rows = run_query('select plan from ' ~ relation).columns[0].values() -%}
    {{ return(fromjson(rows[0]) if rows else {}) }}
{%- endmacro %}

{% macro refresh_mode() -%}
    {{ return(refresh_plan().get('mode', 'full')) }}
{%- endmacro %}

{#- True in an incremental model that refreshes only a scope (not on --full-refresh or a first build). -#}
{% macro refresh_is_scoped() -%}
    {{ return(refresh_model_exists() and refresh_mode() == 'incremental') }}
{%- endmacro %}

{#- is_incremental(), false in a unit test (which has no `this` unless it gives one). -#}
{% macro refresh_model_exists() -%}
    {{ return(this is not none and is_incremental()) }}
{%- endmacro %}

{#- The changed lake partitions of a source ('dossier' or 'payment') as an SQL list of dates. -#}
{% macro refresh_batches(source) -%}
    {%- set days = refresh_plan().get(source ~ '_batches', []) -%}
    {%- if days -%}
        ({% for day in days %}date '{{ day }}'{% if not loop.last %}, {% endif %}{% endfor %})
    {%- else -%}
        (null::date)
    {%- endif -%}
{%- endmacro %}

{#- The as-of time of the last successful build, a timestamp literal (null when unknown). -#}
{% macro refresh_previous_as_of() -%}
    {%- set value = refresh_plan().get('previous_as_of') -%}
    {%- if value -%}timestamp '{{ value }}'{%- else -%}null::timestamp{%- endif -%}
{%- endmacro %}

{#-
    The scope filter of a model, on its own key column:
      kind='dossier': the dossiers int_refresh_dossiers lists;
      kind='synced_dossier': the dossiers with a sync record in a changed batch;
      kind='batch': the sync records of a changed batch;
      kind='period':  the (period_type, period_start) pairs int_refresh_periods lists;
      kind='day' / 'month': the dates starting those day / month periods;
      kind='event_day': the day periods in scope, and every day outside the
        calendar of periods (after the as-of time, say), which a full refresh
        also counts and no scope lists.
-#}
{% macro refresh_scope_filter(kind, column=none) -%}
    {%- if kind == 'dossier' -%}
        {{ column or 'dossier_id' }} in (select dossier_id from {{ ref('int_refresh_dossiers') }})
    {%- elif kind == 'synced_dossier' -%}
        {{ column or 'dossier_id' }} in (
            select dossier_id from {{ ref('stg_onestop__dossier_syncs') }}
            where batch_date in {{ refresh_batches('dossier') }}
        )
    {%- elif kind == 'batch' -%}
        {{ column or 'batch_date' }} in {{ refresh_batches('dossier') }}
    {%- elif kind == 'period' -%}
        (period_type, period_start) in (select period_type, period_start from {{ ref('int_refresh_periods') }})
    {%- elif kind == 'event_day' -%}
        (
            {{ column }} in (select period_start from {{ ref('int_refresh_periods') }} where period_type = 'day')
            or {{ column }} not between
                (select min(period_start) from {{ ref('int_periods') }} where period_type = 'day')
                and (select max(period_start) from {{ ref('int_periods') }} where period_type = 'day')
        )
    {%- elif kind in ('day', 'month') -%}
        {{ column }} in (select period_start from {{ ref('int_refresh_periods') }} where period_type = '{{ kind }}')
    {%- else -%}
        {{ exceptions.raise_compiler_error("refresh_scope_filter: unknown kind " ~ kind) }}
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of an incremental model: delete the scope that its select recomputes (everything when not scoped). -#}
{% macro refresh_delete_scope(kind, column=none) -%}
    {%- if refresh_model_exists() -%}
        {%- if refresh_is_scoped() -%}
            delete from {{ this }} where {{ refresh_scope_filter(kind, column) }}
        {%- else -%}
            delete from {{ this }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The `where`/`and` clause a model's select adds in a scoped refresh (nothing otherwise). -#}
{% macro refresh_scope(kind, column=none, keyword='where') -%}
    {%- if refresh_is_scoped() -%}
        {{ keyword }} {{ refresh_scope_filter(kind, column) }}
    {%- endif -%}
{%- endmacro %}
