"""Driver for test_basics: the scoop.futures functions and their errors,
as they are without cloudpickle (test_cloudpickle has the other case)."""
import sys

sys.modules["cloudpickle"] = None  # as if python3-cloudpickle were not installed

from evofarm import FarmError, futures


def square(x):
    return x * x


def add(a, b, scale=1):
    return (a + b) * scale


def boom(x):
    raise ValueError("bad value %r" % x)


def chatty(x):
    print("printed by the user's function", x)  # must not break the frames
    return x


def make_closure(offset):
    def closure(x):
        return x + offset
    return closure


def check(name, ok):
    print("%s %s" % ("PASS" if ok else "FAIL", name))


if __name__ == "__main__":
    lazy = futures.map(square, range(2000))
    check("map is lazy (a generator)", hasattr(lazy, "__next__") and not isinstance(lazy, list))
    check("map ordered, from the main script", list(lazy) == [x * x for x in range(2000)])
    check("map of two iterables", list(futures.map(add, [1, 2, 3], [10, 20, 30])) == [11, 22, 33])
    check("submit with kwargs", futures.submit(add, 1, 2, scale=10).result() == 30)
    fs = [futures.submit(square, i) for i in range(50)]
    done, not_done = futures.wait(fs)
    check("wait", len(done) == 50 and not not_done)
    check("as_completed", sorted(f.result() for f in futures.as_completed(fs)) == [i * i for i in range(50)])
    check("map_as_completed", sorted(futures.map_as_completed(square, range(30))) == [i * i for i in range(30)])
    check("prints stay out of the frames", list(futures.map(chatty, range(20))) == list(range(20)))
    try:
        futures.submit(boom, 3).result()
        check("exception re-raised", False)
    except ValueError as e:
        cause = str(e.__cause__)
        check("exception re-raised", str(e) == "bad value 3")
        check("remote traceback attached", "Traceback" in cause and "in boom" in cause)
    try:
        futures.submit(lambda x: x, 1)
        check("lambda refused", False)
    except FarmError as e:
        check("lambda refused", "cannot send <lambda> to the workers" in str(e))
        print("lambda message:", e)
    try:
        list(futures.map(make_closure(5), [1]))
        check("closure refused", False)
    except FarmError as e:
        check("closure refused", "closure" in str(e))
    def guarded(x):  # exists only when the script runs as __main__
        return x
    try:
        futures.submit(guarded, 1).result()
        check("function under the main guard explained", False)
    except AttributeError as e:
        check("function under the main guard explained", "if __name__ == \"__main__\"" in str(e))
    futures.shutdown()
    sys.exit(0)
