"""journal_driver.py — run by test_job_end.sh as the Python driver of an
sbatch --requeue job with output.journal: GENERATIONS maps of 16 slow,
seeded calls; each generation finished is a line in ./generations (how
the test knows when to requeue). Prints "journal driver: " and a digest
of every answer, the same for a run requeued midway as for one never
stopped."""
import hashlib
import random
import sys
import time

from evofarm import futures


def slow(x):
    time.sleep(0.02)
    return x * x + 1


if __name__ == "__main__":
    rng = random.Random(11)
    digest = hashlib.sha256()
    for generation in range(int(sys.argv[1])):
        answers = list(futures.map(slow, [rng.random() for _ in range(16)]))
        digest.update(repr(answers).encode())
        with open("generations", "a") as f:
            f.write("%d\n" % generation)
    print("journal driver: " + digest.hexdigest())
