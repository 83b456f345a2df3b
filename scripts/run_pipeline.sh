#!/usr/bin/env bash
# The main job: set up, generate four months (May-August 2025) of synthetic sources of the merged Phu Tho
# (or use --landing DIR [--start YYYY-MM-DD --end YYYY-MM-DD]), run the real DAGs,
# print the summary. Arguments go to `dichvucong run` (see --help).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$REPO_ROOT/scripts/bootstrap.sh"
exec dichvucong run "$@"
