"""Rendering of the synthetic demo cohort's B-mode images and segmentations (private).

Used by :func:`radiomics_aln.datasets.make_demo_cohort`: breast tissue, a tumour whose texture,
margin and surroundings follow the patient's latent traits, an axillary lymph node, the image
formation of three scanners, and the readers' outlines. Every draw comes from the generator passed
in, in a fixed order, so a seed gives byte-identical images.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

__all__ = [
    "SCANNERS",
    "Scanner",
    "mask_from_radius",
    "perturbed_radius",
    "render_ln",
    "render_tumor",
    "sigmoid",
]


@dataclass(frozen=True)
class Scanner:
    """Acquisition and display settings of one (simulated) ultrasound system."""

    name: str
    spacings: tuple[float, ...]  # mm/pixel presets (depth settings)
    psf_axial: float  # Gaussian PSF sigma, mm
    psf_lateral: float
    focus_mm: float
    dynamic_range: float  # dB
    top_db: float  # dB level displayed as white (sets the overall gain)
    att_residual: float  # dB per cm of depth left after TGC (negative = darker at depth)
    tgc_ripple: float  # dB sd of the slider imperfection
    smoothing: float  # px sigma of the scanner's speckle-reduction filter
    file_format: str  # "png" or "nrrd"


SCANNERS = {
    "A": Scanner("A", (0.11, 0.12, 0.13), 0.10, 0.24, 14.0, 60.0, 30.0, -1.5, 1.0, 0.0, "png"),
    "B": Scanner("B", (0.14, 0.15), 0.13, 0.32, 18.0, 55.0, 27.5, -2.2, 1.4, 0.5, "nrrd"),
    # a third centre's system (only in the "mixed" scanner design): a newer high-frequency
    # probe with finer grid and focus, a higher white level, wider dynamic range and a stronger
    # speckle-reduction filter (compounding-like), which makes its displayed speckle coarser
    "C": Scanner("C", (0.10, 0.12, 0.14), 0.09, 0.21, 12.0, 65.0, 33.0, -1.0, 0.8, 0.9, "nrrd"),
}
_TUMOR_SHAPE = (256, 320)  # rows (depth) x columns (lateral)
_LN_SHAPE = (256, 256)
_N_THETA = 1024


def sigmoid(x: Any) -> Any:
    """The logistic function, elementwise."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


# --------------------------------------------------------------------------------------------
# image formation
# --------------------------------------------------------------------------------------------


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int], sigma_px: Any) -> np.ndarray:
    """Zero-mean, unit-sd Gaussian random field with correlation length ``sigma_px``.

    Coarse fields are filtered on a grid decimated by up to 4 and interpolated back, which is
    ~10x faster and indistinguishable once speckle is added.
    """
    sig = np.broadcast_to(np.asarray(sigma_px, dtype=float), (2,))
    step = int(max(1, min(4, sig.min() // 2)))
    small = shape if step == 1 else tuple(-(-n // step) + 1 for n in shape)
    f = ndimage.gaussian_filter(rng.standard_normal(small), sig / step, mode="wrap")
    if step > 1:
        f = ndimage.zoom(f, step, order=1, grid_mode=False)[: shape[0], : shape[1]]
    return (f - f.mean()) / (f.std() + 1e-12)


def _fourier_curve(rng: np.random.Generator, theta: np.ndarray, kmin: int, kmax: int) -> np.ndarray:
    """Smooth periodic curve of ``theta`` (harmonics kmin..kmax, amplitude ~ 1/k), unit RMS."""
    k = np.arange(kmin, kmax + 1)
    amp = rng.standard_normal((2, k.size)) / k
    curve = amp[0] @ np.cos(np.outer(k, theta)) + amp[1] @ np.sin(np.outer(k, theta))
    return curve / (np.sqrt(np.mean(curve**2)) + 1e-12)


def _wavy(
    rng: np.random.Generator, x: np.ndarray, amplitude: float, wavelength: float
) -> np.ndarray:
    """A gently undulating interface depth (mm) as a function of lateral position ``x`` (mm)."""
    phase = rng.uniform(0, 2 * np.pi, 2)
    return amplitude * (
        0.7 * np.sin(2 * np.pi * x / wavelength + phase[0])
        + 0.3 * np.sin(2 * np.pi * x / (0.45 * wavelength) + phase[1])
    )


def _grid(shape: tuple[int, int], spacing: float) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = shape
    z = (np.arange(rows) + 0.5) * spacing
    x = (np.arange(cols) + 0.5 - cols / 2) * spacing
    return np.broadcast_to(z[:, None], shape), np.broadcast_to(x[None, :], shape)


def _polar(z: np.ndarray, x: np.ndarray, zc: float, xc: float) -> tuple[np.ndarray, np.ndarray]:
    dz, dx = z - zc, x - xc
    return np.hypot(dz, dx), np.mod(np.arctan2(dz, dx), 2 * np.pi)


def _radius_at(radius: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Periodic linear interpolation of a radial function sampled on the _N_THETA grid."""
    pos = theta / (2 * np.pi) * _N_THETA
    i0 = np.floor(pos).astype(int) % _N_THETA
    frac = pos - np.floor(pos)
    return radius[i0] * (1 - frac) + radius[(i0 + 1) % _N_THETA] * frac


def _line(dist: np.ndarray, width: float) -> np.ndarray:
    return np.exp(-0.5 * (dist / width) ** 2)


def _ligament(
    rng: np.random.Generator,
    z: np.ndarray,
    x: np.ndarray,
    top: float,
    bottom: float,
    strength: float,
) -> np.ndarray:
    """A curved, oblique, finite fibrous strand (Cooper's ligament, septum) as added amplitude."""
    xs = x[0]
    x0 = rng.uniform(xs[0], xs[-1])
    length = rng.uniform(6, 18)
    slope = rng.normal(0, 0.35)
    depth = rng.uniform(top, bottom) + slope * (xs - x0) + _wavy(rng, xs, 0.8, rng.uniform(8, 16))
    extent = sigmoid((length / 2 - np.abs(xs - x0)) / 1.0)
    return strength * rng.uniform(0.4, 1.0) * _line(z - depth[None, :], 0.12) * extent[None, :]


def _breast_background(
    rng: np.random.Generator, shape: tuple[int, int], s: float
) -> dict[str, Any]:
    """Backscatter amplitude of skin, subcutaneous fat, glandular tissue and pectoral muscle."""
    z, x = _grid(shape, s)
    xs = x[0]
    skin = 1.7 + 0.3 * rng.random() + _wavy(rng, xs, 0.15, 25)
    fat_bottom = skin + rng.uniform(3.0, 7.0) + _wavy(rng, xs, 1.2, 30)
    muscle_top = rng.uniform(24.0, 31.0) + _wavy(rng, xs, 1.0, 40)
    amp = np.ones(shape)
    # fibroglandular tissue: heterogeneous, with hypoechoic fat lobules
    glandular = np.exp(0.3 * _smooth_field(rng, shape, 1.2 / s))
    lobules = _smooth_field(rng, shape, (1.0 / s, 1.8 / s))
    glandular *= 1 - 0.55 * sigmoid((lobules - 0.9) * 4)
    amp[:] = glandular
    # subcutaneous fat with Cooper's ligaments
    in_fat = z < fat_bottom[None, :]
    fat = 0.45 * np.exp(0.2 * _smooth_field(rng, shape, 1.0 / s))
    for _ in range(int(rng.integers(3, 7))):
        fat += _ligament(rng, z, x, skin.mean() + 0.5, fat_bottom.mean() + 1.0, 1.6)
    amp = np.where(in_fat, fat, amp)
    # skin: bright entry echo and dermis
    dermis = 1.8 * np.exp(0.2 * _smooth_field(rng, shape, 0.4 / s))
    amp = np.where(z < skin[None, :], dermis, amp)
    amp += 3.0 * _line(z - 0.25, 0.12)
    # pectoral fascia and striated muscle
    rel = z - muscle_top[None, :]
    period = rng.uniform(1.0, 1.6)
    stripes = 0.5 + 0.5 * np.cos(2 * np.pi * (rel + 0.08 * x) / period)
    muscle = 0.45 * (1 + 1.5 * stripes**6)
    amp = np.where(rel > 0, muscle, amp) + 2.0 * _line(rel, 0.18)
    return {"amp": amp, "z": z, "x": x, "fat_bottom": fat_bottom, "muscle_top": muscle_top}


def _form_image(
    rng: np.random.Generator,
    amp: np.ndarray,
    s: float,
    scanner: Scanner,
    *,
    point_scatterers: Sequence[tuple[int, int, float]] = (),
) -> np.ndarray:
    """Speckle, PSF, attenuation with imperfect TGC and log compression -> uint8 B-mode."""
    shape = amp.shape
    # complex Gaussian scatterers: fully developed speckle (Rayleigh envelope)
    field = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) * (amp / np.sqrt(2))
    for r, c, a in point_scatterers:  # microcalcifications: strong coherent reflectors
        field[r, c] += a * np.exp(1j * rng.uniform(0, 2 * np.pi))
    sig_ax = scanner.psf_axial / s
    z = (np.arange(shape[0]) + 0.5) * s
    # lateral resolution is best at the focal depth: blend an in-focus and a defocused PSF
    envs = []
    for widen in (1.0, 1.7):
        sig_lat = scanner.psf_lateral * widen / s
        re = ndimage.gaussian_filter(field.real, (sig_ax, sig_lat), mode="reflect")
        im = ndimage.gaussian_filter(field.imag, (sig_ax, sig_lat), mode="reflect")
        # unit mean-square output for unit-amplitude scatterers (Gaussian PSF energy)
        envs.append(np.hypot(re, im) * np.sqrt(4 * np.pi * sig_ax * sig_lat))
    w = np.clip(((z - scanner.focus_mm) / 14.0) ** 2, 0, 1)[:, None]
    env = (1 - w) * envs[0] + w * envs[1]
    # electronic noise floor
    env = np.hypot(env, 0.02 * np.abs(rng.standard_normal(shape)))
    # attenuation left after imperfect time-gain compensation (slider ripple)
    knots = np.linspace(0, z[-1], 8)
    ripple = rng.normal(0, scanner.tgc_ripple, knots.size)
    resid_db = scanner.att_residual * z / 10 + np.interp(z, knots, ripple)
    gain_db = rng.normal(0, 1.0)  # operator gain
    db = 20 * np.log10(env + 1e-6) + (resid_db + gain_db)[:, None]
    gray = (db - (scanner.top_db - scanner.dynamic_range)) / scanner.dynamic_range * 255
    if scanner.smoothing > 0:
        gray = ndimage.gaussian_filter(gray, scanner.smoothing)
    return np.clip(np.rint(gray), 0, 255).astype(np.uint8)


def _posterior(weight: np.ndarray, kappa: float, s: float) -> np.ndarray:
    """Amplitude factor behind a structure: exp(kappa * path length through it, mm)."""
    path = np.cumsum(weight, axis=0) * s - weight * s
    path = ndimage.gaussian_filter1d(path, 0.3 / s, axis=1)
    return np.exp(kappa * path)


def mask_from_radius(rho: np.ndarray, theta: np.ndarray, radius: np.ndarray) -> np.ndarray:
    return rho <= _radius_at(radius, theta)


def perturbed_radius(
    rng: np.random.Generator, radius: np.ndarray, rms: float, systematic: float
) -> np.ndarray:
    """A re-segmentation: smooth random radial displacement plus systematic offset (mm)."""
    theta = np.linspace(0, 2 * np.pi, _N_THETA, endpoint=False)
    delta = rms * _fourier_curve(rng, theta, 1, 9)
    return np.maximum(radius + delta + systematic, 0.3 * radius)


def render_tumor(
    rng: np.random.Generator, pt: dict[str, Any], scanner: Scanner, spacing: float | None = None
) -> dict[str, Any]:
    shape = _TUMOR_SHAPE
    aspect = 0.72 * math.exp(0.18 * pt["infiltration"] + 0.12 * rng.standard_normal())  # >1: tall
    tilt = rng.normal(0, 0.25)
    d = pt["true_size_mm"]
    half_lat, half_ax = (d / 2, d / 2 * aspect) if aspect <= 1 else (d / 2 / aspect, d / 2)
    vert = math.hypot(half_ax * math.cos(tilt), half_lat * math.sin(tilt))
    # the sonographer picks a depth preset that shows the lesion with tissue behind it
    need = 2.3 * vert + 10.0
    if spacing is None:
        fits = [v for v in scanner.spacings if v * shape[0] >= need]
        s = float(rng.choice(fits)) if fits else float(max(scanner.spacings))
    else:
        s = float(spacing)
    depth_mm, half_width = shape[0] * s, shape[1] * s / 2
    # the largest lesions are scaled to fit the deepest preset (rare: D > ~30 mm)
    d = d * min(1.0, (depth_mm - 10.0) / (2.3 * vert))
    bg = _breast_background(rng, shape, s)
    z, x, amp = bg["z"], bg["x"], bg["amp"]
    theta = np.linspace(0, 2 * np.pi, _N_THETA, endpoint=False)
    shape_ = _tumor_outline(rng, pt, theta, d, aspect, tilt)
    outline = shape_["outline"]
    # ---- position inside the glandular layer
    r_max = float(outline.max())
    xc = float(np.clip(rng.normal(0, 2.0), -half_width + r_max + 1, half_width - r_max - 1))
    fat_b = float(np.interp(xc, x[0], bg["fat_bottom"]))
    up = float(np.max(-outline * np.sin(theta)))
    down = float(np.max(outline * np.sin(theta)))
    zc = fat_b + 0.8 * shape_["ax_ax"] + rng.uniform(0.5, 3.0)
    zc = float(min(max(zc, up + 2.5), depth_mm - down - 3.0))
    rho, th = _polar(z, x, zc, xc)
    dist = rho - _radius_at(shape_["core"], th)  # radial distance to the boundary, mm (<0 inside)
    amp, halo_w = _peritumoral_tissue(rng, amp, rho, th, dist, pt, shape_["spikes"])
    amp, kappa, calcs = _tumor_interior(rng, amp, dist, pt, shape_["blur"], s)
    image = _form_image(rng, amp, s, scanner, point_scatterers=calcs)
    if kappa < -0.03:
        posterior = "shadowing"
    elif kappa > 0.02:
        posterior = "enhancement"
    else:
        posterior = "none"
    return {
        "image": image,
        "spacing": s,
        "rho": rho,
        "theta": th,
        "outline": outline,
        "spikes": shape_["spikes"],
        "subtype": shape_["subtype"],
        "posterior": posterior,
        "halo_mm": halo_w,
    }


def _tumor_outline(
    rng: np.random.Generator,
    pt: dict[str, Any],
    theta: np.ndarray,
    d: float,
    aspect: float,
    tilt: float,
) -> dict[str, Any]:
    """Lesion outline: ellipse + irregularity by margin subtype, star-shaped about its centre."""
    p = pt["infiltration"]
    if aspect <= 1:
        ax_lat, ax_ax = d / 2, d / 2 * aspect
    else:
        ax_lat, ax_ax = d / 2 / aspect, d / 2
    ct, st = np.cos(theta - tilt), np.sin(theta - tilt)
    base = ax_lat * ax_ax / np.sqrt((ax_ax * ct) ** 2 + (ax_lat * st) ** 2)
    severity = float(sigmoid(1.3 * (pt["margin_latent"] + 0.45)))
    rel = 1 + 0.035 * _fourier_curve(rng, theta, 2, 5)
    circumscribed = pt["margin"] == "circumscribed"
    subtype = "circumscribed"
    spikes: list[tuple[float, float, float]] = []
    blur = 0.12
    if not circumscribed:
        probs = np.array([0.25, 0.25, 0.25, 0.25 + 1.2 * sigmoid(2 * (p - 0.3))])
        subtype = str(
            rng.choice(
                ["indistinct", "angular", "microlobulated", "spiculated"], p=probs / probs.sum()
            )
        )
        rel += 0.05 * severity * _fourier_curve(rng, theta, 3, 7)
        if subtype == "indistinct":
            blur = 0.35 + 0.35 * severity
        elif subtype == "angular":
            for tj in rng.uniform(0, 2 * np.pi, int(rng.integers(3, 6))):
                dth = np.angle(np.exp(1j * (theta - tj)))
                rel += (0.08 + 0.14 * severity) * np.exp(-np.abs(dth) / 0.22)
            blur = 0.2
        elif subtype == "microlobulated":
            n_lobes = int(rng.integers(8, 15))
            for tj in np.sort(rng.uniform(0, 2 * np.pi, n_lobes)):
                dth = np.angle(np.exp(1j * (theta - tj)))
                rel += (
                    (0.03 + 0.05 * severity)
                    * rng.uniform(0.5, 1.5)
                    * np.exp(-0.5 * (dth / rng.uniform(0.08, 0.16)) ** 2)
                )
            blur = 0.18
        else:
            n_sp = int(rng.integers(6, 13))
            for tj in rng.uniform(0, 2 * np.pi, n_sp):
                spikes.append(
                    (
                        tj,
                        rng.uniform(2.0, 3.5) + 4.0 * severity * rng.random(),
                        rng.uniform(0.2, 0.35),
                    )
                )
            blur = 0.25
    core = base * rel
    # the reader's outline includes the base of each spicule
    outline = core.copy()
    for tj, length, width in spikes:
        dth = np.angle(np.exp(1j * (theta - tj)))
        outline += 0.3 * length * np.exp(-0.5 * (dth * core / (1.5 * width)) ** 2)
    return {"core": core, "outline": outline, "spikes": spikes, "subtype": subtype,
            "blur": blur, "ax_ax": ax_ax}  # fmt: skip


def _peritumoral_tissue(
    rng: np.random.Generator,
    amp: np.ndarray,
    rho: np.ndarray,
    th: np.ndarray,
    dist: np.ndarray,
    pt: dict[str, Any],
    spikes: list[tuple[float, float, float]],
) -> tuple[np.ndarray, float]:
    """Echogenic halo, architectural distortion and spicules around the lesion; (amp, halo)."""
    p = pt["infiltration"]
    halo_w = 0.4 + 1.6 * float(sigmoid(1.3 * p))
    halo_gain = 0.2 + 2.2 * float(sigmoid(1.5 * (p - 0.2)))
    outside = dist > 0
    amp = amp * np.where(outside, 1 + halo_gain * np.exp(-dist / halo_w), 1)
    # radially oriented streaks (desmoplastic reaction) decaying over ~4 mm
    n_rho = 96
    streak_noise = ndimage.gaussian_filter(
        rng.standard_normal((360, n_rho)), (1.2, 14), mode="wrap"
    )
    streak_noise /= streak_noise.std() + 1e-12
    coords = np.stack([th / (2 * np.pi) * 360, np.clip(dist, 0, 8) / 8 * (n_rho - 1)])
    streaks = ndimage.map_coordinates(
        streak_noise, coords.reshape(2, -1), order=1, mode="grid-wrap"
    )
    streaks = streaks.reshape(amp.shape)
    distortion = 0.15 + 0.85 * float(sigmoid(1.6 * p - 0.3))
    amp = amp * np.where(outside, np.exp(distortion * streaks * np.exp(-dist / 4.0)), 1)
    for tj, length, width in spikes:
        dth = np.angle(np.exp(1j * (th - tj)))
        perp = np.abs(dth) * rho
        along = np.clip(dist, 0, None)
        spike = (
            _line(perp, width)
            * sigmoid((length - along) / 0.4)
            * (dist > -0.5)
            * (np.abs(dth) < 1.0)
        )
        echogenic_rim = (
            _line(perp - 1.8 * width, 0.6 * width)
            * sigmoid((length - along) / 0.4)
            * (np.abs(dth) < 1.0)
        )
        amp = amp * (1 - 0.75 * spike) * (1 + 0.8 * echogenic_rim * outside)
    return amp, halo_w


def _tumor_interior(
    rng: np.random.Generator,
    amp: np.ndarray,
    dist: np.ndarray,
    pt: dict[str, Any],
    blur: float,
    s: float,
) -> tuple[np.ndarray, float, list[tuple[int, int, float]]]:
    """Hypoechoic lesion with heterogeneity, necrosis, posterior features and calcifications:
    (amp, posterior kappa, calcification scatterers)."""
    h, p = pt["heterogeneity"], pt["infiltration"]
    shape = amp.shape
    inside_w = sigmoid(-dist / blur)
    sigma_h = 0.15 + 0.6 * float(sigmoid(1.5 * h))
    corr = (0.5 + 0.5 * float(sigmoid(h))) / s
    tex = _smooth_field(rng, shape, corr)
    lesion = 0.2 * math.exp(0.1 * rng.standard_normal()) * np.exp(sigma_h * tex - sigma_h**2 / 2)
    necrosis = _smooth_field(rng, shape, 1.0 / s)
    lesion = lesion * (1 - 0.7 * sigmoid((necrosis - (2.4 - 0.6 * h)) * 5))
    amp = amp * (1 - inside_w) + lesion * inside_w
    # posterior acoustic features: shadowing (infiltrative) or enhancement (soft/necrotic)
    kappa = float(np.clip(0.06 * (0.7 * h - 1.0 * p + 0.5 * rng.standard_normal()), -0.15, 0.08))
    amp = amp * _posterior(inside_w, kappa, s)
    calcs = []
    inside_core = np.argwhere(dist < -0.6)
    if inside_core.size:
        for idx in rng.integers(0, len(inside_core), pt["n_calcifications"]):
            rr, cc = inside_core[idx]
            calcs.append((int(rr), int(cc), float(rng.uniform(6, 12))))
    return amp, kappa, calcs


def render_ln(
    rng: np.random.Generator, pt: dict[str, Any], s: float, scanner: Scanner
) -> dict[str, Any]:
    shape = _LN_SHAPE
    z, x = _grid(shape, s)
    xs = x[0]
    c = pt["node_cortex"]
    depth_mm = shape[0] * s
    # axillary fat with fibrous septa, skin, muscle at depth
    skin = 1.6 + 0.3 * rng.random() + _wavy(rng, xs, 0.12, 25)
    amp = 0.42 * np.exp(0.25 * _smooth_field(rng, shape, (0.8 / s, 1.6 / s)))
    for _ in range(int(rng.integers(5, 10))):
        amp += _ligament(rng, z, x, skin.mean() + 1, depth_mm - 2, 1.3)
    amp = np.where(z < skin[None, :], 1.8 * np.exp(0.2 * _smooth_field(rng, shape, 0.4 / s)), amp)
    amp += 3.0 * _line(z - 0.25, 0.12)
    muscle_top = rng.uniform(0.78, 0.92) * depth_mm + _wavy(rng, xs, 0.8, 40)
    rel_m = z - muscle_top[None, :]
    stripes = 0.5 + 0.5 * np.cos(2 * np.pi * (rel_m + 0.1 * x) / rng.uniform(1.0, 1.6))
    amp = np.where(rel_m > 0, 0.45 * (1 + 1.5 * stripes**6), amp) + 2.0 * _line(rel_m, 0.18)
    # ---- node geometry
    theta = np.linspace(0, 2 * np.pi, _N_THETA, endpoint=False)
    long_axis = float(np.clip(12.0 * math.exp(0.12 * c + 0.15 * rng.standard_normal()), 7, 22))
    ratio = 0.38 + 0.47 * float(sigmoid(1.4 * c + 0.5 * rng.standard_normal()))
    tilt = rng.normal(0, 0.2)
    a_l, a_s = long_axis / 2, long_axis / 2 * ratio
    ct, st = np.cos(theta - tilt), np.sin(theta - tilt)
    node_r = a_l * a_s / np.sqrt((a_s * ct) ** 2 + (a_l * st) ** 2)
    bulge = 0.18 * float(sigmoid(2 * (c - 0.5)))
    theta_b = rng.uniform(0, 2 * np.pi)
    node_r = node_r * (1 + 0.02 * _fourier_curve(rng, theta, 2, 6))
    node_r = node_r * (
        1 + bulge * np.exp(-0.5 * (np.angle(np.exp(1j * (theta - theta_b))) / 0.45) ** 2)
    )
    # cortex: thicker, eccentric with a focal bulge when abnormal; hilum effaced when thick
    t0 = 0.8 + 2.6 * float(sigmoid(1.5 * c + 0.4 * rng.standard_normal()))
    ecc = 0.7 * float(sigmoid(2 * (c - 0.3)))
    theta_e = theta_b + rng.normal(0, 0.3)
    thick = t0 * (1 + ecc * np.cos(theta - theta_e))
    effacement = float(sigmoid(2.0 * (c - 1.0)))
    # the hilum opens to the capsule on the concave side (opposite the cortical bulge)
    theta_h = theta_e + np.pi + rng.normal(0, 0.2)
    notch = np.exp(-0.5 * (np.angle(np.exp(1j * (theta - theta_h))) / 0.3) ** 2) * (1 - effacement)
    thick = thick * (1 - 0.85 * notch)
    hilum_r = np.clip((node_r - thick) * (1 - 0.85 * effacement), 0, None)
    hilum_effaced = bool(np.mean(hilum_r > 0.3) < 0.5 or effacement > 0.6)
    half_width = shape[1] * s / 2
    xc = float(np.clip(rng.normal(0, 2.0), -half_width + a_l + 1.5, half_width - a_l - 1.5))
    zc = float(np.clip(skin.mean() + a_s + rng.uniform(3.0, 9.0), a_s + 3, depth_mm - a_s - 4))
    rho, th = _polar(z, x, zc, xc)
    dist = rho - _radius_at(node_r, th)
    node_w = sigmoid(-dist / 0.1)
    hil_w = sigmoid(-(rho - _radius_at(hilum_r, th)) / 0.25) * node_w
    sigma_c = 0.15 + 0.45 * float(sigmoid(1.5 * (c - 0.3)))
    cortex = 0.16 * np.exp(sigma_c * _smooth_field(rng, shape, 0.5 / s) - sigma_c**2 / 2)
    hilum = 1.7 * np.exp(0.3 * _smooth_field(rng, shape, 0.5 / s))
    inner = cortex * (1 - hil_w) + hilum * hil_w
    amp = amp * (1 - node_w) + inner * node_w
    amp = amp * (1 + 1.2 * _line(dist, 0.12))  # echogenic capsule
    amp = amp * _posterior(node_w - hil_w, 0.02, s)
    image = _form_image(rng, amp, s, scanner)
    cortex_max = float(np.max(np.where(hilum_r > 0, thick, node_r)))
    return {
        "image": image,
        "rho": rho,
        "theta": th,
        "outline": node_r,
        "short_long_ratio": ratio,
        "cortex_max_mm": cortex_max,
        "hilum_effaced": hilum_effaced,
    }
