#!/bin/sh
# doc_scripts.sh - the job files in doc/: the Slurm script (against a
# stand-in sbatch, then as Slurm would run its array tasks and its render
# job), the cron line (against a stand-in program) and the systemd units.
. "${SR_SRCDIR:-.}/tests/lib.sh"

DOC="$SR_SRCDIR/doc"
SBATCH_SCRIPT="$DOC/sweepreport.sbatch"
S="$TMP/sweep"
"$SR_BIN" synth --trials 3 --epochs 6 --samples 2 --size 32 --rank 2 --seed 5 "$S" > /dev/null || exit 1
# Written two hours ago: past the settle time, whenever the jobs below start.
find "$S" -exec touch -h -d '2 hours ago' {} +
cp -a "$S" "$TMP/one"

if ! command -v bash > /dev/null 2>&1; then
    skip "the Slurm script" "no bash"
else
    # Submitting: a stand-in sbatch records its arguments and answers a job id.
    mkdir -p "$TMP/bin"
    cat > "$TMP/bin/sbatch" <<'SH'
#!/bin/sh
n=$(($(cat "$SBATCH_LOG.n" 2>/dev/null || echo 0) + 1))
echo "$n" > "$SBATCH_LOG.n"
echo "$*" >> "$SBATCH_LOG"
echo "$((1000 + n))"
SH
    chmod +x "$TMP/bin/sbatch"
    SBATCH_LOG="$TMP/sbatch.log"
    export SBATCH_LOG
    expect_status 0 "the Slurm script submits" -- env -u SLURM_JOB_ID -u SLURM_ARRAY_TASK_ID PATH="$TMP/bin:$PATH" \
        SHARDS=3 LOGDIR="$TMP/logs" bash "$SBATCH_SCRIPT" "$S"
    expect_grep "eval array 1001 (3 tasks), render job 1002" "$TMP/out" "it says what it submitted"
    if [ "$(wc -l < "$SBATCH_LOG")" -eq 2 ] &&
        sed -n 1p "$SBATCH_LOG" | grep -q -- "--array=0-2 .*--gres=gpu:1 .*$SBATCH_SCRIPT $S\$" &&
        sed -n 2p "$SBATCH_LOG" | grep -q -- "--dependency=afterok:1001 .*$SBATCH_SCRIPT $S\$" &&
        ! sed -n 2p "$SBATCH_LOG" | grep -q -- "--gres"; then
        pass "an array of 3 eval tasks with a GPU each, then a render job after it"
    else
        fail "sbatch calls: $(cat "$SBATCH_LOG")"
    fi
    expect_status 2 "the Slurm script refuses SHARDS=0" -- env -u SLURM_JOB_ID PATH="$TMP/bin:$PATH" SHARDS=0 \
        bash "$SBATCH_SCRIPT" "$S"
    expect_status 2 "the Slurm script without a sweep" -- env -u SLURM_JOB_ID bash "$SBATCH_SCRIPT"

    # Running: the three array tasks at once, as Slurm starts them, then the render job.
    task() {
        env SLURM_JOB_ID=$((2000 + $1)) SLURM_ARRAY_JOB_ID=2000 SLURM_ARRAY_TASK_ID="$1" SLURM_ARRAY_TASK_COUNT=3 \
            SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=2 SLURM_CPUS_PER_TASK=1 SWEEPREPORT="$SR_BIN" DEVICE=cpu \
            bash "$SBATCH_SCRIPT" "$S"
    }
    pids=""
    for k in 0 1 2; do
        task "$k" > "$TMP/task.$k.out" 2> "$TMP/task.$k.err" &
        pids="$pids $!"
    done
    bad=0
    for p in $pids; do wait "$p" || bad=$((bad + 1)); done
    if [ "$bad" -eq 0 ]; then pass "the three array tasks succeed"; else fail "$bad array tasks failed: $(cat "$TMP"/task.*.err)"; fi
    expect_grep "^eval: shard 2/3: " "$TMP/task.2.out" "task 2 measures shard 2/3"
    expect_status 0 "the render job" -- env -u SLURM_ARRAY_TASK_ID SLURM_JOB_ID=2003 SWEEPREPORT="$SR_BIN" bash "$SBATCH_SCRIPT" "$S"
    expect_grep "^report: " "$TMP/out" "the render job writes the report"
    # The tasks together measured what one eval measures.
    expect_status 0 "one eval for comparison" -- "$SR_BIN" eval "$TMP/one"
    one=$(sed -n 's/.*weights measured for \([0-9]*\), samples measured for \([0-9]*\),.*/\1 \2/p' "$TMP/out")
    sum=$(sed -n 's/.*weights measured for \([0-9]*\), samples measured for \([0-9]*\),.*/\1 \2/p' "$TMP"/task.[012].out |
        awk '{a += $1; b += $2} END {print a, b}')
    if [ -n "$one" ] && [ "$one" = "$sum" ]; then pass "the tasks measured what one eval measures ($one)"; else
        fail "tasks $sum, one eval $one"; fi

    # A task that starts while another run holds the lock (a cron run; flock
    # -x stands for it) waits for it instead of failing the whole array.
    if command -v flock > /dev/null 2>&1; then
        mkdir -p "$S/.sweepreport"
        flock -x "$S/.sweepreport/run.lock" sleep 3 &
        fpid=$!
        sleep 0.5
        expect_status 0 "an array task waits while another run holds the lock" -- task 1
        wait "$fpid"
    else
        skip "an array task waits for the lock" "no flock"
    fi

    # An array that does not start at 0 would leave shards unmeasured.
    expect_status 2 "an array 1-3 is refused" -- env SLURM_JOB_ID=3001 SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=3 \
        SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=3 SWEEPREPORT="$SR_BIN" bash "$SBATCH_SCRIPT" "$S"
    expect_grep "must be 0-2" "$TMP/err" "and the array it needs is named"
    if command -v shellcheck > /dev/null 2>&1; then
        expect_status 0 "shellcheck of the Slurm script" -- shellcheck "$SBATCH_SCRIPT"
    else
        skip "shellcheck of the Slurm script" "no shellcheck"
    fi
fi

# The cron line, run as cron runs it (sh, no terminal), against a stand-in
# program that records its arguments and whether stdin is a terminal.
mkdir -p "$TMP/cron/bin" "$TMP/cron/home"
cat > "$TMP/cron/bin/sweepreport" <<'SH'
#!/bin/sh
echo "args: $*"
echo "stdin: $(readlink /proc/$$/fd/0)"
echo "some problem" >&2
exit 3
SH
chmod +x "$TMP/cron/bin/sweepreport"
line=$(grep -v '^#' "$DOC/sweepreport.cron" | grep -v '^[A-Z]*=' | grep -v '^$')
if [ "$(printf '%s\n' "$line" | wc -l)" -eq 1 ]; then pass "the cron file holds one job line"; else fail "cron lines: $line"; fi
sched=$(printf '%s\n' "$line" | awk '{print $1, $2, $3, $4, $5}')
cmd=$(printf '%s\n' "$line" | sed 's/^[^ ]* *[^ ]* *[^ ]* *[^ ]* *[^ ]* *//')
if [ "$sched" = "30 2 * * *" ]; then pass "it runs nightly at 02:30"; else fail "schedule '$sched'"; fi
case $cmd in *%*) fail "an unescaped % in the cron command" ;; *) pass "no % in the cron command" ;; esac
sweep=$(sed -n 's/^SWEEP=//p' "$DOC/sweepreport.cron")
# stdin is a pipe here: the line itself must take it away
echo input | env -i HOME="$TMP/cron/home" PATH="$TMP/cron/bin:/usr/bin:/bin" SWEEP="$sweep" /bin/sh -c "$cmd" > "$TMP/cron.out" 2>&1
LOG="$TMP/cron/home/sweepreport-nightly.log"
if [ -f "$LOG" ] && [ ! -s "$TMP/cron.out" ]; then pass "the cron job prints nothing and writes its log"; else
    fail "cron output: $(cat "$TMP/cron.out")"; fi
expect_grep "^args: run --profile nightly $sweep\$" "$LOG" "the cron job runs 'run --profile nightly SWEEP'"
expect_grep "^stdin: /dev/null\$" "$LOG" "the cron job reads nothing (stdin is /dev/null)"
expect_grep "^some problem" "$LOG" "standard error goes to the log"
expect_grep "^== [0-9-]*T[0-9:]*" "$LOG" "each run starts with its date"
expect_grep "^== exit status 3" "$LOG" "the exit status is logged"

# The systemd units, where systemd-analyze can check them.
if command -v systemd-analyze > /dev/null 2>&1; then
    U="$TMP/units"
    mkdir -p "$U/man/man1"
    cp "$DOC/sweepreport-nightly.service" "$DOC/sweepreport-nightly.timer" "$U/"
    cp "$DOC/sweepreport.1" "$U/man/man1/"
    sed -i "s|^ExecStart=/usr/local/bin/sweepreport |ExecStart=$SR_BIN |" "$U/sweepreport-nightly.service"
    expect_status 0 "systemd-analyze verify of the service and the timer" -- \
        env MANPATH="$U/man" systemd-analyze verify "$U/sweepreport-nightly.service" "$U/sweepreport-nightly.timer"
    expect_grep "^ExecStart=.* run --profile nightly \${SWEEP}\$" "$DOC/sweepreport-nightly.service" \
        "the service runs 'run --profile nightly'"
    expect_grep "^OnCalendar=\*-\*-\* 02:30:00\$" "$DOC/sweepreport-nightly.timer" "the timer fires nightly"
else
    skip "systemd-analyze verify of the units" "no systemd-analyze"
fi
finish
