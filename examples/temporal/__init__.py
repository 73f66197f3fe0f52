"""An order service on Temporal: workflows, their activities, a worker and a starter.

Run a dev server (`temporal server start-dev`), then `python -m temporal.worker` and
`python -m temporal.starter ORDER-1` from `examples/`. idemlint reports what is wrong in it:
`idemlint check examples/temporal`.
"""

TASK_QUEUE = "orders"
