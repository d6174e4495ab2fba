"""README.md run as written: every ```python and ```bash block, each test named by its line.

- A Python block with ``>>>`` prompts is a session, run as a doctest (outputs compared).
- A Python block whose first line is a comment naming a file (``# examples/orders/orders.py``)
  is that file: the rest of the block must equal the file in the repository.
- Any other Python block is a script, run with the repository root as working directory.
- Each command of a bash block (``\\``-continued lines joined) runs with ``bash -o pipefail`` in
  a copy of the repository (so files it writes land there), with this interpreter's
  environment first on ``PATH``; it must exit 0, or N when the line ends in ``# exit N``.
  A ```json, ```text or ```mermaid block right after a bash block is the output of the block's
  last command: compared as JSON values (a string cut short with ``…`` matches any string it
  begins), or as text.
- A block preceded by ``<!-- readme-test: skip REASON -->`` is skipped with that reason.
"""

from __future__ import annotations

import difflib
import doctest
import io
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
COMMAND_TIMEOUT = 600

_OPEN = re.compile(r"^```(?P<lang>[\w-]*)\s*$")
_CLOSE = re.compile(r"^```\s*$")
_COMMENT = re.compile(r"^<!--(?P<text>.*)-->\s*$")
_SKIP = re.compile(r"^\s*readme-test:\s*skip\b\s*(?P<reason>.*?)\s*$")
_FILE = re.compile(r"^# (?P<path>[\w./-]+\.py)\s*$")
_EXIT = re.compile(r"#\s*exit\s+(?P<code>\d+)\s*$")
_OUTPUT_LANGS = frozenset({"json", "text", "mermaid"})
_COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".tools",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "*.egg-info",
    "*.db",
)


@dataclass
class Block:
    """One fenced block of README.md; ``line`` is its opening fence (1-based)."""

    lang: str
    line: int
    lines: list[str]
    comments: list[str] = field(default_factory=list)
    output: Block | None = None

    @property
    def where(self) -> str:
        return f"README.md:{self.line}"

    @property
    def skip_reason(self) -> str | None:
        for comment in self.comments:
            match = _SKIP.match(comment)
            if match:
                return match["reason"]
        return None


def parse_blocks(text: str) -> list[Block]:
    """Every fenced block, with the HTML comments right above it and the output block after."""
    lines = text.splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _OPEN.match(lines[index])
        if not opening:
            index += 1
            continue
        comments: list[str] = []
        above = index - 1
        while above >= 0 and (comment := _COMMENT.match(lines[above])):
            comments.insert(0, comment["text"])
            above -= 1
        end = index + 1
        while end < len(lines) and not _CLOSE.match(lines[end]):
            end += 1
        if end == len(lines):
            raise AssertionError(f"README.md:{index + 1}: this ``` block is never closed")
        blocks.append(Block(opening["lang"], index + 1, lines[index + 1 : end], comments))
        index = end + 1
    for before, after in itertools.pairwise(blocks):
        gap = lines[before.line + len(before.lines) + 1 : after.line - 1]
        if (
            before.lang == "bash"
            and after.lang in _OUTPUT_LANGS
            and not any(g.strip() for g in gap)
        ):
            before.output = after
    return blocks


BLOCKS = [
    b for b in parse_blocks(README.read_text(encoding="utf-8")) if b.lang in ("python", "bash")
]


def _param(block: Block) -> object:
    return pytest.param(block, id=f"{block.where}-{block.lang}")


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository's files, for commands that write where they run."""
    target = tmp_path_factory.mktemp("readme") / "repo"
    shutil.copytree(ROOT, target, ignore=_COPY_IGNORE, symlinks=True)
    return target


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(root)
    env.pop("PYTHONSAFEPATH", None)
    return env


def _run(args: list[str], root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=root,
        env=_env(root),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def _commands(block: Block) -> Iterator[tuple[int, str]]:
    """The block's commands with their README line numbers (continuations joined)."""
    pending = ""
    start = 0
    for offset, raw in enumerate(block.lines):
        if not pending:
            start = block.line + 1 + offset
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        command = (pending + raw).strip()
        pending = ""
        if command and not command.startswith("#"):
            yield start, command
    assert not pending, f"{block.where}: the block ends in a line continuation"


def _json_matches(expected: object, got: object) -> bool:
    """Equal JSON values, where a string the README cuts short with ``…`` matches any string
    it begins (a cause holding a stack trace with the reader's paths)."""
    if isinstance(expected, str) and expected.endswith("…"):
        return isinstance(got, str) and got.startswith(expected[:-1])
    if isinstance(expected, dict):
        return (
            isinstance(got, dict)
            and expected.keys() == got.keys()
            and all(_json_matches(expected[key], got[key]) for key in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(got, list)
            and len(expected) == len(got)
            and all(_json_matches(e, g) for e, g in zip(expected, got, strict=True))
        )
    return type(expected) is type(got) and expected == got


def _same_output(expected: Block, printed: str) -> str | None:
    """Why ``printed`` is not the output ``expected`` shows (None when it is)."""
    text = "\n".join(expected.lines)
    if expected.lang == "json":
        try:
            got = json.loads(printed)
        except json.JSONDecodeError as exc:
            return f"the command printed no JSON ({exc}):\n{printed}"
        if not _json_matches(json.loads(text), got):
            return f"it printed\n{json.dumps(got, indent=2)}"
        return None
    got_lines = [line.rstrip() for line in printed.strip("\n").splitlines()]
    want_lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    if got_lines == want_lines:
        return None
    diff = difflib.unified_diff(want_lines, got_lines, "README", "printed", lineterm="")
    return "\n".join(diff)


def _run_bash(block: Block, root: Path) -> None:
    last: subprocess.CompletedProcess[str] | None = None
    for line, command in _commands(block):
        match = _EXIT.search(command)
        expected = int(match["code"]) if match else 0
        last = _run(["bash", "-o", "pipefail", "-c", command], root)
        assert last.returncode == expected, (
            f"README.md:{line}: `{command}` exited {last.returncode}, expected {expected}\n"
            f"stdout:\n{last.stdout[-3000:]}\nstderr:\n{last.stderr[-3000:]}"
        )
    if block.output is not None:
        assert last is not None, f"{block.where}: an output block follows a block with no command"
        problem = _same_output(block.output, last.stdout)
        assert problem is None, (
            f"README.md:{block.output.line}: the output shown is not what "
            f"`{command}` prints: {problem}"
        )


def _run_session(block: Block) -> None:
    text = "\n".join(block.lines) + "\n"
    test = doctest.DocTestParser().get_doctest(
        text, {"__name__": "readme"}, block.where, str(README), block.line
    )
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        result = runner.run(test, out=report.write)
    finally:
        os.chdir(cwd)
    assert result.failed == 0, (
        f"{block.where}: the session does not run as shown\n{report.getvalue()}"
    )


def _check_file(block: Block, path: str) -> None:
    shown = "\n".join(block.lines[1:]) + "\n"
    target = ROOT / path
    assert target.is_file(), f"{block.where}: the block is {path}, which does not exist"
    actual = target.read_text(encoding="utf-8")
    if shown != actual:
        diff = difflib.unified_diff(
            actual.splitlines(), shown.splitlines(), path, "README", lineterm=""
        )
        pytest.fail(f"{block.where}: the block differs from {path}:\n" + "\n".join(diff))


def _run_script(block: Block, root: Path) -> None:
    script = root / f"readme_block_{block.line}.py"
    script.write_text("\n".join(block.lines) + "\n", encoding="utf-8")
    done = _run([sys.executable, str(script)], root)
    assert done.returncode == 0, (
        f"{block.where}: the script exited {done.returncode}\n{done.stderr[-3000:]}"
    )


@pytest.mark.parametrize("block", [_param(b) for b in BLOCKS])
def test_readme_block_runs_as_written(block: Block, checkout: Path) -> None:
    reason = block.skip_reason
    if reason is not None:
        assert reason, f"{block.where}: a readme-test skip needs a reason"
        pytest.skip(f"{block.where}: {reason}")
    if block.lang == "bash":
        _run_bash(block, checkout)
    elif any(line.startswith(">>> ") for line in block.lines):
        _run_session(block)
    elif block.lines and (match := _FILE.match(block.lines[0])):
        _check_file(block, match["path"])
    else:
        _run_script(block, checkout)


def test_every_runnable_block_is_found() -> None:
    """The parser sees the blocks README is known to hold (a guard against a parser that
    silently finds nothing)."""
    where = {(b.lang, b.lines[0]) for b in BLOCKS if b.lines}
    assert ("python", "# examples/orders/orders.py") in where
    assert ("python", ">>> from examples.orders.orders import orders") in where
    assert any(b.lang == "bash" and b.output is not None for b in BLOCKS)


def test_the_parser_reads_markers_exits_and_outputs() -> None:
    text = "\n".join(
        [
            "<!-- readme-test: skip needs an AWS account -->",
            "<!-- other -->",
            "```bash",
            "saga deploy x \\",
            "  --name y   # exit 2",
            "```",
            "",
            "```json",
            '{"a": 1}',
            "```",
        ]
    )
    first, second = parse_blocks(text)
    assert first.skip_reason == "needs an AWS account"
    assert list(_commands(first)) == [(4, "saga deploy x    --name y   # exit 2")]
    assert first.output is second
    assert _same_output(second, '{ "a" : 1 }\n') is None
    assert _same_output(second, '{"a": 2}') == 'it printed\n{\n  "a": 2\n}'
    assert _json_matches({"cause": "ab…", "n": [1]}, {"cause": "abc", "n": [1]})
    assert not _json_matches({"cause": "ab…"}, {"cause": "xab"})
    assert not _json_matches({"n": 1}, {"n": True})
