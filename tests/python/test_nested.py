"""Futures submitted from inside tasks, as SCOOP's recursive examples do:
10 levels deep on 2 workers, with submit, with map, with wait and
as_completed, every worker waiting on its children at some point; results
checked against the same recursion run serially."""
from conftest import run_script

SCRIPT = '''
import sys
from evofarm import futures

def fib(n):  # two submits per level, the result of each awaited
    if n < 2:
        return n
    a, b = futures.submit(fib, n - 1), futures.submit(fib, n - 2)
    return a.result() + b.result()

def tree(depth):  # a nested map per level: 2 ** (depth + 1) - 1 calls
    if depth == 0:
        return 1
    return sum(futures.map(tree, [depth - 1] * 2)) + 1

def fan(depth):  # wait and as_completed inside tasks
    if depth == 0:
        return [0]
    fs = [futures.submit(fan, depth - 1) for _ in range(3)]
    done, not_done = futures.wait(fs)
    assert not not_done
    return sorted(x + 1 for f in futures.as_completed(fs) for x in f.result()[:1]) + [depth]

def deep_fail(depth):
    if depth == 0:
        raise ValueError("at the bottom")
    return futures.submit(deep_fail, depth - 1).result()

def serial_fan(depth):
    if depth == 0:
        return [0]
    return sorted(serial_fan(depth - 1)[0] + 1 for _ in range(3)) + [depth]

def serial_fib(n):
    return n if n < 2 else serial_fib(n - 1) + serial_fib(n - 2)

if __name__ == "__main__":
    print(fib(12) == serial_fib(12))
    print(tree(10) == 2 ** 11 - 1)
    print(fan(4) == serial_fan(4))
    try:
        deep_fail(10)
    except ValueError as exc:
        print("raised:", exc)
'''


def test_nested_futures_ten_levels_on_two_workers(tmp_path):
    p = run_script(tmp_path, SCRIPT, EVO_FARM_WORKERS="2", timeout=300)
    lines = p.stdout.split("\n")
    assert lines[:2] == ["True", "True"], p.stdout + p.stderr[-2000:]
    assert lines[2] == "True", p.stdout
    assert lines[3] == "raised: at the bottom", p.stdout
