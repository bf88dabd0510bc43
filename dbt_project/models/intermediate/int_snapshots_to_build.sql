{#
  The snapshots this run computes (rows of int_snapshot_spine): all of them in a
  full rebuild; in an incremental refresh (docs/incremental.md) the current
  snapshot, the ones the previous build did not have (a new month), and every
  snapshot after the day of the earliest newly loaded row (macro
  refresh_rebuild_after). The others are final: a snapshot at as_of uses only
  rows loaded before as_of. The feature models compute exactly these snapshots:
  their calendar clamps everything older to the first of them, so totals over
  a subset of the schedule equal those over all of it.
#}
{% set plan = refresh_plan() %}

with spine as (
    select * from {{ ref('int_snapshot_spine') }}
),

final as (
    select
        spine.snapshot_index,
        spine.as_of,
        spine.label_window_end,
        spine.data_horizon,
        spine.is_label_complete
    from spine
    {% if plan.mode == 'incremental' %}
        where
            spine.snapshot_index = (select max(latest.snapshot_index) from spine as latest)
            or spine.as_of not in (
                select built.as_of from refresh_state.snapshots as built
                where built.build_id = '{{ plan.previous_build_id }}'
            )
            or spine.as_of > {{ "date '" ~ plan.rebuild_after ~ "'" if plan.rebuild_after else 'null' }}
    {% endif %}
)

select * from final
