"""One colour palette for a whole GIF, chosen once from a few sample frames.

A shared palette is what makes GIF frames small: when the colour of an unchanged pixel maps to the same index in
every frame, a frame can be stored as the few pixels that changed. (Choosing a fresh adaptive palette per frame,
as Pillow does by default, costs time and makes every frame different everywhere.)

Race frames are flat-shaded: a few dozen landscape bands, the text, the trail colours, and thin anti-aliased edges
between them. So the palette starts from the most common colours of a montage of sample frames (the first, which
holds the whole landscape, the middle and the last, which holds every trail) and is refined by a few rounds of
k-means weighted by pixel count: the colours that cover the picture stay exact (no banding in the landscape), the
rare edge blends share the remaining entries. `COLOURS` = 255 colours leave index 255 free to mean "transparent:
keep the pixel from the previous frame". Pixels then go to their nearest palette colour, without dithering (dither
noise would differ from frame to frame and defeat the deltas). Deterministic: the same frames give the same palette.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

COLOURS = 255
TRANSPARENT_INDEX = 255
SAMPLE_FRAMES = 3
REFINEMENT_ROUNDS = 8
# Squared distances weigh green most and blue least, roughly as the eye does.
CHANNEL_WEIGHTS = np.array([2.0, 4.0, 3.0])
_DISTANCE_BLOCK = 512  # colours compared against the palette at once (keeps temporaries near 1 MB)
MAX_DISTINCT = 32768  # colours the palette is built from; more are merged first
COMMON_SHARE = 0.001  # a colour on at least this share of the sampled pixels is kept exactly


def sample_positions(frame_count: int, samples: int = SAMPLE_FRAMES) -> list[int]:
    """Indices of the frames to sample: first, last, evenly spaced between, without repeats."""
    return sorted({round(k) for k in np.linspace(0, frame_count - 1, min(samples, frame_count))})


class Palette:
    """A GIF colour table: `COLOURS` colours and the transparent slot; `index(rgba)` maps pixels to it."""

    def __init__(self, rgb: bytes):
        """`rgb`: the table as 3 bytes per entry, at most 256 entries (padded with black to 256)."""
        self.rgb = bytes(rgb).ljust(3 * 256, b"\0")
        self._table = np.frombuffer(self.rgb, dtype=np.uint8).reshape(256, 3)[:COLOURS].astype(np.float64)

    @classmethod
    def from_samples(cls, samples: Sequence[np.ndarray]) -> Palette:
        """The 255 colours that best cover `samples` (RGBA frames of one size)."""
        per_frame = [np.unique(_packed_rgb(sample), return_counts=True) for sample in samples]
        colours, inverse = np.unique(np.concatenate([c for c, _ in per_frame]), return_inverse=True)
        counts = np.bincount(inverse.reshape(-1), weights=np.concatenate([n for _, n in per_frame]))
        rgb, counts = _merge_near_colours(_unpacked(colours).astype(np.float64), counts)
        centres = rgb[_seed_colours(rgb, counts)]
        for _ in range(REFINEMENT_ROUNDS if len(rgb) > COLOURS else 0):
            nearest = _nearest(rgb, centres)
            weight = np.bincount(nearest, weights=counts, minlength=len(centres))
            used = weight > 0
            for channel in range(3):
                sums = np.bincount(nearest, weights=counts * rgb[:, channel], minlength=len(centres))
                centres[used, channel] = sums[used] / weight[used]
        table = np.clip(np.rint(centres), 0, 255).astype(np.uint8)
        return cls(table.tobytes())

    def index(self, rgba: np.ndarray) -> np.ndarray:
        """Palette indices (uint8) of RGBA pixels (..., 4), shaped (...); alpha is ignored (frames are opaque)."""
        packed = _packed_rgb(rgba)
        colours = np.unique(packed)
        nearest = _nearest(_unpacked(colours), self._table).astype(np.uint8)
        return nearest[np.searchsorted(colours, packed)].reshape(rgba.shape[:-1])

    def colours(self, indices: np.ndarray) -> np.ndarray:
        """The RGB image (height, width, 3) that palette indices stand for."""
        return np.frombuffer(self.rgb, dtype=np.uint8).reshape(256, 3)[indices]


def _packed_rgb(rgba: np.ndarray) -> np.ndarray:
    """One uint32 per pixel holding its RGB (alpha masked off), flat, for counting and looking up colours."""
    pixels = np.ascontiguousarray(rgba, dtype=np.uint8).reshape(-1, 4)
    return pixels.view("<u4").reshape(-1) & np.uint32(0x00FFFFFF)


def _unpacked(packed: np.ndarray) -> np.ndarray:
    """RGB triples (n, 3) of packed colours: red in the low byte, as a little-endian RGBA pixel reads."""
    return np.stack([packed & 255, (packed >> 8) & 255, (packed >> 16) & 255], axis=-1).astype(np.uint8)


def _merge_near_colours(rgb: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most MAX_DISTINCT colours to build the palette from: when there are more (photographic gradients, not
    race frames), colours sharing their top 5 bits per channel become one, at their count-weighted mean."""
    if len(rgb) <= MAX_DISTINCT:
        return rgb, counts
    _, group = np.unique((rgb.astype(np.int64) >> 3) @ np.array([1 << 10, 1 << 5, 1]), return_inverse=True)
    group = group.reshape(-1)
    merged_counts = np.bincount(group, weights=counts)
    merged = np.stack([np.bincount(group, weights=counts * rgb[:, c]) for c in range(3)], axis=1)
    return merged / merged_counts[:, None], merged_counts


def _seed_colours(rgb: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Indices of up to COLOURS starting colours: every colour covering a visible share of the picture (the
    landscape bands, the background), then greedily whichever colour is worst served so far, by pixel count
    times squared distance (thin edges, trails, smooth gradients)."""
    by_frequency = np.argsort(-counts, kind="stable")
    common = by_frequency[counts[by_frequency] >= COMMON_SHARE * counts.sum()][:COLOURS // 2]
    seeds = list(common) or [int(by_frequency[0])]
    error = _distances(rgb, rgb[seeds[:1]])[:, 0]
    for seed in seeds[1:]:
        error = np.minimum(error, _distances(rgb, rgb[seed:seed + 1])[:, 0])
    while len(seeds) < min(COLOURS, len(rgb)):
        worst = int(np.argmax(counts * error))
        if error[worst] == 0:
            break
        seeds.append(worst)
        error = np.minimum(error, _distances(rgb, rgb[worst:worst + 1])[:, 0])
    return np.array(seeds)


def _distances(colours: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Weighted squared RGB distances (colours x table), by |c|^2 - 2 c.t + |t|^2 to keep temporaries small."""
    c, t = colours * np.sqrt(CHANNEL_WEIGHTS), table * np.sqrt(CHANNEL_WEIGHTS)
    return np.maximum((c * c).sum(axis=1)[:, None] - 2 * c @ t.T + (t * t).sum(axis=1)[None, :], 0.0)


def _nearest(colours: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Index of the nearest table entry for each colour (any numeric dtype); ties go to the first."""
    nearest = np.empty(len(colours), dtype=np.int64)
    for begin in range(0, len(colours), _DISTANCE_BLOCK):
        block = colours[begin:begin + _DISTANCE_BLOCK].astype(np.float64)
        nearest[begin:begin + _DISTANCE_BLOCK] = _distances(block, table).argmin(axis=1)
    return nearest
