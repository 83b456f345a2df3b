{#- The indicators that are one fraction of dossier counts (metrics.md v2, Period indicators), as
    {rate column: (numerator, denominator)} over the count columns of int_unit_period_indicators.
    Their counts add up over the agencies of a unit, so a change splits exactly into each agency's
    numerator and denominator effects (agg_766_change_by_agency). The other rates (procedure counts,
    3.3's product) are computed in int_unit_period_indicators alone. -#}
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
