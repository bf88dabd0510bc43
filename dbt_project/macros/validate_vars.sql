{#
  Every var that shapes the feature store, checked before anything runs (the
  first on-run-start hook): a wrong var is refused in one line naming it, its
  value, what it must be and where to set it, instead of a green build with
  meaningless labels (churn_window_days: -1 labelled every row churned) or SQL
  that a crafted value could break out of.
#}
{% macro validate_vars() %}
    {% set problems = [] %}
    {% set fix = 'set it in dbt_project.yml vars or --vars' %}

    {% for name, low, high in [
        ('churn_window_days', 1, 3650), ('active_lookback_days', 1, 36500),
        ('max_id_length', 1, 100000), ('max_snapshots', 1, 1000000),
        ('isolated_gap_days', 1, 36500),
    ] %}
        {% set value = var(name) %}
        {% if value is boolean or value is not integer or value < low or value > high %}
            {% do problems.append(name ~ ': ' ~ value ~ ' is not a whole number from '
                ~ low ~ ' to ' ~ high) %}
        {% endif %}
    {% endfor %}

    {% for name in ['max_order_value', 'max_item_count', 'max_session_seconds', 'max_page_views',
                    'max_loyalty_points'] %}
        {% set value = var(name) %}
        {% if value is boolean or value is not number or value != value or value <= 0
            or value > 1e15 %}
            {% do problems.append(name ~ ': ' ~ value ~ ' is not a positive number (at most 1e15)') %}
        {% endif %}
    {% endfor %}

    {% set share = var('isolated_max_share') %}
    {% if share is boolean or share is not number or share != share or share < 0 or share >= 1 %}
        {% do problems.append('isolated_max_share: ' ~ share ~ ' is not a share in [0, 1)') %}
    {% endif %}

    {% set date_pattern = '[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])' %}
    {% for name, optional in [('snapshot_start', true), ('snapshot_end', true),
                              ('earliest_event_date', false)] %}
        {% set value = var(name) %}
        {% if not (optional and value is none)
            and not modules.re.fullmatch(date_pattern, value | string) %}
            {% do problems.append(name ~ ': ' ~ value ~ ' is not a date YYYY-MM-DD'
                ~ (' (or null: derived from the data)' if optional else '')) %}
        {% endif %}
    {% endfor %}
    {% set horizon = var('data_horizon') %}
    {% if horizon is not none and not modules.re.fullmatch(
        date_pattern ~ '([ T][0-2][0-9]:[0-5][0-9](:[0-5][0-9])?)?', horizon | string) %}
        {% do problems.append('data_horizon: ' ~ horizon ~ ' is not a date or timestamp'
            ~ ' (YYYY-MM-DD[ HH:MM[:SS]], or null: the latest valid order)') %}
    {% endif %}
    {% if not problems and var('snapshot_start') is not none and var('snapshot_end') is not none
        and (var('snapshot_start') | string) > (var('snapshot_end') | string) %}
        {% do problems.append('snapshot_start: ' ~ var('snapshot_start') ~ ' is after snapshot_end '
            ~ var('snapshot_end')) %}
    {% endif %}

    {% set interval = var('snapshot_interval') %}
    {% if not modules.re.fullmatch('[1-9][0-9]{0,3} (day|week|month|year)s?', interval | string) %}
        {% do problems.append('snapshot_interval: ' ~ interval ~ ' is not a positive interval'
            ~ ' such as 1 month, 2 weeks or 7 days') %}
    {% endif %}

    {% set accepted = var('accepted_values') %}
    {% if accepted is not mapping %}
        {% do problems.append('accepted_values: must map raw tables to columns to value lists') %}
    {% else %}
        {% for table, columns in accepted.items() %}
            {% for column, values in (columns.items() if columns is mapping else [(none, none)]) %}
                {% if not is_list_of_names(values, '[a-z0-9_]+') %}
                    {% do problems.append('accepted_values.' ~ table ~ '.' ~ column ~ ': ' ~ values
                        ~ ' is not a list of lower-case values (letters, digits, _)') %}
                {% endif %}
            {% endfor %}
        {% endfor %}
    {% endif %}
    {% set reasons = var('reject_reasons') %}
    {% if not is_list_of_names(reasons, '[a-z_]+') %}
        {% do problems.append('reject_reasons: ' ~ reasons ~ ' is not a list of reason names') %}
    {% endif %}

    {% if problems %}
        {{ exceptions.raise_compiler_error('var ' ~ problems[0] ~ ' (' ~ fix ~ ')') }}
    {% endif %}
{% endmacro %}
