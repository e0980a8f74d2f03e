"""Driver for test_basics: one behaviour of the scoop.futures functions and
their errors, named by argv[1], as they are without cloudpickle
(test_cloudpickle has the other case); prints PASS or FAIL."""
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


def map_is_lazy_and_ordered():
    lazy = futures.map(square, range(2000))
    return hasattr(lazy, "__next__") and not isinstance(lazy, list) and list(lazy) == [x * x for x in range(2000)]


def map_of_two_iterables():
    return list(futures.map(add, [1, 2, 3], [10, 20, 30])) == [11, 22, 33]


def submit_with_kwargs():
    return futures.submit(add, 1, 2, scale=10).result() == 30


def wait_and_as_completed():
    fs = [futures.submit(square, i) for i in range(50)]
    done, not_done = futures.wait(fs)
    return len(done) == 50 and not not_done and \
        sorted(f.result() for f in futures.as_completed(fs)) == [i * i for i in range(50)]


def map_as_completed():
    return sorted(futures.map_as_completed(square, range(30))) == [i * i for i in range(30)]


def prints_stay_out_of_the_frames():
    return list(futures.map(chatty, range(20))) == list(range(20))


def exception_reraised_with_its_traceback():
    try:
        futures.submit(boom, 3).result()
    except ValueError as e:
        cause = str(e.__cause__)
        return str(e) == "bad value 3" and "Traceback" in cause and "in boom" in cause
    return False


def lambda_refused():
    try:
        futures.submit(lambda x: x, 1)
    except FarmError as e:
        print("lambda message:", e)
        return str(e).startswith("cannot send ") and "<lambda> to the workers" in str(e)
    return False


def closure_refused():
    try:
        list(futures.map(make_closure(5), [1]))
    except FarmError as e:
        return "closure" in str(e)
    return False


def unknown_keyword_refused():
    try:
        futures.map(square, [1], chunk=3)
    except TypeError:
        return True
    return False


if __name__ == "__main__":
    name = sys.argv[1]
    if name == "function_under_the_main_guard_explained":
        def guarded(x):  # exists only when the script runs as __main__
            return x
        try:
            futures.submit(guarded, 1).result()
            ok = False
        except AttributeError as e:
            ok = "if __name__ == \"__main__\"" in str(e)
    else:
        ok = globals()[name]()
    print("%s %s" % ("PASS" if ok else "FAIL", name))
    futures.shutdown()
    sys.exit(0)
