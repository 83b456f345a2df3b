{#-
    Incremental refresh. The build task (dichvucong.transform) writes the build's
    plan into the warehouse before it runs dbt; the project reads it as the
    source `build` (models/intermediate/refresh/_refresh__sources.yml):

        build.plan    one row: as_of (the build's as-of time), previous_as_of
                      (the as-of time of the last successful build)
        build.scope   (source, batch_date): the 'dossier', 'payment' and
                      'processing' batch days landed since that build (the ledger of what landed,
                      dichvucong.landing.ledger, against the one it consumed)
        build.units   the units that build scored

    A build with --full-refresh recomputes everything (the task runs one when
    its plan is full). Without it, the incremental models recompute a scope
    and replace it (the incremental strategy `replace_scope` below): the
    scope's rows are deleted and the model's select inserts them again. The
    scope is derived from the changed batches alone (never from what a model
    wrote last time), so a build that failed halfway is repaired by the next
    one, which sees the same batches as changed. The plan stays after the
    build: a hand-run `dbt build` recomputes the last build's scope again
    (the tables exist once the build task has run in the warehouse).
    Tables, not vars: vars that change at every build make dbt re-parse the
    whole project every time. Read in SQL, not at compile time: DuckDB skips
    the lake's partitions a `batch_date in (select ...)` excludes as it does
    for literals.
-#}

{#- 'full' under --full-refresh, else 'incremental'. -#}
{% macro refresh_mode() -%}
    {{ return('full' if flags.FULL_REFRESH else 'incremental') }}
{%- endmacro %}

{#- True in an incremental model that refreshes only a scope (not on --full-refresh or a first build). -#}
{% macro refresh_is_scoped() -%}
    {{ return(refresh_model_exists() and refresh_mode() == 'incremental') }}
{%- endmacro %}

{#- is_incremental(), false in a unit test (which has no `this` unless it gives one). -#}
{% macro refresh_model_exists() -%}
    {{ return(this is not none and is_incremental()) }}
{%- endmacro %}

{#- A table of the source `build`: source() while dbt parses (the model's lineage), the relation when it
    executes (a test, or a branch dbt did not see while parsing, may read it without having declared it). -#}
{% macro refresh_build_table(name) -%}
    {%- if not execute -%}
        {{ return(source('build', name)) }}
    {%- endif -%}
    {{ return(graph.sources['source.' ~ project_name ~ '.build.' ~ name].relation_name) }}
{%- endmacro %}

{#- The changed batch days of a source ('dossier', 'payment', 'processing'; none: of any), a subquery for `in`. -#}
{% macro refresh_batches(source=none) -%}
    (select batch_date from {{ refresh_build_table('scope') }}{% if source %} where source = '{{ source }}'{% endif %})
{%- endmacro %}

{#- The as-of time of the last successful build, a scalar subquery (null when unknown). -#}
{% macro refresh_previous_as_of() -%}
    (select max(previous_as_of) from {{ refresh_build_table('plan') }})
{%- endmacro %}

{#-
    The scope filter of a model, on its own key column:
      kind='dossier': the dossiers int_refresh_dossiers lists;
      kind='synced_dossier': the dossiers with a sync record in a changed batch;
      kind='batch': the sync records of a changed batch;
      kind='payment_batch': the payment lines of a changed batch;
      kind='period':  the (period_type, period_start) pairs int_refresh_periods lists;
      kind='day' / 'month': the dates starting those day / month periods;
      kind='event_day': the day periods in scope, and every day outside the
        calendar of periods (after the as-of time, say), which a full refresh
        also counts and no scope lists;
      kind='event_month': the same for months (a day in scope lies in a month in
        scope: every reason that puts a day in scope puts its month there too);
      kind='processing_batch': the processing-log records of a changed batch;
      kind='lake_batch': the rows of any changed batch (a source over the lake:
        only its tests are scoped, see below).
-#}
{% macro refresh_scope_filter(kind, column=none) -%}
    {%- if kind == 'dossier' -%}
        {{ column or 'dossier_id' }} in (select dossier_id from {{ refresh_ref('int_refresh_dossiers') }})
    {%- elif kind == 'synced_dossier' -%}
        {{ column or 'dossier_id' }} in (
            select dossier_id from {{ refresh_ref('stg_onestop__dossier_syncs') }}
            where batch_date in {{ refresh_batches('dossier') }}
        )
    {%- elif kind == 'batch' -%}
        {{ column or 'batch_date' }} in {{ refresh_batches('dossier') }}
    {%- elif kind == 'period' -%}
        (period_type, period_start) in (select period_type, period_start from {{ refresh_ref('int_refresh_periods') }})
    {%- elif kind == 'event_day' -%}
        (
            {{ column }} in (select period_start from {{ refresh_ref('int_refresh_periods') }} where period_type = 'day')
            or {{ column }} not between
                (select min(period_start) from {{ refresh_ref('int_periods') }} where period_type = 'day')
                and (select max(period_start) from {{ refresh_ref('int_periods') }} where period_type = 'day')
        )
    {%- elif kind == 'event_month' -%}
        (
            {{ column }} in (select period_start from {{ refresh_ref('int_refresh_periods') }} where period_type = 'month')
            or {{ column }} not between
                (select min(period_start) from {{ refresh_ref('int_periods') }} where period_type = 'month')
                and (select max(period_start) from {{ refresh_ref('int_periods') }} where period_type = 'month')
        )
    {%- elif kind == 'payment_batch' -%}
        {{ column or 'batch_date' }} in {{ refresh_batches('payment') }}
    {%- elif kind == 'processing_batch' -%}
        {{ column or 'batch_date' }} in {{ refresh_batches('processing') }}
    {%- elif kind == 'lake_batch' -%}
        {{ column or 'batch_date' }} in {{ refresh_batches() }}
    {%- elif kind in ('day', 'month') -%}
        {{ column }} in (select period_start from {{ refresh_ref('int_refresh_periods') }} where period_type = '{{ kind }}')
    {%- else -%}
        {{ exceptions.raise_compiler_error("refresh_scope_filter: unknown kind " ~ kind) }}
    {%- endif -%}
{%- endmacro %}

{#-
    Incremental strategy `replace_scope` (incremental_strategy='replace_scope'; dbt calls
    get_incremental_<strategy>_sql for a custom strategy): in the materialization's transaction,
    delete the scope the model's select recomputed, then insert that select's rows. The scope is
    the model's meta.refresh_scope, [kind] or [kind, column], which its tests read too; everything
    when the build is not scoped (a model configured never to be fully refreshed; --full-refresh
    otherwise recreates the table without this strategy).
    Not the built-in delete+insert: dbt-duckdb 1.11's deletes the target's rows whose unique_key the
    new rows carry (its incremental_predicates only narrow that, `and`), and nothing without a
    unique_key. A scope can lose every row of a key (a day whose only dossier was corrected to
    another day, a unit no longer active in a week), which it would leave behind.
-#}
{% macro get_incremental_replace_scope_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- if refresh_is_scoped() -%}
        {%- set scope = config.get('meta', {}).get('refresh_scope') -%}
        {%- if not scope -%}
            {{ exceptions.raise_compiler_error(this ~ ': an incremental model needs meta.refresh_scope') }}
        {%- endif -%}
    delete from {{ target }} where {{ refresh_declared_filter(scope) }};
    {%- else %}
    delete from {{ target }};
    {%- endif %}
    insert into {{ target }} ({{ columns }}) select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{#- The `where`/`and` clause a model's select adds in a scoped refresh (nothing otherwise). -#}
{% macro refresh_scope(kind, column=none, keyword='where') -%}
    {%- if refresh_is_scoped() -%}
        {{ keyword }} {{ refresh_scope_filter(kind, column) }}
    {%- endif -%}
{%- endmacro %}

{#- A model the scope filters read: ref() in a model (its dependency), the built relation in a test, which
    may not ref() what it does not depend on. -#}
{% macro refresh_ref(name) -%}
    {%- if model.resource_type == 'test' -%}
        {{ return(graph.nodes['model.' ~ project_name ~ '.' ~ name].relation_name) }}
    {%- endif -%}
    {{ return(ref(name)) }}
{%- endmacro %}

{#-
    Tests in an incremental build check the rows the build wrote. A test of a
    node whose meta.refresh_scope names a scope (the incremental models, and
    the sources over the lake, kind 'lake_batch') reads the node's
    rows in that scope only, when the test judges rows one by one (not_null,
    accepted_values, expression_is_true) or is `unique` on a key the scope
    replaces whole (every scoped model's key holds its scope's column). The
    rows outside the scope were tested by the build that wrote them and have
    not changed since. A full refresh tests every row.
-#}
{% macro refresh_test_scope() -%}
    {%- set kind = model.test_metadata.name if model.test_metadata else none -%}
    {%- if not execute or kind not in ('not_null', 'accepted_values', 'expression_is_true', 'unique') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set tested_id = model.attached_node or (model.depends_on.nodes | first) -%}
    {%- set tested = graph.nodes.get(tested_id) or graph.sources.get(tested_id) -%}
    {%- set meta = ((tested.config or {}).get('meta') or tested.get('meta') or {}) if tested else {} -%}
    {%- set scope = meta.get('refresh_scope') -%}
    {#- The build plan (a query of the warehouse) is read only for a test of a scoped node. -#}
    {%- if not scope or refresh_mode() != 'incremental' -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(refresh_declared_filter(scope)) }}
{%- endmacro %}

{#- The filter of a scope as a node declares it in meta.refresh_scope: [kind] or [kind, column]. -#}
{% macro refresh_declared_filter(scope) -%}
    {{ return(refresh_scope_filter(scope[0], scope[1] if scope | length > 1 else none)) }}
{%- endmacro %}

{#- dbt's test subquery (`where` config), narrowed to the refresh scope in an incremental build. -#}
{% macro duckdb__get_where_subquery(relation) -%}
    {%- set conditions = [config.get('where', ''), refresh_test_scope()] | select | list -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where (' ~ conditions | join(') and (') ~ ')) dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}
