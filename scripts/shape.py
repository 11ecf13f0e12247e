"""The four figures issue 19 tracks for dam's shape, read from the source with `ast` (nothing is
imported, so it runs in a second): modules over 400 lines, function-local imports of dam,
modules in import cycles, and private helpers (`_name`) of one module used by another.

    python scripts/shape.py [--list]

Cycles are counted twice: over module-level imports (what Python runs at import time) and over
every import, function-local ones included (what grimp and import-linter see)."""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "dam"
LONG = 400


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _resolve(name: str, node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _target(name: str, known: dict[str, Path]) -> str | None:
    """The longest known module `name` names (an imported attribute belongs to its module)."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


class _Imports(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, known: dict[str, Path]) -> None:
        self.module, self.is_package, self.known = module, is_package, known
        self.depth = 0
        self.top: set[str] = set()
        self.all: set[str] = set()
        self.local: list[tuple[int, str]] = []
        self.aliases: dict[str, str] = {}  # local name -> dam module
        self.private: list[tuple[int, str]] = []
        self.local_statements = 0
        self.attrs: list[tuple[int, str]] = []  # obj._name on anything but self/cls

    def _statement(self, node: ast.AST) -> None:
        if self.depth:
            self.local_statements += 1

    def _add(self, target: str | None, line: int) -> None:
        if not target or target == self.module:
            return
        self.all.add(target)
        if self.depth:
            self.local.append((line, target))
        else:
            self.top.add(target)

    def visit_FunctionDef(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Import(self, node: ast.Import) -> None:
        if any(a.name.split(".")[0] == PACKAGE for a in node.names):
            self._statement(node)
        for a in node.names:
            if a.name.split(".")[0] == PACKAGE:
                target = _target(a.name, self.known)
                self._add(target, node.lineno)
                if a.asname and target:
                    self.aliases[a.asname] = target

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = _resolve(node.module or "", node, self.module, self.is_package)
        if base.split(".")[0] != PACKAGE:
            return
        self._statement(node)
        for a in node.names:
            sub = f"{base}.{a.name}"
            if sub in self.known:
                self._add(sub, node.lineno)
                self.aliases[a.asname or a.name] = sub
            else:
                target = _target(base, self.known)
                self._add(target, node.lineno)
                if a.name.startswith("_") and not a.name.startswith("__") and target != self.module:
                    self.private.append((node.lineno, f"{target}.{a.name}"))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if (isinstance(node.value, ast.Name) and node.value.id in self.aliases and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            self.private.append((node.lineno, f"{self.aliases[node.value.id]}.{node.attr}"))
        elif (node.attr.startswith("_") and not node.attr.startswith("__")
              and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))):
            self.attrs.append((node.lineno, node.attr))
        self.generic_visit(node)


def _cyclic(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            node, it = work[-1]
            for nxt in it:
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        m = stack.pop()
                        on.discard(m)
                        comp.append(m)
                        if m == node:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def measure() -> dict:
    known = modules()
    top: dict[str, set[str]] = {}
    every: dict[str, set[str]] = {}
    local: list[str] = []
    private: list[str] = []
    long: list[tuple[str, int]] = []
    statements = 0
    defined: dict[str, set[str]] = defaultdict(set)  # private def name -> modules defining it
    trees = {name: ast.parse(path.read_text()) for name, path in known.items()}
    for name, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name.startswith("_") \
                    and not node.name.startswith("__"):
                defined[node.name].add(name)
    for name, path in known.items():
        text = path.read_text()
        lines = len(text.splitlines())
        if lines > LONG:
            long.append((str(path.relative_to(ROOT)), lines))
        v = _Imports(name, path.name == "__init__.py", known)
        v.visit(trees[name])
        statements += v.local_statements
        for line, attr in v.attrs:  # a private method of another module's class, called from here
            owners = defined.get(attr, set())
            if owners and name not in owners:
                private.append(f"{path.relative_to(ROOT)}:{line} {'/'.join(sorted(owners))}.{attr}")
        top[name], every[name] = v.top, v.all
        local += [f"{path.relative_to(ROOT)}:{line} {t}" for line, t in v.local]
        private += [f"{path.relative_to(ROOT)}:{line} {t}" for line, t in v.private]
    return {"long": sorted(long, key=lambda x: -x[1]), "local": local, "statements": statements, "private": private,
            "cycles_top": _cyclic(top), "cycles_all": _cyclic(every)}


def main() -> None:
    m = measure()
    show = "--list" in sys.argv
    print(f"modules over {LONG} lines: {len(m['long'])}  " + ", ".join(f"{p} {n}" for p, n in m["long"]))
    print(f"function-local imports of dam: {m['statements']} statements ({len(m['local'])} imported names)")
    if show:
        print("\n".join("  " + x for x in m["local"]))
    for key, what in (("cycles_top", "module-level imports"), ("cycles_all", "all imports")):
        comps = m[key]
        print(f"modules in import cycles ({what}): {sum(map(len, comps))} in {len(comps)} cycle(s)")
        if show:
            for c in comps:
                print("  " + " ".join(c))
    users = {p.split(":")[0] for p in m["private"]}
    print(f"private helpers used across modules: {len(m['private'])} uses of "
          f"{len({p.split()[1] for p in m['private']})} helpers in {len(users)} modules")
    if show:
        print("\n".join("  " + x for x in m["private"]))


if __name__ == "__main__":
    main()
