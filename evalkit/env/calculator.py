"""A safe arithmetic evaluator for the agent's ``calculator`` tool (``ast`` based; no eval/exec).

Accepts ``+ - * / // % **`` (``^`` means power), unary signs, parentheses, the functions ``abs round min
max sqrt log log10 exp floor ceil`` and the constants ``pi`` and ``e``. Numbers may carry currency symbols
(``$ € £``), thousands separators (``1,234.5``, outside function-call parentheses where commas separate
arguments) and percent signs (``12%`` is 0.12). All arithmetic is in floating point; work is bounded
(input length, AST size, exponent size checked before computing), and every failure is a
:class:`CalculatorError`.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable
from decimal import Decimal

MAX_LENGTH = 500
MAX_NODES = 200
MAX_RESULT = 1e308

Number = float


class CalculatorError(ValueError):
    """The expression is not valid arithmetic, or cannot be evaluated."""


# ------------------------------------------------------------------------------------------ normalise

_REPLACE = str.maketrans({"$": " ", "€": " ", "£": " ", "×": "*", "÷": "/", "−": "-"})
_THOUSANDS = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,]|\.\d)")
_PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d*)?|\.\d+)\s*%(?=\s*(?:$|[-+*/^),]))")


def _strip_thousands(text: str) -> str:
    """Remove thousands separators from numbers that are not directly inside a function call."""
    calls: list[bool] = []  # for each open parenthesis: does it open a function call?
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "(":
            before = text[:i].rstrip()
            calls.append(bool(before) and (before[-1].isalnum() or before[-1] == "_"))
        elif ch == ")" and calls:
            calls.pop()
        elif ch.isdigit() and not (calls and calls[-1]):
            m = _THOUSANDS.match(text, i)
            if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "._")):
                out.append(m.group(0).replace(",", ""))
                i = m.end()
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def normalise(expression: str) -> str:
    """The expression with currency symbols, thousands separators and percent signs rewritten."""
    text = expression.translate(_REPLACE).replace("^", "**").strip()
    text = _strip_thousands(text)
    return _PERCENT.sub(r"(\1/100)", text)


# ------------------------------------------------------------------------------------------- evaluate


def _finite(x: float) -> float:
    if math.isnan(x):
        raise CalculatorError("result is not a number")
    if math.isinf(x) or abs(x) > MAX_RESULT:
        raise CalculatorError("result is too large")
    return x


def _pow(base: float, exp: float) -> float:
    if base == 0 and exp < 0:
        raise CalculatorError("division by zero: 0 raised to a negative power")
    if base < 0 and not float(exp).is_integer():
        raise CalculatorError("a negative number raised to a fractional power has no real value")
    if base not in (0.0, 1.0, -1.0) and exp * math.log10(abs(base)) > 308:
        raise CalculatorError("result is too large (exponent too big)")
    try:
        return float(base**exp)
    except OverflowError:
        raise CalculatorError("result is too large") from None


def _div(a: float, b: float) -> float:
    if b == 0:
        raise CalculatorError("division by zero")
    return a / b


def _floordiv(a: float, b: float) -> float:
    if b == 0:
        raise CalculatorError("division by zero")
    return float(a // b)


def _mod(a: float, b: float) -> float:
    if b == 0:
        raise CalculatorError("modulo by zero")
    return float(a % b)


_BINOPS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: _div,
    ast.FloorDiv: _floordiv,
    ast.Mod: _mod,
    ast.Pow: _pow,
}


def _sqrt(x: float) -> float:
    if x < 0:
        raise CalculatorError("sqrt of a negative number")
    return math.sqrt(x)


def _log(x: float, base: float | None = None) -> float:
    if x <= 0:
        raise CalculatorError("log of a number that is not positive")
    if base is None:
        return math.log(x)
    if base <= 0 or base == 1:
        raise CalculatorError("log base must be positive and not 1")
    return math.log(x) / math.log(base)


def _log10(x: float) -> float:
    if x <= 0:
        raise CalculatorError("log10 of a number that is not positive")
    return math.log10(x)


def _exp(x: float) -> float:
    if x > 709:
        raise CalculatorError("result is too large")
    return math.exp(x)


def _round(x: float, ndigits: float = 0) -> float:
    if not float(ndigits).is_integer() or abs(ndigits) > 20:
        raise CalculatorError("round's second argument must be a whole number of digits (at most 20)")
    return float(round(x, int(ndigits)))


#: name -> (function, minimum arguments, maximum arguments or None for any)
_FUNCS: dict[str, tuple[Callable[..., float], int, int | None]] = {
    "abs": (abs, 1, 1),
    "round": (_round, 1, 2),
    "min": (lambda *args: min(args), 1, None),
    "max": (lambda *args: max(args), 1, None),
    "sqrt": (_sqrt, 1, 1),
    "log": (_log, 1, 2),
    "ln": (_log, 1, 1),
    "log10": (_log10, 1, 1),
    "exp": (_exp, 1, 1),
    "floor": (lambda x: float(math.floor(x)), 1, 1),
    "ceil": (lambda x: float(math.ceil(x)), 1, 1),
}
_CONSTS: dict[str, float] = {"pi": math.pi, "e": math.e}


def _eval(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise CalculatorError(f"only numbers are allowed, not {node.value!r}")
        try:
            return _finite(float(node.value))
        except OverflowError:
            raise CalculatorError("number is too large") from None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _eval(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return _finite(_BINOPS[type(node.op)](_eval(node.left), _eval(node.right)))
    if isinstance(node, ast.Name):
        if node.id in _CONSTS:
            return _CONSTS[node.id]
        raise CalculatorError(f"unknown name {node.id!r}: use numbers only (constants: pi, e)")
    if isinstance(node, ast.Call):
        return _call(node)
    raise CalculatorError(f"{type(node).__name__} is not allowed: use numbers, + - * / // % ** and functions")


def _call(node: ast.Call) -> float:
    name = node.func.id if isinstance(node.func, ast.Name) else None
    if name is None or name not in _FUNCS:
        label = repr(name) if name else "this function"
        raise CalculatorError(f"unknown function {label}; allowed: {', '.join(_FUNCS)}")
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise CalculatorError(f"{name}() takes plain positional arguments")
    func, lo, hi = _FUNCS[name]
    n = len(node.args)
    if n < lo or (hi is not None and n > hi):
        count = f"{lo}" if lo == hi else f"{lo} to {hi}" if hi is not None else f"at least {lo}"
        hint = " (write numbers inside function calls without thousands separators)" if n > lo else ""
        raise CalculatorError(f"{name}() takes {count} argument(s), got {n}{hint}")
    return _finite(float(func(*[_eval(a) for a in node.args])))


def calculate(expression: str) -> float:
    """Evaluate one arithmetic expression; :class:`CalculatorError` for anything invalid."""
    if not isinstance(expression, str):
        raise CalculatorError("the expression must be a string")
    if len(expression) > MAX_LENGTH:
        raise CalculatorError(f"expression is too long (over {MAX_LENGTH} characters)")
    text = normalise(expression)
    if not text:
        raise CalculatorError("empty expression")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        raise CalculatorError(f"not a valid arithmetic expression: {e.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise CalculatorError("not a valid arithmetic expression") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise CalculatorError(f"expression is too complex (over {MAX_NODES} parts)")
    try:
        result = _eval(tree)
    except CalculatorError:
        raise
    except (ArithmeticError, ValueError, TypeError, RecursionError) as e:
        raise CalculatorError(f"cannot evaluate: {e}") from None
    return 0.0 if result == 0 else result


def format_number(value: float) -> str:
    """``value`` with up to 10 significant digits, without an exponent for ordinary magnitudes."""
    if value == 0:
        return "0"
    text = f"{value:.10g}"
    if "e" in text and 1e-6 <= abs(value) < 1e15:
        text = format(Decimal(text), "f")
    return text
