#!/usr/bin/env bash
# The demo (`make demo`): generate the synthetic data, train and evaluate
# Mask R-CNN R-18 and SMT-T (COCO bbox/segm mAP) and UPerNet R-18 (mIoU) on
# it from scratch, and draw their predictions. Every step is a plain tools/
# command you can rerun.
# Env: PYTHON (.venv/bin/python), DEMO_DIR (work_dirs/demo).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
OUT=${DEMO_DIR:-work_dirs/demo}
DET_CFG=configs/demo/mask-rcnn_r18_fpn_demo.py
SMT_CFG=configs/demo/mask-rcnn_smt-t_fpn_demo.py
SEG_CFG=configs/demo/upernet_r18_demo.py
mkdir -p "$OUT"
start=$(date +%s)

step() { echo; echo "==> $*"; "$@"; }
last_ckpt() { cat "$1/last_checkpoint"; }

step "$PYTHON" tools/misc/make_demo_data.py --out data/demo

step "$PYTHON" tools/train.py "$DET_CFG" --work-dir "$OUT/mask-rcnn"
step "$PYTHON" tools/test.py "$DET_CFG" "$(last_ckpt "$OUT/mask-rcnn")" \
  --work-dir "$OUT/mask-rcnn" --show-dir "$OUT/mask-rcnn/pictures" \
  2>&1 | tee "$OUT/mask-rcnn/test.log"

step "$PYTHON" tools/train.py "$SMT_CFG" --work-dir "$OUT/mask-rcnn-smt"
step "$PYTHON" tools/test.py "$SMT_CFG" "$(last_ckpt "$OUT/mask-rcnn-smt")" \
  --work-dir "$OUT/mask-rcnn-smt" --show-dir "$OUT/mask-rcnn-smt/pictures" \
  2>&1 | tee "$OUT/mask-rcnn-smt/test.log"

step "$PYTHON" tools/train.py "$SEG_CFG" --work-dir "$OUT/upernet"
step "$PYTHON" tools/test.py "$SEG_CFG" "$(last_ckpt "$OUT/upernet")" \
  --work-dir "$OUT/upernet" --show-dir "$OUT/upernet/pictures" \
  2>&1 | tee "$OUT/upernet/test.log"

metric() {  # metric LOG NAME: the value of NAME on the test summary line
  grep -E '(Epoch|Iter)\(test\)' "$1" | tail -n 1 | grep -o "$2: [0-9.]*" | head -n 1 \
    | cut -d' ' -f2
}
cat <<SUMMARY

==> Demo finished in $(( $(date +%s) - start )) s
Mask R-CNN R-18 (demo data, 40 val images):
  bbox mAP $(metric "$OUT/mask-rcnn/test.log" 'coco/bbox_mAP')  segm mAP $(metric "$OUT/mask-rcnn/test.log" 'coco/segm_mAP')
Mask R-CNN SMT-T (demo data, 40 val images):
  bbox mAP $(metric "$OUT/mask-rcnn-smt/test.log" 'coco/bbox_mAP')  segm mAP $(metric "$OUT/mask-rcnn-smt/test.log" 'coco/segm_mAP')
UPerNet R-18 (demo data, 40 val images):
  mIoU $(metric "$OUT/upernet/test.log" "mIoU") %  aAcc $(metric "$OUT/upernet/test.log" "aAcc") %
Pictures: $OUT/mask-rcnn/pictures, $OUT/mask-rcnn-smt/pictures,
  $OUT/upernet/pictures
SUMMARY
