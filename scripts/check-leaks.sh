#!/usr/bin/env bash
# Fails when tests left anything of theirs on the machine. Test resources are named berth-test-*
# (temporary roots, cgroups), berth-t<N> (bridges, veths, firewall chains): a running Berth's own
# berth* objects are not counted. When BERTH_TEST_RUN is set (npm test sets it), what another
# test run on the same machine still uses is left out: processes whose environment lacks this
# run's BERTH_TEST_RUN (every process a test starts inherits it), and cgroups named after a test
# process (berth-test-…-<pid>) that is alive and not this run's, or holding the warm zygotes of
# an engine daemon of another run. Everything else counts.
set -uo pipefail
leaks=()
add() { leaks+=("$1"); }
run_id="${BERTH_TEST_RUN:-}"

# True when the process belongs to this run (or when no run id is known, to be safe).
ours() {
  [ -z "$run_id" ] && return 0
  tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | grep -qx "BERTH_TEST_RUN=$run_id"
}

m=$(grep -c 'berth-test' /proc/self/mountinfo)
[ "$m" -gt 0 ] && add "$m mounts under berth-test roots: $(grep 'berth-test' /proc/self/mountinfo | awk '{print $5}' | head -5 | tr '\n' ' ')"
cg=""
while IFS= read -r dir; do
  owner=$(basename "$dir" | grep -oE -- '-[0-9]+$' | tr -d '-' || true)
  if [ -n "$run_id" ] && [ -n "$owner" ] && [ -d "/proc/$owner" ] && ! ours "$owner"; then
    continue # the cgroup parent of a test process of another run, which is still running
  fi
  # The cgroup parent of an engine daemon of another run: its warm zygotes' groups name them.
  foreign=0
  for z in "$dir"/zygote-*; do
    zpid=${z##*/zygote-}
    [ -n "$run_id" ] && [ -d "/proc/$zpid" ] && ! ours "$zpid" && foreign=1
  done
  [ "$foreign" -eq 1 ] && continue
  cg+="$dir"$'\n'
done < <(find /sys/fs/cgroup -maxdepth 2 -name 'berth-test*' -type d 2>/dev/null)
cg=${cg%$'\n'}
[ -n "$cg" ] && add "cgroups: $(echo "$cg" | head -5 | tr '\n' ' ')"
links=$(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | grep -E '^berth-t' || true)
[ -n "$links" ] && add "network links: $(echo "$links" | tr '\n' ' ')"
ns=$(ip netns list 2>/dev/null | grep -E '^berth' || true)
[ -n "$ns" ] && add "network namespaces: $ns"
rules=$(iptables-save 2>/dev/null | grep -E 'berth-t|BERTH-T' || true)
[ -n "$rules" ] && add "iptables rules: $(echo "$rules" | head -3 | tr '\n' ' ')"
procs=""
while read -r pid args; do
  ours "$pid" && procs+="$pid $args;"
done < <(ps -eo pid=,args= | grep -E 'berth-test' | grep -v -E 'grep|check-leaks')
[ -n "$procs" ] && add "processes: $(echo "$procs" | cut -c1-400)"

if [ ${#leaks[@]} -gt 0 ]; then
  printf 'Tests left these behind (remove them, then fix the test that leaked them):\n' >&2
  printf -- '- %s\n' "${leaks[@]}" >&2
  exit 1
fi
echo "nothing left behind"
