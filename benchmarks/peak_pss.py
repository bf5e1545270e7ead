"""Peak memory of a command and all its child processes (threads share one process; a
Python DataLoader's workers are processes): the sum of their proportional set sizes
(/proc/PID/smaps_rollup "Pss"), sampled every 50 ms. Prints the command's output, then
one JSON line {"peak_pss_mib": ...}.

Usage: /usr/bin/python3 benchmarks/peak_pss.py -- COMMAND ARGS...
"""
import json
import os
import subprocess
import sys
import time


def tree(root):
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    args = sys.argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        sys.exit(__doc__)
    proc = subprocess.Popen(args)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, sum(pss_kib(p) for p in tree(proc.pid)))
        time.sleep(0.05)
    print(json.dumps({"peak_pss_mib": round(peak / 1024, 1), "exit": proc.returncode}))
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
