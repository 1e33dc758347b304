#!/usr/bin/env bash
# Fails when tests left anything of theirs on the machine. Test resources are named berth-test-*
# (temporary roots, cgroups), berth-t<N> (bridges, veths, firewall chains): a running Berth's own
# berth* objects are not counted.
set -uo pipefail
leaks=()
add() { leaks+=("$1"); }

m=$(grep -c 'berth-test' /proc/self/mountinfo)
[ "$m" -gt 0 ] && add "$m mounts under berth-test roots: $(grep 'berth-test' /proc/self/mountinfo | awk '{print $5}' | head -5 | tr '\n' ' ')"
cg=$(find /sys/fs/cgroup -maxdepth 2 -name 'berth-test*' -type d 2>/dev/null)
[ -n "$cg" ] && add "cgroups: $(echo "$cg" | head -5 | tr '\n' ' ')"
links=$(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | grep -E '^berth-t' || true)
[ -n "$links" ] && add "network links: $(echo "$links" | tr '\n' ' ')"
ns=$(ip netns list 2>/dev/null | grep -E '^berth' || true)
[ -n "$ns" ] && add "network namespaces: $ns"
rules=$(iptables-save 2>/dev/null | grep -E 'berth-t|BERTH-T' || true)
[ -n "$rules" ] && add "iptables rules: $(echo "$rules" | head -3 | tr '\n' ' ')"
procs=$(ps -eo pid=,args= | grep -E 'berth-test' | grep -v -E 'grep|check-leaks' || true)
[ -n "$procs" ] && add "processes: $(echo "$procs" | head -5 | tr '\n' ';')"

if [ ${#leaks[@]} -gt 0 ]; then
  printf 'Tests left these behind (remove them, then fix the test that leaked them):\n' >&2
  printf -- '- %s\n' "${leaks[@]}" >&2
  exit 1
fi
echo "nothing left behind"
