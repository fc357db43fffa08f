"""Score a file with a saved detector through ``aekit.streaming.score_file``, nothing else:
the streaming path without the CLI's parsing and summary (for timing it whole).

    python benchmarks/stream_score.py DETECTOR_DIR data.parquet scores.parquet
"""

from __future__ import annotations

import sys

from aekit.persistence import load
from aekit.streaming import score_file

if __name__ == "__main__":
    model, data, out = sys.argv[1:4]
    summary = score_file(load(model), data, out, progress=False)
    print(f"{summary.n_rows} rows, {summary.n_flagged} flagged")
