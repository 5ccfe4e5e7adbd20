"""Our L_CR option ``adapt.cr_positive=view_or_mirror`` on the bench, against the paper's positive.

    .venv/bin/python benchmarks/cr_mirror.py [--seeds 2,0,1]

Needs bench seed 2's run and its three-seed ``ablate rows`` (see ``bn_target_seeds.py``).
``facing_stability.py`` found that on the target Gs's facing changes between L_CR's two views of
a frame in 30 % of the frames, and that L_CR removes that by moving every frame to one end of
the facing axis (towards the camera). With ``view_or_mirror``, an anchor's positive is the other
view or that view's depth mirror (the same 2D joints facing the other way, through the frozen
pose prior), whichever is nearer: L_CR still asks for the rest of the pose to agree, but no
longer for facing. Two settings, fixed before any run:

* ``cr_mirror``: L_CR alone, against ``ablate rows``' + L_CR (the paper's positive);
* ``rows_mirror``: the ``ablate rows`` set (L_CR, L_z(flip), L_v(flip-backward),
  L_v(slow-backward)), against its last row.

Each seed adapts from its own Gs, as ``ablate rows`` does. Every run is evaluated, with the
constants, Gs, AdaBN and the oracle, on target_val and on target_test (the final evaluation),
with the label-free share of predictions facing away (the truth's beside it).
Writes ``benchmarks/results/bench_cr_mirror.json``.
"""

from __future__ import annotations

from cr_negatives import run_study

from sa3dhp.train.adapt_terms import DEMO_LOSSES

OURS = ["adapt.cr_positive=view_or_mirror"]
#: our run name -> its losses, and the ``ablate rows`` run with the paper's positive it faces
SETTINGS = {
    "cr_mirror": (["cr"], "plus_L_CR"),
    "rows_mirror": (list(DEMO_LOSSES), "plus_L_v_slow-backward"),
}


def main() -> None:
    run_study(__doc__, OURS, SETTINGS, "cr_mirror")


if __name__ == "__main__":
    main()
