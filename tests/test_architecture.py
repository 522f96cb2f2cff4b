"""The package's shape: imports run one way (no cycle, counting imports inside functions), small modules."""
from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import kfold

PACKAGE = Path(kfold.__file__).parent
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(name: str) -> set[str]:
    """Every kfold module that importing ``name`` (or calling its functions) imports.

    Every ``import`` counts, also those inside functions. ``from kfold.a import b``
    imports ``kfold.a.b`` when that is a module; importing ``kfold.a.b`` first runs
    ``kfold/a/__init__.py``, so that counts as an edge too.
    """
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        for candidate in candidates:
            if candidate in MODULES:
                found.add(candidate)
                parts = candidate.split(".")  # the packages above it run first
                found.update(".".join(parts[:i]) for i in range(2, len(parts)))
    found.discard(name)
    found -= {".".join(name.split(".")[:i]) for i in range(1, len(name.split(".")))}  # its own packages ran first
    found.discard("kfold")  # kfold/__init__.py imports its names lazily (on first use), never at import
    return found


GRAPH = {name: imported_modules(name) for name in MODULES}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_imports_inside_functions_and_package_inits():
    assert "kfold.results.outcome" in GRAPH["kfold.results.rundir"]
    assert "kfold.train" in GRAPH["kfold.search.searches"]  # importing kfold.train.x runs kfold/train/__init__


def test_no_import_cycle_among_kfold_modules():
    assert find_cycle(GRAPH) is None, " -> ".join(find_cycle(GRAPH))


# search -> train -> engines -> (results | executors) -> split -> data -> core: a module never imports a later layer.
LAYERS = ["core", "data", "datasets", "split", "results", "executors", "engines", "train", "search", "loading", "cli",
          "__main__"]


def layer(name: str) -> int:
    top = name.split(".")[1] if name != "kfold" else "__init__"
    return LAYERS.index(top)


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n != "kfold"))
def test_imports_point_down_the_layers(name):
    upward = sorted(d for d in GRAPH[name] if layer(d) > layer(name))
    assert not upward, f"{name} imports a higher layer: {upward}"


def test_executors_and_results_do_not_know_each_other():
    for name, deps in GRAPH.items():
        if name.startswith("kfold.executors"):
            assert not any(d.startswith("kfold.results") or d.startswith("kfold.train") for d in deps), name


def test_engines_know_neither_training_nor_searching():
    for name, deps in GRAPH.items():
        if name.startswith("kfold.engines"):
            assert not any(d.startswith(("kfold.train", "kfold.search")) for d in deps), name


def test_the_fused_runner_talks_to_the_engine_only_through_its_interface():
    """``kfold.train`` imports ``kfold.engines`` (the interface), never an engine's own modules."""
    for name, deps in GRAPH.items():
        if name.startswith("kfold.train"):
            inner = {d for d in deps if d.startswith("kfold.engines.")}
            assert not inner, f"{name} imports {sorted(inner)}"


# The only modules that may import TensorFlow, reach into ``keras.src`` or read a private attribute of
# Keras or TensorFlow: the TensorFlow engine, and one adapter module.
TENSORFLOW_ALLOWED = ("kfold.engines.tensorflow", "kfold.core.backend")
# Private attributes of Keras' and TensorFlow's objects kfold has needed (anything else private of
# theirs is caught by name below: ``keras.src``, ``tensorflow.python``).
PRIVATE_ATTRIBUTES = {"_symbolic_build", "_compile_metrics", "_compile_loss", "_flatten_layers", "_post_build",
                      "_should_trace", "_writers", "_gradient_registry", "_registry", "_async_train"}


def tensorflow_uses(path: Path) -> list[str]:
    """What in a module touches TensorFlow or Keras' private API: imports, ``import_tensorflow()``, attributes."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "tensorflow" or a.name.startswith("keras.src")]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module.split(".")[0] == "tensorflow" or node.module.startswith("keras.src"):
                found.append(node.module)
            if path.name != "__init__.py":  # a subpackage re-exporting the adapter's name does not use it
                found += [a.name for a in node.names if a.name == "import_tensorflow"]
        elif isinstance(node, ast.Attribute) and node.attr in PRIVATE_ATTRIBUTES:
            found.append(node.attr)
        elif isinstance(node, ast.Name) and node.id == "import_tensorflow":
            found.append("import_tensorflow")
    return found


def test_the_tensorflow_check_sees_what_it_should():
    sample = PACKAGE.parent / "kfold" / "engines" / "tensorflow" / "prepare.py"
    assert {"_symbolic_build", "_flatten_layers", "import_tensorflow"} <= set(tensorflow_uses(sample))
    assert "import_tensorflow" not in tensorflow_uses(PACKAGE / "core" / "__init__.py")  # re-exported, not used


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not n.startswith(TENSORFLOW_ALLOWED)))
def test_tensorflow_and_private_keras_stay_in_the_engine_and_the_adapter(name):
    uses = tensorflow_uses(MODULES[name])
    assert not uses, f"{name} uses {sorted(set(uses))}: only {TENSORFLOW_ALLOWED} may"


def test_at_least_four_subpackages():
    subpackages = [p.parent.name for p in PACKAGE.glob("*/__init__.py")]
    assert len(subpackages) >= 4, subpackages


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_are_small_and_say_what_lives_there(name):
    text = MODULES[name].read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_LINES, f"{name} has {len(text.splitlines())} lines"
    docstring = ast.get_docstring(ast.parse(text))
    assert docstring and docstring.strip(), f"{name} has no module docstring"


@pytest.mark.parametrize("name", sorted(n for n, p in MODULES.items() if p.name == "__init__.py" and n != "kfold"))
def test_subpackage_inits_only_reexport(name):
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    for node in tree.body:
        is_docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        is_all = isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]
        assert is_docstring or is_all or isinstance(node, (ast.Import, ast.ImportFrom)), \
            f"{name} does more than re-export: line {node.lineno}"


def _subpackage(name: str) -> str:
    parts = name.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 or MODULES[name].name == "__init__.py" else "kfold"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_private_names_stay_in_their_subpackage(name):
    """A leading underscore means private to its subpackage: no other subpackage imports it."""
    own = _subpackage(name)
    for node in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kfold.") and not node.level:
            target = node.module
            if target not in MODULES or _subpackage(target) == own:
                continue
            private = [a.name for a in node.names if a.name.startswith("_")]
            private += [p for p in target.split(".") if p.startswith("_")]
            assert not private, f"{name} imports private {private} from {target}"


# ------------------------------------------------ seams: a subpackage uses another only through what it exports

# (importer, imported): modules of the first import names of the second only from the package itself
# (``from kfold.train import plan_folds``), and only names in its ``__all__``, never from its modules.
# Every pair of distinct subpackages (and the top-level modules, such as kfold.loading, as importers).
SUBPACKAGES = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
TOP_MODULES = sorted(n.split(".")[1] for n in MODULES if n.count(".") == 1 and n.split(".")[1] not in SUBPACKAGES)
SEAMS = [(a, b) for a in SUBPACKAGES + TOP_MODULES for b in SUBPACKAGES if a != b]


def _imports_of(name: str) -> list[tuple[int, str, list[str]]]:
    """``(line, module, names)`` of every absolute kfold import in module ``name`` (inside functions too)."""
    found = []
    for node in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, []) for alias in node.names)
    return found


def seam_violations(importer: str, imported: str) -> list[str]:
    """Where modules of ``kfold.<importer>`` reach past ``kfold.<imported>``'s exports."""
    package = f"kfold.{imported}"
    exported = set(importlib.import_module(package).__all__)
    wrong = []
    for name in sorted(n for n in MODULES if n.startswith(f"kfold.{importer}.") or n == f"kfold.{importer}"):
        for line, module, names in _imports_of(name):
            if module.startswith(package + "."):
                wrong.append(f"{name}:{line} imports from {module} (import from {package} instead)")
            elif module == package:
                wrong.extend(f"{name}:{line} imports {n}, which {package}.__all__ does not export"
                             for n in names if n not in exported)
    return wrong


def test_seam_check_sees_imports_from_modules(tmp_path, monkeypatch):
    module = tmp_path / "probe.py"
    module.write_text("from kfold.search.plots import plot_search\nfrom kfold.search import _student_t\n")
    monkeypatch.setitem(MODULES, "kfold.cli.probe", module)
    wrong = seam_violations("cli", "search")
    assert any("kfold.cli.probe:1 imports from kfold.search.plots" in v for v in wrong), wrong
    assert any("kfold.cli.probe:2 imports _student_t" in v for v in wrong), wrong


def test_every_pair_of_subpackages_is_a_seam():
    assert ("search", "train") in SEAMS and ("train", "engines") in SEAMS and ("loading", "results") in SEAMS
    assert len(SEAMS) >= len(SUBPACKAGES) * (len(SUBPACKAGES) - 1)


@pytest.mark.parametrize("importer, imported", SEAMS)
def test_subpackages_meet_only_through_exported_names(importer, imported):
    wrong = seam_violations(importer, imported)
    assert not wrong, "\n".join(wrong)


# ------------------------------------------------ public signatures stay short

MAX_PARAMETERS = 20
# Over the limit today, to be brought under it (the selection options skip/smooth/rule/mode and the refit ones
# still travel one by one): a count here may only go down, and a name leaves the list once it fits.
OVER_LIMIT = {"grid_search": 28, "nested_cross_validate": 26}


def parameter_count(obj) -> int:
    """Named parameters of a function or of a class's constructor (``*args`` and ``**kwargs`` not counted)."""
    signature = inspect.signature(obj)
    return sum(p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in signature.parameters.values())


def test_parameter_count_skips_kwargs():
    def f(a, b=1, *args, c, **kwargs):
        return a

    assert parameter_count(f) == 3


@pytest.mark.parametrize("name", sorted(kfold._EXPORTS))
def test_public_callables_take_at_most_20_parameters(name):
    obj = getattr(kfold, name)
    if not callable(obj):
        return
    count = parameter_count(obj)
    limit = OVER_LIMIT.get(name, MAX_PARAMETERS)
    assert count <= limit, f"kfold.{name} takes {count} named parameters (at most {limit})"
    if name in OVER_LIMIT:
        assert count > MAX_PARAMETERS, f"kfold.{name} fits now ({count}): take it off OVER_LIMIT"
