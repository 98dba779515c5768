"""Device build step: cross-module `const()` names are inlined, so modules stop carrying them in RAM.

MicroPython inlines a `NAME = const(3)` only inside its own module and keeps every public one in the
module's globals: a dict entry and an interned name (qstr) in the heap, plus an attribute lookup at each
use elsewhere (`records.KIND_LAB`). This step, run on a copy of firmware/ before mpy-cross, writes the
value in place of each such use in the firmware and makes the definition private (`_NAME = const(3)`,
which MicroPython drops from the module). The sources stay as they are; CPython (host, simulator) never
sees the output. Line numbers are kept, so tracebacks on a board point at the right source line.

Names stay reachable by name on the device (tests, the REPL, `hasattr`): a module that had any gets a
module `__getattr__` that reads them from a generated `<module>.consts` text file next to its .mpy
("NAME value" lines, read by the generated `_const_names` module), only when something asks (chained to
the module's own `__getattr__`, if it has one).

    inline_tree(source_dir, out_dir, extra=()) -> [relative paths written]
        Writes the transformed tree, its .consts files (copy them next to the .mpy files), and `extra`
        scripts that import firmware modules (e.g. a bench driver, transformed without privatizing).

A name is left alone where inlining could change behaviour: a module or name that is ever assigned,
deleted or used as a parameter in a module, an attribute that is ever assigned (`mod.NAME = ...`), and
`import monitor.x` chains without an alias.
"""
import ast
import io
import os
import tokenize

SIDECAR_SUFFIX = ".consts"
LOOKUP_MODULE = "_const_names"   # generated at the root of the device tree
_FALLBACK = "_module_getattr"


def _module_name(rel):
    name = rel[:-3].replace(os.sep, ".")
    return name[:-9] if name.endswith(".__init__") else name


def _is_const_call(node):
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "const" \
        and len(node.args) == 1


def _collect(trees):
    """{module: {name: int}} of const() names each module has, its own and those it imports (re-exports)."""
    consts = {m: {} for m in trees}
    own = {m: set() for m in trees}
    changed = True
    while changed:
        changed = False
        for m, tree in trees.items():
            for node in tree.body:
                if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                        and isinstance(node.targets[0], ast.Name) and _is_const_call(node.value):
                    name = node.targets[0].id
                    if name in consts[m]:
                        continue
                    try:
                        value = eval(compile(ast.Expression(node.value.args[0]), m, "eval"),
                                     {"__builtins__": {}}, dict(consts[m]))
                    except Exception:   # depends on something not known (yet)
                        continue
                    if isinstance(value, int) and not isinstance(value, bool):
                        consts[m][name] = value
                        own[m].add(name)
                        changed = True
                elif isinstance(node, ast.ImportFrom) and node.module in consts and node.level == 0:
                    for alias in node.names:
                        local = alias.asname or alias.name
                        if alias.name in consts[node.module] and local not in consts[m]:
                            consts[m][local] = consts[node.module][alias.name]
                            changed = True
    return consts, own


def _stored_names(tree):
    """Names a module ever binds other than by import or its top-level const() definitions."""
    out = set()
    top_consts = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and _is_const_call(node.value):
            top_consts.add(id(node.targets[0]))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)) and id(node) not in top_consts:
            out.add(node.id)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            out.update(node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
    return out


def _stored_attributes(tree, aliases):
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)) \
                and isinstance(node.value, ast.Name) and node.value.id in aliases:
            out.add((aliases[node.value.id], node.attr))
    return out


def _aliases(tree, modules):
    """Local names bound to firmware modules by import (anywhere in the module)."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = node.module + "." + alias.name
                if full in modules:
                    out[alias.asname or alias.name] = full
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name in modules:
                    out[alias.asname] = alias.name
    return out


def _transform(source, module, trees, consts, own, frozen_attrs, privatize):
    tree = ast.parse(source)
    stored = _stored_names(tree)
    aliases = {k: v for k, v in _aliases(tree, trees).items() if k not in stored}
    bare = {}            # local name -> value, for names imported from a firmware module
    import_edits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in consts and node.level == 0:
            keep = []
            for alias in node.names:
                local = alias.asname or alias.name
                if alias.name in consts[node.module] and local not in stored \
                        and (node.module, alias.name) not in frozen_attrs:
                    bare[local] = consts[node.module][alias.name]
                else:
                    keep.append(alias)
            if len(keep) != len(node.names):
                import_edits.append((node, keep))
    private = set()
    if privatize:
        for name in own.get(module, ()):
            if name not in stored and (module, name) not in frozen_attrs and not name.startswith("_") \
                    and "_" + name not in stored and "_" + name not in consts[module]:
                private.add(name)
                bare.setdefault(name, consts[module][name])
    definitions = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id in private and _is_const_call(node.value):
            definitions.add((node.targets[0].lineno, node.targets[0].col_offset))
    import_lines = set()
    for node, _keep in import_edits:
        import_lines.update(range(node.lineno, node.end_lineno + 1))

    edits = []           # (line, start col, end col, text): always within one line
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
              if t.type not in (tokenize.NL, tokenize.COMMENT)]
    for i, tok in enumerate(tokens):
        if tok.type != tokenize.NAME or tok.start[0] in import_lines:
            continue
        prev = tokens[i - 1] if i else None
        if prev is not None and prev.type == tokenize.OP and prev.string == ".":
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if tok.string in aliases and nxt is not None and nxt.string == "." and i + 2 < len(tokens):
            attr = tokens[i + 2]
            target = aliases[tok.string]
            if attr.type == tokenize.NAME and attr.string in consts[target] \
                    and (target, attr.string) not in frozen_attrs and attr.start[0] == tok.start[0]:
                edits.append((tok.start[0], tok.start[1], attr.end[1], "(%d)" % consts[target][attr.string]))
            continue
        if tok.string not in bare:
            continue
        if (tok.start[0], tok.start[1]) in definitions:
            edits.append((tok.start[0], tok.start[1], tok.end[1], "_" + tok.string))
            continue
        if nxt is not None and nxt.type == tokenize.OP and nxt.string == "=" \
                and prev is not None and prev.string in ("(", ","):
            continue   # a keyword argument's name
        if prev is not None and prev.type == tokenize.NAME and prev.string in ("def", "class", "as", "import"):
            continue
        edits.append((tok.start[0], tok.start[1], tok.end[1], "(%d)" % bare[tok.string]))

    lines = source.splitlines(keepends=True)
    for line, start, end, text in sorted(edits, reverse=True):
        s = lines[line - 1]
        lines[line - 1] = s[:start] + text + s[end:]
    for node, keep in import_edits:
        indent = lines[node.lineno - 1][:node.col_offset]
        if keep:
            names = ", ".join(a.name + (" as " + a.asname if a.asname else "") for a in keep)
            text = "%sfrom %s import %s" % (indent, node.module, names)
        else:
            text = indent + "pass"
        lines[node.lineno - 1] = text + "\n" * (node.end_lineno - node.lineno + 1)
        for line in range(node.lineno + 1, node.end_lineno + 1):
            lines[line - 1] = ""
    out = "".join(lines)
    # Names this module no longer carries (its own, made private, and re-exports no longer imported).
    gone = {}
    if privatize:
        for name in private:
            gone[name] = consts[module][name]
        for node, keep in import_edits:
            if node in tree.body:
                kept = {a.asname or a.name for a in keep}
                for alias in node.names:
                    local = alias.asname or alias.name
                    if local not in kept:
                        gone[local] = consts[node.module][alias.name]
    return out, gone


def _sidecar_hook(source):
    has_own = any(isinstance(n, ast.FunctionDef) and n.name == "__getattr__" for n in ast.parse(source).body)
    if has_own:
        lines = source.splitlines(keepends=True)
        for i, line in enumerate(lines):
            if line.startswith("def __getattr__("):
                lines[i] = line.replace("def __getattr__(", "def %s(" % _FALLBACK, 1)
        source = "".join(lines)
    if not source.endswith("\n"):
        source += "\n"
    return source + (
        "\n\ndef __getattr__(name):\n"
        "    # device build (host_tools/const_inline.py): the const() names it inlined, found by name\n"
        "    from %s import find\n"
        "    return find(__file__, name%s)\n" % (LOOKUP_MODULE, (", " + _FALLBACK) if has_own else ""))


# Shared by every module's hook; reads line by line: nothing stays allocated, nothing is interned.
_LOOKUP = (
    "# Generated by host_tools/const_inline.py: a const() name the device build inlined, read from the\n"
    "# %s file next to the module that had it.\n"
    "def find(path, name, fallback=None):\n"
    "    key = name + \" \"\n"
    "    try:\n"
    "        with open(path.rsplit(\".\", 1)[0] + \"%s\") as f:\n"
    "            for line in f:\n"
    "                if line.startswith(key):\n"
    "                    return int(line[len(key):])\n"
    "    except OSError:\n"
    "        pass\n"
    "    if fallback is not None:\n"
    "        return fallback(name)\n"
    "    raise AttributeError(name)\n" % (SIDECAR_SUFFIX, SIDECAR_SUFFIX))


def _sidecar(names):
    return "".join("%s %d\n" % (k, names[k]) for k in sorted(names))


def _sources(source_dir):
    for dirpath, dirs, files in os.walk(source_dir):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                yield os.path.relpath(os.path.join(dirpath, name), source_dir)


def inline_tree(source_dir, out_dir, extra=()):
    """Writes the device build's sources to out_dir; returns the relative paths written (sources first)."""
    texts = {}
    trees = {}
    for rel in _sources(source_dir):
        with open(os.path.join(source_dir, rel)) as f:
            texts[rel] = f.read()
        try:
            trees[_module_name(rel)] = ast.parse(texts[rel])
        except SyntaxError:
            trees[_module_name(rel)] = ast.parse("")   # mpy-cross reports it, naming the file
    consts, own = _collect(trees)
    frozen_attrs = set()
    for tree in trees.values():
        frozen_attrs |= _stored_attributes(tree, _aliases(tree, trees))
    written = []
    sidecars = []
    for rel, source in texts.items():
        module = _module_name(rel)
        out, gone = source, {}
        if trees[module].body:
            out, gone = _transform(source, module, trees, consts, own, frozen_attrs, True)
        if gone:
            out = _sidecar_hook(out)
            sidecars.append((rel[:-3] + SIDECAR_SUFFIX, _sidecar(gone)))
        written.append((rel, out))
    if sidecars:
        lookup_rel = LOOKUP_MODULE + ".py"
        if lookup_rel in texts:
            raise ValueError("%s exists in %s: the device build generates it" % (lookup_rel, source_dir))
        written.append((lookup_rel, _LOOKUP))
    for path in extra:
        with open(path) as f:
            source = f.read()
        out, _gone = _transform(source, "__main__", trees, consts, own, frozen_attrs, False)
        written.append((os.path.basename(path), out))
    for rel, text in written + sidecars:
        dst = os.path.join(out_dir, rel)
        os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
        with open(dst, "w") as f:
            f.write(text)
    return [rel for rel, _text in written + sidecars]
