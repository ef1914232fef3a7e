"""What the SDK compatibility scripts share: one line per check, and the first failure ends the run."""
import sys


def check(name, condition, detail=""):
    if not condition:
        print(f"FAIL {name}: {detail}")
        sys.exit(1)
    print(f"ok   {name}")
