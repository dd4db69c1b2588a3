"""Agent runs on tiny models: a short prompt, no tools, no memory extraction afterwards.

A model under ~1B parameters (``providers.local.defaults.is_tiny``, read from its GGUF header) cannot
follow a long system prompt or call tools; offered them, it echoes the instructions or loops. So for
such a model the run uses a two-sentence prompt and the agent's own tools are not offered (a client's
function tools still are: the client asked for them). Nor does it extract memories after the answer:
that is one more generation on the same model, which cannot do it well and would hold the model while
the user's next question waits (38 s instead of 0.5 s to a first token on a busy 2-core machine).
"""

from __future__ import annotations

from dataclasses import replace

from qorven_local.agents.types import Agent
from qorven_local.providers.local.defaults import is_tiny
from qorven_local.providers.resolution import ResolvedModel

BRIEF_INSTRUCTIONS = "You are {name}, a friendly assistant. Answer in a few short, clear sentences."


def fitted_to_model(agent: Agent, resolved: ResolvedModel) -> Agent:
    """The agent as a run on ``resolved`` should use it: unchanged, or brief and tool-less on a tiny model."""
    if not is_tiny(resolved.params):
        return agent
    return replace(agent, instructions=BRIEF_INSTRUCTIONS.format(name=agent.display_name), tools=[],
                   memory_auto_save=False)
