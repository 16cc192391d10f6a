"""Suite tooling beyond loading: verify reference solutions, describe a suite, import one from user files.

- :func:`evalkit.suites.verify.verify_suite` re-runs every task's reference solution (through the agent's
  own sandbox checks) and compares the result with the stored answer.
- :func:`evalkit.suites.stats.suite_stats` counts tasks by kind, difficulty, tag, answer, company, table.
- :func:`evalkit.suites.importer.import_suite` writes a suite folder from the user's tables (CSV/Parquet
  files or a DuckDB file) and questions (JSONL or CSV).

Library code only (no CLI); the modules import DuckDB lazily, so importing this package stays cheap.
"""
