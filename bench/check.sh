#!/usr/bin/env bash
# Runs every bench/NAME.hvm that has a NAME.expected and compares the `Result:` and
# `- ITRS:` lines of `lmn run NAME.hvm -s` with it. Prints TIME/MIPS for information.
set -uo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LMN="$DIR/../lmn"
fail=0
for exp in "$DIR"/*.expected; do
  name="$(basename "$exp" .expected)"
  out="$("$LMN" run "$DIR/$name.hvm" -s)" || { echo "FAIL $name (exit $?)"; fail=1; continue; }
  got="$(grep -v -e '^- TIME' -e '^- MIPS' -e '^- LINK' <<<"$out")"
  perf="$(grep -e '^- TIME' -e '^- MIPS' <<<"$out" | tr '\n' ' ')"
  if [[ "$got" == "$(cat "$exp")" ]]; then
    echo "ok   $name  $(tr '\n' ' ' <<<"$got") $perf"
  else
    echo "FAIL $name"; diff <(echo "$got") "$exp"; fail=1
  fi
done
exit $fail
