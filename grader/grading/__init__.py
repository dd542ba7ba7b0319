"""Grading one lab: from ``grader check lab3`` to a result, fast, offline and complete.

How a run goes, and the speed machinery in it (measured in ``bench/bench_check.py``):

1. :mod:`.runner` starts the **grading child**, ``python -m grader.grading.child``: pytest
   with :mod:`.plugin`, on the lab's checks module, in a session of its own and with a time
   limit. The child writes one JSON line per event to a pipe only it inherits; the runner
   never reads pytest's text, and pytest runs with ``--noconftest`` on the installed checks. Whatever happens in the child (a crash, a hang, learner code
   calling ``os._exit``), the runner builds a complete :class:`.results.LabResult`: a check
   that never reported is failed with the reason, never passed.
2. **The sandbox process** (:mod:`.sandbox_process`). Loading boto3 and moto takes about a
   second and only deploy gates need them, so when any check takes the ``aws`` fixture the
   runner forks a process that loads them on the other core while the child loads pytest,
   the engines and the lab's data, and hands it to the child over two pipes. A check's
   ``aws.client("iam").create_role(...)`` crosses the pipe and is answered by real boto3 in
   real moto (:mod:`.sandbox`: fake credentials, the network refused). When the runner has
   other threads (watch mode) the child forks it instead; where there is no ``fork``, or
   ``GRADER_NO_SANDBOX_PROCESS=1`` is set, the sandbox runs inside the child.
3. **Check reordering** (:mod:`.plugin`). While moto is still loading, the checks that take
   ``aws`` run last, so they wait for it least. The learner sees the lab's order: results
   are reported by position, not by the order they ran in.
4. **Late gate skips** (:mod:`.plugin`). A gate that fails skips every check after it in the
   lab's order (with ``gate="task"``, those of its own task only). When a gate that ran late (a deploy gate) fails, the checks after it that
   already ran are turned into skips too, naming the first failed gate. So no check may
   count on another having run first.
5. **Learner code** (:mod:`.learner`) runs in the jail (:mod:`.jail`: bubblewrap's
   namespaces, a read-only system, no network, no grader, limits), each call a process of
   its own, or (:mod:`.learner_worker`) one warm process answering many calls, as a Lambda
   execution environment does, which may reach given loopback ports through
   :mod:`.reach`; checks reach it through the ``learner_code`` fixture, never by importing
   it.
6. Meanwhile the runner's own process imports what the report needs (rich), and the child
   skips interpreter teardown once every result is flushed.

Ctrl-C or SIGTERM during a run: the runner asks the child's process group to stop, the
child ends its learner processes and its sandbox, anything left is killed, and the run's
temporary folder is removed (:mod:`.processes`).

Also here: the renderings of a result (:mod:`.report`), the learner's progress file
(:mod:`.progress`), ``grader watch`` (:mod:`.watch`) and the probes of ``grader doctor``
(:mod:`.machine`).
"""
