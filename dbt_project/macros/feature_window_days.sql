{# The lengths, in days, of the windowed features (orders_30d, visits_90d, ...). #}
{% macro feature_window_days() %}
    {{ return([30, 90, 180]) }}
{% endmacro %}
