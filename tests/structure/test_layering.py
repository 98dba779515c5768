"""The import structure, read from the code's own imports (every import statement, at module top or inside a
function): the layers of docs/architecture.md and no import circle."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Where each package's modules live: (directory, module prefix; "" for the firmware's top level).
TREES = (("firmware", ""), ("host_tools", "host_tools"), ("sim", "sim"), ("compat", ""))

# layer -> the layers it may import besides "compat" (a board's built-in modules, which every layer may use)
ALLOWED = {
    "boot": set(),                                      # update_boot: runs before any firmware module loads
    "main": {"main", "boot", "device", "monitor"},       # main.py and boards/ compose the device
    "device": {"device", "monitor"},                     # hardware-facing
    "monitor": {"monitor"},                              # the portable core
    "compat": set(),                                     # what a board has built in, for CPython
    "host_tools": {"host_tools", "monitor"},
    # The simulator runs the unchanged firmware: its boards compose the device from main as a board does.
    "sim": {"sim", "host_tools", "monitor", "main", "device", "boot"},
}


def modules():
    """{module name: file} for every module of the trees."""
    found = {}
    for directory, prefix in TREES:
        base = ROOT / directory
        if not base.is_dir():
            continue
        for path in base.rglob("*.py"):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            if not parts or (directory == "firmware" and parts[0].startswith("manifest")):
                continue   # a freeze manifest is build input, not a module
            found[".".join(([prefix] if prefix else []) + parts)] = path
    return found


def layer(module):
    top = module.split(".")[0]
    if top in ("main", "boards"):
        return "main"
    if top == "update_boot":
        return "boot"
    if top in ("micropython", "cryptolib"):
        return "compat"
    return top


def imported(module, path, known):
    """The modules of the trees that `module` imports."""
    names = set()
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[:len(package) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            names.add(base)
            names.update(base + "." + alias.name for alias in node.names)
    return {name for name in names if name in known and name != module}


def import_graph():
    known = modules()
    return {module: imported(module, path, known) for module, path in known.items()}


def circles(graph):
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_trees_are_read():
    graph = import_graph()
    # a sample of each layer, so a moved directory cannot make the checks below pass on nothing
    for module in ("main", "update_boot", "monitor.records", "monitor.store", "device.ble_service",
                   "host_tools.cli", "sim.serve", "micropython", "cryptolib"):
        assert module in graph, module
    assert "monitor.records" in graph["monitor.store"]


def test_every_import_follows_the_layers():
    graph = import_graph()
    wrong = ["%s -> %s" % (module, target) for module, targets in sorted(graph.items())
             for target in sorted(targets) if layer(target) not in ALLOWED[layer(module)] | {"compat"}]
    assert wrong == []


def test_no_import_circle():
    assert circles(import_graph()) == []


def test_the_circle_finder_finds_circles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []
