"""Renderer of the synthetic world: person-centred crops drawn directly in crop coordinates.

A body is a set of primitives projected with :func:`sa3dhp.camera.project_to_crop` and painted
far to near (painter's algorithm on the mean camera depth of each primitive) with OpenCV's
anti-aliased, sub-pixel (``shift``) polygon filling:

* tapered capsules (thighs, shins, feet, upper arms, forearms, hands, neck), each in three layers
  -- a darker outline, the base colour shifted toward the light and a light strip on the lit side;
* a torso: the convex hull of discs around the shoulders, hips and spine, shaded the same way,
  with the trousers' waist band over the hips;
* a head: a hair-coloured ellipse with a skin-coloured face on the side the person faces (so the
  image shows which way they face).

Widths are in mm, scaled by the crop's pixels-per-mm, so a person looks right at any distance.
Left limbs are lighter and right limbs darker than their clothing region's colour
(``side_contrast``), so left and right can be told apart in the image.

Two appearance presets, every parameter in :class:`AppearanceStyle`:

* :func:`source_appearance` -- SURREAL-like: random saturated clothing colours per region,
  plain or vertical/horizontal gradient backgrounds, mild lighting variation, nothing else;
* :func:`target_appearance` -- "in the wild": muted everyday clothing palettes with striped and
  noisy fabrics and a print on the front of the top, textured backgrounds (a bank of tileable
  textures -- filtered noise, stripes and bricks, blobs, indoor clutter -- built once per
  renderer), strong global lighting changes (gain, gamma, colour cast), no left/right shading.
  Limb-like distractors, motion blur, sensor noise, JPEG artefacts and occluders are style
  fields too (off in both presets since generator version 5, which made the target learnable
  at 64 px for an oracle trained on its labels).

Appearance is drawn per clip (:meth:`Renderer.sample_appearance`) and fixed over it. The
background is a window onto a tileable scene that shifts with the pelvis's image motion
(``size * root_xy / extent_mm`` pixels), and occluders are fixed in the crop, so every frame is a
function of its own pose, root and the appearance (plus per-frame sensor noise drawn from
``rng``): reversing or subsampling the poses reverses or subsamples the rendered video exactly.
"""

from sa3dhp.data.render.renderer import Renderer, render_debug_overlay
from sa3dhp.data.render.style import (
    Appearance,
    AppearanceStyle,
    source_appearance,
    target_appearance,
)

__all__ = [
    "Appearance",
    "AppearanceStyle",
    "Renderer",
    "render_debug_overlay",
    "source_appearance",
    "target_appearance",
]
