"""The conversation workload of `baton bench conversations`, on LangGraph with its
SqliteSaver checkpointer: the peer a bot team would pick today.

Each conversation is one thread: T turns (a customer message, then the bot's reply),
then a handoff (the bot's request for a human routes to a node that calls
`interrupt()`), the agent's read of the conversation (`get_state`: its context), and
the agent's reply (`Command(resume=...)`). State is checkpointed at every step, as
SqliteSaver does by default, in one SQLite file.

Prints one JSON object per figure, as `baton bench` does.
"""

import argparse
import json
import os
import sqlite3
import tempfile
import time
from typing import Annotated, TypedDict

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

TURNS = [
    "Hi, I was charged twice for order 88231.",
    "It was on my card ending 4242, last Tuesday.",
    "Can you tell me when the refund will arrive?",
    "I already waited a week.",
    "The amount was 129.99 dollars.",
]
REPLIES = [
    "Sorry about that, let me look it up.",
    "Thanks, I can see the two charges.",
    "A refund was issued; it usually takes 5-7 days.",
    "I understand, let me check the status.",
    "Got it, I have noted the amount.",
]


def add(left: list, right: list) -> list:
    return left + right


class State(TypedDict):
    messages: Annotated[list, add]
    handoff: bool


def bot(state: State) -> dict:
    last = state["messages"][-1]
    if last["role"] == "bot_request":
        return {"handoff": True}
    turn = sum(1 for m in state["messages"] if m["role"] == "customer")
    return {
        "messages": [
            {"role": "nlu", "intent": "billing.refund_status", "confidence": 0.91},
            {"role": "bot", "text": REPLIES[(turn - 1) % len(REPLIES)]},
        ]
    }


def human(state: State) -> dict:
    # The agent is handed the conversation; its answer resumes the graph.
    reply = interrupt({"conversation": state["messages"]})
    return {"messages": [{"role": "agent", "text": reply}], "handoff": False}


def route(state: State) -> str:
    return "human" if state.get("handoff") else END


def build(saver: SqliteSaver):
    graph = StateGraph(State)
    graph.add_node("bot", bot)
    graph.add_node("human", human)
    graph.add_edge(START, "bot")
    graph.add_conditional_edges("bot", route, {"human": "human", END: END})
    graph.add_edge("human", END)
    return graph.compile(checkpointer=saver)


def percentile(values: list, p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[rank]


def emit(name: str, value: float, unit: str) -> None:
    print(json.dumps({"bench": "langgraph_conversations", "name": name, "value": round(value, 3), "unit": unit}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=10)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        conn = sqlite3.connect(os.path.join(directory, "peer.sqlite"), check_same_thread=False)
        # Durable as baton is: every acknowledged step fsynced.
        conn.execute("PRAGMA synchronous = FULL")
        saver = SqliteSaver(conn)
        app = build(saver)
        turns_ms, handoffs_ms = [], []
        messages = 0
        started = time.perf_counter()
        for n in range(args.conversations):
            config = {"configurable": {"thread_id": f"peer-{n}"}}
            for turn in range(args.turns):
                t0 = time.perf_counter()
                app.invoke({"messages": [{"role": "customer", "text": TURNS[turn % len(TURNS)]}]}, config)
                turns_ms.append((time.perf_counter() - t0) * 1e3)
                messages += 3
            t0 = time.perf_counter()
            app.invoke(
                {"messages": [{"role": "bot_request", "reason": "customer wants a human to confirm", "skills": ["billing"]}]},
                config,
            )
            context = app.get_state(config)
            assert context.interrupts, "the handoff did not reach the human node"
            handoffs_ms.append((time.perf_counter() - t0) * 1e3)
            messages += 1
            app.invoke(Command(resume="Hi, I'm confirming the refund for order 88231 now."), config)
            messages += 1
        elapsed = time.perf_counter() - started
        emit("events_per_s", messages / elapsed, "events/s")
        emit("turn_ms_p50", percentile(turns_ms, 50), "ms")
        emit("turn_ms_p99", percentile(turns_ms, 99), "ms")
        emit("handoff_ms_p50", percentile(handoffs_ms, 50), "ms")
        emit("handoff_ms_p99", percentile(handoffs_ms, 99), "ms")
        emit("conversations", args.conversations, "conversations")


if __name__ == "__main__":
    main()
