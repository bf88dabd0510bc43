{#
  Keep the first-loaded copy of each event id (an event loaded twice counts once;
  of copies loaded at the same time, the first row of the raw table) and
  record how many copies arrived, so raw rows can be reconciled with
  clean + quarantined rows + duplicates removed. Rows without an id are kept
  as they are (staging rejects them).
#}
{% macro deduplicate(relation, id_column) %}
    select
        *,
        case
            when {{ id_column }} is null then 1
            else count(*) over (partition by {{ id_column }})
        end as copies_loaded
    from {{ relation }}
    qualify
        {{ id_column }} is null
        or row_number() over (partition by {{ id_column }} order by loaded_at, raw_rowid) = 1
{% endmacro %}
