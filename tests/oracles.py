"""Independent ASL validators used as test oracles: statelint (PyPI) and asl-validator (npm).

Both are run once over a whole batch of definitions. Complaints Step Functions itself would
not make are filtered out here, each with the reason:

- statelint wants ``BackoffRate`` to be a JSON float; AWS accepts an integer such as ``2``
  (the airline sample uses one). Ignored with statelint's own ``FLOAT`` switch.
- statelint wants ``IntervalSeconds`` > 0; AWS accepts ``0`` (airline sample, and AWS's own
  editor schema has minimum 0).
- statelint rejects ``${Name}`` placeholders as resources; callers resolve them first
  (``engine.load(..., substitutions)``), as CloudFormation does before AWS sees the definition.
- asl-validator's payload-template schema allows neither ``null``, ``""`` nor strings with
  line breaks inside arrays; the strategies avoid them in templates
  (``json_values(in_template=True)``) rather than filtering here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from statelint.config import Config
from statelint.linter import Linter
from statelint.problem import ProblemType

__all__ = ["asl_validator_path", "asl_validator_problems", "statelint_problems"]

REPO = Path(__file__).resolve().parents[1]

_STATELINT_AWS_ACCEPTS = (re.compile(r"\.IntervalSeconds is 0 but allowed floor is 0$"),)

# asl-validator builds a new Ajv and recompiles its schemas on every call (~0.4 s each); the
# batch script hands it one shared instance (same schemas, formats and options every time).
_NODE_SCRIPT = """
const fs = require("fs");
const path = require("path");
const from = {paths: [path.dirname(process.argv[1])]};
const ajv = require(require.resolve("ajv", from));
const formats = require(require.resolve("ajv-formats", from));
const Ajv = ajv.default;
const addFormats = formats.default;
let shared = null;
ajv.default = function SharedAjv(options) {
  if (shared === null) {
    shared = new Ajv(options);
    addFormats(shared);
  }
  return shared;
};
formats.default = (instance) => instance;
const validator = require(process.argv[1]);
const out = {};
for (const file of process.argv.slice(2)) {
  const result = validator(JSON.parse(fs.readFileSync(file, "utf8")),
                           {checkArn: true, checkPaths: true});
  out[file] = result.isValid ? [] : result.errorsText("\\n").split("\\n");
}
process.stdout.write(JSON.stringify(out));
"""


def statelint_problems(documents: Sequence[Any]) -> list[list[str]]:
    """statelint's complaints about each document, minus those AWS would not make."""
    config = Config({ProblemType.FLOAT})
    out: list[list[str]] = []
    for document in documents:
        problems: list[str] = Linter.validate(json.loads(json.dumps(document)), config)
        out.append(
            [p for p in problems if not any(rule.search(p) for rule in _STATELINT_AWS_ACCEPTS)]
        )
    return out


def asl_validator_path() -> Path | None:
    """The asl-validator command: $ASL_VALIDATOR, .tools/ in the repo, or /tmp/npmtest/."""
    candidates = [
        os.environ.get("ASL_VALIDATOR"),
        str(REPO / ".tools" / "node_modules" / ".bin" / "asl-validator"),
        "/tmp/npmtest/node_modules/.bin/asl-validator",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).exists() and shutil.which("node"):
            return Path(candidate)
    return None


def _library(command: Path) -> Path:
    """The validator module next to the command (``dist/bin`` → ``dist/src/validator.js``)."""
    return command.resolve().parent.parent / "src" / "validator.js"


def asl_validator_problems(documents: Sequence[Any], command: Path) -> list[list[str]]:
    """asl-validator's complaints about each document, from one ``node`` process."""
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for index, document in enumerate(documents):
            path = Path(tmp) / f"{index}.asl.json"
            path.write_text(json.dumps(document), encoding="utf-8")
            files.append(str(path))
        completed = subprocess.run(
            ["node", "-e", _NODE_SCRIPT, str(_library(command)), *files],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        results: dict[str, list[str]] = json.loads(completed.stdout)
    return [results[file] for file in files]
