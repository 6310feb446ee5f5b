#!/usr/bin/python3
"""Writes the test images of tests/test_image_metrics.c and golden.json, the
metrics numpy / scikit-image give for them.

Run with the Debian interpreter (python3-numpy, python3-pil, python3-skimage):
    /usr/bin/python3 tests/data/image_metrics/make_golden.py
The outputs are committed; rerunning only rewrites them.

Definitions (the reference the C code reproduces):
  brightness   np.mean(a) / 255             contrast  np.std(a) / 255
  saturation   mean of (max - min) / max over pixels, 0 where max = 0
  luma         Y = 0.299 R + 0.587 G + 0.114 B (float64)
  sharpness    np.var of the 4-neighbour Laplacian of Y over the interior
               (0 when the image is narrower or shorter than 3)
  colorfulness Hasler & Suesstrunk 2003 with population std
  entropy      Shannon entropy (bits) of the 256-bin histogram of Y rounded
               half away from zero, on the exact value: (299R+587G+114B+500)//1000
  ssim         skimage.metrics.structural_similarity(Y1, Y2,
               gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
               data_range=255) for every pair of same-size images (null when
               skimage refuses the size)
The 16-bit PNG is compared through its high bytes (what the reader keeps).
"""
import json
import os
import struct
import warnings
import zlib

import numpy as np
import PIL
import scipy
import skimage
from PIL import Image, ImageDraw
from skimage.metrics import structural_similarity

HERE = os.path.dirname(os.path.abspath(__file__))


def scene(w, h, seed, noise):
    """Shapes on a gradient, plus Gaussian noise: uint8 h x w x 3."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(img)
    c0, c1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    for y in range(h):
        t = y / max(h - 1, 1)
        d.line([(0, y), (w - 1, y)], fill=tuple(int(v) for v in (1 - t) * c0 + t * c1))
    for _ in range(6):
        x0, y0 = int(rng.integers(-w // 4, w)), int(rng.integers(-h // 4, h))
        x1, y1 = x0 + int(rng.integers(3, w // 2 + 4)), y0 + int(rng.integers(3, h // 2 + 4))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            d.ellipse([x0, y0, x1, y1], fill=fill)
        else:
            d.rectangle([x0, y0, x1, y1], fill=fill)
    a = np.asarray(img).astype(np.float64)
    a += rng.normal(0.0, noise, a.shape)
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def write_png16_rgb(path, a16):
    """A 16-bit RGB PNG (PIL cannot write one), filter 0 on every row."""
    h, w, _ = a16.shape
    raw = b"".join(b"\x00" + a16[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def luma(a):
    f = a.astype(np.float64)
    return 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]


def metrics(a):
    f = a.astype(np.float64)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    mx, mn = f.max(axis=2), f.min(axis=2)
    sat = np.where(mx > 0, (mx - mn) / np.where(mx > 0, mx, 1.0), 0.0)
    y = luma(a)
    h, w = y.shape
    if h >= 3 and w >= 3:
        lap = (y[:-2, 1:-1] + y[2:, 1:-1] + y[1:-1, :-2] + y[1:-1, 2:] - 4.0 * y[1:-1, 1:-1])
        sharp = float(np.var(lap))
    else:
        sharp = 0.0
    rg = r - g
    yb = 0.5 * (r + g) - b
    colorful = np.sqrt(np.std(rg) ** 2 + np.std(yb) ** 2) + 0.3 * np.sqrt(
        np.mean(rg) ** 2 + np.mean(yb) ** 2)
    ai = a.astype(np.int64)
    y1000 = 299 * ai[..., 0] + 587 * ai[..., 1] + 114 * ai[..., 2]
    bins = (y1000 + 500) // 1000
    hist = np.bincount(bins.ravel(), minlength=256).astype(np.float64)
    p = hist[hist > 0] / hist.sum()
    entropy = float(-np.sum(p * np.log2(p)))
    # How many pixels the float luma would round differently (ties only).
    float_bins = np.clip(np.floor(y + 0.5), 0, 255).astype(np.int64)
    return {
        "brightness": float(np.mean(a) / 255),
        "contrast": float(np.std(a) / 255),
        "saturation": float(np.mean(sat)),
        "sharpness": sharp,
        "colorfulness": float(colorful),
        "entropy": entropy,
        "float_rounding_differs": int(np.count_nonzero(float_bins != bins)),
    }


def ssim(y1, y2):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(structural_similarity(y1, y2, gaussian_weights=True, sigma=1.5,
                                               use_sample_covariance=False, data_range=255))
    except ValueError:
        return None


def main():
    images = []  # (file name, uint8 array as the reader decodes it)

    def save_rgb(name, a):
        Image.fromarray(a, "RGB").save(os.path.join(HERE, name), optimize=True)
        images.append((name, a))

    save_rgb("scene_a_64x64.png", scene(64, 64, 1, 6.0))
    save_rgb("scene_b_64x64.png", scene(64, 64, 2, 10.0))
    # The same composition as a, noisier: a similar pair.
    save_rgb("scene_c_64x64.png", scene(64, 64, 1, 20.0))
    save_rgb("scene_d_37x53.png", scene(37, 53, 4, 8.0))
    save_rgb("scene_e_37x53.png", scene(37, 53, 5, 3.0))
    save_rgb("tiny_9x9.png", scene(9, 9, 6, 30.0))
    save_rgb("tiny_9x9_b.png", scene(9, 9, 7, 30.0))
    save_rgb("corner_2x2.png", np.array([[[255, 0, 0], [0, 0, 0]], [[10, 200, 30], [255, 255, 255]]],
                                        dtype=np.uint8))
    grey = np.repeat(np.tile(np.arange(0, 256, 16, dtype=np.uint8), (12, 1))[..., None], 3, axis=2)
    save_rgb("grey_16x12.png", grey)

    # 16-bit RGB: the reader keeps the high byte of each sample.
    rng = np.random.default_rng(8)
    hi = scene(48, 40, 8, 12.0)
    a16 = hi.astype(np.uint16) * 256 + rng.integers(0, 256, hi.shape).astype(np.uint16)
    write_png16_rgb(os.path.join(HERE, "deep16_48x40.png"), a16)
    images.append(("deep16_48x40.png", hi))

    # Palette: 29 x 31, 16 colours.
    pal = Image.fromarray(scene(29, 31, 9, 4.0), "RGB").quantize(colors=16, dither=Image.Dither.NONE)
    pal.save(os.path.join(HERE, "palette_29x31.png"), optimize=True)
    images.append(("palette_29x31.png", np.asarray(pal.convert("RGB"))))

    out = {
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__,
                     "skimage": skimage.__version__, "PIL": PIL.__version__},
        "images": [],
        "pairs": [],
    }
    for name, a in images:
        # Check the file decodes to what the metrics were computed on.
        with Image.open(os.path.join(HERE, name)) as im:
            if im.mode not in ("RGB;16", "I;16") and name != "deep16_48x40.png":
                assert np.array_equal(np.asarray(im.convert("RGB")), a), name
        h, w = a.shape[:2]
        out["images"].append({"file": name, "width": w, "height": h, **metrics(a)})

    ssims = []
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            ai, aj = images[i][1], images[j][1]
            if ai.shape != aj.shape:
                continue
            s = ssim(luma(ai), luma(aj))
            out["pairs"].append({"a": images[i][0], "b": images[j][0], "ssim": s})
            if s is not None:
                ssims.append(s)

    per = out["images"]
    bri = np.array([m["brightness"] for m in per])
    con = np.array([m["contrast"] for m in per])
    agg = {
        "total_samples": len(per),
        "mean_brightness": float(np.mean(bri)), "mean_contrast": float(np.mean(con)),
        "std_brightness": float(np.std(bri)), "std_contrast": float(np.std(con)),
        "mean_saturation": float(np.mean([m["saturation"] for m in per])),
        "mean_sharpness": float(np.mean([m["sharpness"] for m in per])),
        "mean_colorfulness": float(np.mean([m["colorfulness"] for m in per])),
        "mean_entropy": float(np.mean([m["entropy"] for m in per])),
    }
    if ssims:
        agg["sample_diversity"] = float(1.0 - np.mean(ssims))
    agg["pixar_score"] = float(abs(agg["mean_brightness"] - 0.50) + 0.5 * agg["std_brightness"]
                               + abs(agg["mean_contrast"] - 0.20) + 0.5 * agg["std_contrast"])
    out["aggregate"] = agg

    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
