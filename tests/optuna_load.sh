#!/bin/sh
# optuna_load.sh - the synthetic sweep's optuna_study.db opens in real Optuna
# and agrees with results/all_trials.json.
. "${SR_SRCDIR:-.}/tests/lib.sh"

PY="${SR_PYTHON:-/usr/bin/python3}"
S="$TMP/s"
expect_status 0 "synth a small sweep" -- "$SR_BIN" synth --trials 5 --epochs 6 --samples 1 --size 32 --rank 1 "$S"
if [ -s "$S/optuna_study.db" ]; then pass "synth writes optuna_study.db"; else fail "no $S/optuna_study.db"; fi
if ls -a "$S" | grep -q '^\.optuna_study\.db\.sweepreport-tmp-'; then fail "a temporary file was left"; else pass "no temporary file left"; fi

if [ ! -x "$PY" ] || ! "$PY" -c 'import optuna' > /dev/null 2>&1; then
    skip "optuna.load_study reads the sweep's study" "python3-optuna not installed"
    finish
    exit $?
fi

if "$PY" - "$S" > "$TMP/py.out" 2>&1 <<'PY'
import json, math, os, sqlite3, sys
import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
sweep = sys.argv[1]
db = os.path.join(sweep, "optuna_study.db")
con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
names = [r[0] for r in con.execute("SELECT study_name FROM studies")]
con.close()
assert len(names) == 1, names
study = optuna.load_study(study_name=names[0], storage="sqlite:///" + db)
assert study.direction == optuna.study.StudyDirection.MINIMIZE, study.direction
trials = study.get_trials(deepcopy=False)
ref = json.load(open(os.path.join(sweep, "results", "all_trials.json")))

def close(a, b):
    if isinstance(a, str) or isinstance(b, str) or a is None or b is None:
        return a == b
    return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))

assert [t.number for t in trials] == [r["number"] for r in ref], ([t.number for t in trials], ref)
for t, r in zip(trials, ref):
    where = "trial %d" % t.number
    assert t.state.name == r["state"], (where, t.state, r["state"])
    assert (t.value is None) == (r["value"] is None), (where, t.value, r["value"])
    assert close(t.value, r["value"]), (where, t.value, r["value"])
    assert sorted(t.params) == sorted(r["params"]), (where, t.params, r["params"])
    for k, v in r["params"].items():
        assert close(t.params[k], v), (where, k, t.params[k], v)
        assert isinstance(t.params[k], str) == isinstance(v, str), (where, k)
    assert t.user_attrs == r.get("user_attrs", {}), (where, t.user_attrs)
    t._validate()
    if t.state == optuna.trial.TrialState.COMPLETE:
        iv = t.intermediate_values
        assert iv, (where, "no intermediate values")
        assert sorted(iv) == list(range(1, len(iv) + 1)), (where, sorted(iv))
        assert all(math.isfinite(v) for v in iv.values()), (where, iv)
        assert t.datetime_complete is not None and t.datetime_complete >= t.datetime_start, where
    if t.state == optuna.trial.TrialState.RUNNING:
        assert t.datetime_complete is None, where

complete = [r for r in ref if r["state"] == "COMPLETE"]
if complete:
    best = min(complete, key=lambda r: r["value"])
    assert study.best_trial.number == best["number"], (study.best_trial.number, best["number"])
    bp = json.load(open(os.path.join(sweep, "results", "best_parameters.json")))
    assert bp["trial_number"] == study.best_trial.number
    assert close(bp["combined_score"], study.best_value)
states = sorted({t.state.name for t in trials})
print("optuna %s: %d trials (%s) in study %s" % (optuna.__version__, len(trials), ", ".join(states), names[0]))
PY
then
    pass "optuna.load_study reads the sweep's study and it agrees with all_trials.json"
    sed 's/^/# /' "$TMP/py.out"
else
    fail "optuna.load_study or the comparison with all_trials.json"
    sed 's/^/  /' "$TMP/py.out" | tail -15
fi

finish
