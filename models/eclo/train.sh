#!/usr/bin/env bash
# Trains the ECLO preset's model from the TAAS Daegu accident records and
# writes models/eclo/eclo.model and RECORD.md (what was trained on, how,
# and how well it did).  Run by `make eclo-model`; the same data and
# request give the same bytes.
#
#   models/eclo/train.sh SHEAF_BINARY TAAS_ZIP
set -euo pipefail
cd "$(dirname "$0")/../.."
sheaf=$1
zip=$2
work=build/eclo
mkdir -p "$work"

# The four members (2007-2018) are CSV files with the same header, each with
# a UTF-8 BOM: one file, the header once.
unzip -p "$zip" | awk 'NR == 1 || !/사고번호,사고일시,/' > "$work/taas.csv"
"$sheaf" train "$work/taas.csv" --request models/eclo/request.json \
	--out models/eclo/eclo.model --quiet > "$work/summary.txt"

rows=$(($(wc -l < "$work/taas.csv") - 1))
{
	echo "# The ECLO model"
	echo
	echo "Written by \`make eclo-model\` (models/eclo/train.sh); do not edit by hand."
	echo
	echo "## Data"
	echo
	echo "- \`$(basename "$zip")\`: TAAS Daegu accidents with deaths or injuries, 2007-2018"
	echo "  (see ../shared/data/daegu/SOURCE.md), sha256 \`$(sha256sum "$zip" | cut -d' ' -f1)\`"
	echo "- its four CSV members joined into one file of $rows rows"
	echo "  (sha256 \`$(sha256sum "$work/taas.csv" | cut -d' ' -f1)\`)"
	echo
	echo "## Command"
	echo
	echo '```'
	echo "unzip -p $zip | awk 'NR == 1 || !/사고번호,사고일시,/' > $work/taas.csv"
	echo "sheaf train $work/taas.csv --request models/eclo/request.json --out models/eclo/eclo.model"
	echo '```'
	echo
	echo "sheaf $("$sheaf" version | cut -d' ' -f2), XGBoost as below."
	echo
	echo "## Request (features, parameters, validation)"
	echo
	echo "models/eclo/request.json: the eleven fields are derived from the TAAS columns by its"
	echo "SQL (사고유형 \"차대차 - 추돌\" becomes 차대차; 시간대 from the hour: 7-9 출근시간대,"
	echo "17-19 퇴근시간대, 22-5 심야, else 일반시간대); the target is"
	echo "ECLO = 10 x 사망자수 + 5 x 중상자수 + 3 x 경상자수 + 1 x 부상신고자수, trained on its"
	echo "log1p and predicted back on the ECLO scale.  Validation is a time split: trained on"
	echo "2007-2017, validated on 2018."
	echo
	echo '```json'
	cat models/eclo/request.json
	echo '```'
	echo
	echo "## Result"
	echo
	echo '```'
	cat "$work/summary.txt"
	echo '```'
	echo
	echo "Model sha256 \`$(sha256sum models/eclo/eclo.model | cut -d' ' -f1)\`."
	echo "For reference: seed 003's LightGBM scored validation RMSLE 0.448 on the DACON"
	echo "competition's 2019-2021 data, and the competition's best private scores were about"
	echo "0.427 (different years and rows, so not directly comparable)."
} > models/eclo/RECORD.md
cat "$work/summary.txt"
