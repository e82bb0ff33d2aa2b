"""Tests of radiomics_aln.perturbation: reproducible from a seed, cached, the ring rebuilt around
each perturbed tumour, sizes in mm whatever the spacing, and bad input."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from scipy import ndimage

from radiomics_aln import perturbation as pt
from radiomics_aln.exceptions import InputError
from radiomics_aln.images import LoadedImage
from radiomics_aln.reliability import icc_table
from radiomics_aln.ring import ring_rois

# tiny settings: one feature of the original image, no resampling
PARAMS = {
    "setting": {"binWidth": 8, "label": 1},
    "imageType": {"Original": {}},
    "featureClass": {"firstorder": ["Mean", "Variance"], "shape2D": ["PixelSurface"]},
}


def image_and_disk(n=96, spacing=0.1, radius_mm=2.5, seed=0):
    rng = np.random.default_rng(seed)
    img = sitk.GetImageFromArray(rng.integers(40, 200, (n, n)).astype(np.float64))
    img.SetSpacing((spacing, spacing))
    yy, xx = np.mgrid[:n, :n]
    c = (n - 1) / 2
    disk = ((yy - c) ** 2 + (xx - c) ** 2) * spacing**2 <= radius_mm**2
    m = sitk.GetImageFromArray(disk.astype(np.uint8))
    m.CopyInformation(img)
    return img, m


def cases(n=3):
    out = []
    for i in range(n):
        img, m = image_and_disk(seed=i, radius_mm=2.0 + 0.3 * i)
        out.append({"case_id": f"c{i}", "tumor_image": img, "tumor_mask": m})
    return out


def spec(**kw):
    base = dict(case_id="c", index=0, variant=0, angle_deg=0.0, shift_mm=(0.0, 0.0),
                noise_sd=0.0, noise_seed=1, grow_mm=0.0, contour_sd_mm=0.0,
                contour_scale_mm=2.0, contour_seed=2)  # fmt: skip
    base.update(kw)
    return pt.Perturbation(**base)


def arr(image):
    return sitk.GetArrayFromImage(image)


# ---------------------------------------------------------------- reproducible from a seed


def test_perturbations_are_reproducible_and_seed_dependent():
    a = pt.perturbations("case1", n_perturbations=6, random_state=3)
    assert a == pt.perturbations("case1", n_perturbations=6, random_state=3)
    b = pt.perturbations("case1", n_perturbations=6, random_state=4)
    c = pt.perturbations("case2", n_perturbations=6, random_state=3)
    assert all(x != y for x, y in zip(a, b, strict=True))
    assert all(x.angle_deg != y.angle_deg for x, y in zip(a, c, strict=True))
    # the image part is shared within a variant, the mask part is drawn per perturbation
    chain = pt.PerturbationChain(image_variants=2)
    p = pt.perturbations("case1", n_perturbations=4, chain=chain)
    assert p[0].image_part() == p[2].image_part() != p[1].image_part()
    assert p[0].grow_mm != p[2].grow_mm
    # drawn within the documented ranges
    many = pt.perturbations("x", n_perturbations=50, chain=pt.PerturbationChain(image_variants=50))
    assert max(abs(q.angle_deg) for q in many) <= 15 and max(abs(q.grow_mm) for q in many) <= 0.5
    assert max(abs(q.angle_deg) for q in many) > 10  # the range is used, not a point
    assert all(0 <= s < 0.1 for q in many for s in q.shift_mm)


def test_more_perturbations_extend_fewer():
    """The first k of 20 perturbations are the k of a k-perturbation run (and its cache)."""
    assert pt.perturbations("c", n_perturbations=20)[:10] == pt.perturbations("c", n_perturbations=10)


def test_perturbed_rois_are_reproducible_and_differ_between_seeds():
    img, m = image_and_disk()
    p0, p1 = pt.perturbations("c0", n_perturbations=2, random_state=0,
                              chain=pt.PerturbationChain(image_variants=2))  # fmt: skip
    a_img, a = pt.perturb_rois(img, m, p0, width_mm=1.0)
    b_img, b = pt.perturb_rois(img, m, p0, width_mm=1.0)
    assert np.array_equal(arr(a_img), arr(b_img))
    assert all(np.array_equal(arr(a[r]), arr(b[r])) for r in a)
    c_img, c = pt.perturb_rois(img, m, p1, width_mm=1.0)
    assert not np.array_equal(arr(a_img), arr(c_img))
    assert not np.array_equal(arr(a["tumor"]), arr(c["tumor"]))
    # the perturbed tumour differs from the original, but not by much
    t0, t1 = arr(m).astype(bool), arr(a["tumor"]).astype(bool)
    assert not np.array_equal(t0, t1)
    assert (t0 & t1).sum() / (t0 | t1).sum() > 0.6


def test_perturbation_readings_reproducible_in_any_case_order():
    kw = dict(n_perturbations=4, chain=pt.PerturbationChain(image_variants=2),
              rois=("tumor", "peritumoral"), params=PARAMS, width_mm=1.0, random_state=5)  # fmt: skip
    a = pt.perturbation_readings(cases(), **kw)
    b = pt.perturbation_readings(cases()[::-1], **kw)
    assert list(a) == [f"perturbation{i:02d}" for i in range(1, 5)]
    for k in a:
        pd.testing.assert_frame_equal(a[k], b[k].loc[a[k].index])
        assert a[k].index.name == "case_id"
        assert "peritumoral__original_firstorder_Mean" in a[k].columns
    c = pt.perturbation_readings(cases(), **(kw | {"random_state": 6}))
    assert not a["perturbation01"].equals(c["perturbation01"])


@pytest.mark.slow
def test_readings_are_identical_for_any_number_of_workers():
    kw = dict(n_perturbations=4, chain=pt.PerturbationChain(image_variants=2),
              rois=("tumor", "peritumoral"), params=PARAMS, width_mm=1.0, random_state=2)  # fmt: skip
    one = pt.perturbation_readings(cases(), n_jobs=1, **kw)
    two = pt.perturbation_readings(cases(), n_jobs=2, **kw)
    for k in one:
        pd.testing.assert_frame_equal(one[k], two[k])


def test_bin_check_failure_names_case_and_perturbation():
    from radiomics_aln.exceptions import IntensityError

    params = PARAMS | {"radiomics_aln": {"bin_limits": [500, 1000]}}
    with pytest.raises(IntensityError, match=r"case c0, perturbation \d, tumor"):
        pt.perturbation_readings(cases(1), n_perturbations=2, rois=("tumor",), params=params,
                                 chain=pt.PerturbationChain(image_variants=1))  # fmt: skip


# ---------------------------------------------------------------- cached


def test_readings_are_cached_and_served_from_the_cache(tmp_path, monkeypatch):
    kw = dict(n_perturbations=4, chain=pt.PerturbationChain(image_variants=2),
              rois=("tumor", "peritumoral"), params=PARAMS, width_mm=1.0, random_state=0,
              cache_dir=tmp_path)  # fmt: skip
    first = pt.perturbation_readings(cases(2), **kw)
    assert len(list(tmp_path.rglob("*.json"))) == 2 * 4 * 2  # cases x perturbations x ROIs

    def fail(*args, **kwargs):
        raise AssertionError("computed although cached")

    with monkeypatch.context() as mp:
        mp.setattr(pt, "execute_masks", fail)
        mp.setattr(pt, "perturbed_image", fail)
        again = pt.perturbation_readings(cases(2), **kw)
    for k in first:
        pd.testing.assert_frame_equal(first[k], again[k])
    # the key holds the perturbations' parameters: another seed or chain is computed afresh
    calls = []
    real = pt.execute_masks

    def count(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pt, "execute_masks", count)
    other = pt.perturbation_readings(cases(2), **(kw | {"random_state": 1}))
    assert calls and not other["perturbation01"].equals(first["perturbation01"])
    n = len(calls)
    pt.perturbation_readings(cases(2), **(kw | {"chain": pt.PerturbationChain(
        image_variants=2, volume_mm=0.3)}))  # fmt: skip
    assert len(calls) > n
    assert len(list(tmp_path.rglob("*.json"))) == 3 * 2 * 4 * 2


# ---------------------------------------------------------------- the ring


def test_ring_is_rebuilt_around_the_perturbed_tumour():
    img, m = image_and_disk(n=120)
    p = spec(angle_deg=12.0, shift_mm=(0.05, 0.03), grow_mm=0.4, contour_sd_mm=0.2)
    _, masks = pt.perturb_rois(img, m, p, rois=("tumor", "peritumoral", "tumor_peritumoral"),
                               width_mm=1.0)  # fmt: skip
    tumor = arr(masks["tumor"]).astype(bool)
    ring = arr(masks["peritumoral"]).astype(bool)
    assert not (tumor & ring).any()
    assert np.array_equal(arr(masks["tumor_peritumoral"]).astype(bool), tumor | ring)
    # equal to the ring built around the perturbed tumour, not around the original one
    expected = ring_rois(masks["tumor"], width_mm=1.0, min_coverage=None).ring
    assert np.array_equal(ring, arr(expected).astype(bool))
    original = arr(ring_rois(m, width_mm=1.0, min_coverage=None).ring).astype(bool)
    assert not np.array_equal(ring, original)


def test_ring_is_clipped_to_the_rotated_field_of_view():
    img, m = image_and_disk(n=96)
    fov = np.ones((96, 96), np.uint8)
    fov[:, 70:] = 0  # the scan ends at column 70
    fov_img = sitk.GetImageFromArray(fov)
    fov_img.CopyInformation(img)
    _, masks = pt.perturb_rois(LoadedImage(img, fov_img), m, spec(angle_deg=0.0), width_mm=3.0)
    assert not arr(masks["peritumoral"])[:, 70:].any()
    # rotating brings pixels from outside the image in: outside the field of view, and filled
    # by mirroring the image (no constant edge for the filters to respond to)
    out, masks = pt.perturb_rois(img, m, spec(angle_deg=40.0), width_mm=4.5)
    ring = arr(masks["peritumoral"]).astype(bool)
    fov_out = pt.perturbed_image(img, None, m, spec(angle_deg=40.0))[1]
    assert arr(fov_out)[0, 0] == 0 and not ring[0, 0]
    assert 40 <= arr(out)[0, 0] < 200  # a grey level of the image, not 0


def test_rotation_matches_simpleitk_inside_the_image():
    """The mirrored resampling equals SimpleITK's linear resampling wherever both are defined."""
    img, m = image_and_disk(n=64)
    img.SetOrigin((3.0, -2.0))
    m.CopyInformation(img)
    p = spec(angle_deg=23.0, shift_mm=(0.07, -0.04))
    out = arr(pt.perturbed_image(img, None, m, p)[0])
    t = sitk.Euler2DTransform()
    t.SetCenter(pt._centroid(m))
    t.SetAngle(math.radians(23.0))
    t.SetTranslation((0.07, -0.04))
    ref = arr(sitk.Resample(img, img, t, sitk.sitkLinear, -1.0))
    # away from the edge (there ITK clamps to the edge pixel over the last half pixel)
    inside = ndimage.binary_erosion(ref >= 0, iterations=2)
    assert inside.mean() > 0.6
    np.testing.assert_allclose(out[inside], ref[inside], rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------- physical units


@pytest.mark.parametrize("grow", [0.5, -0.5])
def test_growth_is_in_mm_whatever_the_spacing(grow):
    areas = []
    for spacing, n in ((0.1, 96), (0.05, 192)):
        img, m = image_and_disk(n=n, spacing=spacing, radius_mm=3.0)
        _, masks = pt.perturb_rois(img, m, spec(grow_mm=grow), rois=("tumor",))
        areas.append(arr(masks["tumor"]).sum() * spacing**2)
    expected = math.pi * (3.0 + grow) ** 2
    for a in areas:
        assert a == pytest.approx(expected, rel=0.04)
    assert areas[0] == pytest.approx(areas[1], rel=0.04)


def test_contour_randomisation_moves_the_boundary_by_its_sd_in_mm():
    moved_mm2 = {}
    for spacing, n in ((0.1, 96), (0.05, 192)):
        img, m = image_and_disk(n=n, spacing=spacing, radius_mm=3.0)
        area, changed = [], []
        for seed in range(12):
            p = spec(contour_sd_mm=0.3, contour_scale_mm=1.0, contour_seed=seed)
            moved = pt.perturbed_mask(m, p)
            area.append(moved.sum() * spacing**2)
            changed.append((moved != arr(m).astype(bool)).sum() * spacing**2)
        # mean displacement 0: on average the area stays pi r^2
        assert np.mean(area) == pytest.approx(math.pi * 9, rel=0.04)
        moved_mm2[spacing] = np.mean(changed)
    # the band swept by the boundary: about perimeter x mean |displacement| (0.8 x SD), in mm2
    expected = 2 * math.pi * 3.0 * 0.3 * math.sqrt(2 / math.pi)
    for v in moved_mm2.values():
        assert v == pytest.approx(expected, rel=0.2)


def test_rotation_and_translation_keep_the_area():
    img, m = image_and_disk(n=96, radius_mm=3.0)
    out, masks = pt.perturb_rois(img, m, spec(angle_deg=10.0, shift_mm=(0.05, 0.05)),
                                 rois=("tumor",))  # fmt: skip
    assert arr(masks["tumor"]).sum() == pytest.approx(arr(m).sum(), rel=0.02)
    assert not np.array_equal(arr(out), arr(img))


def test_noise_has_the_image_noise_level():
    rng = np.random.default_rng(0)
    base = 100 + rng.normal(0, 4, (128, 128))
    img = sitk.GetImageFromArray(base)
    img.SetSpacing((0.1, 0.1))
    assert pt.noise_sd_estimate(base) == pytest.approx(4, rel=0.05)
    m = sitk.GetImageFromArray(np.pad(np.ones((40, 40), np.uint8), 44))
    m.CopyInformation(img)
    out, _ = pt.perturb_rois(img, m, spec(noise_sd=None, noise_seed=3), rois=("tumor",))
    diff = arr(out) - base
    assert diff.std() == pytest.approx(4, rel=0.1)
    assert arr(out).min() >= base.min() and arr(out).max() <= base.max()


# ---------------------------------------------------------------- the ICC filter


def test_perturbation_icc_filter_is_icc1_at_090():
    kw = dict(n_perturbations=4, chain=pt.PerturbationChain(image_variants=2),
              rois=("tumor",), params=PARAMS, width_mm=1.0)  # fmt: skip
    readings = pt.perturbation_readings(cases(4), **kw)
    filt = pt.perturbation_icc_filter(readings)
    assert filt.threshold == 0.90 and filt.form == "ICC1"
    tab = icc_table(readings, form="ICC1")
    got = filt.icc_.set_index("feature")["estimate"]
    pd.testing.assert_series_equal(got, tab["estimate"], check_names=False)
    assert set(filt.selected_features_) == set(tab.index[tab["estimate"] >= 0.90])


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"random_state": None}, "random_state must be an int"),
        ({"n_perturbations": 1}, "n_perturbations must be an integer >= 2"),
        ({"n_perturbations": 3}, "image_variants=5 is larger than n_perturbations=3"),
        ({"chain": pt.PerturbationChain(volume_mm=-1)}, "volume_mm"),
        ({"chain": pt.PerturbationChain(rotation_deg=float("nan"))}, "rotation_deg"),
        ({"chain": pt.PerturbationChain(noise="yes")}, "noise"),
        ({"chain": pt.PerturbationChain(image_variants=0)}, "image_variants"),
        ({"rois": ("bogus",)}, "rois must be some of"),
        ({"rois": ("tumor", "tumor")}, "each once"),
        ({"rois": ("ln",)}, "case c0: no lymph-node image and mask to perturb"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        pt.perturbation_readings(cases(2), **({"params": PARAMS} | kwargs))


def test_bad_cases():
    good = cases(2)
    with pytest.raises(InputError, match="duplicated case ids"):
        pt.perturbation_readings([good[0], good[0]], params=PARAMS)
    with pytest.raises(InputError, match="case c0: no tumour image and mask"):
        pt.perturbation_readings([dict(good[0], tumor_mask=None), good[1]], params=PARAMS)
    with pytest.raises(InputError, match="no cases"):
        pt.perturbation_readings([], params=PARAMS)


def test_shrinking_a_tiny_tumour_away_is_an_error():
    img, m = image_and_disk(radius_mm=0.25)
    with pytest.raises(InputError, match="perturbation 0: the tumour mask is empty"):
        pt.perturb_rois(img, m, spec(grow_mm=-0.5), rois=("tumor",))


def test_unknown_spacing_is_refused():
    img, m = image_and_disk()
    img.SetMetaData("radiomics_aln_spacing_source", "pixel")
    with pytest.raises(InputError, match="in mm"):
        pt.perturb_rois(img, m, spec())


def test_chain_is_frozen_and_documented_defaults():
    chain = pt.PerturbationChain()
    assert dataclasses.asdict(chain) == {
        "rotation_deg": 15.0, "translation_mm": 0.1, "noise": True, "noise_sd": None,
        "volume_mm": 0.5, "contour_sd_mm": 0.25, "contour_scale_mm": 2.0, "image_variants": 5,
    }  # fmt: skip
    with pytest.raises(dataclasses.FrozenInstanceError):
        chain.volume_mm = 1.0


# ---------------------------------------------------------------- the lymph node


def ln_cases(n=3):
    """Cases with a tumour image and a lymph-node image of their own (other size, spacing)."""
    out = []
    for i, c in enumerate(cases(n)):
        img, m = image_and_disk(n=80, spacing=0.08, radius_mm=1.5 + 0.2 * i, seed=10 + i)
        out.append(c | {"ln_image": img, "ln_mask": m})
    return out


def test_lymph_node_is_perturbed_on_its_own_image_about_its_centroid():
    kw = dict(n_perturbations=4, chain=pt.PerturbationChain(image_variants=2), params=PARAMS,
              width_mm=1.0, random_state=1)  # fmt: skip
    both = pt.perturbation_readings(ln_cases(), rois=("tumor", "ln"), **kw)
    alone = pt.perturbation_readings(ln_cases(), rois=("ln",), **kw)
    tumor = pt.perturbation_readings(ln_cases(), rois=("tumor",), **kw)
    area = "ln__original_shape2D_PixelSurface"
    for k in both:
        assert list(both[k].columns) == list(tumor[k].columns) + list(alone[k].columns)
        pd.testing.assert_frame_equal(both[k][alone[k].columns], alone[k])
    # the node's own mask is perturbed: its area changes between perturbations, near its own
    areas = pd.DataFrame({k: v[area] for k, v in both.items()})
    assert (areas.std(axis=1) > 0).all()
    # rotation and shift only: each node keeps its own area (mm^2), not the tumour's
    rigid = pt.PerturbationChain(volume_mm=0, contour_sd_mm=0, noise=False, image_variants=2)
    got = pt.perturbation_readings(ln_cases(), rois=("ln",), **(kw | {"chain": rigid}))
    true_area = [(arr(c["ln_mask"]) > 0).sum() * 0.08**2 for c in ln_cases()]
    for k in got:
        assert np.allclose(got[k][area], true_area, rtol=0.03)
    # perturb_rois with the LN mask: the same perturbation about the node's centroid, no ring
    img, m = image_and_disk(n=80, spacing=0.08, radius_mm=1.5, seed=10)
    p = spec(angle_deg=90.0, grow_mm=0.16)
    out, masks = pt.perturb_rois(img, m, p, rois=("ln",))
    assert list(masks) == ["ln"]
    grown = arr(masks["ln"]).astype(bool)
    assert grown.sum() > arr(m).sum()
    assert np.array_equal(ndimage.center_of_mass(grown), ndimage.center_of_mass(arr(m)))
    with pytest.raises(InputError, match="perturb \\('ln',\\) alone"):
        pt.perturb_rois(img, m, p, rois=("tumor", "ln"))


def test_rings_named_with_their_width_are_rebuilt_around_each_perturbed_tumour():
    readings = pt.perturbation_readings(
        cases(2), n_perturbations=2, chain=pt.PerturbationChain(image_variants=1),
        rois=("tumor", "peritumoral_1mm", "shell_1_2mm"), params=PARAMS, random_state=0,
    )  # fmt: skip
    r = readings["perturbation01"]
    tumor = r["tumor__original_shape2D_PixelSurface"]
    ring = r["peritumoral_1mm__original_shape2D_PixelSurface"]
    shell = r["shell_1_2mm__original_shape2D_PixelSurface"]
    # a disk of radius R: the 1 mm ring is pi((R+1)^2 - R^2), the 1-2 mm shell pi((R+2)^2 - (R+1)^2)
    radius = np.sqrt(tumor / np.pi)
    assert np.allclose(ring, np.pi * ((radius + 1) ** 2 - radius**2), rtol=0.1)
    assert np.allclose(shell, np.pi * ((radius + 2) ** 2 - (radius + 1) ** 2), rtol=0.1)


def test_lymph_node_readings_are_cached(tmp_path, monkeypatch):
    kw = dict(n_perturbations=2, chain=pt.PerturbationChain(image_variants=1), params=PARAMS,
              rois=("ln",), random_state=0, cache_dir=tmp_path)  # fmt: skip
    first = pt.perturbation_readings(ln_cases(2), **kw)

    def fail(*a, **k):
        raise AssertionError("extracted again")

    monkeypatch.setattr(pt, "execute_masks", fail)
    again = pt.perturbation_readings(ln_cases(2), **kw)
    for k in first:
        pd.testing.assert_frame_equal(first[k], again[k])
