"""Recovery checks: what the agent did after a tool error."""

from __future__ import annotations

from evalkit.scoring.checks._common import arg, seqs
from evalkit.scoring.registry import CheckContext, Verdict, check
from evalkit.scoring.trace_view import TraceView, call_signature
from evalkit.trace.types import Event


def identical_later(view: TraceView, event: Event) -> list[Event]:
    """Later calls identical to ``event`` (same tool, same arguments up to whitespace)."""
    sig = call_signature(event)
    return [e for e in view.tool_events if e.seq > event.seq and call_signature(e) == sig]


@check("recovered_after_error", args=())
def recovered_after_error(ctx: CheckContext) -> Verdict:
    """After each tool error the agent changed something (not an identical repeat of the failing call) and a
    later call of the same tool succeeded before the final answer. Fails when it re-sent an identical failing
    call or never got a success after an error (gave up). Evidence: each error and the call that recovered
    from it, or the error and its identical repeats."""
    view = ctx.view
    if not view.errors:
        return Verdict.not_applicable("no tool error happened")
    recovered: list[tuple[Event, Event]] = []
    repeated: list[tuple[Event, list[Event]]] = []
    gave_up: list[Event] = []
    seen: set[tuple[str, str]] = set()
    for err in view.errors:
        sig = call_signature(err)
        if sig in seen:  # itself a repeat, already judged with the first occurrence
            continue
        seen.add(sig)
        repeats = identical_later(view, err)
        success = view.later_success(err)
        if repeats:
            repeated.append((err, repeats))
        if success is None:
            gave_up.append(err)
        elif not repeats:
            recovered.append((err, success))
    if not repeated and not gave_up:
        steps = ", ".join(f"{e.seq} ({e.error_type}) → {s.seq}" for e, s in recovered)
        return Verdict.passed(
            f"recovered from {len(recovered)} error(s): {steps}", seqs(x.seq for p in recovered for x in p)
        )
    problems = []
    for err, reps in repeated:
        problems.append(f"re-sent the failing {err.tool} call of event {err.seq} unchanged ({len(reps)}×)")
    if gave_up:
        which = ", ".join(str(e.seq) for e in gave_up)
        problems.append(f"no successful {gave_up[0].tool} call after the error(s) at event(s) {which}")
    evidence = [e.seq for e in gave_up] + [x.seq for err, reps in repeated for x in (err, *reps)]
    return Verdict.failed("; ".join(problems), seqs(evidence))


@check("no_repeated_calls", args=("any_repeat",))
def no_repeated_calls(ctx: CheckContext) -> Verdict:
    """No tool call re-sent with identical arguments after it failed: the environment is deterministic, so
    an identical retry cannot succeed. Repeating a *successful* call is tolerated (it is only inefficient,
    which ``efficiency`` counts) unless ``args: {any_repeat: true}``. Evidence: the first failing call and
    each identical repeat."""
    view = ctx.view
    if not view.tool_events:
        return Verdict.not_applicable("made no tool call")
    any_repeat = bool(arg(ctx.args, "any_repeat", False))
    first: dict[tuple[str, str], Event] = {}
    groups: dict[int, list[Event]] = {}
    for e in view.tool_events:
        sig = call_signature(e)
        earlier = first.get(sig)
        if earlier is None:
            first[sig] = e
            continue
        if any_repeat or not earlier.ok:
            groups.setdefault(earlier.seq, [earlier]).append(e)
    if not groups:
        what = "tool call" if any_repeat else "failed tool call"
        return Verdict.passed(f"no {what} repeated with identical arguments")
    parts = [
        f"{g[0].tool} of event {g[0].seq} repeated at {', '.join(str(e.seq) for e in g[1:])}" for g in groups.values()
    ]
    return Verdict.failed(
        "identical call re-sent: " + "; ".join(parts), seqs(e.seq for g in groups.values() for e in g)
    )
