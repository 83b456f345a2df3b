"""List every column of every built model in its yml file, described by its doc block.

Run after a build when a model gained columns (the test suite fails until then):

    python scripts/dbt_column_docs.py [WAREHOUSE]

Columns are read from the warehouse (default: $DVC_WAREHOUSE_PATH or
data/warehouse/warehouse.duckdb) and the marts file beside it. A column already listed keeps its entry; a
column the model no longer has loses its entry; a
column without a description gets "{{ doc('col_<name>') }}", whose block lives in
dbt_project/models/docs/_column_docs.md (write it there by hand).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import duckdb
import yaml

from dichvucong.config import marts_path_for

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "dbt_project" / "models"


def main(argv: list[str]) -> int:
    default = os.environ.get("DVC_WAREHOUSE_PATH", ROOT / "data/warehouse/warehouse.duckdb")
    warehouse = Path(argv[0] if argv else default)
    marts = marts_path_for(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if marts.exists():
            con.execute(f"attach '{marts}' as marts (read_only)")
        rows = con.execute(
            "select table_name, list(column_name order by column_index) from duckdb_columns() "
            "where schema_name in ('staging', 'intermediate', 'marts', 'quality') group by 1"
        ).fetchall()
    columns = dict(rows)
    model_files = {p.stem: p for p in MODELS.rglob("*.sql")} | {p.stem: p for p in MODELS.rglob("*.py")}
    changed = 0
    for yml in sorted(MODELS.rglob("_*__models.yml")):
        spec = yaml.safe_load(yml.read_text(encoding="utf-8"))
        for model in spec.get("models", []):
            listed = {c["name"]: c for c in model.get("columns") or []}
            built = columns.get(model["name"], [])
            entries = []
            for name in built:
                entry = listed.pop(name, {"name": name})
                entry.setdefault("description", f"{{{{ doc('col_{name}') }}}}")
                entries.append(entry)
            if not built:
                entries += listed.values()  # a model not in this warehouse keeps its entries
            # A built model's entries for columns it no longer has are dropped.
            if entries != (model.get("columns") or []):
                model["columns"] = entries
                changed += 1
        yml.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=110), encoding="utf-8")
    missing = sorted(set(model_files) - {m["name"] for y in MODELS.rglob("_*__models.yml")
                                          for m in yaml.safe_load(y.read_text()).get("models", [])})
    print(f"{changed} models updated; models without a yml entry: {missing or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
