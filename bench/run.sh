#!/usr/bin/env bash
# The benchmark harness: our workloads on every backend and thread count, then each peer, all in
# the same run, and bench/RESULTS.md from the medians (+ research/bench/RESULTS.jsonl, the raw lines: the lab
# notebook, not shipped).
#
#   bash bench/run.sh [--quick] [--out FILE.md]
#
#   --quick       one warm-up and one timed run per workload, the slowest peer workloads left out;
#                 writes ${TMPDIR:-/tmp}/pfs-bench-quick.md unless --out says otherwise (a smoke test)
#   --out F.md    where the report goes (the raw lines go beside it, F.jsonl)
#   BENCH_THREADS="1 2"    thread counts for the multi-threaded backends and PyTorch
#   BENCH_ONLY="lenet ..." only these workloads
#   BENCH_BACKENDS="native"  only these of our backends (default: every one available)
#   BENCH_ROUNDS=1         rounds of the character-level language models (charlm-*), of the vision nets
#                          (vision-*), of the translation papers (translate-*) and of the skip-gram and
#                          BERT steps (skipgram, bert): in each round every model runs on our backends
#                          (skipgram and bert: native only) and on PyTorch, one after the other per thread
#                          count, so that both see the same load; the report takes the median over rounds
#
# Set-up it does when something is missing (never done by the tests): Debian's python3-torch and
# libopenblas0-pthread (PyTorch's BLAS) with apt-get, the native addon, and the JavaScript peers
# (`npm install` in bench/, a package of its own). A step or peer that fails is reported in the
# results with its error line; the run goes on. Each measurement runs in a process of its own,
# under a time limit. About 10 minutes on a quiet 2-core machine, plus the language models (charlm-*):
# about 6 minutes per round under a load average of 9 on 2 cores, and the vision nets (vision-*): about
# 10 minutes per round under a load average of 7 (BENCH_ONLY="vision-alexnet ..." runs those alone), the
# translation papers (translate-*): about 2 minutes per round, and the skip-gram and BERT steps (skipgram,
# bert: a BERT step takes 5–7 s at 1 thread): about 3 minutes per round.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
T0=$(date +%s)

QUICK=0
OUT=""
COMMAND="bash bench/run.sh $*"
# the BENCH_* settings in force belong to the command that made the report
for v in BENCH_ROUNDS BENCH_BACKENDS BENCH_ONLY BENCH_THREADS; do
  [ -n "${!v:-}" ] && COMMAND="$v=\"${!v}\" $COMMAND"
done
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --out) OUT="${2:?--out needs a file}"; shift ;;
    *) echo "bench/run.sh: unknown option $1 (options: --quick, --out FILE.md)" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$OUT" ]; then
  if [ $QUICK = 1 ]; then OUT="${TMPDIR:-/tmp}/pfs-bench-quick.md"; else OUT="$ROOT/bench/RESULTS.md"; fi
fi
mkdir -p "$(dirname "$OUT")"
OUT="$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")"
# the raw lines go beside the report (F.jsonl), except bench/RESULTS.md's: those are kept in research/bench/
RAW=""
if [ "$OUT" = "$ROOT/bench/RESULTS.md" ]; then RAW="research/bench/RESULTS.jsonl"; RESULTS="$ROOT/$RAW"; else RESULTS="${OUT%.md}.jsonl"; fi
mkdir -p "$(dirname "$RESULTS")"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
: > "$RESULTS"
NOTES="$WORK/notes"
: > "$NOTES"
THREADS="${BENCH_THREADS:-1 2}"
ROUNDS="${BENCH_ROUNDS:-1}"
case "$ROUNDS" in '' | *[!0-9]* | 0) echo "bench/run.sh: BENCH_ROUNDS must be a whole number ≥ 1, got '$ROUNDS'" >&2; exit 2 ;; esac
# ALL: the workloads every peer is tried on; CHARLM: papers/rnn's language models, VISION: papers/vision's
# nets at their cpu presets, TRANSLATE: the translation papers at their d2l presets (these three: ours and
# PyTorch only); PAPERS: the skip-gram and BERT papers' steps at their d2l presets (native and PyTorch only:
# a BERT step takes seconds on wasm); OWN: the workloads no peer runs (ours only)
ALL="sgemm-256 sgemm-512 sgemm-1024 sgemm-2048 lenet lstm transformer resnet18"
CHARLM="charlm-rnn charlm-gru charlm-lstm charlm-deep-lstm charlm-bi-lstm"
VISION="vision-alexnet vision-vgg vision-nin vision-googlenet vision-resnet vision-regnet"
TRANSLATE="translate-seq2seq translate-bahdanau translate-transformer"
PAPERS="skipgram bert"
OWN="embedding"
ONLY="${BENCH_ONLY:-$ALL $CHARLM $VISION $TRANSLATE $PAPERS $OWN}"

say() { echo "[bench] $*" >&2; }
note() { say "$*"; echo "$*" >> "$NOTES"; }
# record NAME BACKEND THREADS error|skipped MESSAGE: a JSON line for a workload without a measurement
record() {
  node -e 'const [n, b, t, k, m] = process.argv.slice(1); console.log(JSON.stringify({ name: n, backend: b, threads: Number(t), [k]: m.slice(0, 240) }))' "$@" >> "$RESULTS"
}
wanted() { case " $ONLY " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
native_only() { case " $PAPERS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# measure BACKEND THREADS NAME LIMIT_S command...: runs one measurement process and keeps its JSON
# line, or records why there is none (its last line of error output, or the time-out).
measure() {
  local backend=$1 threads=$2 name=$3 limit=$4
  shift 4
  wanted "$name" || return 0
  say "$backend ${threads}t $name"
  timeout --kill-after=5 "$limit" "$@" > "$WORK/out" 2> "$WORK/err"
  local rc=$?
  if [ $rc = 0 ] && grep -q '^{' "$WORK/out"; then
    grep '^{' "$WORK/out" | tee -a "$RESULTS" >&2
  elif [ $rc = 124 ] || [ $rc = 137 ]; then
    record "$name" "$backend" "$threads" error "timed out after $limit s"
  else
    local msg
    msg=$(grep -v '^[[:space:]]*$' "$WORK/err" | tail -n 1)
    [ -n "$msg" ] || msg="exit status $rc, no error output"
    record "$name" "$backend" "$threads" error "$msg"
    say "  failed: $msg"
  fi
}
skip() { wanted "$2" && record "$2" "$1" "$3" skipped "$4"; return 0; }

# Timing arguments: the workloads' own rule, or one warm-up and N runs for slow cases and --quick.
few() { if [ $QUICK = 1 ]; then echo "--warmup 1 --runs 1"; else echo "--warmup 1 --runs ${1:-3}"; fi; }
normal() { if [ $QUICK = 1 ]; then echo "--warmup 1 --runs 1"; fi; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- set-up
HAVE_TORCH=1
if ! dpkg -s python3-torch libopenblas0-pthread > /dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  say "installing python3-torch and libopenblas0-pthread with apt-get"
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-torch libopenblas0-pthread; } > "$WORK/apt" 2>&1; then
    note "apt-get install python3-torch libopenblas0-pthread failed: $(grep -v '^[[:space:]]*$' "$WORK/apt" | tail -n 1)"
  else
    note "installed python3-torch and libopenblas0-pthread with apt-get"
  fi
fi
/usr/bin/python3 -c 'import torch' > "$WORK/torch" 2>&1 || { HAVE_TORCH=0; note "PyTorch unavailable: $(tail -n 1 "$WORK/torch")"; }

say "building (tsc)"
npx tsc -p . > "$WORK/tsc" 2>&1 || note "tsc reported type errors (the build was used as emitted): $(grep -m1 'error' "$WORK/tsc")"
if [ ! -f dist/bench/cli.js ]; then
  echo "bench/run.sh: dist/bench/cli.js was not built; see: npx tsc -p ." >&2
  exit 1
fi
if [ ! -f src/backend/native/build/Release/pfs_native.node ] && [ -f scripts/build-native.mjs ]; then
  say "building the native addon"
  node scripts/build-native.mjs > "$WORK/native" 2>&1 || note "native addon build failed: $(tail -n 1 "$WORK/native")"
fi

HAVE_PEERS=1
NEED_PEERS=0
for w in $ALL; do wanted "$w" && NEED_PEERS=1; done
if [ $NEED_PEERS = 1 ]; then
  say "installing the JavaScript peers (npm install in bench/)"
  # --ignore-scripts: js-pytorch pulls in a WebGL package whose native build is not needed on the CPU
  if ! (cd bench && npm install --no-audit --no-fund --ignore-scripts) > "$WORK/npm" 2>&1; then
    HAVE_PEERS=0
    note "npm install in bench/ failed: $(grep -v '^[[:space:]]*$' "$WORK/npm" | tail -n 1)"
  fi
fi

# `pfs bench` when the CLI has it, else the same command from its own module.
if node dist/cli/pfs.js bench --list > /dev/null 2>&1; then PFS="node dist/cli/pfs.js bench"; else PFS="node dist/bench/cli.js"; fi
LIST=$($PFS --list --json)
BACKENDS=$(node -p 'JSON.parse(process.argv[1]).backends.join(" ")' "$LIST")
say "backends: $BACKENDS"
NATIVE=$(node -p 'JSON.parse(process.argv[1]).native' "$LIST")
case " $BACKENDS " in *" native "*) ;; *) note "native backend unavailable: $NATIVE" ;; esac
case " $BACKENDS " in *" wasm "*) ;; *) note "wasm backend unavailable (not registered in this build): its targets are not measured" ;; esac
if [ -n "${BENCH_BACKENDS:-}" ]; then
  KEEP=""
  for b in $BENCH_BACKENDS; do
    case " $BACKENDS " in *" $b "*) KEEP="$KEEP $b" ;; *) note "BENCH_BACKENDS: backend $b is not available (available: $BACKENDS)" ;; esac
  done
  BACKENDS="${KEEP# }"
  say "backends measured (BENCH_BACKENDS): $BACKENDS"
fi

# ---------------------------------------------------------------- ours
# wasm: the plain SIMD128 build (PFS_WASM_RELAXED=0), then for the matrix products the relaxed-SIMD
# build (PFS_WASM_RELAXED=1: on Node 20 this turns V8's flag on), reported as `wasm-relaxed`.
for b in $BACKENDS; do
  [ "$b" = ref ] && continue
  for t in $THREADS; do
    for w in $ALL $OWN; do
      # shellcheck disable=SC2046
      measure "$b" "$t" "$w" 180 env PFS_THREADS="$t" PFS_WASM_RELAXED=0 $PFS "$w" --backend "$b" --threads "$t" --json $(normal)
    done
    if [ "$b" = wasm ]; then
      for w in $ALL; do
        case "$w" in sgemm-*) ;; *) continue ;; esac
        # shellcheck disable=SC2046
        measure wasm-relaxed "$t" "$w" 180 env PFS_THREADS="$t" PFS_WASM_RELAXED=1 $PFS "$w" --backend wasm --threads "$t" --json $(normal)
      done
    fi
  done
done
# ref, the plain-TypeScript specification: the small workloads only, to show what the fast backends buy.
case " $BACKENDS " in
  *" ref "*)
    for w in sgemm-256 sgemm-512 lenet lstm $OWN; do
      # shellcheck disable=SC2046
      measure ref 1 "$w" 180 $PFS "$w" --backend ref --json $(few 3)
    done
    for w in sgemm-1024 sgemm-2048 transformer resnet18 $CHARLM $VISION $TRANSLATE $PAPERS; do skip ref "$w" 1 "the reference kernels take too long for this harness"; done
    ;;
esac

# ---------------------------------------------------------------- PyTorch
if [ $HAVE_TORCH = 1 ]; then
  for t in $THREADS; do
    for w in $ALL; do
      # shellcheck disable=SC2046
      # (OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, where set, slow a current OpenBLAS down: unset for this peer alone)
      measure pytorch "$t" "$w" 180 env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$t" OMP_NUM_THREADS="$t" \
        /usr/bin/python3 bench/peers/torch_bench.py "$w" --threads "$t" $(normal)
    done
  done
else
  for w in $ALL; do skip pytorch "$w" 1 "PyTorch unavailable (see the notes above)"; done
fi

# ---------------------------------------------------------------- language models, vision nets, translation, skip-gram, BERT
# Ours and PyTorch interleaved (model by model, thread count by thread count, round by round), so that
# the load of other jobs on the machine falls on both alike; each JSON line carries the load average.
for r in $(seq "$ROUNDS"); do
  for w in $CHARLM $VISION $TRANSLATE $PAPERS; do
    for t in $THREADS; do
      for b in $BACKENDS; do
        [ "$b" = ref ] && continue
        if [ "$b" != native ] && native_only "$w"; then
          [ "$r" = 1 ] && skip "$b" "$w" "$t" "measured on the native backend only (a BERT step takes seconds on wasm)"
          continue
        fi
        # shellcheck disable=SC2046
        measure "$b" "$t" "$w" 300 env PFS_THREADS="$t" PFS_WASM_RELAXED=0 $PFS "$w" --backend "$b" --threads "$t" --json $(normal)
      done
      if [ $HAVE_TORCH = 1 ]; then
        # shellcheck disable=SC2046
        measure pytorch "$t" "$w" 300 env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$t" OMP_NUM_THREADS="$t" \
          /usr/bin/python3 bench/peers/torch_bench.py "$w" --threads "$t" $(normal)
      elif [ "$r" = 1 ]; then
        skip pytorch "$w" "$t" "PyTorch unavailable (see the notes above)"
      fi
    done
  done
done

# ---------------------------------------------------------------- JavaScript peers
if [ $HAVE_PEERS = 1 ]; then
  # TensorFlow.js wasm (SIMD); LeNet and ResNet-18 fail there: it has no kernel for a convolution's weight gradient.
  for w in $ALL; do
    if [ "$w" = transformer ]; then args=$(few 3); else args=$(normal); fi
    # shellcheck disable=SC2086
    measure tfjs-wasm 1 "$w" 180 node bench/peers/tfjs.mjs --backend wasm "$w" $args
  done
  # TensorFlow.js cpu (plain JavaScript): a LeNet step takes seconds here, so the slow cases get 3 runs.
  for w in sgemm-256 sgemm-512; do
    # shellcheck disable=SC2046
    measure tfjs-cpu 1 "$w" 180 node bench/peers/tfjs.mjs --backend cpu "$w" $(normal)
  done
  for w in sgemm-1024 lenet lstm transformer; do
    # shellcheck disable=SC2046
    measure tfjs-cpu 1 "$w" 240 node bench/peers/tfjs.mjs --backend cpu "$w" $(few 3)
  done
  skip tfjs-cpu sgemm-2048 1 "about 20 s per product at its speed; sgemm-1024 shows it"
  skip tfjs-cpu resnet18 1 "a step would take minutes (its LeNet step alone takes seconds)"
  # js-pytorch (nested JavaScript arrays, no convolution)
  for w in sgemm-256 sgemm-512; do
    # shellcheck disable=SC2046
    measure js-pytorch 1 "$w" 180 node bench/peers/jspytorch.mjs "$w" $(normal)
  done
  skip js-pytorch sgemm-1024 1 "about 15 s per product at its speed; sgemm-512 shows it"
  skip js-pytorch sgemm-2048 1 "about 2 min per product at its speed; sgemm-512 shows it"
  skip js-pytorch lenet 1 "js-pytorch has no convolution"
  skip js-pytorch resnet18 1 "js-pytorch has no convolution"
  skip js-pytorch lstm 1 "one step takes about 40 s; by hand: node bench/peers/jspytorch.mjs lstm --warmup 1 --runs 1"
  skip js-pytorch transformer 1 "one step takes about 2 min; by hand: node bench/peers/jspytorch.mjs transformer --warmup 1 --runs 1"
  # jax-js (wasm): its matrix product only
  for w in sgemm-256 sgemm-512 sgemm-1024 sgemm-2048; do
    # shellcheck disable=SC2046
    measure jax-js-wasm 1 "$w" 180 node bench/peers/jaxjs.mjs "$w" $(normal)
  done
  for w in lenet lstm transformer resnet18; do skip jax-js-wasm "$w" 1 "only its matrix product is measured"; done
else
  for p in tfjs-wasm tfjs-cpu js-pytorch jax-js-wasm; do
    for w in $ALL; do skip "$p" "$w" 1 "npm install in bench/ failed (see the notes above)"; done
  done
fi

# ---------------------------------------------------------------- the report
VERSIONS=$(
  {
    echo "node $(node --version)"
    [ $HAVE_TORCH = 1 ] && echo "PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)' 2>/dev/null)"
    echo "BLAS $(update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | sed -n 's/^Value: //p')"
    for p in @tensorflow/tfjs @tensorflow/tfjs-backend-wasm js-pytorch @jax-js/jax; do
      f="bench/node_modules/$p/package.json"
      [ -f "$f" ] && echo "$p $(node -p "require('./$f').version")"
    done
    echo "native $NATIVE"
  }
)
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || COMMIT="$COMMIT (with uncommitted changes)"
node -e '
  const [date, commit, command, machine, cores, before, after, wall, versions, notes, raw] = process.argv.slice(1);
  const kv = Object.fromEntries(versions.split("\n").filter(Boolean).map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)]));
  console.log(JSON.stringify({ date, commit, command, machine, cores: Number(cores), load_before: before, load_after: after,
    wall_s: Number(wall), versions: kv, notes: notes.split("\n").filter(Boolean), raw: raw || undefined }));
' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$COMMIT" "$COMMAND" \
  "$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)" "$(nproc)" "$LOAD_BEFORE" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  "$(( $(date +%s) - T0 ))" "$VERSIONS" "$(cat "$NOTES")" "$RAW" > "$WORK/meta.json"
node dist/bench/report.js "$RESULTS" "$WORK/meta.json" > "$OUT" || { echo "bench/run.sh: the report failed" >&2; exit 1; }
say "wrote $OUT and $RESULTS in $(( $(date +%s) - T0 )) s"
