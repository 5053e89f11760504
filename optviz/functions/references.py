"""Where the built-in formulas come from."""

VLSE_HOME = "https://www.sfu.ca/~ssurjano/"


def vlse(page: str) -> str:
    """Cite one page of Surjanovic & Bingham's Virtual Library of Simulation Experiments."""
    return f"Surjanovic & Bingham, Virtual Library of Simulation Experiments, {VLSE_HOME}{page}"
