#!/usr/bin/env bash
# One benchmark, run from an earlier commit and from this tree in one go, each printing its own table:
# a change's before and after side by side, on the same machine in the same minutes.
#
#   bench/side_by_side.sh REF 'bench/codes.py --quick' [ROUNDS]
#
# REF is checked out into a temporary worktree and run with this tree's .venv: each bench script puts its
# own tree first on sys.path, so the earlier commit's code is what runs. The earlier commit goes first in
# every round: bench/_server.py's PostgreSQL cache is shared by name, and a later schema cannot go back.
# The output of every run is kept in test-artifacts/side-by-side/.
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${1:?usage: bench/side_by_side.sh REF 'bench/SCRIPT.py [ARGS]' [ROUNDS]}
bench=${2:?usage: bench/side_by_side.sh REF 'bench/SCRIPT.py [ARGS]' [ROUNDS]}
rounds=${3:-1}
python=$PWD/.venv/bin/python
here=$PWD
before=$(mktemp -d /tmp/oms-before-XXXXXX)
out=$here/test-artifacts/side-by-side
mkdir -p "$out"
trap 'git -C "$here" worktree remove --force "$before" >/dev/null 2>&1 || true' EXIT
git worktree add --detach --force "$before" "$ref" >/dev/null
name=$(basename "${bench%% *}" .py)
for round in $(seq 1 "$rounds"); do
  for side in before after; do
    tree=$here
    [ "$side" = before ] && tree=$before
    log="$out/$name-$side-$round.txt"
    echo "== $side ($( git -C "$tree" rev-parse --short HEAD )), round $round: $bench" | tee "$log"
    # shellcheck disable=SC2086  # the bench's arguments are words
    (cd "$tree" && "$python" $bench) 2>&1 | tee -a "$log"
  done
done
