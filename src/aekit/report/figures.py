"""Saving matplotlib figures atomically, with the non-interactive Agg backend."""

from __future__ import annotations

from pathlib import Path

from aekit._atomic import atomic_file


def save_figure(fig, path: str | Path, *, dpi: int = 110) -> Path:
    """Write ``fig`` as PNG at ``path`` (atomic) and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    with atomic_file(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path
