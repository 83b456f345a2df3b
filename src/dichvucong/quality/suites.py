"""Great Expectations suites built in code from `expectations/<table>.yml`,
and run on the rows being loaded or published: a DuckDB table or view (GX's
SQL datasource, the expectations run as queries in DuckDB), or a small pandas
DataFrame.

The suites are data (one YAML file per table, readable by operators); this
module turns them into GX 1.x objects in an ephemeral context, validates, and
returns a plain summary. A failed critical expectation raises
`QualityGateFailed` after the summary is written, so that a failed validation
fails its Airflow task and blocks what comes after it.
"""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
import json
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dichvucong.config import REPO_ROOT, Settings

log = logging.getLogger(__name__)

REFERENCE_DIR = REPO_ROOT / "data" / "reference"
_PLACEHOLDER = re.compile(r"^\$\{(\w+)\}$")


@dataclass(frozen=True)
class DuckDBTable:
    """A table or view of a DuckDB file, validated in place through GX's SQL datasource."""

    database: Path
    table: str
    schema: str = "main"
    read_only: bool = False

    def row_count(self) -> int:
        import duckdb

        with duckdb.connect(str(self.database), read_only=True) as con:
            return int(con.execute(f'select count(*) from "{self.schema}"."{self.table}"').fetchall()[0][0])


def _read_rows_before_close() -> None:
    """GX 1.24's SQL engine returns a query's result after closing its connection; DuckDB
    rolls its transaction back on close and the unread rows are lost, so every expectation
    fails with `list index out of range` (GX issues #10738, #11579). The result is read
    into memory before the connection closes (GX's metric queries return aggregates or a
    bounded sample of unexpected rows)."""
    from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine

    if getattr(SqlAlchemyExecutionEngine.execute_query, "_reads_before_close", False):
        return

    def execute_query(self: Any, query: Any) -> Any:
        with self.get_connection() as connection:
            return self._execute_query_with_recovery(connection, query).freeze()()

    execute_query._reads_before_close = True  # type: ignore[attr-defined]
    SqlAlchemyExecutionEngine.execute_query = execute_query  # type: ignore[method-assign]


def _keep_compiled_templates() -> None:
    """GX renders each Data Docs page and index through a new jinja Environment, which compiles
    every template it uses again: about a third of the cost of a page (0.4 s of 1.1 s building one
    task's pages, in a profile at a province's month). The environments get jinja's bytecode cache
    on disk (jinja2.FileSystemBytecodeCache, in the system's temporary folder, private to the user),
    shared by the validation tasks' processes: a template is compiled once per version of its source
    (the cache is keyed by its name and checked against its checksum)."""
    import jinja2
    from great_expectations.render.view.view import DefaultJinjaView

    if getattr(DefaultJinjaView.__init__, "_keeps_compiled_templates", False):
        return
    cache = jinja2.FileSystemBytecodeCache()
    original = DefaultJinjaView.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.env.bytecode_cache = cache

    __init__._keeps_compiled_templates = True  # type: ignore[attr-defined]
    DefaultJinjaView.__init__ = __init__  # type: ignore[method-assign]


class QualityGateFailed(RuntimeError):
    """A critical expectation failed: the data must not be published."""


@dataclass
class ExpectationResult:
    table: str
    expectation_type: str
    column: str | None
    severity: str
    rule: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    observed_value: str | None


@dataclass
class ValidationSummary:
    table: str
    interval: str
    rows: int
    success: bool
    critical_failures: int
    warnings: int
    results: list[ExpectationResult] = field(default_factory=list)
    docs_url: str | None = None
    validated_at: str = ""
    # GX's suite, result identifier and result, for the Data Docs (not part of the summary).
    gx_result: Any = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {name: value for name, value in vars(self).items() if name not in ("gx_result", "results")} | {
            "results": [asdict(r) for r in self.results]}


def _reference_values(name: str) -> list[str]:
    files = {"intermediaries": ("intermediaries.csv", "intermediary_code"),
             "districts": ("districts.csv", "district_code")}
    if name not in files:
        raise KeyError(f"unknown reference list ${{{name}}}")
    path, column = files[name]
    with (REFERENCE_DIR / path).open(encoding="utf-8") as handle:
        return [row[column] for row in csv.DictReader(handle)]


def _resolve(value: Any) -> Any:
    if isinstance(value, str) and (match := _PLACEHOLDER.match(value)):
        return _reference_values(match.group(1))
    return value


def load_suite_spec(expectations_dir: Path, table: str) -> dict[str, Any]:
    # libyaml's loader where PyYAML has it (ten times as fast, the same safe subset of YAML).
    spec = yaml.load((expectations_dir / f"{table}.yml").read_text(encoding="utf-8"),
                     Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if spec.get("table") != table:
        raise ValueError(f"{table}.yml declares table {spec.get('table')!r}")
    for item in spec["expectations"]:
        if item.get("severity") not in {"critical", "warning"}:
            raise ValueError(f"{table}.yml: {item['type']} needs severity critical or warning")
        if not item.get("rule"):
            raise ValueError(f"{table}.yml: {item['type']} needs the rule it guards")
        item["kwargs"] = {k: _resolve(v) for k, v in item.get("kwargs", {}).items()}
    return spec


def _class_name(expectation_type: str) -> str:
    return "".join(part.capitalize() for part in expectation_type.split("_"))


def _columns(kwargs: dict[str, Any]) -> str | None:
    if kwargs.get("column"):
        return str(kwargs["column"])
    names = kwargs.get("column_list") or [kwargs[k] for k in ("column_A", "column_B") if kwargs.get(k)]
    return ",".join(names) or None


# The Data Docs index lists the latest validations with a page, this many: GX reads every result it
# lists from the store, so an index of every result kept would cost each build more as history grows
# (a year of daily findings is over a thousand results); the pages of older ones stay in the site.
DATA_DOCS_INDEX_LIMIT = 500


@contextmanager
def _gx_context(docs_root: Path | None) -> Iterator[Any]:
    """An ephemeral GX context, or a file context under `docs_root` (serialised by a lock:
    parallel validations share its stores and Data Docs site)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context: Any
    if docs_root is None:
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        yield context
        return
    docs_root.mkdir(parents=True, exist_ok=True)
    with open(docs_root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        context = gx.get_context(mode="file", project_root_dir=str(docs_root))
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        sites = context.variables.data_docs_sites or {}  # a copy: set back below (in memory only)
        for site in sites.values():
            site.setdefault("site_index_builder", {"class_name": "DefaultSiteIndexBuilder"})[
                "validation_results_limit"] = DATA_DOCS_INDEX_LIMIT
        context.variables.data_docs_sites = sites
        yield context


def validate(frame: Any, table: str, interval: str, expectations_dir: Path,
             docs_root: Path | None = None) -> ValidationSummary:
    """Validate a `DuckDBTable` or a pandas DataFrame against the table's suite, in an
    ephemeral GX context; never raises for failures.

    With `docs_root`, the result is also stored there and its Data Docs page built
    (`build_docs`, which does it for several results at once).
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.core.run_identifier import RunIdentifier

    spec = load_suite_spec(expectations_dir, table)
    in_duckdb = isinstance(frame, DuckDBTable)
    rows = frame.row_count() if in_duckdb else len(frame)
    with _gx_context(None) as context:
        if in_duckdb:
            _read_rows_before_close()
            batch = (
                context.data_sources.add_or_update_sql(
                    f"{table}_duckdb", connection_string=f"duckdb:///{frame.database}",
                    kwargs={"connect_args": {"read_only": frame.read_only, "config": {
                        "memory_limit": Settings.from_env().duckdb_memory_limit}}})
                # A query asset: GX's column reflection ignores a table asset's schema.
                .add_query_asset(table, query=f'select * from "{frame.schema}"."{frame.table}"')
                .add_batch_definition_whole_table(f"{table}_batch")
            )
        else:
            batch = (
                context.data_sources.add_or_update_pandas(f"{table}_source")
                .add_dataframe_asset(table)
                .add_batch_definition_whole_dataframe(f"{table}_batch")
            )
        suite = gx.ExpectationSuite(name=table)
        for item in spec["expectations"]:
            expectation_class = getattr(gxe, _class_name(item["type"]))
            suite.add_expectation(
                expectation_class(**item["kwargs"], severity=item["severity"], meta={"rule": item["rule"]})
            )
        suite = context.suites.add_or_update(suite)
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=f"{table}_validation", data=batch, suite=suite)
        )
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(name=f"{table}_checkpoint", validation_definitions=[definition], actions=[],
                          result_format="SUMMARY")
        )
        outcome_all = checkpoint.run(batch_parameters=None if in_duckdb else {"dataframe": frame},
                                     run_id=RunIdentifier(run_name=interval))
        if in_duckdb:
            # Close GX's DuckDB connections now: an open one in this process keeps the file
            # from being opened with another configuration (e.g. read-write, to publish).
            datasource = context.data_sources.get(f"{table}_duckdb")
            datasource.get_execution_engine().engine.dispose()
            datasource.get_engine().dispose()
        identifier, run = next(iter(outcome_all.run_results.items()))

    results = []
    for outcome in run.results:
        config = outcome.expectation_config
        if config is None:
            raise RuntimeError(f"{table}: GX returned a result without its expectation")
        result = outcome.result or {}
        severity = str(getattr(config.severity, "value", config.severity)).lower()
        observed = result.get("observed_value")
        results.append(ExpectationResult(
            table=table,
            expectation_type=config.type,
            column=_columns(config.kwargs),
            severity=severity,
            rule=(config.meta or {}).get("rule", ""),
            success=bool(outcome.success),
            element_count=result.get("element_count"),
            unexpected_count=result.get("unexpected_count"),
            observed_value=None if observed is None else json.dumps(observed, default=str)[:500],
        ))
    critical = sum(1 for r in results if not r.success and r.severity == "critical")
    warnings = sum(1 for r in results if not r.success and r.severity == "warning")
    summary = ValidationSummary(table, interval, rows, critical == 0, critical, warnings, results, None,
                                dt.datetime.now(dt.UTC).isoformat())
    summary.gx_result = (suite, identifier, run)
    if docs_root is not None:
        build_docs([summary], docs_root)
    return summary


def build_docs(summaries: list[ValidationSummary], docs_root: Path) -> None:
    """Store the summaries' GX results in the file context under `docs_root` and build their
    Data Docs pages and the index, once for all of them; sets each summary's `docs_url`."""
    _keep_compiled_templates()
    with _gx_context(docs_root) as context:
        identifiers = []
        for summary in summaries:
            suite, identifier, run = summary.gx_result
            context.suites.add_or_update(suite)  # the index lists the suites
            context.validation_results_store.store_validation_results(
                suite_validation_result=run, suite_validation_result_identifier=identifier,
                expectation_suite_identifier=identifier.expectation_suite_identifier)
            identifiers.append(identifier)
        context.build_data_docs(resource_identifiers=identifiers)
        for summary, identifier in zip(summaries, identifiers, strict=True):
            urls = context.get_docs_sites_urls(resource_identifier=identifier)
            summary.docs_url = next((u["site_url"] for u in urls if u.get("site_url")), None)


def record(summary: ValidationSummary, reports_dir: Path) -> Path:
    """Keep the result as JSON under reports/quality/ (one file per table and interval)."""
    folder = reports_dir / "quality" / summary.table
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{summary.interval}.json"
    payload = summary.as_dict()
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path


def enforce(summary: ValidationSummary) -> None:
    for result in summary.results:
        if not result.success:
            log.warning(
                "%s %s on %s (%s): %s unexpected of %s — %s",
                result.severity.upper(), result.expectation_type, summary.table, result.column,
                result.unexpected_count, result.element_count, result.rule,
            )
    if summary.critical_failures:
        raise QualityGateFailed(
            f"{summary.table} [{summary.interval}]: {summary.critical_failures} critical expectation(s) failed"
        )
