#!/usr/bin/env python3
"""awssim scenarios: cbq-awssim's validation of scenarios and flags.

Every file in data/bad_scenarios/ has a line in data/bad_scenarios/expected.tsv
naming a fragment its error must contain; cbq-awssim must exit 2 with it.
Adding a case is adding a file and a line. The scenarios in scenarios/ must
be valid, and bad flags must exit 2 too.

usage: test_scenarios.py path/to/cbq-awssim path/to/tests/awssim
"""
import os
import subprocess
import sys

PASSED, FAILED = [], []


def check(name, cond, detail=""):
    (PASSED if cond else FAILED).append(name)
    if not cond:
        print(f"FAIL {name}: {detail}")


def sim(binary, *args, timeout=10):
    p = subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, here = sys.argv[1], sys.argv[2]
    bad = os.path.join(here, "data", "bad_scenarios")
    expected = {}
    with open(os.path.join(bad, "expected.tsv")) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            name, fragment = line.split("\t", 1)
            expected[name] = fragment
    files = sorted(n for n in os.listdir(bad) if n.endswith(".json"))
    check("every bad scenario has an expected message", set(files) == set(expected),
          sorted(set(files) ^ set(expected)))
    for name in files:
        if name not in expected:
            continue
        rc, out = sim(binary, "--check", "--scenario", os.path.join(bad, name))
        check(f"bad scenario {name}", rc == 2 and expected[name] in out,
              f"rc={rc} out={out.strip()!r} want {expected[name]!r}")

    good = os.path.join(here, "scenarios")
    for name in sorted(n for n in os.listdir(good) if n.endswith(".json")):
        rc, out = sim(binary, "--check", "--scenario", os.path.join(good, name))
        check(f"scenario {name} is valid", rc == 0, out)

    basic = os.path.join(good, "basic.json")
    first_bad = os.path.join(bad, files[0]) if files else basic
    for name, args in [
        ("unknown flag", ["--listen", "127.0.0.1:0", "--scenario", basic, "--bogus"]),
        ("missing --listen", ["--scenario", basic]),
        ("bad --listen", ["--listen", "localhost", "--scenario", basic]),
        ("bad --clock", ["--listen", "127.0.0.1:0", "--scenario", basic, "--clock", "fast"]),
        ("bad clock factor", ["--listen", "127.0.0.1:0", "--scenario", basic,
                              "--clock", "scaled:0"]),
        ("missing scenario file", ["--listen", "127.0.0.1:0", "--scenario",
                                   os.path.join(here, "no-such.json")]),
        ("bad scenario when serving", ["--listen", "127.0.0.1:0", "--scenario", first_bad]),
        ("flag without a value", ["--listen"]),
    ]:
        rc, out = sim(binary, *args)
        check(f"exit 2 on {name}", rc == 2, f"rc={rc} out={out.strip()!r}")
    rc, out = sim(binary, "--help")
    check("--help", rc == 0 and "--scenario" in out, out)

    print(f"{len(PASSED)} passed, {len(FAILED)} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
