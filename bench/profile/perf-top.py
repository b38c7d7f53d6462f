#!/usr/bin/env python3
"""Self and inclusive shares per function from `perf record -g` data, symbolizing the Swift binary
with `nm` (this machine's perf cannot read the ELF of a Swift 6.3 binary: "symsrc__init: cannot
get elf header", so its own report shows bare addresses).

    bench/profile/perf-top.py PERF_DATA BINARY [N]  →  two tables: self %, inclusive %
"""
import bisect, collections, re, subprocess, sys

data, binary = sys.argv[1], sys.argv[2]
top = int(sys.argv[3]) if len(sys.argv) > 3 else 40
syms = []
for line in subprocess.run(["nm", "-n", "--defined-only", binary], capture_output=True, text=True).stdout.splitlines():
    parts = line.split(" ", 2)
    if len(parts) == 3 and parts[1] in "tTwW":
        syms.append((int(parts[0], 16), parts[2]))
addrs = [a for a, _ in syms]

def name(addr):
    i = bisect.bisect_right(addrs, addr) - 1
    return syms[i][1] if i >= 0 else hex(addr)

frame = re.compile(r"^\s+([0-9a-f]+) (.*) \((.*)\)$")
self_c, incl_c = collections.Counter(), collections.Counter()
samples = 0
stack = []
def flush():
    global samples
    if not stack:
        return
    samples += 1
    self_c[stack[0]] += 1
    for f in set(stack):
        incl_c[f] += 1
out = subprocess.run(["perf", "script", "-i", data], capture_output=True, text=True).stdout
for line in out.splitlines():
    m = frame.match(line)
    if m:
        addr, sym, dso = m.groups()
        if dso.endswith(binary.split("/")[-1]) and sym.startswith("[unknown]"):
            sym = name(int(addr, 16))
        else:
            sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
        stack.append(sym)
    elif not line.strip():
        flush(); stack = []
flush()
names = list(set(self_c) | set(incl_c))
demangled = dict(zip(names, subprocess.run(["swift", "demangle", "--simplified"], input="\n".join(names), capture_output=True,
                                           text=True).stdout.splitlines()))
def show(title, counter):
    print(f"{title} ({samples} samples)")
    for sym, c in counter.most_common(top):
        print(f"{100.0 * c / samples:6.2f}%  {demangled.get(sym, sym)[:160]}")
show("self", self_c)
print()
show("inclusive", incl_c)
