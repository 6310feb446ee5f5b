#!/usr/bin/env python3
"""Builds a small Optuna storage shaped like the sweep script's, for the tests.

usage: /usr/bin/python3 make_fixture.py OUTDIR

Writes OUTDIR/optuna_study.db (one study, every trial state, categorical /
int / float(log, step) parameters, user attributes with NaN and Infinity,
intermediate values) and OUTDIR/results/all_trials.json: the trials as
Optuna itself decodes them, in the sweep script's format plus
"intermediate_values" and "distributions", which the tests compare with what
is read from the database.  The committed copy beside this script was made
with Debian's python3-optuna; the database is vacuumed to 512-byte pages to
stay small.
"""
import json
import os
import sqlite3
import sys

import optuna

STUDY = "luca_intermediate_checkpoint_study"


def objective(trial):
    trial.suggest_categorical("network_dim", [64, 128, 256])
    ratio = trial.suggest_float("network_alpha_ratio", 0.25, 0.9, step=0.05)
    lr = trial.suggest_float("learning_rate", 6e-5, 1.2e-4, log=True)
    trial.suggest_float("text_encoder_lr", 3.5e-5, 8e-5, log=True)
    trial.suggest_categorical("optimizer_type", ["AdamW", "AdamW8bit", "Lion"])
    sched = trial.suggest_categorical("lr_scheduler", ["cosine_with_restarts", "polynomial"])
    trial.suggest_categorical("gradient_accumulation_steps", [2, 3, 4])
    trial.suggest_int("lr_warmup_steps", 100, 200, step=50)
    trial.suggest_categorical("cache_latents", [True, False, None])
    if sched == "cosine_with_restarts":
        trial.suggest_int("lr_scheduler_num_cycles", 2, 3)
    trial.set_user_attr("mean_brightness", 0.5 + trial.number / 100)
    trial.set_user_attr("lpips_diversity", float("nan"))
    trial.set_user_attr("note", {"n": trial.number, "inf": float("inf"), "s": "x"})
    for epoch in (2, 4, 6):
        trial.report(lr * 1000 / epoch, epoch)
    if trial.number == 2:
        raise optuna.TrialPruned()
    if trial.number == 3:
        raise RuntimeError("training failed")
    if trial.number == 4:
        return float("inf")
    return lr * 1000 + ratio


def main():
    out = sys.argv[1]
    os.makedirs(os.path.join(out, "results"), exist_ok=True)
    db = os.path.join(out, "optuna_study.db")
    if os.path.exists(db):
        os.remove(db)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(study_name=STUDY, storage="sqlite:///" + db, direction="minimize",
                                sampler=optuna.samplers.TPESampler(seed=42))
    study.optimize(objective, n_trials=6, catch=(RuntimeError,))
    running = study.ask()                 # started, never told: RUNNING
    running.suggest_float("learning_rate", 6e-5, 1.2e-4, log=True)
    running.report(float("nan"), 1)
    running.report(float("-inf"), 2)
    study.enqueue_trial({"learning_rate": 1e-4})   # WAITING

    trials = []
    for t in study.get_trials(deepcopy=False):
        trials.append({
            "number": t.number,
            "state": t.state.name,
            "value": t.value,
            "params": t.params,
            "user_attrs": t.user_attrs,
            "intermediate_values": {str(k): v for k, v in t.intermediate_values.items()},
            "distributions": {k: type(d).__name__ for k, d in t.distributions.items()},
        })
    with open(os.path.join(out, "results", "all_trials.json"), "w") as f:
        json.dump(trials, f, indent=2)

    del study
    con = sqlite3.connect(db)
    con.execute("PRAGMA page_size = 512")
    con.execute("VACUUM")
    con.close()


if __name__ == "__main__":
    main()
