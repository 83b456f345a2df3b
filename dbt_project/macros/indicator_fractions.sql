{#- The indicators that are one fraction of dossier counts (metrics.md v2, Period indicators), as
    {rate column: (numerator, denominator)} over the count columns of agg_unit_period_indicators.
    Their counts add up over the agencies of a unit, so a change splits exactly into each agency's
    numerator and denominator effects (agg_766_change_by_agency). The other rates (procedure counts,
    3.3's product) are computed in agg_unit_period_indicators alone. -#}
{% macro indicator_fractions() -%}
    {{ return({
        'sync_rate': ('dossiers_received_synced', 'dossiers_received'),
        'on_time_rate': ('ended_on_time + in_progress_with_due_at_end - in_progress_overdue_at_end',
                         'ended_on_time + ended_late + in_progress_with_due_at_end'),
        'online_payment_rate': ('fee_bearing_dossiers_paid_online', 'fee_bearing_dossiers'),
        'e_result_rate': ('dossiers_completed_with_e_result', 'dossiers_completed_needing_e_result'),
        'digitised_rate': ('dossiers_received_digitised', 'dossiers_received'),
        'data_reuse_rate': ('dossiers_received_reusing_data', 'dossiers_received'),
        'data_store_rate': ('dossiers_received_from_data_store', 'dossiers_received'),
        'population_db_dossiers_rate': ('dossiers_received_using_population_data', 'dossiers_received'),
    }) }}
{%- endmacro %}

{#- The scored indicators that are one fraction of procedure counts (metrics.md v2: 1.1-1.3, 3.5a, 3.5b,
    4.5a), as {rate column: (numerator, denominator)} over the count columns of
    agg_unit_period_indicators. They do not add up over agencies (a procedure counts once per unit),
    so they are apart from indicator_fractions(). -#}
{% macro procedure_indicator_fractions() -%}
    {{ return({
        'procedures_published_on_time_rate': ('procedures_published_on_time', 'procedures_published'),
        'procedures_public_on_time_rate': ('procedures_public_on_time', 'procedures_published'),
        'procedures_complete_rate': ('procedures_public_complete', 'procedures_public'),
        'procedures_with_fee_data_rate': ('procedures_with_fee_data', 'procedures_with_fee'),
        'procedures_with_online_payment_rate': ('procedures_with_online_payment', 'procedures_with_fee'),
        'population_db_procedures_rate': ('procedures_for_citizens_connected', 'procedures_for_citizens'),
    }) }}
{%- endmacro %}
