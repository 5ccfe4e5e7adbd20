"""Our facing options together on the bench: no term of the supplement's full row asks G to
settle facing.

    .venv/bin/python benchmarks/relation_facing.py [--seeds 2,0,1]

Needs bench seed 2's run and its three-seed ``ablate rows`` (see ``bn_target_seeds.py``).
``cr_mirror.py`` found that with L_CR's positive up to facing (``adapt.cr_positive=
view_or_mirror``) L_CR alone no longer turns the bodies towards the camera, but the full row
still does: each relation term alone turns them too (``turn_by_term.py``). On the target, Gs's
facing differs between the two sides of a relation's pair (x and its flip) as it does between
L_CR's two views. With ``adapt.relation_facing=free``, each L_z / L_v takes G(tau x)
(Em(G(tau X))) or its depth mirror, whichever is nearer to the relation's answer. One setting,
fixed before any run:

* ``rows_facing_free``: the ``ablate rows`` set (L_CR, L_z(flip), L_v(flip-backward),
  L_v(slow-backward)) with both options, against its last row (the paper's).

Each seed adapts from its own Gs, as ``ablate rows`` does. Every run is evaluated, with the
constants, Gs, AdaBN and the oracle, on target_val and on target_test (the final evaluation),
with the label-free share of predictions facing away (the truth's beside it), and paired over
seeds and clips against the paper's row, Gs, AdaBN and ``cr_mirror.py``'s ``rows_mirror`` (L_CR's
option alone: the difference is ``relation_facing``'s own).
Writes ``benchmarks/results/bench_relation_facing.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from cr_negatives import BASE, run_study
from paired_bootstrap import paired_table, split_subjects

from sa3dhp.config import load_config
from sa3dhp.train.adapt_terms import DEMO_LOSSES

OURS = ["adapt.cr_positive=view_or_mirror", "adapt.relation_facing=free"]
#: our run name -> its losses, and the ``ablate rows`` run with the paper's objective it faces
SETTINGS = {"rows_facing_free": (list(DEMO_LOSSES), "plus_L_v_slow-backward")}


RESULT = Path("benchmarks/results/bench_relation_facing.json")


def main() -> None:
    run_study(__doc__, OURS, SETTINGS, "relation_facing")
    out = json.loads(RESULT.read_text())
    cfg = load_config(*BASE)
    ablate = Path(cfg.out_dir) / "ablate"
    runs = {
        name: [ablate / f"{study}/seed{seed}" for seed in out["seeds"]]
        for name, study in (
            ("rows_facing_free", "relation_facing/rows_facing_free"),
            ("rows_mirror", "cr_mirror/rows_mirror"),
        )
    }
    out["paired"] |= paired_table(
        runs, [("rows_facing_free", "rows_mirror")], split_subjects(cfg.data)
    )
    RESULT.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
