#!/usr/bin/env bash
# Runs the published CLI (.lmn/publish, ReadyToRun with cross-module code: docs/startup.md) on another patch of
# the .NET 10 runtime than the one it was compiled against, and compares every example's output with a run on
# the installed runtime.
#
#   scripts/other-runtime.sh VERSION    e.g. 10.0.15 (LMN_APP=path/to/Lmn.Cli checks another publish): restores that runtime's packs (Microsoft.NETCore.App and
#                                       Microsoft.AspNetCore.App, from the NuGet source), lays them out as a
#                                       private dotnet root in a temporary directory, runs each example and
#                                       benchmark program (one thread, times left out) and the batch example
#                                       under both, and prints the differences, the methods the JIT compiled
#                                       for an instant-oracle batch under each, and a last line
#                                       `N programs, N differ`; exit 1 if any differs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${1:?usage: scripts/other-runtime.sh VERSION (a 10.0 patch on the NuGet source, e.g. 10.0.15)}"
# LMN_APP: another published apphost to check (the tests pass the one they published).
APP="${LMN_APP:-$ROOT/.lmn/publish/Lmn.Cli}"
if [[ ! -x "$APP" ]]; then
  [[ -z "${LMN_APP:-}" ]] || { echo "scripts/other-runtime.sh: LMN_APP=$APP is not an executable" >&2; exit 2; }
  "$ROOT/lmn" version >/dev/null
fi
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# The two runtime packs, restored into a package folder of their own.
cat >"$TMP/packs.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="Microsoft.NETCore.App.Runtime.linux-x64" Version="[$VERSION]" />
    <PackageDownload Include="Microsoft.AspNetCore.App.Runtime.linux-x64" Version="[$VERSION]" />
  </ItemGroup>
</Project>
EOF
# Into the usual package folder (a second run finds them there); a failed restore is tried once more.
PACKAGES="$(dotnet nuget locals global-packages --list | sed -E 's/^[^:]+: *//')"
if ! out="$(dotnet restore "$TMP/packs.csproj" -v q --nologo 2>&1)"; then
  sleep 2
  dotnet restore "$TMP/packs.csproj" -v q --nologo >&2 || { echo "$out" >&2; echo "scripts/other-runtime.sh: the runtime packs of $VERSION could not be restored" >&2; exit 2; }
fi

# A dotnet root holding only that runtime: the installed host, the packs' assemblies and native libraries.
INSTALLED="$(dirname "$(readlink -f "$(command -v dotnet)")")"
DN="$TMP/dotnet"
mkdir -p "$DN/host" "$DN/shared/Microsoft.NETCore.App/$VERSION" "$DN/shared/Microsoft.AspNetCore.App/$VERSION"
cp "$INSTALLED/dotnet" "$DN/"
cp -r "$INSTALLED/host/fxr" "$DN/host/"
core="$PACKAGES/microsoft.netcore.app.runtime.linux-x64/$VERSION/runtimes/linux-x64"
asp="$PACKAGES/microsoft.aspnetcore.app.runtime.linux-x64/$VERSION/runtimes/linux-x64"
cp "$core"/lib/net10.0/* "$core"/native/* "$DN/shared/Microsoft.NETCore.App/$VERSION/"
cp "$asp"/lib/net10.0/* "$DN/shared/Microsoft.AspNetCore.App/$VERSION/"
echo "installed runtime: $(dotnet --list-runtimes | grep Microsoft.NETCore.App | tr '\n' ' ')"
echo "other runtime:     $(DOTNET_ROOT="$DN" "$DN/dotnet" --list-runtimes | grep Microsoft.NETCore.App | tr '\n' ' ')"

# Times, rates and LINK (which depends on the thread count) are left out of the comparison.
strip() { grep -v -E '^- (TIME|MIPS|LINK):|mips|time|_ms|wall|cpu|seconds|_per_s|jit_|gc_|allocated' || true; }
n=0; bad=0
for f in "$ROOT"/examples/*.lmn "$ROOT"/examples/*.hvm "$ROOT"/examples/limn/*.lmn "$ROOT"/examples/programs/*.lmn "$ROOT"/bench/*.hvm; do
  [[ -f "$f" ]] || continue
  # The exit code is part of the output compared (some examples end in a located error on purpose); no
  # answer cache, or the second run would find the first one's answers (and count no questions).
  opts=(-s -t 1)
  [[ "$f" == *.lmn ]] && opts+=(--no-cache)
  a="$( { "$APP" run "$f" "${opts[@]}" 2>&1; echo "exit $?"; } | strip)"
  b="$( { DOTNET_ROOT="$DN" "$APP" run "$f" "${opts[@]}" 2>&1; echo "exit $?"; } | strip)"
  n=$((n + 1))
  if [[ "$a" != "$b" ]]; then bad=$((bad + 1)); echo "differs: ${f#"$ROOT"/}"; diff <(echo "$a") <(echo "$b") | head -6 || true; fi
done
batch=("$ROOT/examples/batch/classify.lmn" --inputs "$ROOT/examples/batch/messages.jsonl" --no-cache)
a="$(DOTNET_TieredCompilation=0 "$APP" run "${batch[@]}"; echo "exit $?")"
b="$(DOTNET_ROOT="$DN" DOTNET_TieredCompilation=0 "$APP" run "${batch[@]}"; echo "exit $?")"
n=$((n + 1))
if [[ "$a" != "$b" ]]; then bad=$((bad + 1)); echo "differs: the batch example"; fi
for root in "$INSTALLED" "$DN"; do
  jit="$(DOTNET_ROOT="$root" DOTNET_TieredCompilation=0 "$APP" run "${batch[@]}" --oracle first -q -s 2>&1 >/dev/null | grep '^jit_methods:' || true)"
  echo "instant-oracle batch on ${root/#$TMP/(temporary)}: $jit"
done
echo "$n programs, $bad differ"
[[ $bad -eq 0 ]]
