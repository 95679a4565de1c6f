"""Runs the shell of a GitHub Actions workflow, a composite action or a GitLab CI job, as the runner would.

What is run: every `run:` step (GitHub) and every `script:` line (GitLab), in order, in the job's
workspace, with the workflow's, the job's and the step's `env:` (GitLab: `variables:`) applied, and
`${{ … }}` expressions evaluated against the contexts given (`secrets`, `vars`, `github`, `env`,
`inputs`, `steps`, `runner`). A step's `if:` decides whether it runs, after a failure too (`always()`,
`failure()`, `!cancelled()`). GitHub's shells are GitHub's: `bash -e` for a `run:` without a shell,
`bash --noprofile --norc -eo pipefail` for `shell: bash`; GitLab's script runs under `bash -eo pipefail`.

What is emulated, not run, and why:
- `actions/checkout`: the test prepares the workspace as a checkout (a clone with `origin/main`).
- `actions/setup-python`: the workspace's PATH already starts with a fresh virtualenv's bin/ (the
  Python it would set up); its `python-path` output is that virtualenv's python.
- `actions/upload-artifact`: the files it would upload must exist (what matters: the report is kept).
- the kit's own action (`uses: ./` or `uses: <owner>/meibel-contract-kit@<ref>`): its action.yml is run
  as a composite action, `github.action_path` being the checkout given.
- GitLab's `image:` is the same fresh virtualenv; `artifacts:` files must exist (`when: always`).
Variables the test gives as `overrides` win over the YAML's own `env:`/`variables:`, as GitLab's CI/CD
variables do (the kit's URL and the base URL, pointed at what the test has). Anything else (another
action, an unknown key or expression) is an error, so a recipe cannot pass by being half run.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

STEP_TIMEOUT = 600.0
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_KIT_ACTION = re.compile(r"^(\./?|[\w.-]+/meibel-contract-kit@[\w./-]+)$")
GITHUB_DEFAULT_SHELL = ["bash", "-e"]
GITHUB_BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
GITLAB_SHELL = ["bash", "-eo", "pipefail"]


def yaml_blocks(path: Path) -> list[tuple[int, str]]:
    """Every ```yaml block of a Markdown file: (the line of its fence, its text)."""
    text = path.read_text()
    return [
        (text.count("\n", 0, m.start()) + 1, m.group(1))
        for m in re.finditer(r"^```ya?ml\n(.*?)^```", text, re.S | re.M)
    ]


def kind(document: Any) -> str:
    if isinstance(document, list) and all(isinstance(s, dict) for s in document):
        return "github-steps"
    if isinstance(document, dict) and isinstance(document.get("jobs"), dict):
        return "github-workflow"
    if (
        isinstance(document, dict)
        and document
        and all(isinstance(job, dict) and "script" in job for job in document.values())
    ):
        return "gitlab"
    raise ValueError(
        f"a YAML block that is neither a GitHub workflow, steps nor a GitLab job: {document!r:.200}"
    )


@dataclass
class Step:
    name: str
    code: int | None  # None: skipped
    output: str = ""


@dataclass
class Run:
    steps: list[Step] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(s.code not in (None, 0) for s in self.steps)

    @property
    def output(self) -> str:
        return "\n".join(f"--- {s.name} (exit {s.code})\n{s.output}" for s in self.steps)

    def step(self, name: str) -> Step:
        [found] = [s for s in self.steps if s.name == name]
        return found


class Emulator:
    def __init__(
        self,
        workspace: Path,
        env: Mapping[str, str],
        *,
        overrides: Mapping[str, str],
        contexts: Mapping[str, Mapping[str, str]],
        action_path: Path,
        python: Path,
    ) -> None:
        self.workspace = workspace
        self.env = dict(env)
        self.overrides = dict(overrides)
        self.contexts = {k: dict(v) for k, v in contexts.items()}
        self.action_path = action_path
        self.python = python

    # GitHub -----------------------------------------------------------------------------------

    def github(self, document: Any) -> Run:
        if kind(document) == "github-steps":
            document = {"jobs": {"job": {"steps": document}}}
        run = Run()
        for job in document["jobs"].values():
            env = {**_strings(document.get("env")), **_strings(job.get("env"))}
            self._steps(job["steps"], env, run, contexts={}, composite=False)
        return run

    def _steps(
        self,
        steps: list[dict[str, Any]],
        env: dict[str, str],
        run: Run,
        *,
        contexts: dict[str, Any],
        composite: bool,
    ) -> None:
        outputs: dict[str, dict[str, str]] = {}
        for number, step in enumerate(steps):
            scope = {**self.contexts, **contexts, "steps": outputs, "env": {**env, **self.overrides}}
            name = str(step.get("name") or step.get("uses") or step.get("run", "")).split("\n")[0][:80]
            name = name or f"step {number}"
            if not _truthy(evaluate(str(step.get("if", "success()")), scope, failed=run.failed)):
                run.steps.append(Step(name, None))
                continue
            step_env = {k: substitute(v, scope) for k, v in {**env, **_strings(step.get("env"))}.items()}
            step_env.update(self.overrides)
            if "run" in step:
                if composite and "shell" not in step:
                    raise ValueError(f"{name}: a composite action's run step needs `shell:`")
                shell = {None: GITHUB_DEFAULT_SHELL, "bash": GITHUB_BASH}[step.get("shell")]
                run.steps.append(self._shell(name, shell, substitute(step["run"], scope), step_env))
            elif "uses" in step:
                uses = str(step["uses"])
                given = {k: substitute(str(v), scope) for k, v in (step.get("with") or {}).items()}
                if uses.startswith("actions/checkout@"):
                    run.steps.append(Step(name, None, "emulated: the workspace is the checkout"))
                elif uses.startswith("actions/setup-python@"):
                    if "id" in step:
                        outputs[step["id"]] = {"outputs.python-path": str(self.python)}
                    run.steps.append(Step(name, None, "emulated: a fresh virtualenv is first on PATH"))
                elif uses.startswith("actions/upload-artifact@"):
                    missing = [p for p in given["path"].split() if not (self.workspace / p).exists()]
                    run.steps.append(
                        Step(name, 1 if missing else 0, f"missing: {missing}" if missing else "")
                    )
                elif _KIT_ACTION.match(uses):
                    self._action(given, step_env, run)
                else:
                    raise ValueError(f"{name}: no emulation for `uses: {uses}`")
            else:
                raise ValueError(f"{name}: a step with neither run nor uses")

    def _action(self, given: dict[str, str], env: dict[str, str], run: Run) -> None:
        action = yaml.safe_load((self.action_path / "action.yml").read_text())
        declared = action["inputs"]
        unknown = set(given) - set(declared)
        if unknown:
            raise ValueError(f"the kit's action has no input {sorted(unknown)}")
        inputs = {name: given.get(name, str(spec.get("default", ""))) for name, spec in declared.items()}
        assert action["runs"]["using"] == "composite"
        contexts = {
            "inputs": inputs,
            "github": {**self.contexts.get("github", {}), "action_path": str(self.action_path)},
        }
        env = {**env, "GITHUB_ACTION_PATH": str(self.action_path)}
        self._steps(action["runs"]["steps"], env, run, contexts=contexts, composite=True)

    # GitLab -----------------------------------------------------------------------------------

    def gitlab(self, document: dict[str, Any]) -> Run:
        run = Run()
        allowed = {"image", "variables", "script", "artifacts", "stage", "rules"}
        for name, job in document.items():
            if set(job) - allowed:
                raise ValueError(f"{name}: no emulation for {sorted(set(job) - allowed)}")
            env = {**_strings(job.get("variables")), **self.overrides}
            script = "\n".join(str(line) for line in job["script"])
            run.steps.append(self._shell(name, GITLAB_SHELL, script, env))
            artifacts = job.get("artifacts") or {}
            paths = [*artifacts.get("paths", []), *(artifacts.get("reports") or {}).values()]
            if paths and (artifacts.get("when") == "always" or not run.failed):
                missing = [p for p in paths if not (self.workspace / str(p)).exists()]
                run.steps.append(Step(f"{name} artifacts", 1 if missing else 0, f"missing: {missing}"))
        return run

    # ------------------------------------------------------------------------------------------

    def _shell(self, name: str, shell: list[str], script: str, env: Mapping[str, str]) -> Step:
        result = subprocess.run(
            [*shell, "-c", script],
            cwd=self.workspace,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        return Step(name, result.returncode, result.stdout + result.stderr)


def _strings(mapping: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (mapping or {}).items()}


def substitute(text: str, scope: Mapping[str, Any]) -> str:
    return _EXPRESSION.sub(lambda m: str(evaluate(m.group(1), scope, failed=False)), text)


def _truthy(value: object) -> bool:
    return value not in (False, "", None, 0)


_TOKEN = re.compile(r"\s*('(?:[^']|'')*'|&&|\|\||==|!=|!|[A-Za-z_][\w.-]*(?:\(\))?)")


def evaluate(expression: str, scope: Mapping[str, Any], *, failed: bool) -> object:
    """A small part of GitHub's expression language: context lookups, '…' strings, == and !=,
    !, && and ||, and the status functions. Anything else raises, naming the expression."""
    text = _EXPRESSION.sub(lambda m: m.group(1), expression.strip()).strip()
    tokens: list[str] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise ValueError(f"cannot evaluate {expression!r}")
        tokens.append(match.group(1))
        position = match.end()
    parser = _Parser(tokens, scope, failed, expression)
    value = parser.disjunction()
    if parser.tokens:
        raise ValueError(f"cannot evaluate {expression!r}")
    return value


class _Parser:
    def __init__(self, tokens: list[str], scope: Mapping[str, Any], failed: bool, expression: str) -> None:
        self.tokens = tokens
        self.scope = scope
        self.failed = failed
        self.expression = expression

    def disjunction(self) -> object:
        value = self.conjunction()
        while self.tokens[:1] == ["||"]:
            self.tokens.pop(0)
            right = self.conjunction()
            value = value if _truthy(value) else right
        return value

    def conjunction(self) -> object:
        value = self.comparison()
        while self.tokens[:1] == ["&&"]:
            self.tokens.pop(0)
            right = self.comparison()
            value = right if _truthy(value) else value
        return value

    def comparison(self) -> object:
        value = self.unary()
        if self.tokens[:1] in (["=="], ["!="]):
            operator = self.tokens.pop(0)
            right = self.unary()
            return (str(value) == str(right)) == (operator == "==")
        return value

    def unary(self) -> object:
        if self.tokens[:1] == ["!"]:
            self.tokens.pop(0)
            return not _truthy(self.unary())
        if not self.tokens:
            raise ValueError(f"cannot evaluate {self.expression!r}")
        token = self.tokens.pop(0)
        if token.startswith("'"):
            return token[1:-1].replace("''", "'")
        if token.endswith("()"):
            calls = {
                "always()": True,
                "success()": not self.failed,
                "failure()": self.failed,
                "cancelled()": False,
            }
            if token not in calls:
                raise ValueError(f"cannot evaluate {token} in {self.expression!r}")
            return calls[token]
        head, _, rest = token.partition(".")
        if head not in self.scope:
            raise ValueError(f"no context {head!r} for {self.expression!r}")
        context = self.scope[head]
        if head == "steps":
            step, _, key = rest.partition(".")
            return context.get(step, {}).get(key, "")
        if rest not in context:
            raise ValueError(f"no {token} for {self.expression!r}")
        return context[rest]
