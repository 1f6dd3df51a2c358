"""Read one county's YAML file, refusing a bad one with the file, the line and the reason.

The YAML is composed into nodes first, so every key and list item keeps its line; pydantic's
error locations and the cross-section checks' paths are mapped back to those lines.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import ValidationError

from xinfang.county.checks import problems as cross_section_problems
from xinfang.county.model import County

Key = tuple[str, ...]
M = TypeVar("M")
REASONS = {  # pydantic error type → Chinese, shown before pydantic's English message
    "missing": "缺少必填项", "extra_forbidden": "未知的字段", "string_type": "应为文字",
    "int_type": "应为整数", "int_parsing": "应为整数", "int_from_float": "应为整数",
    "float_type": "应为数字", "float_parsing": "应为数字", "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false", "literal_error": "取值不在允许范围内",
    "date_type": "应为日期 YYYY-MM-DD", "date_parsing": "应为日期 YYYY-MM-DD",
    "date_from_datetime_inexact": "应为日期 YYYY-MM-DD", "list_type": "应为列表",
    "dict_type": "应为映射", "model_type": "应为映射", "model_attributes_type": "应为映射",
    "greater_than": "数值太小", "greater_than_equal": "数值太小", "less_than": "数值太大",
    "less_than_equal": "数值太大", "string_pattern_mismatch": "格式不符",
    "string_too_short": "不能为空", "string_too_long": "太长", "too_short": "条目太少",
}


@dataclass(frozen=True)
class ConfigProblem:
    """One problem of a county file: where it is and why it is refused."""

    file: str
    line: int | None
    path: str
    reason: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.reason}" if self.path else f"{where}: {self.reason}"


class ConfigFileError(ValueError):
    """A configuration file is refused; str() lists every problem as ``file:line: path: reason``."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


class CountyConfigError(ConfigFileError):
    """A county file is refused."""


class _Loader(yaml.SafeLoader):
    """SafeLoader whose impossible dates (2027-02-30) are refused with their line."""

    def construct_yaml_timestamp(self, node: yaml.Node):  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"无效的日期 invalid date {node.value!r}: {exc}", node.start_mark) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def load_county(path: str | PathLike[str]) -> County:
    """Load and validate a county file; CountyConfigError names file, line and reason."""
    return load_checked(path, County, cross_section_problems, CountyConfigError)


def load_checked(path: str | PathLike[str], model: type[M], checks: Callable[[M], Iterable[tuple[tuple, str]]],
                 error: type[ConfigFileError]) -> M:
    """Load a YAML file into a pydantic ``model``, then run the cross-section ``checks`` over it; ``error`` lists
    every problem with its file, line and reason (the county file, and the city file of ``xinfang.city``)."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error([ConfigProblem(name, None, "", f"无法读取 cannot read: {exc}")]) from None
    data, lines, problems = _parse(name, text)
    if problems:
        raise error(problems)
    try:
        loaded = model.model_validate(data)
    except ValidationError as exc:
        raise error(_sorted([_from_pydantic(name, lines, e) for e in exc.errors()])) from None
    found = [_problem(name, lines, path, reason) for path, reason in checks(loaded)]
    if found:
        raise error(_sorted(found))
    return loaded


def _parse(name: str, text: str) -> tuple[object, dict[Key, int], list[ConfigProblem]]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}, [ConfigProblem(name, 1, "", "文件为空 the file is empty")]
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(filter(None, [exc.context, exc.problem]))
        if not isinstance(exc, yaml.constructor.ConstructorError):
            reason = f"YAML 语法错误 syntax error: {reason}"
        return None, {}, [ConfigProblem(name, mark.line + 1 if mark else None, "", reason)]
    finally:
        loader.dispose()
    lines: dict[Key, int] = {}
    duplicates = list(_walk(node, (), lines, name))
    if not isinstance(data, dict):
        duplicates.append(ConfigProblem(name, 1, "", "顶层须为映射 the top level must be a mapping"))
    return data, lines, duplicates


def _walk(node: yaml.Node, path: Key, lines: dict[Key, int], name: str):
    """Record the line of every key and item under path; yield duplicate keys."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = path + (str(key_node.value),)
            if str(key_node.value) in seen:
                yield ConfigProblem(name, key_node.start_mark.line + 1, _render(key),
                                    "重复的键 duplicate key")
            seen.add(str(key_node.value))
            lines[key] = key_node.start_mark.line + 1
            yield from _walk(value_node, key, lines, name)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[path + (str(i),)] = item.start_mark.line + 1
            yield from _walk(item, path + (str(i),), lines, name)


def _line(lines: dict[Key, int], path: tuple) -> int | None:
    key = tuple(str(p) for p in path)
    while key and key not in lines:
        key = key[:-1]
    return lines.get(key, 1)


def _render(path: tuple) -> str:
    text = ""
    for part in path:
        is_index = isinstance(part, int) or (isinstance(part, str) and part.isdigit() and text)
        text += f"[{part}]" if is_index else (f".{part}" if text else str(part))
    return text


def _problem(name: str, lines: dict[Key, int], path: tuple, reason: str) -> ConfigProblem:
    return ConfigProblem(name, _line(lines, path), _render(path), reason)


def _from_pydantic(name: str, lines: dict[Key, int], error: dict) -> ConfigProblem:
    message = error["msg"].removeprefix("Value error, ")
    zh = REASONS.get(error["type"])
    reason = f"{zh} {message}" if zh else message
    if error["type"] not in ("missing", "extra_forbidden", "value_error") and "input" in error:
        got = repr(error["input"])
        reason += f" (got {got if len(got) <= 60 else got[:57] + '...'})"
    path = tuple(p for p in error["loc"] if p != "[key]")  # pydantic's marker for a bad dict key
    return _problem(name, lines, path, reason)


def _sorted(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    return sorted(problems, key=lambda p: p.line or 0)
