"""YAML as people write OpenAPI in it: keys kept as their source text (`200:` is the status "200",
not the integer), unquoted dates kept as text (`example: 2020-01-01`: JSON Schema has no date type),
repeated keys reported, and aliases that would expand beyond a bound refused.

Its own module so that reading a JSON document (the loader, `meibel-contract diff`) does not import
PyYAML.
"""

from __future__ import annotations

from typing import Any, ClassVar

import yaml

from mock_server.document.refs import MAX_DEPTH
from mock_server.errors import ContractError, DocumentWarning

# YAML aliases share nodes; expanded (as JSON, or by any walk), `&a [*b, *b, …]` grows exponentially.
MAX_EXPANDED_NODES = 20_000_000

_YAML_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster


class _Loader(_YAML_BASE):  # type: ignore[valid-type,misc]
    """SafeLoader without the timestamp resolver, and with keys kept as written."""

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, Any]]]] = {
        first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    duplicates: list[tuple[int, str]]  # (line, key): YAML keeps the last of repeated keys

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:  # the mapping's own keys; merged ones (<<) may be overridden
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.value in seen:
                    self.duplicates.append((key_node.start_mark.line + 1, key_node.value))
                seen.add(key_node.value)
        self.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key: Any = key_node.value  # `200:`, `yes:`, `1.0:` all mean their text
            else:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                )
            out[key] = self.construct_object(value_node, deep=deep)
        return out


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)


def parse_yaml(text: str, source: str, warnings: list[DocumentWarning] | None = None, label: str = "") -> Any:
    loader = _Loader(text)
    loader.duplicates = []
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node, source)
        data = loader.construct_document(node)
        if warnings is not None:
            warnings.extend(
                DocumentWarning("", f"{label}line {line}: key {key!r} is repeated; the last one is used")
                for line, key in loader.duplicates
            )
        return data
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = exc.problem or exc.context or "cannot be parsed"
        raise ContractError(source, f"not valid YAML: {problem}{where}") from None
    except yaml.YAMLError as exc:
        raise ContractError(source, f"not valid YAML: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise ContractError(source, f"not valid YAML: nested deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node, source: str) -> None:
    # Size of the tree once aliases are expanded, counted over the shared node graph (linear).
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if depth > MAX_DEPTH:
            mark = node.start_mark
            raise ContractError(
                source, f"not valid YAML: nested deeper than {MAX_DEPTH} levels (line {mark.line + 1})"
            )
        children = _children(node)
        if children_done or not children:
            total = 1 + sum(sizes.get(id(child), 0) for child in children)
            if total > MAX_EXPANDED_NODES:
                raise ContractError(
                    source, f"not valid YAML: its aliases expand to more than {MAX_EXPANDED_NODES:,} values"
                )
            sizes[id(node)] = total
            continue
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in children if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
