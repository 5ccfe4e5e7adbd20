"""Figure: what each term costs Gs without a domain gap, by look and by teacher (seed 2).

    .venv/bin/python benchmarks/no_gap_terms_figure.py

Reads the committed ``bench_no_gap_control.json`` (the bench's shaded source look, relation
networks), ``bench_exact_teacher.json`` (the same look, exact teachers) and
``bench_no_gap_symmetric_look.json`` (a look that a mirror keeps, both teachers); runs
nothing. Each bar is a model's MPJPE on its no-gap world's target_val minus its Gs's, seed 2,
for the full row (1,000 steps) and each term alone (250 steps). Writes
``docs/bench_no_gap_terms.png``.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

RESULTS = Path("benchmarks/results")
TERMS = ("full row", "cr", "z:flip", "v:flip-backward", "v:slow-backward")
#: series -> (colour, hatch, label)
SERIES = {
    "shaded, network": ("tab:red", "", "shaded source look, relation networks (the paper's)"),
    "shaded, exact": ("tab:red", "//", "shaded source look, exact teachers"),
    "mirror-kept, network": ("tab:blue", "", "look that a mirror keeps, relation networks"),
    "mirror-kept, exact": ("tab:blue", "//", "look that a mirror keeps, exact teachers"),
}


def changes(ngc: dict, exact: dict, sym: dict) -> dict[str, dict[str, float | None]]:
    """``{series: {term: MPJPE change (mm) against that look's Gs, or None}}`` on the no-gap
    target_val of seed 2, from the three results files' contents."""
    shaded_terms = ngc["by_term"]["target_val"]
    shaded_row = exact["per_seed"]["no_gap"]["2"]["target_val"]
    shaded_exact = exact["by_term"]["target_val"]
    sym_rows = sym["by_term"]["target_val"]

    def delta(rows: dict, name: str) -> float | None:
        return (
            round(rows[name]["mpjpe"] - rows["source_only"]["mpjpe"], 2) if name in rows else None
        )

    out: dict[str, dict[str, float | None]] = {s: {} for s in SERIES}
    for term in TERMS:
        alone = "alone_" + term.replace(":", "_")
        row = term == "full row"
        out["shaded, network"][term] = delta(
            shaded_row if row else shaded_terms, "network_full_row" if row else term
        )
        out["shaded, exact"][term] = delta(
            shaded_row if row else shaded_exact, "exact_full_row" if row else f"{term}, exact"
        )
        out["mirror-kept, network"][term] = delta(sym_rows, "full_row" if row else alone)
        out["mirror-kept, exact"][term] = delta(
            sym_rows, "full_row_exact" if row else alone + "_exact"
        )
    return out


def figure(series: dict[str, dict[str, float | None]], dest: str) -> None:
    """Grouped bars of :func:`changes`; a missing bar (L_CR has no teacher) is left out."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    x, width = np.arange(len(TERMS)), 0.2
    for i, (name, (colour, hatch, label)) in enumerate(SERIES.items()):
        values = [series[name][t] for t in TERMS]
        pos = [x[j] + (i - 1.5) * width for j, v in enumerate(values) if v is not None]
        ax.bar(
            pos,
            [v for v in values if v is not None],
            width,
            color=colour,
            alpha=0.85,
            hatch=hatch,
            edgecolor="white",
            label=label,
        )
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x, ["full row", "L_CR", "L_z(flip)", "L_v(flip-bw)", "L_v(slow-bw)"])
    ax.set_ylabel("MPJPE change against Gs (mm)")
    ax.set_title(
        "No domain gap: adapted on source-domain clips, seed 2 (L_CR has no teacher)", fontsize=9
    )
    ax.legend(fontsize=7.5)
    fig.tight_layout()
    fig.savefig(dest, dpi=110)


def main() -> None:
    read = {
        n: json.loads((RESULTS / f"bench_{n}.json").read_text())
        for n in ("no_gap_control", "exact_teacher", "no_gap_symmetric_look")
    }
    series = changes(read["no_gap_control"], read["exact_teacher"], read["no_gap_symmetric_look"])
    print(json.dumps(series, indent=1))
    figure(series, "docs/bench_no_gap_terms.png")
    print("wrote docs/bench_no_gap_terms.png")


if __name__ == "__main__":
    main()
