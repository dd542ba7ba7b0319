"""Does the package keep its shape? Imports run cli -> grading -> checks -> engines, never
back; the engines import nothing of grader outside grader/aws; each folder is what the
README's Layout says it is."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "grader"


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path = ROOT, tree: ast.AST | None = None) -> set[str]:
    """Every grader module ``path`` imports, at any depth of the file (lazy imports count).
    ``tree`` is the file already parsed (and perhaps pruned)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    if tree is None:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {m for m in found if m == "grader" or m.startswith("grader.")}


MODULES = {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def offenders(
    layer: str, forbidden: tuple[str, ...], modules: dict[str, set[str]] = MODULES
) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, targets in modules.items()
        if within(module, layer)
        for target in targets
        if any(within(target, f) for f in forbidden)
    )


def test_the_walk_finds_the_layers():
    assert {"grader.cli", "grader.grading.runner", "grader.checks.lab3", "grader.aws.iam"} <= set(
        MODULES
    )
    assert "grader.aws.jsonfile" in MODULES["grader.aws.iam.policy"]  # relative imports resolve


def test_engines_import_nothing_of_grader_outside_grader_aws():
    bad = sorted(
        f"{module} imports {target}"
        for module, targets in MODULES.items()
        if within(module, "grader.aws")
        for target in targets
        if not within(target, "grader.aws") and target != "grader"
    )
    assert bad == []


def test_the_iam_engine_needs_no_other_engine():
    assert offenders("grader.aws.iam", ("grader.aws.trail",)) == []


@pytest.mark.parametrize(
    "layer, forbidden",
    [
        ("grader.grading", ("grader.cli",)),
        ("grader.checks", ("grader.cli", "grader.grading", "grader.course")),
        ("grader.errors", ("grader.cli", "grader.grading", "grader.course", "grader.checks")),
        ("grader.terminal", ("grader.cli", "grader.grading", "grader.course", "grader.checks")),
    ],
)
def test_imports_never_run_back_up_the_layers(layer, forbidden):
    assert offenders(layer, forbidden) == []


def test_only_the_docs_hook_in_course_imports_the_cli_and_nothing_imports_the_hook():
    # The hook renders `grader --help` into the reference page; it is a leaf nothing uses.
    found = offenders("grader.course", ("grader.cli",))
    assert {line.split()[0] for line in found} == {"grader.course.mkdocs_hook"}
    users = [m for m, targets in MODULES.items() if "grader.course.mkdocs_hook" in targets]
    assert users == []


def test_a_mutant_import_would_be_caught(tmp_path):
    engine = tmp_path / "grader" / "aws" / "x.py"
    engine.parent.mkdir(parents=True)
    engine.write_text("def f():\n    from ..grading import runner\n")
    modules = {"grader.aws.x": imports_of(engine, tmp_path)}
    assert offenders("grader.aws", ("grader.grading",), modules) == [
        "grader.aws.x imports grader.grading",
        "grader.aws.x imports grader.grading.runner",
    ]


def test_every_cli_group_module_registers_its_commands():
    from grader.cli import GROUPS

    for group in GROUPS:
        assert (PACKAGE / "cli" / f"{group}.py").is_file(), group
        tree = ast.parse((PACKAGE / "cli" / f"{group}.py").read_text())
        assert any(isinstance(n, ast.FunctionDef) and n.name == "register" for n in tree.body)


def test_command_modules_import_nothing_heavy_at_the_top():
    """`grader --help` imports every command module: their top level stays light."""
    heavy = ("boto3", "moto", "rich", "policy_sentry", "pytest", "grader.aws", "grader.grading")
    for path in sorted((PACKAGE / "cli").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                assert not any(n.startswith(heavy) for n in names), (path.name, names)


# Every place in the grader that starts a process, and what it starts. Learner code is
# started in one place only: the jail.
PROCESS_STARTERS = {
    "grader.grading.jail": "learner code, jailed (run_jailed), and the jail's own probe",
    "grader.grading.runner": "the grading child (pytest on the installed checks)",
    "grader.grading.sandbox_process": "the sandbox process (a fork before moto loads)",
    "grader.grading.zygote": "a class's warm grading process, and the grading children it forks",
    "grader.course.site": "mkdocs build for grader docs",
}
_STARTS = {
    ("subprocess", "Popen"),
    ("subprocess", "run"),
    ("subprocess", "call"),
    ("subprocess", "check_call"),
    ("subprocess", "check_output"),
    ("os", "fork"),
    ("os", "forkpty"),
    ("os", "system"),
    ("os", "popen"),
    ("os", "posix_spawn"),
    ("os", "posix_spawnp"),
}


def process_starts(path: Path) -> list[str]:
    """Calls in ``path`` that start a process: subprocess's, os.fork/system/spawn*/exec*."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        func = node.func if isinstance(node, ast.Call) else None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            pair = (func.value.id, func.attr)
            if pair in _STARTS or (pair[0] == "os" and pair[1].startswith(("exec", "spawn"))):
                found.append(f"{pair[0]}.{pair[1]} at line {node.lineno}")
        elif isinstance(node, ast.ImportFrom) and node.module in ("subprocess", "multiprocessing"):
            found.append(f"from {node.module} import ... at line {node.lineno}")
        elif isinstance(node, ast.Import) and any(a.name == "multiprocessing" for a in node.names):
            found.append(f"import multiprocessing at line {node.lineno}")
    return found


def test_only_the_known_places_start_processes_and_only_the_jail_starts_learner_code():
    starts = {
        module_name(p): process_starts(p)
        for p in sorted(PACKAGE.rglob("*.py"))
        if process_starts(p)
    }
    assert set(starts) == set(PROCESS_STARTERS), starts


@pytest.mark.parametrize(
    "entry, only_caller",
    [
        ("run_jailed", "grader.grading.learner"),  # one call, one process
        ("start_jailed", "grader.grading.learner_worker"),  # a warm function, many calls
        ("start_kernel_jailed", "grader.grading.notebook"),  # a notebook's kernel
    ],
)
def test_only_the_learner_modules_run_code_in_the_jail(entry, only_caller):
    callers = sorted(
        name
        for name, path in ((module_name(p), p) for p in PACKAGE.rglob("*.py"))
        if entry in path.read_text(encoding="utf-8") and name != "grader.grading.jail"
    )
    assert callers == [only_caller]


def test_the_process_finder_sees_every_way_to_start_one(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os, subprocess\n"
        "subprocess.Popen(['x'])\n"
        "os.execv('/bin/x', ['x'])\n"
        "os.spawnl(0, 'x')\n"
        "os.fork()\n"
        "from subprocess import run\n"
        "proc: subprocess.Popen\n"
    )
    assert len(process_starts(sample)) == 5


def runtime_imports_of(path: Path) -> set[str]:
    """:func:`imports_of` without the imports under ``if TYPE_CHECKING:``, which never run."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            node.body = [ast.Pass()]
    return imports_of(path, tree=tree)


def loops_in(edges: dict[str, set[str]]) -> list[str]:
    """Every import loop through each module, as ``a -> b -> a``."""
    loops = []
    for start in edges:
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in edges.get(node, ()):
                if nxt == start:
                    loops.append(" -> ".join([*path, start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    return loops


def test_the_loop_finder_finds_a_loop_through_three_modules():
    assert loops_in({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})[0] == "a -> b -> c -> a"
    assert loops_in({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_iam_engine_has_no_import_loop_even_through_lazy_imports():
    """Each module of grader.aws.iam can be read without the ones that read it: the
    decision path (logic), the decision type and its explanation import one way only.
    Imports for type checkers only do not count: they never run."""
    iam = PACKAGE / "aws" / "iam"
    engine = {
        module_name(path): {t for t in runtime_imports_of(path) if within(t, "grader.aws.iam")}
        for path in sorted(iam.glob("*.py"))
    }
    # a target "pkg.mod.Name" counts as the module "pkg.mod"
    edges = {
        m: {t if t in engine else t.rpartition(".")[0] for t in ts} & engine.keys() - {m}
        for m, ts in engine.items()
        if m != "grader.aws.iam"  # the package re-exports; it imports, nothing imports it
    }
    loops = loops_in(edges)
    assert loops == []
