#!/usr/bin/python3
"""Checks that each folder library of lmask calls only the folders below it.

    check_layering.py BUILD_DIR "folder:dep dep ..." ...

The arguments are CMakeLists.txt's LMASK_LAYERS. For every folder, every
lmask:: symbol its library (BUILD_DIR/liblmask_<folder>.a) leaves undefined
must be defined in it or in a folder it may use (its declared folders and
theirs). A static link cannot tell: an object another caller already pulled
in satisfies an upward call too. Prints one line per upward call and exits 1
when there is one.
"""

import subprocess
import sys


def symbols(archive, defined):
    """The demangled lmask:: symbols an archive defines (or leaves undefined)."""
    args = ["nm", "-C", "--defined-only" if defined else "--undefined-only", archive]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    found = set()
    for line in out.splitlines():
        parts = line.split(None, 2) if defined else line.split(None, 1)
        if len(parts) < 2:
            continue
        name = parts[-1]
        if defined and parts[1] not in "TDBRVWtdbrvw":
            continue
        if name.startswith("lmask::"):
            found.add(name)
    return found


def main():
    build, layers = sys.argv[1], sys.argv[2:]
    below = {}
    for layer in layers:
        folder, _, deps = layer.partition(":")
        below[folder] = deps.split()
    reach = {}

    def reachable(folder):
        if folder not in reach:
            reach[folder] = {folder}
            for dep in below[folder]:
                reach[folder] |= reachable(dep)
        return reach[folder]

    defined = {f: symbols(f"{build}/liblmask_{f}.a", True) for f in below}
    upward = 0
    for folder in below:
        allowed = set().union(*(defined[f] for f in reachable(folder)))
        for name in sorted(symbols(f"{build}/liblmask_{folder}.a", False) - allowed):
            owner = [f for f in below if name in defined[f]]
            if owner:  # symbols of no folder (system, templates) are not ours to check
                print(f"layering: src/{folder} calls {name} of src/{', src/'.join(owner)}, not below it")
                upward += 1
    print(f"layering: {len(below)} folders, {upward} upward calls")
    return 1 if upward else 0


if __name__ == "__main__":
    sys.exit(main())
