"""The mock's decisions, without HTTP: which status, body and headers a request gets.

`app.py` does the I/O (`http/messages.py`: reading the body within its limits, sending the
answer); everything here is plain Python over already-read request parts, so it is tested
without a socket.
"""

from __future__ import annotations

import base64
import hmac
import os
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from mock_server.answer.documented import DocumentedAnswers
from mock_server.answer.exchange import NOT_FOUND, UNAUTHENTICATED_HEADERS, Answer, Request
from mock_server.answer.recordings import RECORDING_HEADER, load_recordings
from mock_server.answer.scenarios import DEFAULT_SCENARIO, SCENARIOS, BatchExecutions, recognises
from mock_server.answer.selection import Responses
from mock_server.answer.selection import build as build_responses
from mock_server.contract import Contract, Credential, Operation, is_json_media_type
from mock_server.document.openapi30 import openapi30_to_json_schema
from mock_server.document.refs import escape, follow
from mock_server.errors import UsageError
from mock_server.request.bodies import BodyReader, body_reader
from mock_server.request.forms import FormBody, form_body, is_form
from mock_server.request.json_body import parse_json, unicode_errors
from mock_server.request.negotiation import accepts_content, essence
from mock_server.request.parameters import Coercer, Decoder, coercer, cookies, decoder, multi
from mock_server.request.preferences import parse_prefer, query_preferences
from mock_server.schema.explain import ErrorList, Loc, error
from mock_server.schema.generation import Generator
from mock_server.schema.validation import compile_validator
from mock_server.settings import Settings
from mock_server.state.behaviour import Behaviour
from mock_server.state.chaos import Chaos
from mock_server.state.clock import Clock

# Up to this many operations, every answer's generator is compiled at start-up; beyond (Graph's
# thousands), each on its first use: compiling them all took longer than the document's loading.
EAGER_OPERATIONS = 1000


class Engine(DocumentedAnswers):
    def __init__(self, contract: Contract, settings: Settings) -> None:
        self.contract = contract
        self.settings = settings
        large = len(contract.operations) > EAGER_OPERATIONS
        self.generator = Generator(contract.schema_root, compiler=contract.compiler, lazy=large)
        self.check_scenario(settings.scenario)
        self._keys = [key.encode() for key in settings.accepted_keys]
        self.domains: dict[Operation, BatchExecutions] = {}
        self._coercers: dict[int, Coercer] = {}
        self._decoders: dict[int, Decoder] = {}
        self._responses: dict[Operation, Responses] = {}
        self._forms: dict[Operation, dict[str, FormBody]] = {}
        # Operations that could not be prepared, and why (one line each): the others are served.
        self.skipped: dict[Operation, str] = dict(contract.skipped)
        openapi30 = str(contract.document.get("openapi", "")).startswith("3.0")
        for op in contract.operations:
            if op in self.skipped:
                continue
            try:
                self._prepare(op, openapi30)
            except Exception as exc:  # whatever stops one operation must not stop the others
                self.skipped[op] = f"{type(exc).__name__}: {exc}".splitlines()[0]
        schemes = (contract.document.get("components") or {}).get("securitySchemes") or {}
        self._basic = {
            name
            for name, scheme in schemes.items()
            if isinstance(scheme, Mapping)
            and scheme.get("type") == "http"
            and str(scheme.get("scheme", "")).lower() == "basic"
        }
        self._http = {
            name: str(scheme.get("scheme", "")).lower()
            for name, scheme in schemes.items()
            if isinstance(scheme, Mapping)
            and scheme.get("type") == "http"
            and str(scheme.get("scheme", "")).lower() not in ("basic", "bearer")
        }
        # YAML, XML and text bodies, by operation and media type (bodies.py); and the operations
        # whose bodies of some media type are not checked against the schema, for the banner.
        self._readers: dict[Operation, dict[str, BodyReader]] = {}
        self.unchecked: list[str] = []
        for op in contract.operations:
            if op.body is None or op in self.domains or op in self.skipped:
                continue
            try:
                readers = _body_readers(contract, op, self.generator, openapi30, self.unchecked)
            except Exception as exc:  # as in _prepare: one operation, not the document
                self.skipped[op] = f"{type(exc).__name__}: {exc}".splitlines()[0]
                continue
            if readers:
                self._readers[op] = readers
        self._fits: dict[int, Any] = {}  # id(Media) -> a validator of its schema, built on first use
        self.recordings = (
            load_recordings(Path(settings.recordings), contract, match=settings.match)
            if settings.recordings is not None
            else None
        )
        self.reset()

    def _prepare(self, op: Operation, openapi30: bool) -> None:
        """Everything `op` needs per request, built once; nothing is kept of an operation that fails."""
        contract, root = self.contract, self.contract.schema_root
        domain = BatchExecutions(op, self.generator, root) if recognises(op) else None
        coercers = {id(p): coercer(p.schema, root, p.validator.is_valid) for p in op.parameters}
        decoders = {
            id(p): decoder(_raw_parameter(contract.document, op, p.name, p.location), p.schema, root)
            for p in op.parameters
        }
        if domain is None:
            responses = build_responses(
                contract.document,
                op.raw.get("responses"),
                self.generator,
                openapi30=openapi30,
                schema_root=root,
                lazy=self.generator.lazy,
            )
            forms = (
                {essence(m): f for m, f in _form_bodies(contract, op, openapi30).items()}
                if op.body is not None
                else None
            )
        self._coercers.update(coercers)
        self._decoders.update(decoders)
        if domain is not None:
            self.domains[op] = domain
            return
        self._responses[op] = responses
        if forms is not None:
            self._forms[op] = forms

    def skipped_lines(self) -> list[str]:
        """One line per operation not served: which, and why."""
        return [
            f"{self.contract.source} at /paths/{escape(op.path)}/{op.method}: "
            f"{op.method.upper()} {op.path} is not served: {why}"
            for op, why in self.skipped.items()
        ]

    def reset(self, *, seed: int | None = None) -> None:
        """Back to the state at start-up: the seed's sequence, the default scenario. `seed`:
        start the sequence of another seed than the settings' (the pytest plugin's per-test seeds)."""
        self.scenario = self.settings.scenario
        seed = self.settings.seed if seed is None else seed
        self.chaos = Chaos(self.settings.latency, self.settings.fail_rate, self.settings.fail_code, seed)
        self.rng = random.Random(seed) if seed is not None else random.Random(os.urandom(16))
        self.clock = Clock(seed)
        if self.recordings is not None:
            self.recordings.reset()

    def check_scenario(self, scenario: str | None) -> None:
        if scenario is not None and scenario not in (*SCENARIOS, "dynamic"):
            raise UsageError(f"unknown scenario {scenario!r}; available: {', '.join(SCENARIOS)}, dynamic")

    # --- routing ---------------------------------------------------------------------------------

    def route(
        self, method: str, path: str, raw_path: str | None = None
    ) -> tuple[Operation, dict[str, str]] | Answer:
        """`raw_path`: the path as sent, when it holds an encoded slash (`Contract.match`)."""
        found = self.contract.match(method, path, raw_path)
        if found is None:
            return NOT_FOUND
        if found.operation is None:
            return Answer(405, {"detail": "Method Not Allowed"}, {"allow": ", ".join(found.allowed)})
        return found.operation, found.path_params

    # --- answering -------------------------------------------------------------------------------

    def respond(self, op: Operation, request: Request, queued: Behaviour | None = None) -> Answer:
        """The answer to `request`; `queued`: what the test queued for it (it wins over `Prefer`)."""
        try:
            prefer = parse_prefer(request.headers["prefer"]) if "prefer" in request.headers else {}
        except ValueError as exc:
            return Answer(400, {"detail": str(exc)})
        if "__" in request.query_string:
            prefer = {**query_preferences(request.query_string), **prefer}
        if queued is not None:
            prefer = {**prefer, **queued.preferences()}
        if self.chaos.idle and "latency" not in prefer and "fault" not in prefer:
            return self._respond(op, request, prefer)
        try:
            delay = self.chaos.delay(prefer.get("latency"))
            queued_fault = queued is not None and queued.fault is not None
            injected = self.chaos.fault(prefer.get("fault"), "queued by the test" if queued_fault else None)
        except ValueError as exc:
            return Answer(400, {"detail": f"Prefer: {exc}"})
        if injected is not None:  # a gateway's answer: before the service looks at the request
            answer = Answer(injected.status, injected.body, dict(injected.headers))
        else:
            answer = self._respond(op, request, prefer)
        answer.delay = delay
        return answer

    def validation_errors(self, op: Operation, request: Request) -> ErrorList:
        """What the request breaks in the document, as a 422 would list it (no auth check)."""
        if op in self.skipped:
            return []
        _, body_errors = self._body(op, request)
        if body_errors and body_errors[0]["type"] == "json_invalid":
            return body_errors
        return self._parameters(op, request) + body_errors

    def _respond(self, op: Operation, request: Request, prefer: dict[str, str]) -> Answer:
        if op not in self.domains:
            return self._respond_generic(op, request, prefer)
        body, body_errors = self._body(op, request)
        if body_errors and body_errors[0]["type"] == "json_invalid":
            return Answer(422, {"detail": body_errors})  # FastAPI decodes before it checks the key
        api_key = self._authenticate(op, request)
        if api_key is False:
            return Answer(401, {"detail": "Not authenticated"}, dict(UNAUTHENTICATED_HEADERS))
        errors = self._parameters(op, request) + body_errors
        if errors:
            return Answer(422, {"detail": errors})
        if self.recordings is not None and (replayed := self._replayed(op, request, prefer)):
            return replayed
        key = api_key if isinstance(api_key, str) else None
        return self._domain_answer(op, body, key, prefer, request.body or b"")

    # --- operations without the domain layer: answers in the document's own shapes ----------------

    def _respond_generic(self, op: Operation, request: Request, prefer: dict[str, str]) -> Answer:
        table = self._responses.get(op)
        if table is None:  # an operation that could not be prepared (said at start-up)
            return Answer(
                501,
                {
                    "detail": f"{op.method.upper()} {op.path} is not served by the mock: {self.skipped.get(op, '')}"
                },
            )
        content_type = request.headers.get("content-type", "")
        if request.body and (op.body is None or not accepts_content(op.body.media_types, content_type)):
            return self._unsupported(table, request, op)
        # An empty body sent as a documented urlencoded form is the empty form, not an absent body:
        # its required fields are missing (uspto's `criteria`).
        as_form = request.body or essence(content_type) == "application/x-www-form-urlencoded"
        form = self._forms.get(op, {}).get(essence(content_type)) if as_form else None
        _, body_errors = form.read(request.body or b"", content_type) if form else self._body(op, request)
        if not request.body and op.body is not None and op.body.required and self._forms.get(op):
            body_errors = [error("missing", ("body",), "Field required", None)]
        if body_errors and body_errors[0]["type"] == "json_invalid":
            return self._invalid(table, body_errors, request, op, prefer)
        if self._authenticate(op, request) is False:
            return self._unauthorized(table, request)
        errors = self._parameters(op, request) + body_errors
        if errors:
            return self._invalid(table, errors, request, op, prefer)
        if self.recordings is not None and (replayed := self._replayed(op, request, prefer)):
            return replayed
        return self._documented_answer(op, table, request, prefer)

    def _replayed(self, op: Operation, request: Request, prefer: dict[str, str]) -> Answer | None:
        """A valid request's recorded answer (`--recordings`), or None."""
        assert self.recordings is not None
        found = self.recordings.pick(
            op,
            prefer,
            request.path_params,
            request.query_string,
            request.headers.get("content-type", ""),
            request.body,
        )
        if found is None:
            return None
        headers = {**found.headers, RECORDING_HEADER: found.name}
        if found.payload is None and found.media_type is None:
            return Answer(found.status, headers=headers, empty=True, recording=found.name)
        return Answer(
            found.status,
            headers=headers,
            media_type=found.media_type or "application/octet-stream",
            raw=found.payload or b"",
            recording=found.name,
        )

    def _body(self, op: Operation, request: Request) -> tuple[Any, ErrorList]:
        spec = op.body
        if spec is None:
            return None, []
        raw = request.body
        readers = self._readers.get(op)
        reader = readers.get(essence(request.headers.get("content-type", ""))) if readers else None
        if not raw and not (reader is not None and reader.empty_is_a_value):
            # whatever its media type: a required body left out is missing
            if spec.required:
                return None, [error("missing", ("body",), "Field required", None)]
            return None, []
        if reader is not None:
            return reader.read(raw or b"")
        if spec.validator is None or raw is None:
            return None, []
        if not is_json_media_type(request.headers.get("content-type", "")):
            # FastAPI hands non-JSON bodies to the model as text: the model's own type error follows.
            text = raw.decode("utf-8", "replace")
            return text, spec.validator.errors(text, ("body",))
        value, errors = parse_json(raw)
        if errors:
            return None, errors
        return value, unicode_errors(raw, value, ("body",)) or spec.validator.errors(value, ("body",))

    def _authenticate(self, op: Operation, request: Request) -> str | bool:
        if not op.security:
            return True
        for requirement in op.security:
            presented = [self._credential(cred, request) for cred in requirement]
            if all(value is not None and self._known(value) for value in presented):
                return presented[0] or True
        return False

    def _credential(self, cred: Credential, request: Request) -> str | None:
        if cred.location == "query":
            values = [v for k, v in parse_qsl(request.query_string, keep_blank_values=True) if k == cred.name]
            return values[-1] if values and values[-1] else None
        if cred.location == "cookie":
            return cookies(request.headers.get("cookie", "")).get(cred.name) or None
        value = request.headers.get(cred.name.lower(), "")
        if cred.bearer:
            scheme, _, token = value.partition(" ")
            value = token if scheme.lower() == "bearer" else ""
        elif cred.scheme in self._basic:
            value = _basic_password(value)
        elif cred.scheme in self._http:  # digest and other schemes: what follows the scheme's name
            scheme, _, token = value.partition(" ")
            value = token.strip() if scheme.lower() == self._http[cred.scheme] else ""
        return value or None

    def _known(self, value: str) -> bool:
        presented = value.encode("utf-8", "surrogateescape")
        # Compare against every key, always: the time taken says nothing about which one matched.
        matches = [hmac.compare_digest(presented, key) for key in self._keys]
        return any(matches)

    def _parameters(self, op: Operation, request: Request) -> ErrorList:
        if not op.parameters:
            return []
        query = multi(parse_qsl(request.query_string, keep_blank_values=True))
        jar = cookies(request.headers.get("cookie", ""))
        errors: ErrorList = []
        for param in op.parameters:
            loc: Loc = (param.location, param.name)
            decode = self._decoders[id(param)]
            if param.location == "query":
                raw: Any = decode.query(query)
            else:
                if param.location == "path":
                    # An empty segment (`/pets//photos`) is a path parameter left out.
                    text = request.path_params.get(param.name) or None
                elif param.location == "header":
                    text = request.headers.get(param.name.lower())
                else:
                    text = jar.get(param.name)
                raw = None if text is None else decode.text(text)
            if raw is None:
                if param.required:
                    errors.append(error("missing", loc, "Field required", None))
                continue
            value, problem = self._coercers[id(param)](raw)
            if problem is not None:
                errors.append(error(problem[0], loc, problem[1], raw))
                continue
            errors.extend(param.validator.errors(value, loc))
        return errors

    def _domain_answer(
        self, op: Operation, body: Any, api_key: str | None, prefer: dict[str, str], raw: bytes
    ) -> Answer:
        """The answer of an operation the domain layer recognises (the bundled document's)."""
        domain = self.domains[op]
        if not prefer:  # the usual request: no preferences to read
            scenario = self.scenario
            dynamic = scenario == "dynamic"
        else:
            scenario = prefer.get("example") or self.scenario
            dynamic = prefer.get("dynamic", "").lower() == "true" or scenario == "dynamic"
        if "code" in prefer:
            code = prefer["code"]
            spec = op.response(code)
            if spec is None or not code.isdigit():
                documented = ", ".join(s for s in op.responses if s.isdigit())
                return Answer(
                    400,
                    {
                        "detail": f"Prefer: code={code} is not documented for {op.operation_id}; "
                        f"documented: {documented}"
                    },
                )
            if not code.startswith("2"):
                if code == "422":
                    return Answer(422, domain.validation_error_example())
                if spec.schema is None:
                    return Answer(int(code), empty=True)
                return Answer(int(code), self.generator.instance(spec.schema, self.rng))
        if scenario not in _ANSWERABLE:
            return Answer(
                400,
                {
                    "detail": f"Unknown example {scenario!r} for {op.operation_id}; "
                    f"available: {', '.join(SCENARIOS)} (or Prefer: dynamic=true)"
                },
            )
        name = DEFAULT_SCENARIO if scenario in (None, "dynamic") else scenario
        answer = domain.build(
            body or {}, api_key, name, self.rng, self.clock.now(), dynamic=dynamic, fingerprint=raw
        )
        return Answer(201, answer)


_ANSWERABLE = frozenset((None, "dynamic", *SCENARIOS))


def _basic_password(header: str) -> str:
    """`Authorization: Basic base64(user:password)` → the password (`curl -u user:KEY`)."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[2]


def _form_bodies(contract: Contract, op: Operation, openapi30: bool) -> dict[str, FormBody]:
    body = follow(contract.document, op.raw.get("requestBody"))
    content = body.get("content") if isinstance(body, Mapping) else None
    out = {}
    for media_type, media in (content or {}).items():
        schema = follow(contract.document, media).get("schema") if isinstance(media, Mapping) else None
        if is_form(str(media_type)) and isinstance(schema, Mapping):
            schema = openapi30_to_json_schema(schema) if openapi30 else schema
            validator = compile_validator(schema, contract.schema_root, compiler=contract.compiler)
            encoding = follow(contract.document, media).get("encoding")
            out[str(media_type)] = form_body(
                str(media_type), schema, validator, contract.schema_root, encoding
            )
    return out


def _body_readers(
    contract: Contract, op: Operation, generator: Generator, openapi30: bool, unchecked: list[str]
) -> dict[str, BodyReader]:
    """The readers of the operation's YAML, XML and text bodies; what cannot be checked is
    added to `unchecked` ("POST /pets (application/xml: oneOf)")."""
    body = follow(contract.document, op.raw.get("requestBody"))
    content = body.get("content") if isinstance(body, Mapping) else None
    out = {}
    for media_type, media in (content or {}).items():
        if is_json_media_type(str(media_type)) or is_form(str(media_type)):
            continue
        schema = follow(contract.document, media).get("schema") if isinstance(media, Mapping) else None
        if not isinstance(schema, Mapping):
            continue
        schema = openapi30_to_json_schema(schema) if openapi30 else schema
        validator = compile_validator(schema, contract.schema_root, compiler=contract.compiler)
        reader, why = body_reader(str(media_type), schema, validator, generator)
        if reader is not None:
            out[essence(str(media_type))] = reader
        if why is not None:
            unchecked.append(f"{op.method.upper()} {op.path} ({media_type}: {why})")
    return out


def _raw_parameter(document: Mapping[str, Any], op: Operation, name: str, location: str) -> Mapping[str, Any]:
    """The parameter as the document writes it (style, explode, content), operation's over path's."""
    item = follow(document, (document.get("paths") or {}).get(op.path) or {})
    candidates = [*(op.raw.get("parameters") or []), *((item or {}).get("parameters") or [])]
    for candidate in candidates:
        found = follow(document, candidate)
        if isinstance(found, Mapping) and found.get("name") == name and found.get("in") == location:
            return found
    return {"name": name, "in": location}
