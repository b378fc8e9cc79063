#!/usr/bin/env bash
# Reproduce a config's paper numbers: check the data and the pretrained
# checkpoint, train, test the last checkpoint, compare with the model index.
#   tools/reproduce.sh CONFIG GPUS [--slurm PARTITION] [--work-dir DIR]
#       [--model-index FILE] [--tta] [--ap-tolerance X] [--miou-tolerance X]
#       [--cfg-options k=v ...] [other train.py options]
# GPUS processes train and test (torchrun; gloo on CPU machines; 1: no
# launcher) or, with --slurm, Slurm jobs of GPUS GPUs. --cfg-options go to
# the check, training and testing; other options to train.py only.
# Leaves WORK_DIR/reproduction.txt (default WORK_DIR:
# work_dirs/reproduce/<config name>): the command with every override it
# was given, then check_reproduction.py's report (the setting against the
# paper's, tolerances and their sources, the table, the verdict). Exit
# status: check_reproduction.py's (0 REPRODUCED, 1 NOT REPRODUCED, 2 bad
# input, 3 NOT COMPARABLE or NOT CHECKED), or the failing step's.
# Env: PYTHON (python), PORT (29500), GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS.
set -euo pipefail
if [[ $# -lt 2 ]]; then
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
COMMAND="tools/reproduce.sh $*"
CONFIG=$1
GPUS=$2
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python}
export PYTHONPATH="$HERE/..${PYTHONPATH:+:$PYTHONPATH}"
NAME=$(basename "${CONFIG%.py}")
PARTITION='' WORK_DIR='' TTA=()
CHECK_ARGS=() CFG_OPTIONS=() TRAIN_ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --slurm) PARTITION=$2; shift 2 ;;
    --work-dir) WORK_DIR=$2; shift 2 ;;
    --model-index|--ap-tolerance|--miou-tolerance)
      CHECK_ARGS+=("$1" "$2"); shift 2 ;;
    --tta) TTA=(--tta); shift ;;
    --cfg-options)
      shift
      while [[ $# -gt 0 && $1 != --* ]]; do CFG_OPTIONS+=("$1"); shift; done ;;
    *) TRAIN_ARGS+=("$1"); shift ;;
  esac
done
if ! [[ $GPUS =~ ^[1-9][0-9]*$ ]]; then
  echo "reproduce.sh: error: GPUS must be a positive number, got '$GPUS'" >&2
  exit 2
fi
WORK_DIR=${WORK_DIR:-work_dirs/reproduce/$NAME}
OPTS=()
[[ ${#CFG_OPTIONS[@]} -gt 0 ]] && OPTS=(--cfg-options "${CFG_OPTIONS[@]}")
REPORT="$WORK_DIR/reproduction.txt"
mkdir -p "$WORK_DIR"

step() { echo; echo "==> $*"; "$@"; }

step "$PYTHON" -m mmplug.apis.reproduction "$CONFIG" "${OPTS[@]}"

start=$(date +%s)
if [[ -n $PARTITION ]]; then
  GPUS=$GPUS step bash "$HERE/slurm_train.sh" "$PARTITION" "$NAME" "$CONFIG" \
    "$WORK_DIR" "${TRAIN_ARGS[@]}" "${OPTS[@]}"
elif [[ $GPUS -gt 1 ]]; then
  PYTHON=$PYTHON step bash "$HERE/dist_train.sh" "$CONFIG" "$GPUS" \
    --work-dir "$WORK_DIR" "${TRAIN_ARGS[@]}" "${OPTS[@]}"
else
  step "$PYTHON" "$HERE/train.py" "$CONFIG" --work-dir "$WORK_DIR" \
    "${TRAIN_ARGS[@]}" "${OPTS[@]}"
fi
train_s=$(( $(date +%s) - start ))

CHECKPOINT=$(cat "$WORK_DIR/last_checkpoint")
start=$(date +%s)
if [[ -n $PARTITION ]]; then
  GPUS=$GPUS step bash "$HERE/slurm_test.sh" "$PARTITION" "$NAME" "$CONFIG" \
    "$CHECKPOINT" --work-dir "$WORK_DIR" "${TTA[@]}" "${OPTS[@]}"
elif [[ $GPUS -gt 1 ]]; then
  PYTHON=$PYTHON step bash "$HERE/dist_test.sh" "$CONFIG" "$CHECKPOINT" \
    "$GPUS" --work-dir "$WORK_DIR" "${TTA[@]}" "${OPTS[@]}"
else
  step "$PYTHON" "$HERE/test.py" "$CONFIG" "$CHECKPOINT" \
    --work-dir "$WORK_DIR" "${TTA[@]}" "${OPTS[@]}"
fi
test_s=$(( $(date +%s) - start ))

status=0
check=$("$PYTHON" "$HERE/analysis_tools/check_reproduction.py" "$WORK_DIR" \
  --config "$CONFIG" "${TTA[@]}" "${CHECK_ARGS[@]}") || status=$?
{
  echo "Reproduction of $CONFIG ($(date -u '+%Y-%m-%d %H:%M UTC'))"
  echo "Command: $COMMAND"
  echo "Overrides: --cfg-options ${CFG_OPTIONS[*]:-none}; train.py options: ${TRAIN_ARGS[*]:-none}"
  echo "GPUs: $GPUS${PARTITION:+ (Slurm partition $PARTITION)}"
  echo "Training: $train_s s, checkpoint $CHECKPOINT"
  echo "Testing: $test_s s"
  echo "$check"
} > "$REPORT"
echo
echo "==> $REPORT"
cat "$REPORT"
exit $status
