"""Generate a synthetic shop into the raw schema of a DuckDB warehouse.

Customers are simulated in fixed-size chunks, each with its own seed derived
from the run's seed, so the output depends only on the arguments (not on
threads or timing) and the first N customers are the same whatever the total.
Chunks are simulated on a worker thread while the main thread bulk-loads the
previous one into DuckDB through Arrow, all inside one transaction: a failed
or interrupted run leaves the warehouse as it was.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from seeds_gen.behaviour import (
    CHANNELS,
    COUNTRIES,
    DEVICES,
    LOYALTY_EVENT_TYPES,
    ORDER_STATUSES,
    SEGMENTS,
    TICKET_CATEGORIES,
    BehaviourConfig,
    Traits,
    draw_traits,
    order_intensity,
    simulate,
)
from seeds_gen.defects import (
    MISSING,
    OUT_OF_RANGE_DATE,
    OVERLONG_ID_LENGTH,
    OVERLONG_ID_OFFSET,
    REJECT_REASON,
    Injection,
    inject,
)
from warehouse.contract import (
    EVENT_TIME_COLUMN,
    ID_COLUMN,
    LOADED_AT_COLUMN,
    RAW_SCHEMA,
    RAW_TABLES,
    project_var,
)
from warehouse.database import (
    WarehouseError,
    all_or_nothing,
    create_table_sql,
    existing_raw_tables,
    make_folder,
    open_error_reason,
    partial_path,
    quote_literal,
    remove_created,
    remove_stale_partials,
    writable_folder_problem,
)

TRUTH_SCHEMA = "truth"  # evaluation-only ground truth: never read by features
GENERATOR_SCHEMA = "generator"  # the generator's config and its record of injected defects
CHUNK_CUSTOMERS = 25_000
# Ids are formatted on the worker threads, so each chunk owns a block of ids and
# needs nothing from the chunks before it: event ids are chunk * ID_BLOCK + row,
# unknown-customer ids are customers + chunk * PHANTOM_BLOCK + k.
ID_BLOCK = 100_000_000
PHANTOM_BLOCK = 1_000_000
MICROS_PER_DAY = 86_400 * 1_000_000

ID_PREFIX = {
    "customers": "C",
    "orders": "O",
    "site_visits": "V",
    "loyalty_events": "L",
    "reviews": "R",
    "support_tickets": "T",
}
CUSTOMER_ID_DIGITS = 9
EVENT_ID_DIGITS = 12
# Accepted values per categorical column, and a value outside them for unknown-category defects.
CATEGORIES = {
    "status": (ORDER_STATUSES, "pending_review"),
    "device": (DEVICES, "smart_fridge"),
    "event_type": (LOYALTY_EVENT_TYPES, "bonus_adjustment"),
    "category": (TICKET_CATEGORIES, "misc_other"),
}


class GeneratorError(Exception):
    """Bad arguments or an unusable target; the message is one line for the user."""


# Ids have 9 digits and each chunk of 25k customers reserves a block of 1M phantom
# ids: 41 numbers per customer, so about 24M customers fit; a round limit below.
MAX_CUSTOMERS = 20_000_000
MAX_SEED = 2**32 - 1  # what numpy's and scikit-learn's seeds take
MIN_SPAN_DAYS = 30
MAX_SPAN_YEARS = 50  # events per customer (ids per chunk, memory) grow with the span
MAX_DIRTY_RATE = 0.5  # exclusive: at half the rows bad, nothing is learnable
MAX_EFFECT = 5.0  # |log hazard ratio|: 148 times the hazard per SD is already absurd
EFFECTS = ("loyalty_effect", "engagement_effect", "satisfaction_effect", "frequency_effect")
# The shop's epoch in the feature store: every event before it is quarantined.
EARLIEST_START = date.fromisoformat(str(project_var("earliest_event_date")))
# Peak memory (benchmarks/bench_generator.py, peak RSS): over 2 years 1.1 GiB at
# 100k customers, 2.2 GiB at 300k and 6.0 GiB at 1M; 3.2 GiB at 100k over 10 years;
# +0.8 GiB at 100k with --dirty-rate 0.45. Fitted: 0.6 GiB + 2.7 GiB per million
# customer-years, times (1 + 4 x dirty rate). Linear in the span, which overstates
# long spans (customers churn): the limit errs on the safe side.
GIB = 2**30
BASE_MEMORY = 0.6 * GIB
MEMORY_PER_CUSTOMER_YEAR = 2.7 * GIB / 1e6
MEMORY_SHARE = 0.8  # of the machine's memory; DuckDB's own default limit is 80 %


@dataclass(frozen=True)
class GenerationConfig:
    customers: int = 20_000
    start: date = date(2024, 1, 1)
    end: date = date(2026, 1, 1)  # exclusive: the data horizon
    seed: int = 42
    dirty_rate: float = 0.0
    truth: bool = False
    truth_as_of: tuple[date, ...] = ()  # default: end - churn_window_days
    churn_window_days: int = 90
    behaviour: BehaviourConfig = field(default_factory=BehaviourConfig)

    @property
    def horizon_days(self) -> float:
        return float((self.end - self.start).days)

    def truth_dates(self) -> tuple[date, ...]:
        """Default: the last month start whose label window ends by the horizon,
        which is the feature store's last labeled monthly snapshot."""
        if self.truth_as_of:
            return self.truth_as_of
        latest = self.end - timedelta(days=self.churn_window_days)
        return (latest.replace(day=1),)

    def validate(self) -> None:
        """A GeneratorError naming the first setting out of its range, or a run
        this machine's memory cannot hold."""
        problem = next(self.problems(), None)
        if problem is not None:
            raise GeneratorError(problem)
        check_memory(self)

    def problems(self) -> Iterator[str]:
        """Each setting out of its range, named by its flag."""
        if not 1 <= self.customers <= MAX_CUSTOMERS:
            yield f"--customers must be in [1, {MAX_CUSTOMERS:,}], got {self.customers:,}"
        if not 0 <= self.seed <= MAX_SEED:
            yield f"--seed must be in [0, {MAX_SEED:,}], got {self.seed}"
        if not 0.0 <= self.dirty_rate < MAX_DIRTY_RATE:
            yield f"--dirty-rate must be in [0, {MAX_DIRTY_RATE}), got {self.dirty_rate}"
        if not 0.0 < self.behaviour.annual_churn < 1.0:
            yield f"--annual-churn must be in (0, 1), got {self.behaviour.annual_churn}"
        for effect in EFFECTS:
            value = getattr(self.behaviour, effect)
            if not abs(value) <= MAX_EFFECT:  # NaN too
                flag = "--" + effect.replace("_", "-")
                yield f"{flag} must be in [-{MAX_EFFECT:g}, {MAX_EFFECT:g}], got {value}"
        yield from self.date_problems()

    def date_problems(self) -> Iterator[str]:
        span = self.horizon_days
        if self.start < EARLIEST_START:
            yield (
                f"--start {self.start} is before {EARLIEST_START}, the feature store's"
                " earliest_event_date (dbt var): every event would be quarantined;"
                " start on or after it"
            )
        if self.end <= self.start:
            yield f"--end {self.end} must be after --start {self.start}"
        elif not MIN_SPAN_DAYS <= span <= MAX_SPAN_YEARS * 365.25:
            yield (
                f"the span from --start to --end must be {MIN_SPAN_DAYS} days to"
                f" {MAX_SPAN_YEARS} years, got {span:,.0f} days"
            )
        if not 1 <= self.churn_window_days < span:
            yield (
                f"--churn-window-days must be at least 1 and shorter than the span from"
                f" --start to --end ({span:,.0f} days), got {self.churn_window_days}"
            )
        for as_of in self.truth_as_of:
            if not self.start < as_of <= self.end:
                yield f"--truth-as-of {as_of} is outside ({self.start}, {self.end}]"

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), default=str, sort_keys=True)


def machine_memory_bytes() -> int:
    """The machine's memory, or its container's limit when that is lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit).read_text().strip()
        except OSError:
            continue
        if text.isdigit():  # cgroup v2 writes "max" when there is no limit
            total = min(total, int(text))
    return total


def estimated_peak_bytes(cfg: GenerationConfig) -> float:
    """The run's peak memory, from the measurements above."""
    customer_years = cfg.customers * cfg.horizon_days / 365.25
    return BASE_MEMORY + MEMORY_PER_CUSTOMER_YEAR * customer_years * (1 + 4 * cfg.dirty_rate)


def check_memory(cfg: GenerationConfig) -> None:
    """Refuse a run whose estimated peak exceeds MEMORY_SHARE of the machine's memory."""
    memory = machine_memory_bytes()
    allowed = MEMORY_SHARE * memory
    needed = estimated_peak_bytes(cfg)
    if needed <= allowed:
        return
    per_customer = (needed - BASE_MEMORY) / cfg.customers
    most = max(0, int((allowed - BASE_MEMORY) / per_customer) // 1000 * 1000)
    raise GeneratorError(
        f"--customers {cfg.customers:,} over {cfg.horizon_days / 365.25:.1f} years needs"
        f" about {needed / GIB:.1f} GiB of memory, more than {MEMORY_SHARE:.0%} of this"
        f" machine's {memory / GIB:.1f} GiB: generate at most {most:,} customers, or"
        " shorten the span (--start, --end)"
    )


@dataclass
class Chunk:
    """One simulated chunk, ready to load: Arrow tables in the raw contract's columns."""

    index: int
    n_customers: int
    tables: dict[str, pa.Table]
    defects: pa.Table  # table_name, row_id, defect, expected_reject_reason
    truth: dict[str, pa.Table]


_THREE_DIGITS = np.array([list(f"{i:03d}".encode()) for i in range(1000)], dtype=np.uint8)


def format_ids(prefix: str, numbers: np.ndarray, digits: int) -> pa.Array:
    """Zero-padded string ids (prefix + digits, digits a multiple of 3) built in
    bulk, numbered from 1; negative numbers -> null."""
    n = numbers.size
    width = digits + 1
    chars = np.empty((n, width), dtype=np.uint8)
    chars[:, 0] = ord(prefix)
    rest = numbers.astype(np.int64) + 1
    for end in range(width, 1, -3):
        rest, group = np.divmod(rest, 1000)
        chars[:, end - 3 : end] = _THREE_DIGITS[group]
    if (rest > 0).any():
        raise ValueError(f"id does not fit in {digits} digits")
    offsets = np.arange(n + 1, dtype=np.int32) * width
    valid = numbers >= 0
    validity = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(
        pa.string(), n, [validity, pa.py_buffer(offsets), pa.py_buffer(chars)]
    )


def customer_ids(numbers: np.ndarray) -> pa.Array:
    """Customer ids; numbers from OVERLONG_ID_OFFSET on become over-long ids
    (invalid_id defects), each its own."""
    prefix = ID_PREFIX["customers"]
    overlong = numbers >= OVERLONG_ID_OFFSET
    ids = format_ids(prefix, np.where(overlong, 0, numbers), CUSTOMER_ID_DIGITS)
    if not overlong.any():
        return ids
    width = OVERLONG_ID_LENGTH - len(prefix)
    long_ids = [f"{prefix}{n - OVERLONG_ID_OFFSET + 1:0{width}d}" for n in numbers[overlong]]
    return pc.replace_with_mask(ids, pa.array(overlong), pa.array(long_ids, pa.string()))


def _timestamps(days: np.ndarray, start_us: int) -> pa.Array:
    """Float days since start -> Arrow timestamps at second resolution (NaN -> null)."""
    missing = np.isnan(days)
    seconds = np.floor(np.where(missing, 0.0, days) * 86_400.0).astype(np.int64)
    return pa.array(start_us + seconds * 1_000_000, type=pa.timestamp("us"), mask=missing)


def _categorical(codes: np.ndarray, column: str) -> pa.Array:
    accepted, unknown = CATEGORIES[column]
    indices = np.where(codes < 0, len(accepted), codes).astype(np.int8)
    return _labels(indices, (*accepted, unknown))


def _labels(codes: np.ndarray, values: tuple[str, ...]) -> pa.Array:
    """Codes -> a dictionary-encoded string column (DuckDB decodes it on insert)."""
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int8)), pa.array(values))


def _load_times(rng: np.random.Generator, at: np.ndarray) -> np.ndarray:
    """Hourly-ish ingestion: 5 minutes plus an exponential lag averaging 3 hours."""
    return at + (5.0 / 1440.0) + rng.exponential(3.0 / 24.0, at.size)


def build_chunk(cfg: GenerationConfig, index: int) -> Chunk:
    """Simulate customers [index * CHUNK, ...) with the chunk's own seed."""
    offset = index * CHUNK_CUSTOMERS
    n = min(CHUNK_CUSTOMERS, cfg.customers - offset)
    rng = np.random.default_rng(np.random.SeedSequence(cfg.seed, spawn_key=(index,)))
    horizon = cfg.horizon_days
    start_us = (cfg.start - date(1970, 1, 1)).days * MICROS_PER_DAY
    # The steps share one random stream: they must draw in this order.
    traits = draw_traits(rng, n, horizon, cfg.behaviour)
    events = simulate(rng, traits, horizon, cfg.behaviour)
    raw = _landed_rows(rng, traits, events, offset, horizon)
    injection = Injection(
        rate=cfg.dirty_rate,
        horizon=horizon,
        out_of_range_day=float((OUT_OF_RANGE_DATE - cfg.start).days),
        signup=traits.signup,
        customer_offset=offset,
    )
    raw, defects = _with_defects(rng, cfg, raw, injection, index)
    tables = {table: _to_arrow(table, rows, index, start_us) for table, rows in raw.items()}
    truth = _truth_tables(cfg, traits, offset, start_us) if cfg.truth else {}
    return Chunk(index, n, tables, defects, truth)


def _landed_rows(
    rng: np.random.Generator, traits: Traits, events: dict, offset: int, horizon: float
) -> dict[str, dict[str, np.ndarray]]:
    """Customers and events as they reach the warehouse: global customer numbers,
    a load time per row, and only rows loaded by the horizon."""
    n = traits.signup.size
    raw = {
        "customers": {
            "id": offset + np.arange(n),
            "customer": offset + np.arange(n),
            "at": traits.signup,
            "loaded": traits.signup + rng.uniform(1.0, 10.0, n) / 1440.0,
            "segment": traits.segment,
            "channel": traits.channel,
            "country": traits.country,
        }
    }
    for table, cols in events.items():
        rows = {"id": np.arange(cols["at"].size), **cols}
        rows["customer"] = rows["customer"] + offset
        rows["loaded"] = _load_times(rng, rows["at"])
        # Rows that had not reached the warehouse by the horizon are not in it.
        keep = rows["loaded"] < horizon
        raw[table] = {name: col[keep] for name, col in rows.items()}
    return raw


def _with_defects(
    rng: np.random.Generator,
    cfg: GenerationConfig,
    raw: dict[str, dict[str, np.ndarray]],
    injection: Injection,
    index: int,
) -> tuple[dict[str, dict[str, np.ndarray]], pa.Table]:
    """Every table with its bad rows added (--dirty-rate), and the record of them:
    table_name, row_id, defect, expected_reject_reason."""
    phantom = cfg.customers + index * PHANTOM_BLOCK
    dirty, records = {}, []
    for table, rows in raw.items():
        dirty[table], record, phantom = inject(rng, table, rows, injection, phantom)
        defect = record["defect"].astype(str)
        records.append(
            pa.table(
                {
                    "table_name": pa.array([table] * defect.size, type=pa.string()),
                    "row_id": _row_ids(table, dirty[table], index, record["row"]),
                    "defect": pa.array(defect, type=pa.string()),
                    "expected_reject_reason": pa.array(
                        [REJECT_REASON[d] for d in defect], type=pa.string()
                    ),
                }
            )
        )
    return dirty, pa.concat_tables(records)


def _row_ids(
    table: str, rows: dict[str, np.ndarray], index: int, select: np.ndarray | slice = slice(None)
) -> pa.Array:
    """The string ids of a chunk's rows (all of them, or those at `select`)."""
    if table == "customers":
        return customer_ids(rows["customer"][select])
    ids = rows["id"][select]
    numbers = np.where(ids == MISSING, MISSING, index * ID_BLOCK + ids)
    return format_ids(ID_PREFIX[table], numbers, EVENT_ID_DIGITS)


def _to_arrow(table: str, rows: dict[str, np.ndarray], index: int, start_us: int) -> pa.Table:
    """Chunk columns -> Arrow, in the raw contract's column order and types."""
    data: dict[str, pa.Array] = {
        ID_COLUMN[table]: _row_ids(table, rows, index),
        EVENT_TIME_COLUMN[table]: _timestamps(rows["at"], start_us),
        LOADED_AT_COLUMN: _timestamps(rows["loaded"], start_us),
    }
    if table != "customers":
        data["customer_id"] = customer_ids(rows["customer"])
    if table == "customers":
        data["segment"] = _labels(rows["segment"], SEGMENTS)
        data["acquisition_channel"] = _labels(rows["channel"], CHANNELS)
        data["country"] = _labels(rows["country"], COUNTRIES)
    elif table == "orders":
        data["status"] = _categorical(rows["status"], "status")
        data["order_value"] = pa.array(rows["order_value"], type=pa.float64())
        data["discount_amount"] = pa.array(rows["discount_amount"], type=pa.float64())
        data["item_count"] = pa.array(rows["item_count"], type=pa.int32())
    elif table == "site_visits":
        data["page_views"] = pa.array(rows["page_views"], type=pa.int32())
        data["session_seconds"] = pa.array(rows["session_seconds"], type=pa.int32())
        data["device"] = _categorical(rows["device"], "device")
    elif table == "loyalty_events":
        data["event_type"] = _categorical(rows["event_type"], "event_type")
        data["points"] = pa.array(rows["points"], type=pa.int32())
    elif table == "reviews":
        order_numbers = index * ID_BLOCK + rows["order"]
        data["order_id"] = format_ids(ID_PREFIX["orders"], order_numbers, EVENT_ID_DIGITS)
        data["rating"] = pa.array(rows["rating"], type=pa.int32())
    elif table == "support_tickets":
        data["category"] = _categorical(rows["category"], "category")
    return pa.table({column: data[column] for column in RAW_TABLES[table]})


def _truth_tables(
    cfg: GenerationConfig, t: Traits, offset: int, start_us: int
) -> dict[str, pa.Table]:
    """Evaluation-only ground truth: latent traits, and for each truth as_of the
    probability of no completed order in [as_of, as_of + window) given the
    customer's latent state (the ceiling any model can reach)."""
    n = t.signup.size
    ids = customer_ids(offset + np.arange(n))
    enrolled = np.where(np.isfinite(t.loyalty_enrolled), t.loyalty_enrolled, np.nan)
    traits = pa.table(
        {
            "customer_id": ids,
            "segment": _labels(t.segment, SEGMENTS),
            "is_loyalty_member": t.is_loyalty_member,
            "loyalty_enrolled_at": _timestamps(enrolled, start_us),
            "order_rate_per_day": t.order_rate,
            "engagement": t.engagement,
            "satisfaction": t.satisfaction,
            "price_sensitivity": t.price_sensitivity,
            "p_completed_order": t.p_complete,
            "decay_days": t.decay_days,
            # Latent churn can lie far beyond the data; cap it to stay a valid timestamp.
            "churn_at": _timestamps(np.minimum(t.churn, 3_650_000.0), start_us),
        }
    )
    intensity = order_intensity(t, cfg.behaviour)
    window = cfg.churn_window_days
    parts = []
    for as_of in cfg.truth_dates():
        a = float((as_of - cfg.start).days)
        signed_up = np.flatnonzero(t.signup < a)
        expected = intensity.cumulative(a + window) - intensity.cumulative(a)
        parts.append(
            pa.table(
                {
                    "customer_id": ids.take(signed_up),
                    "as_of": pa.array([as_of] * signed_up.size, type=pa.date32()),
                    "churn_window_days": pa.array(np.full(signed_up.size, window, np.int32)),
                    "p_no_completed_order": np.exp(-t.p_complete * expected)[signed_up],
                    "is_churned_latent": t.churn[signed_up] <= a,
                }
            )
        )
    return {"customer_traits": traits, "churn_probability": pa.concat_tables(parts)}


def _chunks(cfg: GenerationConfig, workers: int = 2) -> Iterator[Chunk]:
    """Chunks in order, simulated ahead on worker threads while the caller loads."""
    n_chunks = -(-cfg.customers // CHUNK_CUSTOMERS)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = [pool.submit(build_chunk, cfg, i) for i in range(min(workers, n_chunks))]
        for index in range(n_chunks):
            chunk = pending.pop(0).result()
            if index + workers < n_chunks:
                pending.append(pool.submit(build_chunk, cfg, index + workers))
            yield chunk


def _create_schemas(con: duckdb.DuckDBPyConnection, cfg: GenerationConfig) -> None:
    for schema in (RAW_SCHEMA, GENERATOR_SCHEMA, TRUTH_SCHEMA):
        con.execute(f"drop schema if exists {schema} cascade")
    con.execute(f"create schema {RAW_SCHEMA}")
    con.execute(f"create schema {GENERATOR_SCHEMA}")
    for table in RAW_TABLES:
        con.execute(create_table_sql(RAW_SCHEMA, table))
    con.execute(
        f"create table {GENERATOR_SCHEMA}.injected_defects (table_name varchar, row_id varchar,"
        " defect varchar, expected_reject_reason varchar)"
    )
    con.execute(f"create table {GENERATOR_SCHEMA}.run_config (config_json varchar)")
    con.execute(f"insert into {GENERATOR_SCHEMA}.run_config values (?)", [cfg.to_json()])
    if cfg.truth:
        con.execute(f"create schema {TRUTH_SCHEMA}")
        con.execute(
            f"create table {TRUTH_SCHEMA}.customer_traits (customer_id varchar, segment varchar,"
            " is_loyalty_member boolean, loyalty_enrolled_at timestamp, order_rate_per_day double,"
            " engagement double, satisfaction double, price_sensitivity double,"
            " p_completed_order double, decay_days double, churn_at timestamp)"
        )
        con.execute(
            f"create table {TRUTH_SCHEMA}.churn_probability (customer_id varchar, as_of date,"
            " churn_window_days integer, p_no_completed_order double, is_churned_latent boolean)"
        )


def _load_chunk(con: duckdb.DuckDBPyConnection, chunk: Chunk) -> None:
    loads = [(f"{RAW_SCHEMA}.{table}", arrow) for table, arrow in chunk.tables.items()]
    loads.append((f"{GENERATOR_SCHEMA}.injected_defects", chunk.defects))
    loads += [(f"{TRUTH_SCHEMA}.{name}", arrow) for name, arrow in chunk.truth.items()]
    for target, arrow in loads:
        con.register("chunk_rows", arrow)
        con.execute(f"insert into {target} select * from chunk_rows")
        con.unregister("chunk_rows")


def generate(
    cfg: GenerationConfig,
    db_path: Path,
    overwrite: bool = False,
    parquet_dir: Path | None = None,
    progress: bool | None = None,
) -> dict[str, int]:
    """Write the synthetic shop to `db_path`; returns the row count of each raw table.

    All-or-nothing: the raw, generator and truth schemas are replaced in one
    transaction, a database file this call creates appears only when complete, and
    the Parquet files (`parquet_dir`) are written in the same unit.
    """
    cfg.validate()
    parquet = ParquetExport(parquet_dir)
    try:
        counts = _write(cfg, db_path, overwrite, parquet, progress)
    except BaseException:
        parquet.discard()
        raise
    parquet.publish()
    return counts


def _write(
    cfg: GenerationConfig,
    db_path: Path,
    overwrite: bool,
    parquet: ParquetExport,
    progress: bool | None,
) -> dict[str, int]:
    try:
        with all_or_nothing(db_path) as con:
            existing = existing_raw_tables(con)
            if existing and not overwrite:
                raise GeneratorError(
                    f"{db_path} already holds raw tables ({', '.join(existing)});"
                    " pass --overwrite to replace them"
                )
            _create_schemas(con, cfg)
            _load_chunks(con, cfg, progress)
            counts = {
                t: con.execute(f"select count(*) from {RAW_SCHEMA}.{t}").fetchone()[0]
                for t in RAW_TABLES
            }
            parquet.write(con)
    except WarehouseError as exc:
        raise GeneratorError(str(exc)) from exc
    return counts


def _load_chunks(con: duckdb.DuckDBPyConnection, cfg: GenerationConfig, progress: bool | None):
    disable = None if progress is None else not progress  # None: only on a terminal
    with tqdm(total=cfg.customers, unit="customer", desc="generating", disable=disable) as bar:
        for chunk in _chunks(cfg):
            _load_chunk(con, chunk)
            bar.update(chunk.n_customers)


class ParquetExport:
    """Each raw table as `<folder>/<table>.parquet` (--parquet), in the run's
    all-or-nothing unit: written under temporary names inside the warehouse's
    transaction, renamed into place once it committed, removed (with the folder,
    if the run created it) when the run fails."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self.targets = {} if folder is None else {t: folder / f"{t}.parquet" for t in RAW_TABLES}
        self.created: Path | None = None
        problem = None if folder is None else writable_folder_problem(folder)
        if problem is not None:  # before anything is generated
            raise GeneratorError(f"--parquet {folder}: {problem}")

    def write(self, con: duckdb.DuckDBPyConnection) -> None:
        if self.folder is None:
            return
        try:
            self.created = make_folder(self.folder)
            for table, target in self.targets.items():
                remove_stale_partials(target)
                staged = quote_literal(partial_path(target))
                con.execute(f"copy {RAW_SCHEMA}.{table} to {staged} (format parquet)")
        except (OSError, duckdb.Error) as exc:
            reason = open_error_reason(exc)
            raise GeneratorError(
                f"cannot write Parquet to --parquet {self.folder}: {reason}"
            ) from exc

    def discard(self) -> None:
        if self.folder is not None:
            staged = [partial_path(target) for target in self.targets.values()]
            remove_created(staged, self.created, self.folder)

    def publish(self) -> None:
        for target in self.targets.values():
            os.replace(partial_path(target), target)
