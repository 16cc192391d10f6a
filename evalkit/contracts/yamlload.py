"""User YAML read by PyYAML's own safe loader, with what a contract needs on top: the line of every value,
duplicate keys caught, and hostile documents refused with ``file:line key.path: problem``.

PyYAML handles anchors, aliases and merge keys (``<<:``) itself; :class:`LineLoader` (a ``SafeLoader``)
adds, before anything is constructed, one walk over the composed nodes that

- records the line of every value by key path (an aliased value has several paths, so lines cannot be
  recorded while constructing, which PyYAML does once per node);
- refuses a recursive alias (``&a [*a]``) and bounds alias expansion: a billion-laughs document is
  refused once the values reached again through aliases pass ``MAX_ALIAS_NODES`` and ``ALIAS_RATIO``
  times the document's own values, instead of hanging whatever walks the data next (the schema
  validator, the content hash). The bound grows with the document, so a big suite written by
  ``yaml.dump``, which makes an alias of every repeated object, is not taken for a bomb;
- refuses tags beyond plain YAML (``!!python/...``, ``!!binary``, ``!!set``, ``!!timestamp``, ``!local``):
  evalkit's files hold text, numbers, booleans, lists and mappings only. A date written without a tag
  (``2024-06-30``) is kept as the text it is, since every evalkit key that could hold one wants text;
- refuses numbers that are not finite (``.nan``, ``.inf``, ``1e999``): no tolerance, weight or threshold
  can be NaN or infinite;
- refuses nesting deeper than ``MAX_DEPTH``.

``construct_mapping`` is overridden to catch duplicate keys (a merged key that the mapping overrides is
not one) and to make every key a string, as JSON Schema validation expects.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any

import yaml

from evalkit.contracts.yamlfile import PathKey, format_path
from evalkit.errors import SpecError

#: Values reached again through aliases (beyond their first appearance) before a document may be refused...
MAX_ALIAS_NODES = 100_000
#: ...and how many times its own distinct values they must also be (what is walked stays linear in its size).
ALIAS_RATIO = 10
#: Nesting of lists and mappings beyond which a document is refused.
MAX_DEPTH = 100

_CORE = "tag:yaml.org,2002:"
_MERGE = _CORE + "merge"
_FLOAT = _CORE + "float"
_ALLOWED_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null", "seq", "map", "merge"))


class _Stop(Exception):
    """The walk cannot go on (an alias bomb): report what was found so far."""


def _shown_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag


_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML was built with it (several times faster on a big suite), else PyYAML's."""


class LineLoader(_SAFE_LOADER):  # type: ignore[valid-type,misc]
    """PyYAML's safe loader that records lines, catches duplicate keys and refuses hostile documents."""

    # No implicit timestamps: an unquoted date stays the text written. PyYAML reads this as a class
    # attribute, though its stubs declare an instance variable (hence no ClassVar).
    yaml_implicit_resolvers = {  # noqa: RUF012
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _CORE + "timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, text: str, file: Path) -> None:
        super().__init__(text)
        self.file = file
        self.lines: dict[PathKey, int] = {}
        self.problems: list[str] = []
        self._paths: dict[int, PathKey] = {}
        self._again = 0

    # ------------------------------------------------------------------------------ the walk over nodes

    def check(self, root: yaml.Node) -> None:
        """Walk the composed document once (see the module docstring); problems go to ``self.problems``."""
        with contextlib.suppress(_Stop):
            self._walk(root, (), set(), root.start_mark.line + 1)

    def _problem(self, line: int, path: PathKey, message: str) -> None:
        where = f"{self.file}:{line}" + (f" {format_path(path)}" if path else "")
        self.problems.append(f"{where}: {message}")

    def _walk(self, node: yaml.Node, path: PathKey, stack: set[int], use_line: int) -> None:
        key = id(node)
        line = node.start_mark.line + 1
        if key in stack:
            self._problem(use_line, path, "recursive alias: the value contains itself")
            return
        if key in self._paths:  # reached again through an alias
            line = use_line
            self._again += 1
            if self._again > MAX_ALIAS_NODES and self._again > ALIAS_RATIO * len(self._paths):
                self._problem(use_line, path, f"aliases expand to more than {ALIAS_RATIO} times the document's "
                              f"{len(self._paths):,} values (an alias bomb?); write the values out or use fewer "
                              "aliases")  # fmt: skip
                raise _Stop
        else:
            self._paths[key] = path
        self.lines[path] = line
        if node.tag not in _ALLOWED_TAGS:
            tag = _shown_tag(node.tag)
            self._problem(line, path, f"the tag {tag} is not allowed (evalkit reads text, numbers, true/false, lists "
                          "and mappings; quote the value to keep it as text)")  # fmt: skip
            return
        if len(stack) >= MAX_DEPTH:
            self._problem(line, path, f"nested too deep (more than {MAX_DEPTH} levels of lists and mappings)")
            raise _Stop
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _FLOAT and not math.isfinite(self.construct_yaml_float(node)):
                self._problem(line, path, f"{node.value} is not a finite number (give a finite number)")
            return
        stack.add(key)
        try:
            if isinstance(node, yaml.SequenceNode):
                for i, item in enumerate(node.value):
                    item_line = line if id(item) in self._paths else item.start_mark.line + 1
                    self._walk(item, (*path, i), stack, item_line)
            elif isinstance(node, yaml.MappingNode):
                for key_node, value_node in self._pairs(node, path, stack):
                    name = self._key(key_node, path)
                    if name is not None:
                        self._walk(value_node, (*path, name), stack, key_node.start_mark.line + 1)
        finally:
            stack.discard(key)

    def _pairs(self, node: yaml.MappingNode, path: PathKey, stack: set[int]) -> list[tuple[yaml.Node, yaml.Node]]:
        """The key/value pairs of a mapping as PyYAML's merge gives them: merged ones first, own ones after."""
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        own: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE:
                own.append((key_node, value_node))
                continue
            line = key_node.start_mark.line + 1
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    self._problem(line, path, "<< (merge) needs a mapping or a list of mappings")
                elif id(source) in stack or source is node:
                    self._problem(line, path, "recursive alias: the merged mapping contains this one")
                else:
                    stack.add(id(source))
                    try:
                        merged += self._pairs(source, path, stack)
                    finally:
                        stack.discard(id(source))
        return merged + own

    def _key(self, key_node: yaml.Node, path: PathKey) -> str | None:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            self._problem(line, path, "a key must be plain text, not a list or a mapping")
            return None
        if key_node.tag not in _ALLOWED_TAGS:
            self._problem(line, path, f"the tag {_shown_tag(key_node.tag)} is not allowed on a key")
            return None
        return str(self.construct_object(key_node))

    # --------------------------------------------------------------------------- PyYAML's constructor

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        path = self._paths.get(id(node), ())
        first: dict[str, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            name = str(self.construct_object(key_node))
            line = key_node.start_mark.line + 1
            if name in first:
                self._problem(line, (*path, name), f"duplicate key (first at line {first[name]})")
            else:
                first[name] = line
        self.flatten_mapping(node)
        return {str(self.construct_object(k)): self.construct_object(v, deep=deep) for k, v in node.value}


# ------------------------------------------------------------------------------------------- reading


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {column}); save the file as UTF-8"
        ) from None


def _line_at(text: str, position: int) -> int:
    return text.count("\n", 0, max(0, position)) + 1


def read_yaml(path: Path) -> tuple[Any, dict[PathKey, int]]:
    """The data of one YAML file and the line of each of its values by key path (see the module docstring)."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise SpecError(f"{path}: file not found") from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot read ({exc.strerror or exc})") from None
    text = _decode(path, raw)
    if "\x00" in text:
        raise SpecError(f"{path}:{_line_at(text, text.index(chr(0)))}: a NUL character is not allowed in YAML text")
    loader = LineLoader(text, path)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            where = f"{path}:{loader.get_mark().line + 1}"
            raise SpecError(f"{where}: nested too deep (more than {MAX_DEPTH} levels of lists and mappings)") from None
        if node is None:
            return None, {(): 1}
        loader.check(node)
        if not loader.problems:
            data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = str(exc.problem or exc.context or exc)
        if "nesting depth" in problem:  # libyaml's own bound, met before ours
            raise SpecError(
                f"{path}:{line}: nested too deep (more than {MAX_DEPTH} levels of lists and mappings)"
            ) from None
        raise SpecError(f"{path}:{line}: invalid YAML: {problem}") from None
    except yaml.reader.ReaderError as exc:
        raise SpecError(
            f"{path}:{_line_at(text, exc.position)}: the character #x{exc.character:04x} is not allowed in YAML text"
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    if loader.problems:
        raise SpecError(f"{path} is not valid", list(dict.fromkeys(loader.problems)))
    return data, loader.lines
