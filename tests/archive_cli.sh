#!/bin/sh
# archive_cli.sh - render/run --archive: a PDF/A file beside each trial's
# checkpoints, someone else's file of that name left alone, reruns.
. "${SR_SRCDIR:-.}/tests/lib.sh"

S="$TMP/sweep"
"$SR_BIN" synth --trials 3 --epochs 4 --samples 2 --size 32 --rank 1 --seed 9 "$S" > /dev/null || exit 1

expect_status 0 "render --help" -- "$SR_BIN" render --help
expect_grep "^  --archive " "$TMP/out" "render --help names --archive"
expect_status 0 "run --help" -- "$SR_BIN" run --help
expect_grep "^  --archive " "$TMP/out" "run --help names --archive"

expect_status 0 "run without --archive" -- "$SR_BIN" run "$S"
if ls "$S"/trial_*/*_report.pdf > /dev/null 2>&1; then fail "archives without --archive"; else pass "no archives unless asked"; fi

# someone's own notes where trial_0001's archive would go
printf 'my notes on trial 1\n' > "$S/trial_0001/trial_0001_report.pdf"
cp "$S/trial_0001/trial_0001_report.pdf" "$TMP/notes"

expect_status 0 "render --archive" -- "$SR_BIN" render --archive "$S"
expect_grep "^archive: 2 of 3 trial PDFs written (SWEEP/<trial>/<trial>_report.pdf; the problems say why not the others)" \
    "$TMP/out" "render says how many archives it wrote, of how many"
tail -1 "$TMP/out" > "$TMP/last"
expect_grep "^report: .*; recommended: " "$TMP/last" "the last line is still the report and its recommendation"
expect_grep "trial_0001/trial_0001_report.pdf: archive PDF not replaced" "$TMP/err" "the file left alone is named"
expect_grep "archive PDF not replaced" "$S/sweepreport/summary.json" "and listed in summary.json's problems"
if cmp -s "$S/trial_0001/trial_0001_report.pdf" "$TMP/notes"; then pass "someone's file is untouched"; else
    fail "someone's file was changed"; fi
for t in trial_0002 trial_0003; do
    f="$S/$t/${t}_report.pdf"
    if [ -s "$f" ] && head -c 8 "$f" | grep -q '^%PDF-1\.7'; then pass "$t archive written"; else fail "no $t archive"; fi
done
if ls -a "$S"/trial_* | grep -q '\.tmp\|\.jpg$'; then fail "temporary files left"; else pass "no temporary files left"; fi

if command -v qpdf > /dev/null 2>&1; then
    if qpdf --check "$S/trial_0002/trial_0002_report.pdf" > "$TMP/qpdf" 2>&1 && ! grep -q WARNING "$TMP/qpdf"; then
        pass "qpdf --check is clean"
    else
        fail "qpdf --check: $(head -3 "$TMP/qpdf")"
    fi
else
    skip "qpdf --check is clean" "no qpdf"
fi

# a rerun renames a new archive over its own
before=$(stat -c %i "$S/trial_0002/trial_0002_report.pdf")
expect_status 0 "run --archive again" -- "$SR_BIN" run -q --force --archive "$S"
after=$(stat -c %i "$S/trial_0002/trial_0002_report.pdf")
if [ "$before" != "$after" ]; then pass "the rerun replaced the archive whole"; else fail "the archive was not replaced"; fi
if cmp -s "$S/trial_0001/trial_0001_report.pdf" "$TMP/notes"; then pass "and still left someone's file alone"; else
    fail "someone's file was changed on the rerun"; fi

# an archive removed by hand comes back on the next plain run, though
# nothing else changed
rm "$S/trial_0003/trial_0003_report.pdf"
expect_status 0 "run --archive after an archive was removed" -- "$SR_BIN" run --archive "$S"
if [ -s "$S/trial_0003/trial_0003_report.pdf" ]; then pass "the removed archive is written again"; else
    fail "the removed archive stayed missing: $(tail -2 "$TMP/out")"; fi

# CJK text with no CJK font: replaced, and said once for the report and all archives
for t in trial_0002 trial_0003; do
    sed -i '1s/{/{"note": "\xe5\xad\xa6\xe4\xb9\xa0\xe7\x8e\x87\xe6\xb5\x8b\xe8\xaf\x95",/' "$S/$t/params.json"
done
expect_status 0 "render --archive without a CJK font" -- env SR_CJK_FONT=none "$SR_BIN" render --archive "$S"
notes=$(grep -c "CJK text is shown as U+FFFD" "$TMP/err")
if [ "$notes" -eq 1 ]; then pass "one note on the missing CJK font"; else fail "$notes notes on the missing CJK font"; fi

# a long trial: its checkpoint files run over pages, never into the footer,
# whatever the model lines above them hold
L="$TMP/long-trial"
"$SR_BIN" synth --trials 1 --epochs 120 --save-every 2 --samples 1 --size 32 --rank 1 --seed 4 "$L" > /dev/null || exit 1
if [ -n "${SR_PYTHON:-}" ] && [ -x "$SR_PYTHON" ]; then
    # the second half resumed from another model, with another seed: the
    # model lines list two values each, which must not push the rows down
    "$SR_PYTHON" - "$L/trial_0001" <<'PY'
import glob, json, os, struct, sys
files = sorted(glob.glob(os.path.join(sys.argv[1], "*-0*.safetensors")))
for f in files[len(files) // 2:]:
    raw = open(f, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    head = json.loads(raw[8:8 + n])
    meta = head["__metadata__"]
    meta["ss_sd_model_name"] = "/mnt/shared/models/stable-diffusion/v1-5/v1-5-pruned-emaonly-resumed-from-another-run.safetensors"
    meta["ss_seed"] = "987654321987654321"
    meta["ss_training_started_at"] = str(float(meta["ss_training_started_at"]) + 86400)
    b = json.dumps(head).encode()
    b += b" " * (-len(b) % 8)
    st = os.stat(f)
    open(f, "wb").write(struct.pack("<Q", len(b)) + b + raw[8 + n:])
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
PY
fi
expect_status 0 "render --archive of a trial of 60 checkpoints" -- "$SR_BIN" render --archive --settle 0 "$L"
if command -v pdftotext > /dev/null 2>&1; then
    pdftotext -bbox "$L/trial_0001/trial_0001_report.pdf" "$TMP/bbox.html"
    # the footer starts at about 809 pt from the top; a file's row below 800 ran into it
    low=$(grep 'lora_trial_1-0.*safetensors' "$TMP/bbox.html" | sed -n 's/.*yMax="\([0-9.]*\)".*/\1/p' | awk '$1 > 800' | wc -l)
    rows=$(grep -c 'lora_trial_1-0.*safetensors' "$TMP/bbox.html")
    if [ "$low" -eq 0 ] && [ "$rows" -ge 59 ]; then pass "every row of the $rows files is above the footer"; else
        fail "$low of $rows file rows run into the footer"; fi
else
    skip "every row of the checkpoint files is above the footer" "no pdftotext"
fi

finish
