"""Every dead-letter queue of the stack, by the name operators use (the queue construct's id without
"Queue", e.g. ExceptionsDeadLetters, UndeliveredEvents, ApprovalSweeperFailed): the one list the
recovery API (redrive), the work queue (items for dead-lettered messages) and the alarms read."""

from typing import TYPE_CHECKING, Literal, NamedTuple

from aws_cdk import Stack
from aws_cdk import aws_sqs as sqs

if TYPE_CHECKING:
    from infra.stack import HandoffStack


class DeadLetterSource(NamedTuple):
    queue: sqs.IQueue
    kind: Literal["targets", "queue", "function"]
    # The source queue, the asynchronously invoked function's name, or None (rule targets: each
    # message names its target).
    source: sqs.Queue | str | None


def async_function_name(stack: Stack, logical_name: str) -> str:
    # The logical name first, as the generated names have it (and the stack's, for several stacks per account).
    return f"{logical_name}-{stack.stack_name}"[:64]


def _name(queue: sqs.IQueue) -> str:
    return queue.node.id.removesuffix("Queue")


def dead_letter_queues(stack: "HandoffStack") -> dict[str, DeadLetterSource]:
    """The rule targets' queue, every queue's dead-letter queue, every asynchronously invoked
    function's; called once everything that has one exists."""
    found = {_name(stack.undelivered_events): DeadLetterSource(stack.undelivered_events, "targets", None)}
    for node in stack.node.find_all():
        if isinstance(node, sqs.Queue) and node.dead_letter_queue is not None:
            found[_name(node.dead_letter_queue.queue)] = DeadLetterSource(node.dead_letter_queue.queue, "queue", node)
    for logical, function in stack.functions.items():
        if function.dead_letter_queue is not None:
            found[_name(function.dead_letter_queue)] = DeadLetterSource(function.dead_letter_queue, "function",
                                                                        async_function_name(stack, logical))
    return found
