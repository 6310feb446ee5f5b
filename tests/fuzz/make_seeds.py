#!/usr/bin/env python3
"""make_seeds.py - writes the seed inputs of the fuzz targets.

    python3 tests/fuzz/make_seeds.py TESTDATA SWEEPREPORT OUTDIR

TESTDATA is the external test corpus folder (safetensors vectors, the
Mustache spec, TensorBoard event files), SWEEPREPORT the built program (its
synth sweep gives realistic metrics files, checkpoint headers and event
files), OUTDIR receives one folder per target (safetensors, metrics,
mustache, tfevents, score_expr) of files named seed-*.  The seeds are
committed under tests/fuzz/corpus/ together with what fuzzing added."""
import json
import os
import struct
import subprocess
import sys
import tempfile

TESTDATA, SR_BIN, OUT = sys.argv[1:4]
written = {}


def put(target, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
    written[target] = written.get(target, 0) + 1


# ---------------------------------------------------------------- synth sweep
tmp = tempfile.mkdtemp(prefix="sr-seeds-")
sweep = os.path.join(tmp, "sweep")
subprocess.run([SR_BIN, "synth", "--trials", "3", "--epochs", "4", "--samples", "2", "--size", "16",
                "--rank", "1", "--seed", "7", sweep], check=True, stdout=subprocess.DEVNULL)
synth_files = []
for root, _, files in os.walk(sweep):
    for f in sorted(files):
        synth_files.append(os.path.join(root, f))
synth_files.sort()

# ---------------------------------------------------------------- safetensors
st_dir = os.path.join(TESTDATA, "safetensors")
for root, _, files in sorted(os.walk(st_dir)):
    for f in sorted(files):
        if f.endswith(".safetensors"):
            with open(os.path.join(root, f), "rb") as fh:
                put("safetensors", os.path.basename(root) + "-" + f, fh.read())


def st_file(tensors, meta=None, pad_to=8):
    """tensors: [(name, dtype, shape, nbytes)] -> a valid file, data zeroed."""
    header, off = {}, 0
    if meta is not None:
        header["__metadata__"] = meta
    for name, dtype, shape, nbytes in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + nbytes]}
        off += nbytes
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % pad_to)
    return struct.pack("<Q", len(h)) + h + bytes(off)


# A kohya LoRA in the layout synth writes: ss_* metadata, down/up/alpha per module.
meta = {}
for f in synth_files:
    if f.endswith(".safetensors"):
        with open(f, "rb") as fh:
            n = struct.unpack("<Q", fh.read(8))[0]
            header = json.loads(fh.read(n))
        meta = header.get("__metadata__", {})
        # The real header, cut to its first tensors (a whole one is 100 KB).
        keys = [k for k in header if k != "__metadata__"][:6]
        small = {"__metadata__": meta}
        small.update({k: header[k] for k in keys})
        base = min(header[k]["data_offsets"][0] for k in keys)
        for k in keys:
            b, e = small[k]["data_offsets"]
            small[k] = dict(small[k], data_offsets=[b - base, e - base])
        end = max(small[k]["data_offsets"][1] for k in keys)
        h = json.dumps(small).encode()
        put("safetensors", "synth-cut-" + os.path.basename(f), struct.pack("<Q", len(h)) + h + bytes(end))
        break
lora = [("lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight", "F16", [2, 320], 1280),
        ("lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight", "F16", [320, 2], 1280),
        ("lora_unet_down_blocks_0_attentions_0_proj_in.alpha", "F16", [], 2),
        ("lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", "BF16", [2, 8], 32),
        ("lora_te_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", "F32", [8, 2], 64),
        ("lora_te_text_model_encoder_layers_0_mlp_fc1.alpha", "F32", [], 4)]
put("safetensors", "kohya-lora", st_file(lora, meta or {"ss_epoch": "2", "ss_network_dim": "2"}))
put("safetensors", "kohya-lora-cut", st_file(lora, {"ss_epoch": "2"})[:-100])
put("safetensors", "peft", st_file([("base_model.model.unet.x.lora_A.weight", "F32", [2, 4], 32),
                                   ("base_model.model.unet.x.lora_B.weight", "F32", [4, 2], 32)]))
put("safetensors", "loha", st_file([("lora_unet_x.hada_w1_a", "F16", [4, 2], 16),
                                   ("lora_unet_x.hada_w1_b", "F16", [2, 4], 16)], {"ss_network_args": "{\"algo\": \"loha\"}"}))

# ---------------------------------------------------------------- metrics
for f in synth_files:
    if f.endswith(".json") and ("metrics" in f or "evaluation_" in f):
        with open(f, "rb") as fh:
            rel = os.path.relpath(f, sweep)
            put("metrics", "synth-" + rel.replace("/", "-"), fh.read())
metrics_hand = {
    "nested": '{"checkpoint": "lora_trial_5-000004.safetensors", "evaluation_time": "2025-11-15T10:45:12.123456",'
              ' "metrics": {"total_samples": 8, "avg_brightness": [0.51, 0.5], "mean_brightness": 0.528,'
              ' "mean_contrast": 0.201}}',
    "realtime": '{"checkpoint_name": "lora_trial_1-000002", "evaluation_time": 12.5, "timestamp": 1731660000,'
                ' "metrics": {"mean_brightness": 0.5, "lpips_diversity": 0.41, "clip_consistency": 0.3}}',
    "flat": '{"mean_brightness": 0.52, "mean_contrast": 0.2, "lpips_diversity": NaN, "x": Infinity,'
            ' "y": -Infinity, "epoch": 4}',
    "summary-list": '{"trial_dir": "/x/trial_0005", "total_checkpoints_evaluated": 2, "last_update": "t",'
                    ' "checkpoints": [{"name": "lora_trial_5-000002.safetensors", "timestamp": "t",'
                    ' "metrics": {"mean_brightness": 0.5}}, {"checkpoint": "b", "mean_contrast": 0.1}]}',
    "summary-object": '{"trial_name": "trial_0005", "checkpoints": {"lora_trial_5-000002": {"epoch": 2,'
                      ' "mean_brightness": 0.51, "evaluation_time": "t"}, "lora_trial_5": {"mean_contrast": 0.2}}}',
    "state": '{"evaluated_checkpoints": ["a.safetensors"], "evaluation_results": {"a.safetensors":'
             ' {"mean_brightness": 0.4, "metrics": {"mean_contrast": 0.3}}}, "last_update": "t"}',
    "state-null": '{"evaluation_results": null}',
    "bad-checkpoints": '{"checkpoints": 3, "evaluation_results": [1]}',
    "truncated": '{"checkpoint": "a", "metrics": {"mean_bri',
    "garbage": "\x00\xff{]}NaNNaN\"\\u0001NaN\\u0001\"",
    "array": "[1, 2, {\"mean_brightness\": 1}]",
    "nan-key": '{NaN: 1, "metrics": {"a": NaN}}',
    "deep": "[" * 300 + "]" * 300,
    "empty": "",
}
for name, text in metrics_hand.items():
    put("metrics", name, text)

# ---------------------------------------------------------------- mustache
spec = os.path.join(TESTDATA, "mustache-spec")
for f in sorted(os.listdir(spec)):
    if not f.endswith(".json"):
        continue
    with open(os.path.join(spec, f)) as fh:
        suite = json.load(fh)
    for i, t in enumerate(suite["tests"]):
        data = t.get("data")
        if isinstance(data, dict) and "lambda" in data:
            continue
        partials = list(t.get("partials", {}).values())
        seed = t["template"] + "\0" + json.dumps(data)
        if partials:
            seed += "\0" + partials[0]
        put("mustache", "spec-%s-%02d" % (f[:-5].lstrip("~"), i), seed)
tpl = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "templates")
ctx = {"title": "sweep <1>", "trials": [{"name": "trial_0001", "score": 0.25, "best": True},
                                        {"name": "trial_0002", "score": None}], "charts": []}
for f in sorted(os.listdir(tpl)):
    if f.endswith(".mustache"):
        with open(os.path.join(tpl, f)) as fh:
            put("mustache", "template-" + f, fh.read() + "\0" + json.dumps(ctx) + "\0{{$body}}x{{/body}}")
put("mustache", "unclosed", "{{#a}}{{b}\0{}")
put("mustache", "delims", "{{=<% %>=}}<%a%><%={{ }}=%>{{{b}}}\0{\"a\": \"&\", \"b\": \"<\"}")
put("mustache", "nested", "{{#a}}{{#b}}{{.}}{{/b}}{{/a}}\0{\"a\": {\"b\": [1, 2.5, \"x\", true, null]}}")

# ---------------------------------------------------------------- tfevents
def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(data):
    n = struct.pack("<Q", len(data))
    return n + struct.pack("<I", masked(n)) + data + struct.pack("<I", masked(data))


def records_of(blob):
    out, pos = [], 0
    while pos + 12 <= len(blob):
        n = struct.unpack("<Q", blob[pos:pos + 8])[0]
        out.append(blob[pos:pos + 16 + n])
        pos += 16 + n
    return out


def varint(v):
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, wt, payload):
    key = varint(num << 3 | wt)
    if wt == 2:
        return key + varint(len(payload)) + payload
    return key + payload


def event(step, summary_values, wall=1731660000.5):
    e = field(1, 1, struct.pack("<d", wall))
    if step:
        e += field(2, 0, varint(step))
    return e + field(5, 2, b"".join(field(1, 2, v) for v in summary_values))


def tensor_value(tag, dtype, body):
    tensor = field(1, 0, varint(dtype)) + field(2, 2, b"") + body  # dtype, empty shape (rank 0)
    return field(1, 2, tag.encode()) + field(8, 2, tensor)


version = field(1, 1, struct.pack("<d", 1731660000.0)) + field(3, 2, b"brain.Event:2")
event_files = []
for root, _, files in sorted(os.walk(os.path.join(TESTDATA, "tfevents"))):
    for f in sorted(files):
        if f.startswith("events.out.tfevents."):
            event_files.append(os.path.join(root, f))
for f in synth_files:
    if os.path.basename(f).startswith("events.out.tfevents."):
        event_files.append(f)
        break
for f in event_files:
    with open(f, "rb") as fh:
        recs = records_of(fh.read())
    head = b"".join(recs[:24])
    label = os.path.basename(os.path.dirname(os.path.dirname(f)))
    put("tfevents", "raw-" + label, b"\0" + head)
    put("tfevents", "fixed-" + label, b"\1" + head)
    put("tfevents", "cut-" + label, b"\0" + head[:-7])
    damaged = bytearray(head)
    damaged[len(recs[0]) + 20] ^= 0x40
    put("tfevents", "crc-" + label, b"\0" + bytes(damaged))
simple = lambda tag, v: field(1, 2, tag.encode()) + field(2, 5, struct.pack("<f", v))
tens = [
    tensor_value("loss/current", 1, field(5, 2, struct.pack("<f", 0.25))),   # DT_FLOAT, packed float_val
    tensor_value("loss/average", 1, field(4, 2, struct.pack("<f", 0.5))),    # DT_FLOAT, tensor_content
    tensor_value("lr/unet", 2, field(6, 2, struct.pack("<d", 1e-4))),        # DT_DOUBLE, double_val
    tensor_value("lr/textencoder", 19, field(13, 2, varint(0x3C00))),       # DT_HALF, half_val
    tensor_value("loss/epoch", 14, field(13, 2, varint(0x3F80))),           # DT_BFLOAT16
]
stream = record(version)
for step, v in enumerate(tens):
    stream += record(event(step * 10, [v]))
stream += record(event(5, [simple("loss/current", 0.125), simple("lr/unet", 2e-4)]))
stream += record(event(5, [simple("loss/current", 0.0625)]))  # the same step again
put("tfevents", "tensors", b"\1" + stream)
put("tfevents", "undecodable", b"\1" + record(version) + record(b"\xff\xff\xff") + record(event(1, [simple("loss/x", 1.0)])))
put("tfevents", "not-an-event", b"\1" + record(b"\x0a\x05hello"))
put("tfevents", "too-long", b"\1" + struct.pack("<Q", 1 << 40) + b"\0" * 8)
put("tfevents", "empty", b"\0")
put("tfevents", "text", b"\0hello, this is not a TFRecord file\n")

# ---------------------------------------------------------------- score_expr
exprs = [
    "pixar_score",
    "abs(mean_brightness - 0.5) + 0.5*std_brightness + abs(mean_contrast - 0.2) + 0.5*std_contrast",
    "0.40*pixar_score + 0.30*abs(lpips_diversity - 0.40) + 0.30*max(0, 0.35 - clip_consistency)",
    "-weight_delta_norm / (1 + weight_drift)",
    "sqrt(mean_sharpness) * log(mean_entropy + 1e-3)",
    "min(a, b, c, 1.5e2) - max(.5, -x, +y)",
    '"metric with spaces" * 2 + "x-y"',
    "((((((((a))))))))",
    "--+-a",
    "1e308 * 10",
    "a / 0",
    "log(0)",
    "abs()",
    "min(a)",
    "unknown(a)",
    "1.2.3",
    "3e",
    "a +",
    "(a",
    "a)",
    '"unterminated',
    '""',
    "",
    "   ",
    "a $ b",
    "mean_brightness.x_y2",
    "-" * 70 + "a",
    "(" * 70 + "a" + ")" * 70,
]
for i, e in enumerate(exprs):
    put("score_expr", "%02d" % i, e)

subprocess.run(["rm", "-rf", tmp], check=True)
for t, n in sorted(written.items()):
    print("%s: %d seeds" % (t, n))
