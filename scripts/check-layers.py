#!/usr/bin/env python3
"""Checks that every #include in the library points down the layer order (docs/architecture.md).

Each source or header belongs to an area: src/<area>/, include/hwnas/<area>/, search_spaces/
and predictors/. A file may include its own area and the areas below it, never one above.
Usage: scripts/check-layers.py [ROOT | --self-test]   (exit 1 on an upward include)
"""
import pathlib
import re
import sys

ORDER = ["core", "nn", "data", "cost", "search_spaces", "train", "predictors", "estimate", "strategy", "oneshot",
         "experiment", "export", "cli"]
RANK = {area: i for i, area in enumerate(ORDER)}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def area_of_file(rel):
    parts = rel.parts
    if parts[0] in ("search_spaces", "predictors"):
        return parts[0]
    if parts[0] == "src" and len(parts) > 2:
        return parts[1]
    if parts[:2] == ("include", "hwnas") and len(parts) > 3:
        return parts[2]
    return None  # the umbrella header hwnas/hwnas.h, generated files


def area_of_include(path):
    parts = path.split("/")
    if parts[0] == "hwnas" and len(parts) > 2:
        parts = parts[1:]
    if parts[0] in RANK and len(parts) > 1:
        return parts[0]
    return None  # a file beside the includer, or a third-party header


def violations(root):
    found = set()
    for top in ("src", "include", "search_spaces", "predictors"):
        for f in sorted((root / top).rglob("*")):
            if f.suffix not in (".h", ".cpp") or not f.is_file():
                continue
            rel = f.relative_to(root)
            mine = area_of_file(rel)
            if mine is None:
                continue
            for inc in INCLUDE.findall(f.read_text(encoding="utf-8", errors="replace")):
                theirs = area_of_include(inc)
                if theirs is not None and RANK[theirs] > RANK[mine]:
                    found.add(f"{rel} -> {theirs}")
    return found


def self_test():
    """The check fails on a planted upward include and passes without it."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        (root / "src/core").mkdir(parents=True)
        (root / "include/hwnas/cli").mkdir(parents=True)
        (root / "include/hwnas/cli/cli.h").write_text('#include "hwnas/core/error.h"\n')
        planted = root / "src/core/planted.cpp"
        planted.write_text('#include "core/describe.h"\n#include "hwnas/cli/cli.h"\n')
        found = violations(root)
        assert found == {"src/core/planted.cpp -> cli"}, found
        planted.write_text('#include "core/describe.h"\n')
        assert violations(root) == set()
    print("check-layers: self-test passed (a planted upward include is found)")
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
    bad = sorted(violations(root))
    for v in bad:
        print(f"check-layers: {v}: includes an area above its own (order: {' < '.join(ORDER)}); move the code "
              f"down or depend on an interface in a lower area")
    if bad:
        return 1
    print("check-layers: every include points down the order")
    return 0


if __name__ == "__main__":
    sys.exit(main())
