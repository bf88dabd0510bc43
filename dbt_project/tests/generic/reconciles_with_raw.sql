{#
  Nothing lost silently: the raw table's row count must equal the clean rows +
  the rows in quarantine + the duplicate copies removed by deduplication.
  Applied to a validated model (one row per deduplicated raw row, with
  reject_reason and copies_loaded). Returns one row when the counts disagree.
#}
{% test reconciles_with_raw(model, raw_table) %}
    with counts as (
        select
            (select count(*) from {{ source('shop', raw_table) }}) as raw_rows,
            (select count(*) from {{ model }} where reject_reason is null) as clean_rows,
            (
                select count(*) from {{ ref('quarantined_rows') }}
                where source_table = '{{ raw_table }}'
            ) as quarantined_rows,
            (select coalesce(sum(copies_loaded - 1), 0) from {{ model }}) as duplicates_removed
    )

    select *
    from counts
    where raw_rows != clean_rows + quarantined_rows + duplicates_removed
{% endtest %}
