#!/bin/sh
# job_cli.sh - run as cron and people use it: the lock (exit 3, --wait, a
# killed holder), plain output without a terminal, reruns that leave an
# up-to-date report alone, pending checkpoints, profiles, nightly history.
. "${SR_SRCDIR:-.}/tests/lib.sh"

S="$TMP/sweep"
"$SR_BIN" synth --trials 4 --epochs 4 --samples 2 --size 32 --rank 1 --seed 11 "$S" > /dev/null || exit 1
R="$S/sweepreport"
# The half-written checkpoint synth leaves would stop being pending 30 s
# after synth, between two runs of a slow machine: date it back, so that
# it is settled (and cut short) from the first run on.
find "$S" -name '*.safetensors' -newermt '1 hour ago' -exec touch -d '2 hours ago' {} +

# waits up to 60 s for a file to hold a pattern
wait_for() {
    i=0
    while [ $i -lt 300 ]; do
        if grep -q -- "$1" "$2" 2>/dev/null; then return 0; fi
        sleep 0.2
        i=$((i + 1))
    done
    return 1
}

# ---- a misspelt --score fails at once, before anything is measured ----------
expect_status 2 "run with a misspelt score metric" -- "$SR_BIN" run --score 'mean_brightnes + 1' "$S"
expect_grep "unknown metric 'mean_brightnes'" "$TMP/err" "the usage error names the metric"
if [ -z "$(ls -A "$S/.sweepreport/measurements" 2>/dev/null)" ] && [ ! -e "$R" ]; then
    pass "nothing was measured or rendered"
else
    fail "a wrong score still measured: $(ls "$S/.sweepreport/measurements" 2>/dev/null | head -3)"
fi

# ---- output without a terminal, -q and -v ---------------------------------
expect_status 0 "run without a terminal" -- "$SR_BIN" run "$S"
cat "$TMP/out" "$TMP/err" > "$TMP/all"
if grep -q "$(printf '\r')" "$TMP/all" || grep -q "$(printf '\033')" "$TMP/all"; then
    fail "carriage returns or escape codes in non-terminal output"; od -c "$TMP/all" | head -5
else
    pass "no carriage return, no escape code without a terminal"
fi
if [ "$(grep -c '^measure: ' "$TMP/out")" -eq 1 ] && [ "$(grep -c '^render: ' "$TMP/out")" -eq 1 ]; then
    pass "one plain line per stage"
else
    fail "stage lines: $(cat "$TMP/out")"
fi
tail -1 "$TMP/out" > "$TMP/last"
expect_grep "^report: $R/index.html, $R/report.pdf; recommended: trial_[0-9]* epoch [0-9]* $S/trial_" "$TMP/last" \
    "the last line says where the report is and what is recommended"
expect_status 0 "run -q" -- "$SR_BIN" run -q --force "$S"
if [ ! -s "$TMP/out" ]; then pass "-q prints nothing on stdout"; else fail "-q printed: $(cat "$TMP/out")"; fi
expect_status 0 "run -v" -- "$SR_BIN" run -v --force "$S"
n_ok=$("$SR_BIN" scan --json -q "$S" | grep -c '"status":[[:space:]]*"ok"')
n_lines=$(grep -c '^measure: trial_[0-9]*/.*\.safetensors: ' "$TMP/out")
if [ "$n_lines" -eq "$n_ok" ] && [ "$n_ok" -gt 0 ]; then pass "-v: a line per checkpoint ($n_ok)"; else
    fail "-v: $n_lines checkpoint lines for $n_ok checkpoints"; fi
if command -v script > /dev/null 2>&1 && script -qec true /dev/null > /dev/null 2>&1; then
    script -qec "'$SR_BIN' run --force '$S'" /dev/null > "$TMP/tty" 2>&1
    if grep -q "$(printf '\r\033')\[K" "$TMP/tty" && grep -q "measure [0-9]*/[0-9]*" "$TMP/tty"; then
        pass "on a terminal the progress line is redrawn (stage n/N)"
    else
        fail "terminal output: $(od -c "$TMP/tty" | head -3)"
    fi
else
    skip "on a terminal the progress line is redrawn" "no script(1) with a pseudo-terminal"
fi

# ---- a rerun with nothing new ------------------------------------------------
stat -c '%i %Y' "$R/index.html" "$R/summary.json" "$R/report.pdf" > "$TMP/before"
cp "$R/summary.json" "$TMP/summary.before"
expect_status 0 "run again" -- "$SR_BIN" run "$S"
expect_grep "^measure: .*nothing new to measure" "$TMP/out" "the rerun measures nothing"
expect_grep "^render: nothing changed since the report of " "$TMP/out" "the rerun says nothing changed"
stat -c '%i %Y' "$R/index.html" "$R/summary.json" "$R/report.pdf" > "$TMP/after"
if cmp -s "$TMP/before" "$TMP/after" && cmp -s "$R/summary.json" "$TMP/summary.before"; then
    pass "the published report was left as it is (same inodes and times)"
else
    fail "the report was rewritten: $(cat "$TMP/before" "$TMP/after")"
fi
tail -1 "$TMP/out" > "$TMP/last"
expect_grep "^report: $R/index.html, $R/report.pdf; recommended: " "$TMP/last" "and still says where it is"
expect_grep '"fingerprint":[[:space:]]*"[0-9a-f]\{16\}"' "$R/summary.json" "summary.json records the fingerprint"
# options the report depends on are part of it
expect_status 0 "render with another score" -- "$SR_BIN" render --prefer-earlier 20 "$S"
expect_grep "^render: wrote summary.json" "$TMP/out" "another option renders again"

# ---- pending checkpoints -----------------------------------------------------
ck=$(ls "$S"/trial_0001/*-000002.safetensors)
cp "$ck" "$S/trial_0001/lora_trial_1-000003.safetensors"   # modified just now
expect_status 0 "run with a fresh checkpoint" -- "$SR_BIN" run --settle 3600 "$S"
expect_grep "1 pending\|2 pending" "$TMP/out" "the fresh checkpoint is pending"
if grep -q 'lora_trial_1-000003' "$TMP/err"; then fail "a pending checkpoint was reported as a problem"; else
    pass "a pending checkpoint is not a problem"; fi
if [ -n "${SR_PYTHON:-}" ] && [ -x "$SR_PYTHON" ]; then
    if "$SR_PYTHON" - "$R/summary.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = [x for x in d["pending"] if x["checkpoint"] == "lora_trial_1-000003.safetensors"]
assert len(p) == 1 and p[0]["trial"] == "trial_0001" and p[0]["reason"], d["pending"]
c = [c for t in d["trials"] for c in t["checkpoints"] if c["file"] == "lora_trial_1-000003.safetensors"][0]
assert c["status"] == "pending" and c["score"] is None and "weight_delta_norm" not in c["metrics"], c
assert not any("000003" in x["path"] for x in d["problems"]), d["problems"]
print("pending ok")
PY
    then pass "summary.json lists it as pending, unmeasured"; else fail "summary.json pending"; fi
else
    skip "summary.json lists it as pending" "no python3"
fi
expect_grep 'id="pending-h"' "$R/index.html" "the index page has a pending line"
expect_grep '<a href="report.pdf">' "$R/index.html" "the index page links report.pdf beside it"
expect_grep 'lora_trial_1-000003.safetensors' "$R/index.html" "naming the checkpoint"
expect_grep 'href="#pending-h">([12] pending)' "$R/index.html" "the sweep's facts count it, with a link to the line"
# a checkpoint still growing: only its size and bytes-so-far change between
# runs, which is no reason to render again
head -c 4000 "$ck" > "$S/trial_0002/lora_trial_2-000005.safetensors"
expect_status 0 "run with a checkpoint being written" -- "$SR_BIN" run --settle 3600 "$S"
expect_grep "^render: wrote summary.json" "$TMP/out" "a new pending checkpoint renders the report"
head -c 9000 "$ck" > "$S/trial_0002/lora_trial_2-000005.safetensors"
expect_status 0 "run while it grows" -- "$SR_BIN" run --settle 3600 "$S"
expect_grep "^render: nothing changed since the report of " "$TMP/out" "its growth alone renders nothing"
rm "$S/trial_0002/lora_trial_2-000005.safetensors"
# samples still being written: their checkpoint waits for them
mkdir -p "$TMP/young/trial_0001"
cp -p "$ck" "$TMP/young/trial_0001/"
stem=$(basename "$ck" .safetensors)
mkdir -p "$TMP/young/trial_0001/realtime_evaluations/$stem"
cp "$(ls "$S"/trial_0001/realtime_evaluations/*/sample_00.png | head -n 1)" \
    "$TMP/young/trial_0001/realtime_evaluations/$stem/sample_00.png"   # written just now
expect_status 0 "run with a sample written just now" -- "$SR_BIN" run --settle 3600 "$TMP/young"
expect_grep "1 pending" "$TMP/out" "its checkpoint is pending"
if [ -e "$TMP/young/trial_0001/realtime_evaluations/$stem/metrics.json" ]; then
    fail "metrics.json written from samples that may be incomplete"
else
    pass "no metrics.json from samples that may be incomplete"
fi
expect_grep "its samples may still be being written: sample_00.png modified less than 3600 s ago" \
    "$TMP/young/sweepreport/summary.json" "summary.json says why"
cp "$(ls "$S"/trial_0001/realtime_evaluations/*/sample_01.png | head -n 1)" \
    "$TMP/young/trial_0001/realtime_evaluations/$stem/sample_01.png"   # the evaluator goes on
expect_status 0 "run while its samples are written" -- "$SR_BIN" run --settle 3600 "$TMP/young"
expect_grep "^render: nothing changed since the report of " "$TMP/out" "more samples of a pending checkpoint render nothing"
rm "$TMP/young/trial_0001/realtime_evaluations/$stem/sample_01.png"
expect_status 0 "run once the samples settled" -- "$SR_BIN" run --settle 0 "$TMP/young"
YM="$TMP/young/trial_0001/realtime_evaluations/$stem/metrics.json"
if [ -e "$YM" ]; then pass "then measured"; else fail "not measured once settled: $(cat "$TMP/out")"; fi
expect_grep '"total_samples":[[:space:]]*1,' "$YM" "from its one sample"
# more samples arrive later: the metrics.json sweepreport wrote is out of
# date, so it is measured and written again; another tool's would be kept
cp -p "$(ls "$S"/trial_0001/realtime_evaluations/*/sample_01.png | head -n 1)" \
    "$TMP/young/trial_0001/realtime_evaluations/$stem/sample_01.png"
expect_status 0 "run after another sample arrived" -- "$SR_BIN" run --settle 0 "$TMP/young"
expect_grep '"total_samples":[[:space:]]*2,' "$YM" "sweepreport's own metrics.json now counts both"
expect_grep "samples for 1, 1 metrics.json written" "$TMP/out" "it was measured and written again"
# a sample replaced by another image of the same name: the same
cp -p "$(find "$S" -name sample_00.png ! -path '*trial_0001*' | head -n 1)" \
    "$TMP/young/trial_0001/realtime_evaluations/$stem/sample_01.png"
expect_status 0 "run after a sample was replaced" -- "$SR_BIN" run --settle 0 "$TMP/young"
expect_grep "samples for 1, 1 metrics.json written" "$TMP/out" "a replaced sample is measured and written again"
expect_status 0 "and again with nothing changed" -- "$SR_BIN" run --settle 0 "$TMP/young"
expect_grep "nothing new to measure" "$TMP/out" "then it is left alone"
# a sample written again in place, to the same size (an evaluator that
# renders the same prompt again): measured again all the same
sleep 0.05
cat "$TMP/young/trial_0001/realtime_evaluations/$stem/sample_01.png" > "$TMP/same.png"
cat "$TMP/same.png" > "$TMP/young/trial_0001/realtime_evaluations/$stem/sample_01.png"
expect_status 0 "run after a sample was written again at the same size" -- "$SR_BIN" run --settle 0 "$TMP/young"
expect_grep "samples for 1, 1 metrics.json written" "$TMP/out" "a sample written again is measured and written again"
printf '{"checkpoint": "%s.safetensors", "metrics": {"total_samples": 5, "mean_brightness": 0.5}}\n' "$stem" > "$YM"
# ... and the same evaluator's per-trial summary, of those other samples too
printf '{"checkpoints": [{"name": "%s.safetensors", "metrics": {"total_samples": 5, "mean_brightness": 0.5, "lpips_diversity": 0.4}}]}\n' \
    "$stem" > "$TMP/young/trial_0001/realtime_evaluations/evaluation_summary.json"
cp "$YM" "$TMP/theirs.json"
rm "$TMP/young/trial_0001/realtime_evaluations/$stem/sample_01.png"
expect_status 0 "run with another tool's metrics.json" -- "$SR_BIN" run --settle 0 "$TMP/young"
if cmp -s "$YM" "$TMP/theirs.json"; then pass "another tool's metrics.json is never replaced"; else
    fail "another tool's metrics.json was replaced: $(cat "$YM")"; fi
expect_grep "metrics.json: it counts 5 samples, the folder has 1: its sample metrics are not taken, eval measures the samples themselves" \
    "$TMP/err" "one that counts other samples is named, and not taken for these"
expect_grep '"lpips_diversity":[[:space:]]*0.4' "$TMP/young/sweepreport/summary.json" "what is not of the samples is still taken"
# the evaluator's per-trial summary alone, counting other samples: the same
rm "$YM"
expect_status 0 "run with only a per-trial summary of other samples" -- "$SR_BIN" run --settle 0 "$TMP/young"
if grep -q '"mean_brightness":[[:space:]]*0.5,' "$TMP/young/sweepreport/summary.json"; then
    fail "the per-trial summary's mean_brightness of other samples was reported"; else
    pass "a per-trial summary of other samples gives no sample metrics"; fi
if grep -q '"mean_brightness":[[:space:]]*0.5,' "$TMP/young/sweepreport/summary.json"; then
    fail "the mean_brightness of other samples was reported"; else pass "the samples' own mean_brightness is reported"; fi

expect_status 0 "run with --settle 0" -- "$SR_BIN" run --settle 0 "$S"
if grep -q 'href="#pending-h"' "$R/index.html"; then fail "a pending count with nothing pending"; else
    pass "no pending count once nothing is pending"; fi
expect_grep "weights measured for 2," "$TMP/out" "settled, it is measured, and the checkpoint after it again for its drift"

# ---- profiles ----------------------------------------------------------------
printf '\357\273\277html = yes\npdf = no\n' > "$TMP/bom.profile"
expect_status 0 "a profile that starts with a byte order mark" -- "$SR_BIN" render -o "$TMP/bom-out" --profile "$TMP/bom.profile" "$S"
echo "not a sweep" > "$TMP/a-file"
expect_status 1 "run on a file" -- "$SR_BIN" run "$TMP/a-file"
expect_grep "a-file: not a folder, so not a sweep" "$TMP/err" "the file is named as not a folder"
printf 'html = yes\npdf = no\ncolour = blue\n' > "$TMP/bad.profile"
expect_status 2 "a profile with an unknown key" -- "$SR_BIN" render --profile "$TMP/bad.profile" "$S"
expect_grep "$TMP/bad.profile:3: unknown key 'colour'" "$TMP/err" "the error names the file and the line"
expect_status 2 "an unknown profile name" -- "$SR_BIN" run --profile weekly "$S"
expect_grep "unknown profile 'weekly'.*archive, nightly, summary" "$TMP/err" "the error lists the profiles"
printf 'description = JSON only\n' > "$TMP/json.profile"
expect_status 0 "a custom profile" -- "$SR_BIN" render -o "$TMP/jsononly" --profile "$TMP/json.profile" "$S"
if [ -f "$TMP/jsononly/summary.json" ] && [ ! -e "$TMP/jsononly/index.html" ] && [ ! -e "$TMP/jsononly/report.pdf" ]; then
    pass "it writes what it says: summary.json alone"
else
    fail "custom profile wrote: $(ls "$TMP/jsononly")"
fi
expect_grep "^report: $TMP/jsononly/summary.json; " "$TMP/out" "and the last line points at it"

# ---- nightly: since the last run, history ---------------------------------------
N="$TMP/nightly"
expect_status 0 "nightly, first run" -- "$SR_BIN" run --profile nightly -o "$N" "$S"
if [ -f "$N/index.html" ] && [ ! -e "$N/report.pdf" ] && [ "$(ls "$N/history" | wc -l)" -eq 1 ]; then
    pass "nightly writes the site, no PDF, one summary in history/"
else
    fail "nightly wrote: $(ls "$N" "$N/history" 2>&1 | tr '\n' ' ')"
fi
expect_grep '"first_run":[[:space:]]*true' "$N/summary.json" "the first nightly has nothing to compare with"
expect_grep 'id="since-h"' "$N/index.html" "the index page has the since-the-last-run section"
expect_grep '<a href="summary.json">' "$N/index.html" "the index page links summary.json"
if grep -q 'href="report.pdf"' "$N/index.html"; then fail "a link to a report.pdf the nightly profile does not write"; else
    pass "no link to a PDF that is not written"; fi
# 35 older summaries and a file of someone else's
i=1
while [ $i -le 35 ]; do
    d=$(printf '2020%02d%02d' $(( (i - 1) / 28 + 1 )) $(( (i - 1) % 28 + 1 )))
    echo '{}' > "$N/history/summary-${d}T000000Z.json"
    i=$((i + 1))
done
echo mine > "$N/history/notes.txt"
cp -p "$ck" "$S/trial_0002/lora_trial_2-000003.safetensors"   # a finished new checkpoint
expect_status 0 "nightly after a new checkpoint" -- "$SR_BIN" run --profile nightly -o "$N" "$S"
n_hist=$(ls "$N/history" | grep -c '^summary-.*\.json$')
if [ "$n_hist" -eq 30 ]; then pass "history pruned to the newest 30 summaries"; else fail "$n_hist summaries in history"; fi
if [ ! -e "$N/history/summary-20200101T000000Z.json" ] && [ ! -e "$N/history/summary-20200107T000000Z.json" ] &&
    [ -e "$N/history/summary-20200108T000000Z.json" ] && [ "$(cat "$N/history/notes.txt")" = mine ]; then
    pass "the oldest went, nothing else was touched"
else
    fail "history: $(ls "$N/history" | head -12 | tr '\n' ' ')"
fi
if [ -n "${SR_PYTHON:-}" ] && [ -x "$SR_PYTHON" ]; then
    if "$SR_PYTHON" - "$N/summary.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["since_last_run"]
assert s["first_run"] is False and s["previous_generated_at"], s
new = [(c["trial"], c["checkpoint"]) for c in s["new_checkpoints"]]
assert ("trial_0002", "lora_trial_2-000003.safetensors") in new, new
assert s["new_trials"] == [], s
assert isinstance(s["best_changed"], bool)
assert d["profile"] == "nightly"
print("since ok")
PY
    then pass "since_last_run names the new checkpoint"; else fail "since_last_run"; fi
else
    skip "since_last_run names the new checkpoint" "no python3"
fi
expect_grep 'trial_0002/lora_trial_2-000003.safetensors' "$N/index.html" "so does the index page"
expect_grep '<li>1 new checkpoint:' "$N/index.html" "one new checkpoint, in the singular"
if grep -q '"best_changed":[[:space:]]*false' "$N/summary.json"; then
    expect_grep 'The recommendation is the same as before.' "$N/index.html" "an unchanged recommendation is said so"
else
    expect_grep 'The recommendation changed' "$N/index.html" "a changed recommendation is said so"
fi
# a nightly run with another score says the scores do not compare
expect_status 0 "nightly with another score" -- "$SR_BIN" run --profile nightly --score mean_sharpness --maximize -o "$N" "$S"
expect_grep '"score_changed":[[:space:]]*true' "$N/summary.json" "summary.json: the score changed"
expect_grep "The score is not the last report's: it was <code>pixar_score</code> (minimize)" "$N/index.html" \
    "the index page says which score it was"
# a trial folder with broken hyperparameters: new problems, listed
mkdir -p "$S/trial_0099" && echo '{"learning_rate":' > "$S/trial_0099/params.json"
expect_status 0 "nightly with a broken trial folder" -- "$SR_BIN" run --profile nightly --score mean_sharpness --maximize -o "$N" "$S"
expect_grep '<li>3 new problems:<ul>' "$N/index.html" "the new problems are counted"
expect_grep "trial_0099/params.json</code>: invalid JSON" "$N/index.html" "and listed"
rm -r "$S/trial_0099"
# the recommended checkpoint deleted (a trainer keeping its last few): said
best=$(tr -d '\n\t' < "$N/summary.json" | sed -n 's/.*"best":[[:space:]]*{[^}]*"path":[[:space:]]*"\([^"]*\)".*/\1/p')
if [ -f "$best" ]; then
    mv "$best" "$TMP/best-aside"
    expect_status 0 "nightly after the recommended checkpoint was deleted" -- \
        "$SR_BIN" run --profile nightly --score mean_sharpness --maximize -o "$N" "$S"
    expect_grep ', which is no longer in the sweep.</li>' "$N/index.html" "the index page says the recommendation is gone"
    expect_grep "1 checkpoint is no longer in the sweep: <code>.*$(basename "$best")</code>" "$N/index.html" \
        "and lists what is gone"
    mv "$TMP/best-aside" "$best"
else
    fail "no recommended checkpoint found in $N/summary.json"
fi

# ---- the lock ------------------------------------------------------------------
# A run whose sampler sleeps holds the lock for a few seconds.
mkdir -p "$TMP/hold/trial_0001"
cp -p "$ck" "$TMP/hold/trial_0001/lora-000002.safetensors"
HOLD="sh -c 'sleep 4' holder {checkpoint} {outdir} {n}"
"$SR_BIN" run -q --sampler "$HOLD" "$TMP/hold" > /dev/null 2>&1 &
holder=$!
if wait_for "^pid $holder\$" "$TMP/hold/.sweepreport/run.lock"; then pass "the holder notes its pid"; else fail "no lock note"; fi
expect_status 3 "a second run while the first holds the lock" -- "$SR_BIN" run "$TMP/hold"
expect_grep "run.lock: locked by pid $holder on .* since 20[0-9-]*T[0-9:]*Z (run)" "$TMP/err" "the message names the holder and its start time"
expect_grep "\-\-wait" "$TMP/err" "and says how to wait"
if [ "$(wc -l < "$TMP/err")" -eq 1 ]; then pass "in one line"; else fail "lock message: $(cat "$TMP/err")"; fi
expect_status 3 "render while locked" -- "$SR_BIN" render "$TMP/hold"
expect_status 3 "eval while locked" -- "$SR_BIN" eval "$TMP/hold"
expect_grep "locked by pid $holder" "$TMP/err" "eval names the holder too"
expect_status 3 "run --wait 1 while it is held longer" -- "$SR_BIN" run --wait 1 "$TMP/hold"
expect_grep "still held after waiting 1 s" "$TMP/err" "after waiting, the message says so"
if grep -q "\-\-wait SECONDS waits" "$TMP/err"; then fail "it suggests --wait to one who waited"; else
    pass "and does not suggest waiting"; fi
expect_status 0 "run --wait 120 waits for the holder" -- "$SR_BIN" run -q --wait 120 "$TMP/hold"
wait $holder
st=$?
if [ $st -eq 0 ]; then pass "the holder finished normally"; else fail "the holder exited $st"; fi
# a killed holder leaves its note behind but no lock
"$SR_BIN" run -q --force --sampler "$HOLD" "$TMP/hold" > /dev/null 2>&1 &
holder=$!
wait_for "^pid $holder\$" "$TMP/hold/.sweepreport/run.lock"
kill -9 $holder
wait $holder 2> /dev/null
expect_grep "^pid $holder\$" "$TMP/hold/.sweepreport/run.lock" "the killed holder's note is still there"
expect_status 0 "a run after the holder was killed" -- "$SR_BIN" run -q "$TMP/hold"

# Names from the file system may be any bytes.  summary.json and the pages
# are UTF-8 all the same (U+FFFD for what is not), a problem is one line on
# stderr whatever its file is called, and a nightly run after another finds
# nothing new: the store keeps the names exact.
B="$TMP/bytes"
"$SR_BIN" synth --trials 2 --epochs 2 --samples 1 --size 16 --rank 1 --seed 3 "$B" > /dev/null
mv "$B/trial_0002" "$B/trial_0002_$(printf '\377\376')"
ck=$(ls "$B"/trial_0001/*.safetensors | head -1)
head -c 3000 "$ck" > "$B/trial_0001/bad
name-000004.safetensors"
expect_status 0 "nightly run over names that are not UTF-8" -- "$SR_BIN" run --settle 0 --profile nightly "$B"
if grep -v '^sweepreport: ' "$TMP/err" | grep -q .; then
    fail "a problem took more than one line: $(grep -v '^sweepreport: ' "$TMP/err" | head -2)"
else
    pass "each problem is one line on stderr"
fi
expect_grep 'bad\\x0aname-000004.safetensors: incomplete' "$TMP/err" "the newline in a name is shown as \\x0a"
expect_status 0 "scan's text of those names" -- "$SR_BIN" scan --settle 0 "$B"
if grep -q 'bad\\x0aname-000004.safetensors$' "$TMP/out" && ! grep -q '^name-000004' "$TMP/out" &&
    grep -q '^trial_0002_\\xff\\xfe ' "$TMP/out"; then
    pass "scan's text shows them escaped, one line each"
else
    fail "scan's text: $(grep -a 'name-000004\|trial_0002' "$TMP/out" | head -3)"
fi
expect_status 0 "and again" -- "$SR_BIN" run --settle 0 --profile nightly --force "$B"
if [ -n "${SR_PYTHON:-}" ] && [ -x "$SR_PYTHON" ]; then
    if "$SR_PYTHON" - "$B/sweepreport" "$TMP/err" <<'PY'
import glob, json, os, sys
r = sys.argv[1]
d = json.loads(open(os.path.join(r, "summary.json"), encoding="utf-8", errors="strict").read())
names = [t["name"] for t in d["trials"]]
assert "trial_0002_\ufffd\ufffd" in names, names
since = d["since_last_run"]
assert not since["first_run"] and since["new_trials"] == [] and since["new_checkpoints"] == [], since
pages = glob.glob(os.path.join(r, "**", "*.html"), recursive=True)
assert len(pages) >= 3, pages
for p in pages:
    open(p, encoding="utf-8", errors="strict").read()
err = open(sys.argv[2], encoding="utf-8", errors="replace").read()
assert "measured again" not in err, err
PY
    then pass "summary.json and the pages are UTF-8; the second nightly run finds nothing new"; else fail "names that are not UTF-8"; fi
else
    skip "summary.json and the pages are UTF-8" "no python3"
fi

finish
