#!/bin/sh
# cli.sh - the command line: help, version, exit codes, one-line errors.
. "${SR_SRCDIR:-.}/tests/lib.sh"

expect_status 0 "--version" -- "$SR_BIN" --version
if grep -Eq '^sweepreport [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/out"; then pass "version format"; else fail "version format: $(cat "$TMP/out")"; fi

expect_status 0 "--help" -- "$SR_BIN" --help
for cmd in scan eval render run inspect demo synth; do
    expect_grep "^  $cmd " "$TMP/out" "--help lists $cmd"
done
for cmd in scan eval render run inspect demo synth; do
    expect_status 0 "$cmd --help" -- "$SR_BIN" "$cmd" --help
    expect_grep "^Usage: sweepreport $cmd" "$TMP/out" "$cmd --help shows its usage"
done

expect_status 2 "no command" -- "$SR_BIN"
expect_status 2 "unknown command" -- "$SR_BIN" frobnicate
expect_grep "unknown command 'frobnicate'" "$TMP/err" "unknown command is named"
expect_status 2 "unknown global option" -- "$SR_BIN" --frob
expect_status 2 "scan without a sweep" -- "$SR_BIN" scan
expect_status 2 "scan with two sweeps" -- "$SR_BIN" scan a b
expect_status 2 "scan with an unknown option" -- "$SR_BIN" scan --frob x
expect_grep "Try 'sweepreport scan --help'" "$TMP/err" "usage errors point to --help"
expect_status 2 "synth with a bad --trials" -- "$SR_BIN" synth --trials zero "$TMP/s"
expect_status 2 "synth with --rank 0" -- "$SR_BIN" synth --rank 0 "$TMP/s"
expect_status 2 "synth with a missing value" -- "$SR_BIN" synth "$TMP/s" --seed

# A missing sweep: exit 1 and one line naming the folder and the reason.
expect_status 1 "scan of a missing folder" -- "$SR_BIN" scan "$TMP/missing"
if [ "$(wc -l < "$TMP/err")" -eq 1 ] && grep -q "$TMP/missing: cannot open the sweep folder: No such file" "$TMP/err"; then
    pass "one-line error names the folder and the reason"
else
    fail "error line: $(cat "$TMP/err")"
fi
echo x > "$TMP/file"
expect_status 1 "scan of a file" -- "$SR_BIN" scan --json "$TMP/file"
expect_grep "not a folder" "$TMP/err" "a file is not a sweep"

# --study and --study-name reach the scan: a storage that is not there is a problem, not a failure.
mkdir -p "$TMP/sw/trial_0001"
expect_status 0 "scan --study with a missing storage" -- "$SR_BIN" scan --json --study "$TMP/none.db" --study-name x "$TMP/sw"
expect_grep "$TMP/none.db: no such Optuna storage" "$TMP/err" "the missing storage is named"
expect_status 2 "scan --study without a value" -- "$SR_BIN" scan "$TMP/sw" --study

# An explicit study that cannot be used leaves the sweep without one: the seed's
# results file, which stands in when no study is asked for, is not used instead.
"$SR_BIN" synth --trials 2 --epochs 2 --samples 1 --size 16 --rank 1 "$TMP/syn" > /dev/null
expect_status 0 "scan of a sweep with a study and a results file" -- "$SR_BIN" scan --json -q "$TMP/syn"
expect_grep '"source":[[:space:]]*".*optuna_study.db"' "$TMP/out" "its own database is the study"
for opt in "--study $TMP/none.db" "--study-name nosuch"; do
    # shellcheck disable=SC2086
    expect_status 0 "scan $opt (unusable)" -- "$SR_BIN" scan --json -q $opt "$TMP/syn"
    if grep -q '"study":[[:space:]]*null' "$TMP/out" && ! grep -q 'all_trials.json' "$TMP/out"; then
        pass "no other study replaces the one $opt asks for"
    else
        fail "scan $opt used another study: $(grep -o '"source":[^,]*' "$TMP/out")"
    fi
done

# --study-name without a database to look in: no study, and the reason.
rm "$TMP/syn/optuna_study.db"
expect_status 0 "scan --study-name with no database" -- "$SR_BIN" scan --json -q --study-name nosuch "$TMP/syn"
if grep -q '"study":[[:space:]]*null' "$TMP/out" && grep -q 'no such Optuna storage to find the study \\"nosuch\\" in' "$TMP/out"; then
    pass "--study-name with no database: no study, and the problem says why"
else
    fail "--study-name with no database: $(grep -o '"source":[^,]*' "$TMP/out") $(grep -o 'Optuna storage[^"]*' "$TMP/out")"
fi

# Usage errors name the option as it was given and what is wrong with it.
usage_says() {
    expect_status 2 "$1" -- "$SR_BIN" $1
    expect_grep "^sweepreport: [a-z]*: $2\$" "$TMP/err" "'$1' says: $2"
}
usage_says "render --device cpu $TMP/syn" "option '--device' belongs to 'sweepreport run'"
usage_says "eval -xv $TMP/syn" "unknown option '-x'"
usage_says "scan --json -xq $TMP/syn" "unknown option '-x'"
usage_says "scan --json -jq $TMP/syn" "unknown option '-j'"
usage_says "scan --study=x -sq $TMP/syn" "unknown option '-s'"
usage_says "scan --frob $TMP/syn" "unknown option '--frob'"
usage_says "scan --json=yes $TMP/syn" "option '--json' takes no value"
usage_says "scan --s $TMP/syn" "ambiguous option '--s'"
usage_says "eval $TMP/syn --jobs" "option '--jobs' needs a value"
usage_says "render $TMP/syn -o" "option '-o' needs a value"
usage_says "inspect --device bogus $TMP/syn" "--device: unknown device 'bogus' .*"
usage_says "inspect --device cuda:0,1 $TMP/syn" "--device: one device only, not 'cuda:0,1'"
usage_says "run --sampler true $TMP/syn" "--sampler: .*"
usage_says "synth --seed -1 $TMP/seed" "--seed needs a non-negative integer, not '-1'"

# Output that cannot be written is a failure, not a short file.
if [ -w /dev/full ]; then
    for cmd in "scan --json" "scan" "inspect"; do
        arg="$TMP/syn"
        [ "$cmd" = inspect ] && arg=$(ls "$TMP"/syn/trial_0001/*.safetensors | head -1)
        # shellcheck disable=SC2086
        q=-q
        [ "$cmd" = inspect ] && q=
        "$SR_BIN" $cmd $q "$arg" > /dev/full 2> "$TMP/err"
        st=$?
        if [ "$st" -eq 1 ] && grep -q "cannot write the output" "$TMP/err"; then
            pass "$cmd > /dev/full: exit 1, said so"
        else
            fail "$cmd > /dev/full: exit $st"
        fi
    done
else
    skip "output to a full device" "no /dev/full"
fi

# A FIFO named like a checkpoint is refused at once, not waited on.
mkfifo "$TMP/fifo.safetensors"
expect_status 1 "inspect of a FIFO" -- timeout 60 "$SR_BIN" inspect "$TMP/fifo.safetensors"
expect_grep "fifo.safetensors: not a regular file" "$TMP/err" "the FIFO is named as no regular file"

# inspect shows a checkpoint's metadata on a terminal: control characters in
# it are escaped (they could recolour or retitle the terminal), and long text
# is cut between characters, never inside one.
if [ -n "${SR_PYTHON:-}" ] && [ -x "$SR_PYTHON" ]; then
    ck=$(ls "$TMP"/syn/trial_0001/*.safetensors | head -1)
    "$SR_PYTHON" - "$ck" "$TMP/odd.safetensors" <<'PY'
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
head = json.loads(raw[8:8 + n])
head.setdefault("__metadata__", {})
head["__metadata__"]["ss_output_name"] = "\x1b[31mred\x1b]0;title\x07 \u009b"
head["__metadata__"]["ss_long_text"] = "\u00e9" * 150
b = json.dumps(head).encode()
b += b" " * (-len(b) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(b)) + b + raw[8 + n:])
PY
    expect_status 0 "inspect of a checkpoint with control characters in its metadata" -- "$SR_BIN" inspect "$TMP/odd.safetensors"
    if "$SR_PYTHON" - "$TMP/out" <<'PY'
import sys
out = open(sys.argv[1], "rb").read()
assert not any(c < 0x20 and c != 0x0a or c == 0x7f for c in out), "a control byte reached the terminal"
text = out.decode("utf-8")  # cut between characters: still UTF-8
assert "\u009b" not in text, "a C1 control reached the terminal"
assert "\\x1b[31mred" in text, "the escape is not shown"
line = [l for l in text.splitlines() if "ss_long_text" in l][0]
assert line.endswith("\u00e9...") and line.count("\u00e9") == 50, line
PY
    then pass "control characters escaped, long text cut between characters"; else fail "inspect's text output"; fi
    # the module table: long names cut in the middle, so that the ends that
    # tell modules apart stay; PEFT modules (no alpha) and metadata keys
    # longer than most line up
    "$SR_PYTHON" - "$TMP/peft.safetensors" <<'PY'
import json, struct, sys
head, data = {"__metadata__": {"ss_gradient_accumulation_steps": "2", "ss_seed": "7"}}, b""
stem = "base_model.model.down_blocks.1.attentions.0.transformer_blocks.0.attn2."
for k, proj in enumerate(["to_k", "to_q", "to_v"]):
    for part, shape in (("lora_A.weight", [2, 3]), ("lora_B.weight", [3, 2])):
        vals = struct.pack("<6f", *[(k + 1) * 0.1 * (i + 1) for i in range(6)])
        head[stem + proj + "." + part] = {"dtype": "F32", "shape": shape,
                                         "data_offsets": [len(data), len(data) + len(vals)]}
        data += vals
b = json.dumps(head).encode()
b += b" " * (-len(b) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(b)) + b + data)
PY
    expect_status 0 "inspect of a PEFT checkpoint with long module names" -- "$SR_BIN" inspect "$TMP/peft.safetensors"
    if "$SR_PYTHON" - "$TMP/out" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
rows = [l for l in lines if "attn2.to_" in l]
assert len(rows) == 3, rows
names = [r.split()[0] for r in rows]
assert [n[-4:] for n in names] == ["to_k", "to_q", "to_v"], names
assert all("..." in n and len(n) == 72 and n.startswith("base_model.model.down_blocks") for n in names), names
assert all(r.split()[3] == "-" for r in rows), rows  # no alpha
keys = [l for l in lines if l.startswith("    ss_")]
assert len({l.index(l.split()[1]) for l in keys}) == 1, keys  # values in one column
PY
    then pass "module names cut in the middle, PEFT alpha shown as -, metadata aligned"; else fail "inspect's module table"; fi
else
    skip "inspect's text output is terminal-safe" "no python3"
fi

# OMP_NUM_THREADS is --jobs' default, held to four threads a core.
OMP_NUM_THREADS=1000000 "$SR_BIN" scan -q "$TMP/syn" > /dev/null 2> "$TMP/err"
st=$?
if [ "$st" -eq 0 ]; then pass "OMP_NUM_THREADS=1000000 is held to four threads a core"; else fail "OMP_NUM_THREADS=1000000: exit $st"; fi

# synth refuses to write into a folder that has something in it.
mkdir -p "$TMP/full" && echo x > "$TMP/full/keep"
expect_status 1 "synth into a non-empty folder" -- "$SR_BIN" synth "$TMP/full"
if [ "$(cat "$TMP/full/keep")" = x ] && [ "$(ls "$TMP/full")" = keep ]; then pass "nothing was written"; else fail "the folder was changed"; fi


# a long path never cuts the reason off the message
L="$TMP/long"
i=0
while [ $i -lt 14 ]; do
    L="$L/$(printf 'folder_of_a_long_path_%03d_%s' $i 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz')"
    i=$((i + 1))
done
mkdir -p "$L" && printf 'x' > "$L/a-file"
expect_status 2 "render -o under a file, by a path of ${#L} characters" -- "$SR_BIN" render -o "$L/a-file/out" "$TMP/syn"
if head -n 1 "$TMP/err" | grep -q "^sweepreport: render: $L/a-file/out: cannot open: Not a directory\$"; then
    pass "the whole reason follows the long path"; else fail "the message: $(cut -c1-80 "$TMP/err")...$(tail -c 120 "$TMP/err")"; fi

finish
