"""A worker stopped past the farm's liveness (SIGSTOP: a node that hangs
for a while) is taken for lost, its tasks requeued; when it comes back it
joins again. Every result is still its own call's: the evaluator that was
still answering the abandoned tasks is replaced (it once handed those
answers to the worker's next tasks: a map returned other calls' values)."""
import re

SCRIPT = '''
import os, signal, time
from evofarm import futures

def slow(x):
    time.sleep(0.01)
    return x + 1

def workers():
    """This farm's workers: the children of evo-farm run (our parent)."""
    found = []
    for task in os.listdir("/proc/%d/task" % os.getppid()):
        with open("/proc/%d/task/%s/children" % (os.getppid(), task)) as f:
            for pid in f.read().split():
                with open("/proc/%s/cmdline" % pid, "rb") as c:
                    if b"__worker" in c.read():
                        found.append(int(pid))
    return found

if __name__ == "__main__":
    print("before", list(futures.map(slow, range(100))) == list(range(1, 101)))
    victim = workers()[0]
    it = futures.map(slow, range(400), chunksize=5)
    got = [next(it)]
    os.kill(victim, signal.SIGSTOP)
    time.sleep(1.5)  # liveness: 3 heartbeats of 200 ms
    os.kill(victim, signal.SIGCONT)
    got += list(it)
    print("during", got == list(range(1, 401)))
    print("after", list(futures.map(slow, range(60), chunksize=3)) == list(range(1, 61)))
'''


def test_a_worker_lost_and_back_answers_its_own_calls(farm):
    (farm.tmp / "stopped.py").write_text(SCRIPT)
    p = farm.run("stopped.py", workers=2)
    assert p.stdout.split() == ["before", "True", "during", "True", "after", "True"], p.stdout + p.stderr[-2000:]
    requeued = int(re.search(r"(\d+) requeued from lost workers", p.stderr).group(1))
    assert requeued > 0, p.stderr[-2000:]  # the worker was taken for lost: the case happened
