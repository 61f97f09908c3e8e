#!/usr/bin/env bash
# fuzz.sh PKG TARGET FUZZTIME fuzzes one target. Before Go 1.27 the fuzzing
# coordinator can end a run with a bare "context deadline exceeded" and no
# failing input when its -fuzztime deadline races its workers' shutdown
# (go.dev/issue/75804): that run is tried once more. A real failure writes
# its input to testdata/fuzz and fails at once.
set -uo pipefail
pkg="$1" target="$2" fuzztime="$3"
for try in 1 2; do
  out="$(go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 5s 2>&1)"
  rc=$?
  echo "$out"
  if [[ $rc -eq 0 ]]; then
    exit 0
  fi
  if grep -q "Failing input written to" <<<"$out" || ! grep -q "context deadline exceeded" <<<"$out"; then
    exit "$rc"
  fi
  echo "fuzz: $target ended on the fuzzer's own deadline without a failing input (try $try); once more" >&2
done
exit 1
