"""The features hash: which code and vars built the feature mart's rows.

Computed from a dbt manifest, by the dbt build itself (the plugin
featurestore.dbt_plugin stamps it on every row of customer_snapshots) and by
the modeling layer (from the manifest it reads), so the two can be compared:
equal across rebuilds of unchanged code and vars, and across harmless dbt
commands (`dbt docs generate`, `dbt test`) that rewrite the manifest; different
as soon as any SQL, macro or shaping var upstream of the mart changes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

SNAPSHOT_MODEL = "customer_snapshots"


def model_node(manifest: dict[str, Any], name: str = SNAPSHOT_MODEL) -> dict[str, Any] | None:
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") == "model" and node.get("name") == name:
            return node
    return None


def features_sha256(manifest: dict[str, Any], name: str = SNAPSHOT_MODEL) -> str:
    """A hash of everything that defines the mart's rows: the SQL checksums of the
    mart and every upstream model, the sources they read, the macros they call
    (recursively, the feature catalog among them), the vars that shape them, and
    each column's role and kind. Raises KeyError when the manifest has no such model."""
    root = model_node(manifest, name)
    if root is None:
        raise KeyError(name)
    nodes = {**manifest.get("nodes", {}), **manifest.get("sources", {})}
    models, macros, pending = {}, {}, [root["unique_id"]]
    while pending:
        uid = pending.pop()
        if uid in models or uid not in nodes:
            continue
        node = nodes[uid]
        if node["resource_type"] == "source":
            models[uid] = [node["schema"], node["identifier"]]
            continue
        models[uid] = [node["checksum"]["checksum"]]
        pending += node["depends_on"]["nodes"]
        macros.update(dict.fromkeys(node["depends_on"]["macros"]))
    macro_sql, pending = {}, list(macros)
    while pending:
        uid = pending.pop()
        macro = manifest.get("macros", {}).get(uid)
        if uid in macro_sql or macro is None:
            continue
        macro_sql[uid] = hashlib.sha256(macro["macro_sql"].encode()).hexdigest()
        pending += macro["depends_on"]["macros"]
    columns = {
        column: [spec.get("meta", {}).get("role"), spec.get("meta", {}).get("kind")]
        for column, spec in root.get("columns", {}).items()
    }
    payload = {
        "nodes": models,
        "macros": macro_sql,
        "vars": root["config"].get("meta", {}).get("shaping_vars", {}),
        "columns": columns,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
