#!/usr/bin/env bash
# Before the suite: removes what an earlier, interrupted test run left behind (a CI job killed
# mid-way cannot clean up), so that the leak check at the end judges only this run. Only inert
# leftovers are removed — empty berth-test* cgroups, berth-test* mounts, berth-t* links; anything
# with a live process in it is reported and left for a person to look at.
set -uo pipefail
removed=0
while IFS= read -r -d '' dir; do
  if [ -s "$dir/cgroup.procs" ]; then
    echo "left alone (processes still in it): $dir" >&2
    continue
  fi
  rmdir "$dir" 2>/dev/null && removed=$((removed + 1))
done < <(find /sys/fs/cgroup -mindepth 2 -maxdepth 6 -path '*/berth-test*' -type d -print0 2>/dev/null | sort -rz)
# Deepest first, so parents are empty by the time they are reached.
while IFS= read -r target; do
  umount -l "$target" 2>/dev/null && removed=$((removed + 1))
done < <(awk '$5 ~ /berth-test/ {print $5}' /proc/self/mountinfo | sort -r)
while IFS= read -r link; do
  ip link del "$link" 2>/dev/null && removed=$((removed + 1))
done < <(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E '^berth-t' || true)
[ "$removed" -gt 0 ] && echo "removed $removed leftovers of an earlier, interrupted test run"
exit 0
