"""The bad-input corpus: one malformed file each, made by mutating a copy of the valid project files.

Each mutation names the file it changes (relative to the project folder the test builds: the ``mini``
suite under ``mini/``, plus ``evalkit.yaml``, ``rubric.yaml`` with its plugin ``checks.py``, ``gate.yaml``),
the command that reads it, and what the message must say: the file with the line of ``line_of`` (the first
line of the mutated file that contains it), the key path, and any other words. Every one must exit 2 with
that message and no traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Edit = Callable[[bytes], bytes]

SUITE = "mini/suite/suite.yaml"
TASKS = "mini/suite/tasks.yaml"
CATALOG = "mini/data/catalog.yaml"
HEADCOUNT = "mini/data/tables/acme_headcount.csv"
SEGMENTS = "mini/data/tables/zenith_segment_revenue.csv"
CONFIG = "evalkit.yaml"
RUBRIC = "rubric.yaml"
PLUGIN = "checks.py"
GATE = "gate.yaml"


@dataclass(frozen=True)
class Mutation:
    id: str
    file: str
    edit: Edit
    command: str  # validate | verify | run | score | gate
    line_of: str | bytes | None = None  # the message names the line of the mutated file holding this
    lined: bool = True  # the message names some line of the file (when line_of is not given)
    key: str | None = None  # the key path the message names
    says: tuple[str, ...] = ()  # other words the message holds
    extra: tuple[tuple[str, Edit], ...] = field(default=())  # further files changed with it


def sub(old: str | bytes, new: str | bytes) -> Edit:
    """Replace the first ``old`` (which must be there, so a changed fixture fails loudly)."""
    o = old.encode() if isinstance(old, str) else old
    n = new.encode() if isinstance(new, str) else new

    def edit(data: bytes) -> bytes:
        assert o in data, f"{old!r} is not in the file to mutate"
        return data.replace(o, n, 1)

    return edit


def append(text: str | bytes) -> Edit:
    extra = text.encode() if isinstance(text, str) else text
    return lambda data: data + extra


def write(text: str | bytes) -> Edit:
    content = text.encode() if isinstance(text, str) else text
    return lambda _data: content


def bomb(key: str, indent: str = "") -> str:
    """A billion-laughs mapping under ``key``: nine levels of ten aliases, 10**10 strings when expanded."""
    lines = [f"{indent}{key}:", f"{indent}  a0: &a0 [{', '.join(['lol'] * 10)}]"]
    lines += [f"{indent}  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


def deep(depth: int = 3000) -> str:
    return "[" * depth + "]" * depth


NESTED_SQL = "SELECT " + "(" * 50 + "total_revenue" + ")" * 50 + " FROM acme_income_statement WHERE fiscal_year = 2023"

_YAML_FILES = {
    # file: (command, a line to break, the key path of that line's value, the text of the value)
    "suite": (SUITE, "validate", "Four tasks", "description"),
    "tasks": (TASKS, "validate", "By how much", "tasks[1].question"),
    "catalog": (CATALOG, "validate", "A tiny two-company", "description"),
    "config": (CONFIG, "run", "temperature: 0.0", "models.agent.temperature"),
    "rubric": (RUBRIC, "score", "Inspected the schema", "criteria[0].description"),
    "gate": (GATE, "gate", "accuracy: 0.0", "thresholds.accuracy"),
}


def _every_yaml_file() -> list[Mutation]:
    """The mutations every YAML file gets: bytes that are not UTF-8, a NUL, a syntax error, an alias bomb, a
    recursive alias, a Python tag, a ``!!timestamp``, a duplicate key, nesting too deep, a bad merge."""
    out: list[Mutation] = []
    for name, (file, command, text, _key) in _YAML_FILES.items():
        out += [
            Mutation(f"{name}-not-utf8", file, sub(text, b"\xff\xfe" + text.encode()), command, text, says=("UTF-8",)),
            Mutation(f"{name}-latin1", file, sub(text, "é".encode("latin-1") + text.encode()), command, text),
            Mutation(f"{name}-nul-byte", file, sub(text, "\x00" + text), command, text, says=("NUL",)),
            Mutation(f"{name}-alias-bomb", file, append(bomb("x_bomb")), command, says=("alias",)),
            Mutation(f"{name}-deep-nesting", file, append(f"x_deep: {deep()}\n"), command, says=("deep",)),
            Mutation(
                f"{name}-python-tag",
                file,
                append("x_py: !!python/object/apply:os.system ['true']\n"),
                command,
                "x_py",
                key="x_py",
                says=("!!python/object/apply:os.system",),
            ),
            Mutation(
                f"{name}-timestamp-tag",
                file,
                append("x_date: !!timestamp 2024-01-01\n"),
                command,
                "x_date",
                key="x_date",
                says=("!!timestamp",),
            ),
            Mutation(
                f"{name}-local-tag",
                file,
                append("x_inc: !include other.yaml\n"),
                command,
                "x_inc",
                key="x_inc",
                says=("!include",),
            ),
            Mutation(
                f"{name}-recursive-alias",
                file,
                append("x_loop: &loop\n  again: *loop\n"),
                command,
                "again: *loop",
                key="x_loop.again",
                says=("recursive",),
            ),
            Mutation(f"{name}-merge-not-mapping", file, append("x_merge:\n  <<: 5\n"), command, "<<: 5"),
            Mutation(
                f"{name}-duplicate-top-key",
                file,
                append("x_twice: 1\nx_twice: 2\n"),
                command,
                "x_twice: 2",
                key="x_twice",
                says=("duplicate",),
            ),
        ]
    return out


_SUITE = [
    Mutation("suite-syntax", SUITE, sub("name: mini", "name: [mini"), "validate"),
    Mutation(
        "suite-binary-tag",
        SUITE,
        sub("description: Four", "description: !!binary aGVsbG8=\nx: Four"),
        "validate",
        "!!binary",
        key="description",
        says=("!!binary",),
    ),
    Mutation(
        "suite-set-tag",
        SUITE,
        sub("description: Four tasks", "description: !!set {a, b}\nx: Four tasks"),
        "validate",
        "!!set",
        key="description",
    ),
    Mutation(
        "suite-merge-unknown-key",
        SUITE,
        sub("  max_turns: 12", "  <<: {max_turn: 3}\n  max_turns: 12"),
        "validate",
        "max_turn: 3",
        key="settings.max_turn",
        says=("max_turns",),
    ),
    Mutation(
        "suite-tasks-file-missing",
        SUITE,
        sub("tasks: tasks.yaml", "tasks: taks.yaml"),
        "validate",
        "tasks: taks.yaml",
        key="tasks",
        says=("taks.yaml",),
    ),
    Mutation(
        "suite-database-missing",
        SUITE,
        sub("database: ../data", "database: ../dta"),
        "validate",
        "database:",
        key="database",
    ),
    Mutation(
        "suite-unknown-setting",
        SUITE,
        sub("max_turns: 12", "max_turn: 12"),
        "validate",
        "max_turn",
        key="settings.max_turn",
        says=("did you mean 'max_turns'",),
    ),
    Mutation(
        "suite-nan-timeout",
        SUITE,
        append("  query_timeout_s: .nan\n"),
        "validate",
        "query_timeout_s",
        key="settings.query_timeout_s",
        says=("finite",),
    ),
    Mutation("suite-empty", SUITE, write(""), "validate", lined=False, says=("suite.yaml",)),
    Mutation("suite-utf16", SUITE, lambda d: d.decode().encode("utf-16"), "validate", says=("UTF-8",)),
]

_STEP_T4 = 'sql: "SELECT segment FROM zenith_segment_revenue'


def _t4_sql(sql: str) -> Edit:
    return sub(_STEP_T4 + ' WHERE fiscal_year = 2024 ORDER BY revenue DESC LIMIT 1"', f'sql: "{sql}"')


_T4 = "tasks[3].reference.steps[0].sql"

_TASKS = [
    Mutation(
        "tasks-nan-answer",
        TASKS,
        sub("value: 1350.0", "value: .nan"),
        "validate",
        "value: .nan",
        key="tasks[0].answer.value",
        says=("finite",),
    ),
    Mutation(
        "tasks-inf-answer",
        TASKS,
        sub("value: 11.11", "value: -.inf"),
        "validate",
        "value: -.inf",
        key="tasks[1].answer.value",
    ),
    Mutation(
        "tasks-overflow-answer",
        TASKS,
        sub("value: 250.0", "value: 1e999"),
        "validate",
        "1e999",
        key="tasks[2].answer.value",
    ),
    Mutation(
        "tasks-nan-tolerance",
        TASKS,
        sub("rel: 0.001", "rel: .NaN"),
        "validate",
        ".NaN",
        key="tasks[0].answer.tolerance.rel",
    ),
    Mutation(
        "tasks-misspelled-table",
        TASKS,
        sub("acme_income_statement, acme_headcount]", "acme_income_statement, acme_headcont]"),
        "validate",
        "acme_headcont]",
        key="tasks[2].tables[1]",
        says=("did you mean 'acme_headcount'",),
    ),
    Mutation(
        "tasks-misspelled-step-table",
        TASKS,
        sub("{bind: emp, table: acme_headcount", "{bind: emp, table: acme_headcounts"),
        "validate",
        "acme_headcounts",
        key="tasks[2].reference.steps[1].table",
        says=("did you mean 'acme_headcount'",),
    ),
    Mutation(
        "tasks-unknown-company",
        TASKS,
        sub("company: zenith", "company: zenit"),
        "validate",
        "company: zenit",
        key="tasks[3].company",
        says=("zenith",),
    ),
    Mutation(
        "tasks-broken-compute",
        TASKS,
        sub("compute: rev * 1000 / emp", "compute: rev * / emp"),
        "validate",
        "compute: rev * / emp",
        key="tasks[2].reference.compute",
    ),
    Mutation(
        "tasks-compute-unknown-name",
        TASKS,
        sub("compute: rev * 1000 / emp", "compute: rev * 1000 / staff"),
        "validate",
        "staff",
        key="tasks[2].reference.compute",
        says=("staff",),
    ),
    Mutation(
        "tasks-compute-import",
        TASKS,
        sub("compute: rev\n", "compute: \"__import__('os')\"\n"),
        "validate",
        "__import__",
        key="tasks[0].reference.compute",
    ),
    Mutation(
        "tasks-sql-reads-file",
        TASKS,
        _t4_sql("SELECT segment FROM read_csv('/etc/passwd')"),
        "validate",
        "/etc/passwd",
        key=_T4,
        says=("refused",),
    ),
    Mutation("tasks-sql-drop", TASKS, _t4_sql("DROP TABLE zenith_segment_revenue"), "validate", "DROP", key=_T4),
    Mutation("tasks-sql-attach", TASKS, _t4_sql("ATTACH '/tmp/x.db' AS x"), "validate", "ATTACH", key=_T4),
    Mutation("tasks-sql-two-statements", TASKS, _t4_sql("SELECT 1; SELECT 2"), "validate", "SELECT 1;", key=_T4),
    Mutation(
        "tasks-sql-settings",
        TASKS,
        _t4_sql("SELECT current_setting('memory_limit')"),
        "validate",
        "current_setting",
        key=_T4,
    ),
    Mutation(
        "tasks-sql-syntax",
        TASKS,
        _t4_sql("SELEC segment FROM zenith_segment_revenue"),
        "validate",
        "SELEC segment",
        key=_T4,
    ),
    Mutation("tasks-sql-nested-50", TASKS, _t4_sql(NESTED_SQL), "validate", "((((", key=_T4, says=("nested",)),
    Mutation(
        "tasks-duplicate-key",
        TASKS,
        sub("    kind: multi_table\n", "    kind: multi_table\n    kind: single_table\n"),
        "validate",
        "    kind: single_table\n    difficulty: medium\n    tags: [per_employee]",
        key="tasks[2].kind",
        says=("duplicate",),
    ),
    Mutation(
        "tasks-merge-unknown-key",
        TASKS,
        sub("answer: {kind: text, value: Cloud}", "answer: {<<: {valu: 3}, kind: text, value: Cloud}"),
        "validate",
        "valu: 3",
        key="tasks[3].answer.valu",
        says=("did you mean 'value'",),
    ),
    Mutation(
        "tasks-merge-list-of-scalars",
        TASKS,
        sub("answer: {kind: text, value: Cloud}", "answer: {<<: [1, 2], kind: text, value: Cloud}"),
        "validate",
        "<<: [1, 2]",
    ),
    Mutation(
        "tasks-recursive-list",
        TASKS,
        sub("tags: [lookup]", "tags: &tags [lookup, *tags]"),
        "validate",
        "&tags",
        key="tasks[0].tags[1]",
        says=("recursive",),
    ),
    Mutation(
        "tasks-unknown-key",
        TASKS,
        sub("    difficulty: easy\n", "    dificulty: easy\n"),
        "validate",
        "dificulty",
        key="tasks[0].dificulty",
        says=("did you mean 'difficulty'",),
    ),
    Mutation(
        "tasks-wrong-type",
        TASKS,
        sub("value: 1350.0", 'value: "lots"'),
        "validate",
        '"lots"',
        key="tasks[0].answer.value",
    ),
    Mutation(
        "tasks-bad-unit",
        TASKS,
        sub("unit: USD millions", "unit: USD milions"),
        "validate",
        "USD milions",
        key="tasks[0].answer.unit",
    ),
    Mutation(
        "tasks-duplicate-id",
        TASKS,
        sub("- id: t2", "- id: t1"),
        "validate",
        "- id: t1\n    question: By",
        key="tasks[1].id",
        says=("duplicate",),
    ),
    Mutation(
        "tasks-negative-tolerance",
        TASKS,
        sub("abs: 0.05", "abs: -1"),
        "validate",
        "abs: -1",
        key="tasks[1].answer.tolerance.abs",
    ),
    Mutation(
        "tasks-repeated-bind",
        TASKS,
        sub("{bind: rev_2023", "{bind: rev_2024"),
        "validate",
        "- {bind: rev_2024, table",
        key="tasks[1].reference.steps",
        says=("repeat",),
    ),
    Mutation(
        "tasks-bad-bind-name",
        TASKS,
        sub("{bind: top,", "{bind: 1top,"),
        "validate",
        "1top",
        key="tasks[3].reference.steps[0].bind",
    ),
    Mutation("tasks-empty-sql", TASKS, _t4_sql(""), "validate", 'sql: ""', key=_T4),
    Mutation("tasks-list-at-top", TASKS, write("- a\n- b\n"), "validate", "- a"),
]

_CATALOG = [
    Mutation(
        "catalog-bad-type",
        CATALOG,
        sub("type: INTEGER", "type: INTEGR"),
        "validate",
        "INTEGR",
        key="tables[0].columns[0].type",
    ),
    Mutation(
        "catalog-unknown-company",
        CATALOG,
        sub("company: zenith", "company: zenth"),
        "validate",
        "zenth",
        key="tables[2].company",
    ),
    Mutation(
        "catalog-duplicate-table",
        CATALOG,
        sub("- name: acme_headcount", "- name: acme_income_statement"),
        "validate",
        "- name: acme_income_statement\n    company: acme\n    file: tables/acme_headcount",
        key="tables[1].name",
        says=("duplicate",),
    ),
    Mutation(
        "catalog-missing-file",
        CATALOG,
        sub("file: tables/acme_headcount.csv", "file: tables/acme_headcont.csv"),
        "validate",
        "acme_headcont",
        key="tables[1].file",
    ),
    Mutation(
        "catalog-file-outside",
        CATALOG,
        sub("file: tables/acme_headcount.csv", "file: ../../etc/passwd.csv"),
        "validate",
        "passwd",
        key="tables[1].file",
    ),
    Mutation(
        "catalog-duplicate-column-key",
        CATALOG,
        sub("{name: employees, type: INTEGER,", "{name: employees, type: INTEGER, type: DOUBLE,"),
        "validate",
        "type: INTEGER, type: DOUBLE",
        key="tables[1].columns[1].type",
        says=("duplicate",),
    ),
    Mutation(
        "catalog-column-without-type",
        CATALOG,
        sub("{name: employees, type: INTEGER,", "{name: employees,"),
        "validate",
        "{name: employees,",
        key="tables[1].columns[1]",
        says=("type",),
    ),
    Mutation(
        "catalog-timestamp-year-end",
        CATALOG,
        sub("fiscal_year_end: June 30", "fiscal_year_end: !!timestamp 2024-06-30"),
        "validate",
        "!!timestamp",
        key="companies[1].fiscal_year_end",
    ),
]

_CSV = [
    Mutation("csv-not-utf8", HEADCOUNT, sub("2023,5400", b"2023,54\xff00"), "validate", b"\xff", says=("UTF-8",)),
    Mutation("csv-nul-byte", HEADCOUNT, sub("2023,5400", "2023,54\x0000"), "validate", "\x00", says=("NUL",)),
    Mutation(
        "csv-extra-field", HEADCOUNT, sub("2023,5400", "2023,5400,12"), "validate", "2023,5400,12", says=("3 fields",)
    ),
    Mutation("csv-missing-field", HEADCOUNT, sub("2023,5400", "2023"), "validate", "2023\n", says=("1 field",)),
    Mutation(
        "csv-huge-field",
        SEGMENTS,
        sub("2023,Services", "2023," + "S" * 200_000),
        "validate",
        "SSSS",
        key="segment",
        says=("131072",),
    ),
    Mutation("csv-unterminated-quote", HEADCOUNT, sub("2024,6000", '2024,"6000'), "validate", '"6000', says=("quote",)),
    Mutation(
        "csv-bad-integer",
        HEADCOUNT,
        sub("2023,5400", "2023,54x0"),
        "validate",
        "54x0",
        key="employees",
        says=("INTEGER",),
    ),
    Mutation("csv-empty-file", HEADCOUNT, write(""), "validate", lined=False, says=("acme_headcount.csv", "empty")),
    Mutation(
        "csv-misspelled-header",
        HEADCOUNT,
        sub("fiscal_year,employees", "fiscal_year,employes"),
        "validate",
        lined=False,
        says=("did you mean 'employees'",),
    ),
    Mutation("csv-utf16", SEGMENTS, lambda d: d.decode().encode("utf-16"), "validate", says=("UTF-8",)),
]

_CONFIG = [
    Mutation(
        "config-unknown-key",
        CONFIG,
        sub("temperature: 0.0", "temprature: 0.0"),
        "run",
        "temprature",
        key="models.agent.temprature",
        says=("did you mean 'temperature'",),
    ),
    Mutation(
        "config-missing-model",
        CONFIG,
        sub("    model: scripted/disciplined\n", ""),
        "run",
        "temperature: 0.0",
        key="models.agent",
        says=("model",),
    ),
    Mutation(
        "config-nan-temperature",
        CONFIG,
        sub("temperature: 0.0", "temperature: .nan"),
        "run",
        ".nan",
        key="models.agent.temperature",
        says=("finite",),
    ),
    Mutation(
        "config-duplicate-alias",
        CONFIG,
        append("  agent:\n    model: scripted/reckless\n"),
        "run",
        "  agent:\n    model: scripted/reckless",
        key="models.agent",
        says=("duplicate",),
    ),
    Mutation(
        "config-bad-protocol",
        CONFIG,
        append("    tool_protocol: xml\n"),
        "run",
        "xml",
        key="models.agent.tool_protocol",
    ),
    Mutation("config-merge-alias", CONFIG, append("  other:\n    <<: *nothing\n"), "run", "*nothing"),
]

_RUBRIC = [
    Mutation(
        "rubric-unknown-arg",
        RUBRIC,
        sub("args: {mode: fraction}", "args: {mod: fraction}"),
        "score",
        "mod: fraction",
        key="criteria[0].args.mod",
        says=("did you mean 'mode'",),
    ),
    Mutation(
        "rubric-unknown-check",
        RUBRIC,
        sub("check: inspected_schema", "check: inspected_shema"),
        "score",
        "inspected_shema",
        key="criteria[0].check",
        says=("did you mean 'inspected_schema'",),
    ),
    Mutation(
        "rubric-plugin-missing",
        RUBRIC,
        sub("plugins: [checks.py]", "plugins: [chekcs.py]"),
        "score",
        "chekcs.py",
        key="plugins[0]",
        says=("not found",),
    ),
    Mutation(
        "rubric-plugin-raises-on-import",
        PLUGIN,
        append("raise RuntimeError('broken plugin')\n"),
        "score",
        "broken plugin",
        says=("checks.py", "RuntimeError", "broken plugin"),
    ),
    Mutation(
        "rubric-plugin-syntax-error",
        PLUGIN,
        append("def broken(:\n"),
        "score",
        "def broken(",
        says=("checks.py", "SyntaxError"),
    ),
    Mutation(
        "rubric-plugin-missing-import",
        PLUGIN,
        sub("from evalkit", "import not_a_module_here\nfrom evalkit"),
        "score",
        "not_a_module_here",
        says=("checks.py", "not_a_module_here"),
    ),
    Mutation(
        "rubric-nan-weight",
        RUBRIC,
        sub("weight: 2", "weight: .nan"),
        "score",
        ".nan",
        key="criteria[0].weight",
        says=("finite",),
    ),
    Mutation(
        "rubric-check-and-judge",
        RUBRIC,
        sub("    category: grounding\n", '    category: grounding\n    judge: {prompt: "Is it good?"}\n'),
        "score",
        "- id: calculator",
        key="criteria[1]",
    ),
    Mutation(
        "rubric-include-missing",
        RUBRIC,
        append("include: [nowhere.yaml]\n"),
        "score",
        "include:",
        key="include[0]",
        says=("nowhere.yaml",),
    ),
    Mutation(
        "rubric-bad-category",
        RUBRIC,
        sub("category: discovery", "category: discovry"),
        "score",
        "discovry",
        key="criteria[0].category",
    ),
]

_GATE = [
    Mutation(
        "gate-unknown-key",
        GATE,
        sub("accuracy: 0.0", "acuracy: 0.0"),
        "gate",
        "acuracy",
        key="thresholds.acuracy",
        says=("did you mean 'accuracy'",),
    ),
    Mutation(
        "gate-nan-margin",
        GATE,
        sub("margin: 0.02", "margin: .nan"),
        "gate",
        ".nan",
        key="regression.margin",
        says=("finite",),
    ),
    Mutation(
        "gate-wrong-type", GATE, sub("accuracy: 0.0", "accuracy: high"), "gate", "high", key="thresholds.accuracy"
    ),
    Mutation(
        "gate-duplicate-key",
        GATE,
        sub("  margin: 0.02\n", "  margin: 0.02\n  margin: 0.5\n"),
        "gate",
        "margin: 0.5",
        key="regression.margin",
        says=("duplicate",),
    ),
]

MUTATIONS: list[Mutation] = [*_every_yaml_file(), *_SUITE, *_TASKS, *_CATALOG, *_CSV, *_CONFIG, *_RUBRIC, *_GATE]
