"""The synthetic world: procedural motion, rendering, cached dataset splits and previews."""
