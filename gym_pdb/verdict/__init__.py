"""The verdict: run a task's tests, judge the run, and pay only for a fix.

Above the sandbox, below the tools: the eval tool, ``submit``, task
verification (audit, check, generator), the env's reward and the trainers
all go through it.
"""
