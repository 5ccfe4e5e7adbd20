"""Stage runners: each reads the resolved config, loads the data and parent checkpoints its stage
needs, refuses a run made by anything else (:mod:`sa3dhp.provenance`), trains the stage in
``{out_dir}/{run dir}/`` (names in :mod:`sa3dhp.pipeline`), and writes ``config.yaml`` and
``metrics.json`` next to its checkpoint."""
