"""The shared package's modules import each other without a cycle, lazy imports included."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "telemetry_common"


def imports_of(path: Path) -> set[str]:
    """Return the telemetry_common modules ``path`` imports, anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "telemetry_common":
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "telemetry_common."
        ):
            found.add(node.module.split(".")[1])  # type: ignore[union-attr]
        elif isinstance(node, ast.Import):
            found |= {
                a.name.split(".")[1] for a in node.names if a.name.startswith("telemetry_common.")
            }
    return found


def test_no_module_of_telemetry_common_imports_itself_back() -> None:
    graph = {path.stem: imports_of(path) for path in PACKAGE.glob("*.py")}
    cycles = []

    def visit(module: str, trail: list[str]) -> None:
        for imported in sorted(graph.get(module, set())):
            if imported in trail:
                cycles.append([*trail[trail.index(imported) :], imported])
            elif imported in graph:
                visit(imported, [*trail, imported])

    for module in sorted(graph):
        visit(module, [module])
    assert cycles == []
