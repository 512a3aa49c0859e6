"""Medians over benchmark rounds (tools/run-bench.sh).

A run writes, for each concurrency, `rounds` rounds of `k` rows (the bare
baseline first, then what is compared with it, alternating in time). The
machine's speed drifts between rounds, so each row's ratio to its baseline
is taken within its round, and the median over rounds is reported.
"""
import statistics

NUMERIC = ("per_second", "p50_ms", "p99_ms", "per_server_cpu_s", "seconds",
           "server_cpu_s")


def medians(rows, rounds, k, base_of=lambda j: j - j % 2):
    """One row per position j of k, per concurrency: numeric fields are
    medians over the rounds, `ratio` is the median of per-round ratios of
    per_server_cpu_s to the row base_of(j) of the same round, `ok` and the
    outcomes are summed."""
    out = []
    step = rounds * k
    for start in range(0, len(rows) - step + 1, step):
        group = rows[start:start + step]
        for j in range(k):
            mine = [group[r * k + j] for r in range(rounds)]
            base = [group[r * k + base_of(j)] for r in range(rounds)]
            row = dict(mine[0])
            for f in NUMERIC:
                if f in row:
                    row[f] = statistics.median(m[f] for m in mine)
            ratios = [m["per_server_cpu_s"] / b["per_server_cpu_s"]
                      for m, b in zip(mine, base) if b["per_server_cpu_s"]]
            row["ratio"] = statistics.median(ratios) if ratios else 0.0
            row["ok"] = sum(m.get("ok", 0) for m in mine)
            row["count"] = sum(m.get("count", 0) for m in mine)
            outcomes = {}
            for m in mine:
                for o, n in m.get("outcomes", {}).items():
                    outcomes[o] = outcomes.get(o, 0) + n
            row["outcomes"] = outcomes
            out.append(row)
    return out
