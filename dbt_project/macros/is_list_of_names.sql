{# A non-empty list of strings that each match `pattern` in full. #}
{% macro is_list_of_names(values, pattern) %}
    {% if values is string or values is not sequence or values | length == 0 %}
        {{ return(false) }}
    {% endif %}
    {% for value in values %}
        {% if value is not string or not modules.re.fullmatch(pattern, value) %}
            {{ return(false) }}
        {% endif %}
    {% endfor %}
    {{ return(true) }}
{% endmacro %}
