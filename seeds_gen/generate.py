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
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
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
from seeds_gen.defects import REJECT_REASON, inject
from warehouse.contract import (
    EVENT_TIME_COLUMN,
    ID_COLUMN,
    LOADED_AT_COLUMN,
    RAW_SCHEMA,
    RAW_TABLES,
)
from warehouse.database import (
    WarehouseError,
    all_or_nothing,
    create_table_sql,
    existing_raw_tables,
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
        if self.customers <= 0:
            raise GeneratorError(f"--customers must be positive, got {self.customers}")
        if self.end <= self.start:
            raise GeneratorError(f"--end {self.end} must be after --start {self.start}")
        if self.horizon_days < 30:
            raise GeneratorError("the span from --start to --end must be at least 30 days")
        if not 0.0 <= self.dirty_rate < 0.5:
            raise GeneratorError(f"--dirty-rate must be in [0, 0.5), got {self.dirty_rate}")
        if self.churn_window_days <= 0:
            raise GeneratorError(
                f"--churn-window-days must be positive, got {self.churn_window_days}"
            )
        if not 0.0 < self.behaviour.annual_churn < 1.0:
            raise GeneratorError("--annual-churn must be in (0, 1)")
        for as_of in self.truth_as_of:
            if not self.start < as_of <= self.end:
                raise GeneratorError(f"--truth-as-of {as_of} is outside ({self.start}, {self.end}]")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), default=str, sort_keys=True)


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
    return format_ids(ID_PREFIX["customers"], numbers, CUSTOMER_ID_DIGITS)


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
    raw, defects = _with_defects(rng, cfg, raw, traits.signup, index)
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
    signup: np.ndarray,
    index: int,
) -> tuple[dict[str, dict[str, np.ndarray]], pa.Table]:
    """Every table with its bad rows added (--dirty-rate), and the record of them:
    table_name, row_id, defect, expected_reject_reason."""
    offset = index * CHUNK_CUSTOMERS
    phantom = cfg.customers + index * PHANTOM_BLOCK
    dirty, records = {}, []
    for table, rows in raw.items():
        dirty[table], record, phantom = inject(
            rng, table, rows, cfg.dirty_rate, cfg.horizon_days, signup, offset, phantom
        )
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
    return format_ids(ID_PREFIX[table], index * ID_BLOCK + rows["id"][select], EVENT_ID_DIGITS)


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
    transaction, and a database file this call created is removed on failure.
    """
    cfg.validate()
    try:
        with all_or_nothing(db_path) as con:
            existing = existing_raw_tables(con)
            if existing and not overwrite:
                raise GeneratorError(
                    f"{db_path} already holds raw tables ({', '.join(existing)});"
                    " pass --overwrite to replace them"
                )
            _create_schemas(con, cfg)
            disable = None if progress is None else not progress  # None: only on a terminal
            with tqdm(
                total=cfg.customers, unit="customer", desc="generating", disable=disable
            ) as bar:
                for chunk in _chunks(cfg):
                    _load_chunk(con, chunk)
                    bar.update(chunk.n_customers)
    except WarehouseError as exc:
        raise GeneratorError(str(exc)) from exc
    with duckdb.connect(str(db_path)) as con:
        counts = {
            t: con.execute(f"select count(*) from {RAW_SCHEMA}.{t}").fetchone()[0]
            for t in RAW_TABLES
        }
        if parquet_dir is not None:
            export_parquet(con, parquet_dir)
    return counts


def export_parquet(con: duckdb.DuckDBPyConnection, directory: Path) -> None:
    """Also write each raw table as `<directory>/<table>.parquet`."""
    directory.mkdir(parents=True, exist_ok=True)
    for table in RAW_TABLES:
        con.execute(
            f"copy {RAW_SCHEMA}.{table} to '{directory / (table + '.parquet')}' (format parquet)"
        )
