"""JSON Schema → a valid instance, for any schema of the document.

Schemas are compiled once into generator functions; a call only draws from the `random.Random`
it is given, so the output is a pure function of that generator's state.
"""

from __future__ import annotations

import json
import random
from typing import Any

import jsonschema_rs

from mock_server.document.refs import reachable, resolve, schema_at
from mock_server.schema.conjunction import Made, combines, conjoin, without
from mock_server.schema.scalars import WORDS, Gen, iso, number_gen, random_uuid, string_gen
from mock_server.schema.validation import SchemaCompiler

__all__ = ["Gen", "Generator", "SchemaTooLarge", "iso", "random_uuid"]  # iso, random_uuid: as before

MAX_DEPTH = 5  # below this, optional parts are left out so recursive schemas end


class SchemaTooLarge(ValueError):
    """A schema whose generator would not fit in memory (`compile` stops, it does not hang)."""


class Generator:
    """`response=True` (the default): instances a server sends, so `writeOnly` properties are left
    out; `False`: instances a client sends, so `readOnly` ones are.

    Where a schema combines subschemas (allOf, oneOf, anyOf, not, uniqueItems, several patterns),
    what is generated from the merged form is checked against the schema as written and drawn
    again if it fails (a bounded number of times): allOf is a conjunction, oneOf means exactly one."""

    def __init__(
        self,
        root: dict[str, Any],
        *,
        optional: float = 0.7,
        response: bool = True,
        compiler: SchemaCompiler | None = None,
        lazy: bool = False,
    ) -> None:
        self.root = root
        # `lazy`: what a `$ref` names is compiled when first drawn from, not with the schema that
        # names it (a large document's types reach thousands of others, most never drawn).
        self.lazy = lazy
        self._later: dict[int, list[Gen]] = {}
        self._keep: list[Any] = []  # the targets `_later` is keyed by, kept alive
        # Checks compile against the document's shared components, never a copy of them per schema.
        self.compiler = compiler or SchemaCompiler(root)
        self.optional = optional  # the chance that an optional property is present
        self.response = response
        # Every schema object is compiled once (keyed by identity, the object kept alive with its
        # generator): a recursive schema meets itself again and gets the generator being built,
        # through a cell filled when it is done. Reference targets are the document's own
        # objects, so a `$ref` (with siblings or not) costs one compilation, however often named.
        self._compiled: dict[int, tuple[Any, Gen]] = {}
        self._merges: dict[int, tuple[Any, dict[str, Any] | None]] = {}  # by identity, as _compiled
        self._pending: list[tuple[Any, list[Gen]]] = []  # deferred past _COMPILE_DEPTH, drained in a loop
        self._open: dict[int, list[Gen] | None] = {}  # being compiled: the cell a recursive use made
        self._added: list[int] = []  # compiled by the compile() call under way (undone if it fails)
        self._depth = 0  # how many compilations are open on the stack
        self._made = 0  # how many of them compile a conjunction the generator made (`Made`)
        self._hops = 0  # how many cells (recursion) are open on the stack while generating
        self._hidden: set[str] = set()  # writeOnly (or readOnly) names left out: excused from `required`
        self._budget: int | None = None  # draws left for checked schemas in this instance (None: idle)

    def instance(self, schema: Any, rng: random.Random) -> Any:
        return self.compile(schema)(rng, 0)

    def compile(self, schema: Any) -> Gen:
        """The generator of `schema`. Iterative at heart: past a few dozen nested schemas, the
        rest is compiled by a loop here rather than by deeper calls (a chain of thousands of
        references costs no stack), and a schema that contains itself is compiled once."""
        if self._depth:
            return self._compile(schema)
        try:
            gen = self._compile(schema)
            for _ in range(_MAX_DEFERRED):
                if not self._pending:
                    self._added.clear()
                    return gen
                pending, cell = self._pending.pop()
                cell[0] = self._compile_one(pending)
            raise SchemaTooLarge(f"a schema that unfolds into more than {_MAX_DEFERRED} nested schemas")
        except BaseException:
            for key in self._added:  # nothing half-built stays for the next schema to meet
                self._compiled.pop(key, None)
            self._added.clear()
            raise
        finally:
            self._pending.clear()
            self._open.clear()
            self._depth = self._made = 0

    def _compile(self, schema: Any) -> Gen:
        if not isinstance(schema, dict) or not schema:
            return lambda rng, depth: None if schema is False else rng.choice(WORDS)
        key = id(schema)
        found = self._compiled.get(key)
        if found is not None:
            return found[1]
        if key in self._open:  # being compiled further up the stack: a recursive schema
            cell = self._open[key]
            if cell is None:
                cell = self._open[key] = [_unfinished]
            return self._cell(cell)
        self._added.append(key)
        if self._depth >= _COMPILE_DEPTH:
            cell = [_unfinished]
            gen = self._cell(cell)
            self._compiled[key] = (schema, gen)
            self._pending.append((schema, cell))
            return gen
        made = type(schema) is Made
        if made and self._made >= _MAX_MADE:
            # Past the bound, a conjunction is drawn from its last part as written (the nearest
            # word, a reference compiled once); the checks against the whole still apply above.
            parts = schema.get("allOf")
            last = parts[-1] if isinstance(parts, list) and parts else None
            return self._compile(last) if isinstance(last, dict) else _nothing
        self._open[key] = None
        self._depth += 1
        self._made += made
        try:
            gen = self._compile_one(schema)
        finally:
            self._depth -= 1
            self._made -= made
            cell = self._open.pop(key, None)
        if cell is not None:
            cell[0] = gen
        self._compiled[key] = (schema, gen)
        return gen

    def _cell(self, cell: list[Gen]) -> Gen:
        """A generator that calls the one in `cell` (filled later). Recursion at generation time
        goes through cells only; past _MAX_HOPS of them on the stack or _MAX_INSTANCE_DEPTH
        levels of the instance, or should the stack run
        out all the same, that part of the instance is left empty (null) rather than the answer lost."""

        def later(rng: random.Random, depth: int) -> Any:
            if self._hops >= _MAX_HOPS or depth >= _MAX_INSTANCE_DEPTH:
                return None
            self._hops += 1
            try:
                return cell[0](rng, depth)
            except RecursionError:
                return None
            finally:
                self._hops -= 1

        return later

    def _compile_one(self, schema: dict[str, Any]) -> Gen:
        if "$ref" in schema and len(schema) == 1:
            target = self._target(schema)
            return self._on_first_use(target) if self.lazy else self._compile(target)
        merged = self._merge_all_of(schema)
        gen = self._compile_merged(merged if merged is not None else without(schema, "allOf"))
        if combines(schema) or (merged is not None and combines(merged)):
            return self._checked(schema, gen)
        return gen

    def _on_first_use(self, target: Any) -> Gen:
        """The generator of a reference's target, compiled when first drawn from (`lazy`)."""
        found = self._compiled.get(id(target))
        if found is not None:
            return found[1]
        cell = self._later.get(id(target))
        if cell is None:
            cell = self._later[id(target)] = [_unfinished]

            def first(rng: random.Random, depth: int) -> Any:
                cell[0] = self.compile(target)
                return cell[0](rng, depth)

            cell[0] = first
            self._keep.append(target)
        return self._cell(cell)

    def _target(self, schema: dict[str, Any]) -> Any:
        """What a lone `$ref` names, through aliases: the document's own object (one with
        siblings of its `$ref` is compiled as it stands: a conjunction)."""
        target = resolve(self.root, schema["$ref"])
        for _ in range(_MAX_ALIASES):
            if not (isinstance(target, dict) and "$ref" in target and len(target) == 1):
                return target
            target = resolve(self.root, target["$ref"])
        raise KeyError(schema["$ref"])  # a cycle of aliases (the loader refuses them)

    def _compile_merged(self, schema: dict[str, Any]) -> Gen:
        if "const" in schema:
            const = schema["const"]
            return lambda rng, depth: const
        if "enum" in schema:
            options = list(schema["enum"])
            return lambda rng, depth: rng.choice(options)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                sibling = without(schema, key)
                if all(k in _ANNOTATIONS or str(k)[:2] == "x-" for k in sibling):
                    # Words about the value (a description…) say nothing about which values: each
                    # branch is compiled as written, a `$ref` once for all (merged into every
                    # annotated use of it, a recursive schema unfolded without end).
                    sibling = {}
                branches = []
                for branch in schema[key]:
                    if not isinstance(branch, dict):
                        branches.append(branch)
                        continue
                    joined = conjoin(sibling, self._merge_all_of(branch) or branch) if sibling else branch
                    if joined is not None:  # a branch the siblings contradict is never drawn
                        branches.append(joined)
                return self._choice(branches or [without(sibling, "type")])
        kind = schema.get("type")
        if isinstance(kind, list):
            return self._choice([Made(schema, type=k) for k in kind])
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        return self._typed(schema, kind)

    def _checked(self, schema: dict[str, Any], gen: Gen) -> Gen:
        built: list[Any] = []

        def valid(value: Any) -> bool:
            if not built:
                if (
                    self.lazy
                    and reachable(self.root, schema, _CHECKED_REFS, self.compiler.large) >= _CHECKED_REFS
                ):
                    # A check that reaches much of a large document builds a validator of it all
                    # (seconds, and the document again in memory): the merged form is trusted.
                    built.append(None)
                    return True
                try:
                    built.append(self.compiler.checker(schema))
                except (ValueError, TypeError, jsonschema_rs.ReferencingError):
                    built.append(None)
            validator = built[0]
            if validator is None:
                return True
            try:
                if validator.is_valid(value):
                    return True
                return bool(self._hidden) and all(
                    type(e.kind).__name__ == "Required" and getattr(e.kind, "property", None) in self._hidden
                    for e in validator.iter_errors(value)
                )
            except (ValueError, OverflowError, TypeError):
                return False

        def checked(rng: random.Random, depth: int) -> Any:
            outermost = self._budget is None
            if outermost:  # nested checks share one budget: their tries multiply with the depth
                self._budget = CHECK_BUDGET
            try:
                candidate = gen(rng, depth)
                for _ in range(CHECK_TRIES):
                    if valid(candidate) or not self._budget:
                        return candidate
                    self._budget -= 1
                    candidate = gen(rng, depth)
                return candidate
            finally:
                if outermost:
                    self._budget = None

        return checked

    def _merge_all_of(self, schema: dict[str, Any], depth: int = 0) -> dict[str, Any] | None:
        """The conjunction of `allOf` (and of a `$ref` with its siblings) as one schema; None when
        its parts contradict each other (no instance can be generated from the merged form)."""
        if ("allOf" not in schema and "$ref" not in schema) or depth > 20:
            return schema
        key = id(schema)
        known = self._merges.get(key)
        if known is not None:  # merged before, or being merged (a schema in its own allOf): as it is
            return known[1]
        self._merges[key] = (schema, schema)
        try:
            merged = self._merge_parts(schema, depth)
        except BaseException:
            del self._merges[key]
            raise
        self._merges[key] = (schema, merged)
        return merged

    def _merge_parts(self, schema: dict[str, Any], depth: int) -> dict[str, Any] | None:
        parts: list[Any] = list(schema.get("allOf", []))
        rest = without(schema, "allOf")
        if "$ref" in rest:
            parts.append({"$ref": rest["$ref"]})
            rest = without(rest, "$ref")
        parts.append(rest)
        merged: dict[str, Any] | None = {}
        for part in parts:
            part = schema_at(self.root, part)
            part = self._merge_all_of(part, depth + 1) if isinstance(part, dict) else {}
            if part is None or merged is None:
                return None
            merged = conjoin(merged, part)
        return merged

    def _choice(self, branches: list[Any]) -> Gen:
        gens = [self._compile(b) for b in branches]
        null = [
            g for b, g in zip(branches, gens, strict=True) if isinstance(b, dict) and b.get("type") == "null"
        ]
        values = [
            g
            for b, g in zip(branches, gens, strict=True)
            if not (isinstance(b, dict) and b.get("type") == "null")
        ]

        def gen(rng: random.Random, depth: int) -> Any:
            # Mostly real values: a null-heavy fixture shows a screen nothing.
            if null and (not values or depth >= MAX_DEPTH or rng.random() < 0.2):
                return None
            return rng.choice(values)(rng, depth)

        return gen

    def _typed(self, schema: dict[str, Any], kind: str) -> Gen:
        if kind == "object":
            return self._object(schema)
        if kind == "array":
            items = self._compile(schema.get("items", {}))
            low = int(schema.get("minItems", 0))
            high = int(schema.get("maxItems", low + 3))
            unique = schema.get("uniqueItems") is True

            def array(rng: random.Random, depth: int) -> list[Any]:
                count = low if depth >= MAX_DEPTH else rng.randint(low, max(low, min(high, low + 3)))
                if not unique:
                    return [items(rng, depth + 1) for _ in range(count)]
                out: list[Any] = []
                seen: set[str] = set()
                for _ in range(count * 8):  # bounded: an enum of few values may not have `count` of them
                    if len(out) >= count:
                        break
                    item = items(rng, depth + 1)
                    key = _canonical(item)
                    if key not in seen:
                        seen.add(key)
                        out.append(item)
                return out

            return array
        if kind == "string":
            return string_gen(schema)
        if kind in ("integer", "number"):
            return number_gen(schema, kind == "integer")
        if kind == "boolean":
            return lambda rng, depth: rng.random() < 0.5
        return lambda rng, depth: None

    def _object(self, schema: dict[str, Any]) -> Gen:
        hidden_key = "writeOnly" if self.response else "readOnly"
        props = []
        for name, sub in (schema.get("properties") or {}).items():
            if _flag(schema_at(self.root, sub), hidden_key):
                self._hidden.add(name)  # never sent in this direction, even when required
                continue
            props.append((name, self._compile(sub)))
        required = set(schema.get("required") or []) - {
            name
            for name, sub in (schema.get("properties") or {}).items()
            if _flag(schema_at(self.root, sub), hidden_key)
        }
        extra = schema.get("additionalProperties")
        free_form = not props and not schema.get("properties") and extra is not False
        extra_gen = self._compile(extra) if isinstance(extra, dict) and extra else None

        def obj(rng: random.Random, depth: int) -> dict[str, Any]:
            out = {}
            for name, gen in props:
                if name in required or (depth < MAX_DEPTH and rng.random() < self.optional):
                    out[name] = gen(rng, depth + 1)
            for name in required - out.keys():
                out[name] = rng.choice(WORDS)
            if free_form and depth < MAX_DEPTH and self.optional:
                for _ in range(rng.randint(0, 2)):
                    out[rng.choice(WORDS)] = extra_gen(rng, depth + 1) if extra_gen else rng.choice(WORDS)
            return out

        return obj


_ANNOTATIONS = frozenset(
    {"description", "title", "$comment", "examples", "example", "default", "deprecated", "externalDocs"}
)
_CHECKED_REFS = 64  # references a checked schema of a `lazy` generator may reach (see `_checked`)
_MAX_MADE = 3  # conjunctions made by the generator, compiled within one another
_COMPILE_DEPTH = 24  # nested compilations before the rest is deferred to compile()'s loop
_MAX_HOPS = 48  # recursive uses open at once while generating one instance
_MAX_INSTANCE_DEPTH = 64  # levels of objects and arrays (JSON encoders stop at 255)
_MAX_DEFERRED = 200_000  # schemas compiled by one compile() call's loop
_MAX_ALIASES = (
    1000  # a `$ref` to a `$ref` to …  # levels of objects and arrays in one instance, required ones included
)


def _nothing(rng: random.Random, depth: int) -> Any:
    return None


def _unfinished(rng: random.Random, depth: int) -> Any:  # pragma: no cover - filled before any use
    raise AssertionError("a generator used before it was compiled")


CHECK_TRIES = 24  # draws of one checked schema
CHECK_BUDGET = 2000  # draws of all checked schemas within one instance


def _flag(schema: Any, key: str) -> bool:
    return isinstance(schema, dict) and schema.get(key) is True


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
